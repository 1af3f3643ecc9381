//! Renders: each request to turn a clip into a video file, with its progress and output.
//!
//! State changes are guarded in SQL (`WHERE status IN …`), so a late progress report from
//! a worker cannot revive a render the user already cancelled.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use crate::db::{now, on_db, text_enum, ClipId, Db, RenderId, UserId, WorkspaceId};
use crate::{on_pool, Store, StoreError};

text_enum! {
    /// Where a render stands.
    pub enum RenderStatus {
        /// Waiting for a worker.
        Queued = "queued",
        /// A worker is on it.
        Rendering = "rendering",
        /// The file is stored.
        Completed = "completed",
        /// It failed; `error` says why.
        Failed = "failed",
        /// The user stopped it.
        Canceled = "canceled",
    }
}

impl RenderStatus {
    /// Whether the render can still change.
    pub fn is_active(self) -> bool {
        matches!(self, RenderStatus::Queued | RenderStatus::Rendering)
    }
}

/// A render of a clip.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct Render {
    /// The render's id.
    pub id: RenderId,
    /// Its workspace.
    pub workspace_id: WorkspaceId,
    /// The clip rendered.
    pub clip_id: ClipId,
    /// Who asked for it; `None` for automatic renders.
    pub requested_by: Option<UserId>,
    /// Quality, size and codec settings, as requested.
    #[sqlx(json)]
    pub settings: Value,
    /// Where it stands.
    #[sqlx(try_from = "String")]
    pub status: RenderStatus,
    /// 0–100.
    pub progress: i64,
    /// What the worker is doing ("burning captions").
    pub current_step: Option<String>,
    /// Where the finished file is stored.
    pub output_key: Option<String>,
    /// The finished file's size.
    pub size_bytes: Option<i64>,
    /// The finished file's length in seconds.
    pub duration_seconds: Option<f64>,
    /// Why it failed.
    pub error: Option<String>,
    /// When requested.
    pub created_at: DateTime<Utc>,
    /// When a worker started it.
    pub started_at: Option<DateTime<Utc>>,
    /// When it completed, failed or was cancelled.
    pub finished_at: Option<DateTime<Utc>>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

const RENDER_COLUMNS: &str = "id, workspace_id, clip_id, requested_by, settings, status, progress, \
    current_step, output_key, size_bytes, duration_seconds, error, created_at, started_at, finished_at, updated_at";

/// Records a render request for one of the workspace's live clips;
/// [`StoreError::NotFound`] when there is none. Pass the transaction that enqueues the
/// render job.
pub async fn create(
    db: impl Into<Db<'_>>,
    workspace: WorkspaceId,
    clip: ClipId,
    requested_by: Option<UserId>,
    settings: &Value,
) -> Result<Render, StoreError> {
    let sql = format!(
        "INSERT INTO renders (id, workspace_id, clip_id, requested_by, settings, status, progress, created_at, updated_at) \
         SELECT $1, $2, $3, $4, $5, 'queued', 0, $6, $6 \
         WHERE EXISTS (SELECT 1 FROM clips c WHERE c.id = $3 AND c.workspace_id = $2 AND c.deleted_at IS NULL) \
         RETURNING {RENDER_COLUMNS}"
    );
    let render = on_db!(db.into(), conn => sqlx::query_as::<_, Render>(&sql)
        .bind(RenderId::new())
        .bind(workspace)
        .bind(clip)
        .bind(requested_by)
        .bind(sqlx::types::Json(settings))
        .bind(now())
        .fetch_optional(conn)
        .await)?;
    render.ok_or(StoreError::NotFound { what: "clip" })
}

/// One of the workspace's renders of a live clip.
pub async fn get(
    store: &Store,
    workspace: WorkspaceId,
    id: RenderId,
) -> Result<Option<Render>, StoreError> {
    let sql = format!(
        "SELECT {RENDER_COLUMNS} FROM renders WHERE id = $1 AND workspace_id = $2 \
         AND clip_id IN (SELECT id FROM clips WHERE workspace_id = $2 AND deleted_at IS NULL)"
    );
    Ok(on_pool!(store, pool => sqlx::query_as::<_, Render>(&sql)
        .bind(id)
        .bind(workspace)
        .fetch_optional(pool)
        .await)?)
}

/// The newest render of one of the workspace's live clips (what "render status" shows).
pub async fn latest_for_clip(
    store: &Store,
    workspace: WorkspaceId,
    clip: ClipId,
) -> Result<Option<Render>, StoreError> {
    let sql = format!(
        "SELECT {RENDER_COLUMNS} FROM renders WHERE clip_id = $1 AND workspace_id = $2 \
         AND EXISTS (SELECT 1 FROM clips c WHERE c.id = $1 AND c.workspace_id = $2 AND c.deleted_at IS NULL) \
         ORDER BY created_at DESC, id DESC LIMIT 1"
    );
    Ok(on_pool!(store, pool => sqlx::query_as::<_, Render>(&sql)
        .bind(clip)
        .bind(workspace)
        .fetch_optional(pool)
        .await)?)
}

/// Every render of one of the workspace's live clips, newest first.
pub async fn list_for_clip(
    store: &Store,
    workspace: WorkspaceId,
    clip: ClipId,
) -> Result<Vec<Render>, StoreError> {
    let sql = format!(
        "SELECT {RENDER_COLUMNS} FROM renders WHERE clip_id = $1 AND workspace_id = $2 \
         AND EXISTS (SELECT 1 FROM clips c WHERE c.id = $1 AND c.workspace_id = $2 AND c.deleted_at IS NULL) \
         ORDER BY created_at DESC, id DESC"
    );
    Ok(on_pool!(store, pool => sqlx::query_as::<_, Render>(&sql)
        .bind(clip)
        .bind(workspace)
        .fetch_all(pool)
        .await)?)
}

/// A worker took the render: `rendering`, progress from 0. False when it is no longer
/// queued or rendering (cancelled meanwhile), so the worker should stop.
pub async fn start(
    db: impl Into<Db<'_>>,
    workspace: WorkspaceId,
    id: RenderId,
) -> Result<bool, StoreError> {
    let sql = "UPDATE renders SET status = 'rendering', progress = 0, error = NULL, started_at = $3, updated_at = $3 \
               WHERE id = $1 AND workspace_id = $2 AND status IN ('queued', 'rendering')";
    let done = on_db!(db.into(), conn => sqlx::query(sql).bind(id).bind(workspace).bind(now()).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(done == 1)
}

/// Reports progress (clamped to 0–100) and the current step of a running render; false
/// when it is no longer running.
pub async fn set_progress(
    db: impl Into<Db<'_>>,
    workspace: WorkspaceId,
    id: RenderId,
    progress: u8,
    step: Option<&str>,
) -> Result<bool, StoreError> {
    let sql = "UPDATE renders SET progress = $3, current_step = COALESCE($4, current_step), updated_at = $5 \
               WHERE id = $1 AND workspace_id = $2 AND status = 'rendering'";
    let done = on_db!(db.into(), conn => sqlx::query(sql)
        .bind(id)
        .bind(workspace)
        .bind(i64::from(progress.min(100)))
        .bind(step)
        .bind(now())
        .execute(conn)
        .await.map(|r| r.rows_affected()))?;
    Ok(done == 1)
}

/// What a finished render produced.
#[derive(Debug, Clone)]
pub struct RenderOutput<'a> {
    /// Where the file is stored.
    pub output_key: &'a str,
    /// Its size.
    pub size_bytes: u64,
    /// Its length in seconds.
    pub duration_seconds: f64,
}

/// Marks a running render completed with its output; false when it was no longer running
/// (cancelled while the worker finished: the file is then not the user's to download).
pub async fn complete(
    db: impl Into<Db<'_>>,
    workspace: WorkspaceId,
    id: RenderId,
    output: &RenderOutput<'_>,
) -> Result<bool, StoreError> {
    let sql = "UPDATE renders SET status = 'completed', progress = 100, current_step = NULL, output_key = $3, \
               size_bytes = $4, duration_seconds = $5, finished_at = $6, updated_at = $6 \
               WHERE id = $1 AND workspace_id = $2 AND status = 'rendering'";
    let done = on_db!(db.into(), conn => sqlx::query(sql)
        .bind(id)
        .bind(workspace)
        .bind(output.output_key)
        .bind(i64::try_from(output.size_bytes).unwrap_or(i64::MAX))
        .bind(output.duration_seconds)
        .bind(now())
        .execute(conn)
        .await.map(|r| r.rows_affected()))?;
    Ok(done == 1)
}

/// Marks an active render failed with the reason; false when it already ended.
pub async fn fail(
    db: impl Into<Db<'_>>,
    workspace: WorkspaceId,
    id: RenderId,
    error: &str,
) -> Result<bool, StoreError> {
    let sql =
        "UPDATE renders SET status = 'failed', error = $3, finished_at = $4, updated_at = $4 \
               WHERE id = $1 AND workspace_id = $2 AND status IN ('queued', 'rendering')";
    let done = on_db!(db.into(), conn => sqlx::query(sql)
        .bind(id)
        .bind(workspace)
        .bind(error)
        .bind(now())
        .execute(conn)
        .await.map(|r| r.rows_affected()))?;
    Ok(done == 1)
}

/// Cancels an active render; false when there is none such (unknown, or already ended).
pub async fn cancel(
    db: impl Into<Db<'_>>,
    workspace: WorkspaceId,
    id: RenderId,
) -> Result<bool, StoreError> {
    let sql = "UPDATE renders SET status = 'canceled', finished_at = $3, updated_at = $3 \
               WHERE id = $1 AND workspace_id = $2 AND status IN ('queued', 'rendering')";
    let done = on_db!(db.into(), conn => sqlx::query(sql).bind(id).bind(workspace).bind(now()).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(done == 1)
}
