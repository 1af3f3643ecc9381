//! Projects: folders of videos in a workspace, with settings their videos share.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use crate::db::{now, on_db, Db, ProjectId, UserId, WorkspaceId};
use crate::page::{Page, Paged};
use crate::{on_pool, Store, StoreError, Tx};

/// A project: a folder of videos with shared settings.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct Project {
    /// The project's id.
    pub id: ProjectId,
    /// Its workspace.
    pub workspace_id: WorkspaceId,
    /// Display name.
    pub name: String,
    /// Optional notes.
    pub description: Option<String>,
    /// Defaults for its videos (e.g. how many clips to render automatically).
    #[sqlx(json)]
    pub settings: Value,
    /// Who made it.
    pub created_by: Option<UserId>,
    /// When.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

const PROJECT_COLUMNS: &str =
    "id, workspace_id, name, description, settings, created_by, created_at, updated_at";

/// A new project.
#[derive(Debug, Clone)]
pub struct NewProject<'a> {
    /// Display name.
    pub name: &'a str,
    /// Optional notes.
    pub description: Option<&'a str>,
    /// Defaults for its videos.
    pub settings: &'a Value,
    /// Who makes it.
    pub created_by: Option<UserId>,
}

/// Changes to a project; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct ProjectUpdate<'a> {
    /// A new name.
    pub name: Option<&'a str>,
    /// New notes, or `Some(None)` to clear them.
    pub description: Option<Option<&'a str>>,
    /// New settings, replacing the old.
    pub settings: Option<&'a Value>,
}

/// Creates a project in the workspace.
pub async fn create(
    db: impl Into<Db<'_>>,
    workspace: WorkspaceId,
    new: NewProject<'_>,
) -> Result<Project, StoreError> {
    let sql = format!(
        "INSERT INTO projects (id, workspace_id, name, description, settings, created_by, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING {PROJECT_COLUMNS}"
    );
    Ok(on_db!(db.into(), conn => sqlx::query_as::<_, Project>(&sql)
        .bind(ProjectId::new())
        .bind(workspace)
        .bind(new.name)
        .bind(new.description)
        .bind(sqlx::types::Json(new.settings))
        .bind(new.created_by)
        .bind(now())
        .fetch_one(conn)
        .await)?)
}

/// One of the workspace's live projects.
pub async fn get(
    store: &Store,
    workspace: WorkspaceId,
    id: ProjectId,
) -> Result<Option<Project>, StoreError> {
    let sql = format!(
        "SELECT {PROJECT_COLUMNS} FROM projects WHERE id = $1 AND workspace_id = $2 AND deleted_at IS NULL"
    );
    Ok(on_pool!(store, pool => sqlx::query_as::<_, Project>(&sql)
        .bind(id)
        .bind(workspace)
        .fetch_optional(pool)
        .await)?)
}

/// The workspace's live projects, newest first.
pub async fn list(
    store: &Store,
    workspace: WorkspaceId,
    page: Page,
) -> Result<Paged<Project>, StoreError> {
    let sql = format!(
        "SELECT {PROJECT_COLUMNS} FROM projects WHERE workspace_id = $1 AND deleted_at IS NULL \
         ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3"
    );
    let items = on_pool!(store, pool => sqlx::query_as::<_, Project>(&sql)
        .bind(workspace)
        .bind(page.limit())
        .bind(page.offset())
        .fetch_all(pool)
        .await)?;
    let count = "SELECT COUNT(*) FROM projects WHERE workspace_id = $1 AND deleted_at IS NULL";
    let total: i64 =
        on_pool!(store, pool => sqlx::query_scalar(count).bind(workspace).fetch_one(pool).await)?;
    Ok(Paged::new(items, total, page))
}

/// Changes one of the workspace's live projects; `None` when there is none.
pub async fn update(
    db: impl Into<Db<'_>>,
    workspace: WorkspaceId,
    id: ProjectId,
    update: ProjectUpdate<'_>,
) -> Result<Option<Project>, StoreError> {
    let sql = format!(
        "UPDATE projects SET name = COALESCE($3, name), \
         description = CASE WHEN $4 THEN $5 ELSE description END, \
         settings = COALESCE($6, settings), updated_at = $7 \
         WHERE id = $1 AND workspace_id = $2 AND deleted_at IS NULL RETURNING {PROJECT_COLUMNS}"
    );
    Ok(on_db!(db.into(), conn => sqlx::query_as::<_, Project>(&sql)
        .bind(id)
        .bind(workspace)
        .bind(update.name)
        .bind(update.description.is_some())
        .bind(update.description.flatten())
        .bind(update.settings.map(sqlx::types::Json))
        .bind(now())
        .fetch_optional(conn)
        .await)?)
}

/// Deletes a project with its videos and their clips (softly, in one transaction, as the
/// design asks: a project's videos go with it); false when there is no live project.
pub async fn delete(
    tx: &mut Tx,
    workspace: WorkspaceId,
    id: ProjectId,
) -> Result<bool, StoreError> {
    let at = now();
    let sql = "UPDATE projects SET deleted_at = $3, updated_at = $3 WHERE id = $1 AND workspace_id = $2 AND deleted_at IS NULL";
    let done = crate::on_tx!(&mut *tx, conn => sqlx::query(sql).bind(id).bind(workspace).bind(at).execute(conn).await.map(|r| r.rows_affected()))?;
    if done == 0 {
        return Ok(false);
    }
    let clips = "UPDATE clips SET deleted_at = $3, updated_at = $3 WHERE workspace_id = $2 AND deleted_at IS NULL \
                 AND video_id IN (SELECT id FROM videos WHERE workspace_id = $2 AND project_id = $1 AND deleted_at IS NULL)";
    crate::on_tx!(&mut *tx, conn => sqlx::query(clips).bind(id).bind(workspace).bind(at).execute(conn).await.map(|r| r.rows_affected()))?;
    let videos = "UPDATE videos SET deleted_at = $3, updated_at = $3 WHERE workspace_id = $2 AND project_id = $1 AND deleted_at IS NULL";
    crate::on_tx!(&mut *tx, conn => sqlx::query(videos).bind(id).bind(workspace).bind(at).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(true)
}
