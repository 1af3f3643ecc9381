//! Videos: what was uploaded or fetched, where the pipeline stands with it, and what the
//! probe found.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::db::{
    contains_pattern, now, on_db, text_enum, Db, ProjectId, UserId, VideoId, WorkspaceId,
};
use crate::page::{Page, Paged, SortOrder};
use crate::{on_pool, Store, StoreError, Tx};

text_enum! {
    /// Where a video came from.
    pub enum VideoSource {
        /// A file sent to the API.
        Upload = "upload",
        /// A link the server downloaded.
        Url = "url",
    }
}

text_enum! {
    /// Where the pipeline stands with a video.
    pub enum VideoStatus {
        /// The file is stored; no work queued yet.
        Uploaded = "uploaded",
        /// Waiting for a worker.
        Queued = "queued",
        /// Fetching the file from its link.
        Downloading = "downloading",
        /// Probing and making the thumbnail.
        Ingesting = "ingesting",
        /// Turning speech into text.
        Transcribing = "transcribing",
        /// Finding the best clips.
        Analyzing = "analyzing",
        /// Transcript and clip suggestions are ready.
        Ready = "ready",
        /// A step failed; `error` says why.
        Failed = "failed",
    }
}

/// What the probe found in the file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MediaInfo {
    /// Length in seconds.
    pub duration_seconds: f64,
    /// Picture width in pixels.
    pub width: u32,
    /// Picture height in pixels.
    pub height: u32,
    /// Frames per second.
    pub fps: f64,
    /// Video codec name (`h264`).
    pub video_codec: Option<String>,
    /// Audio codec name (`aac`); `None` for a silent file.
    pub audio_codec: Option<String>,
    /// File size in bytes.
    pub size_bytes: u64,
}

/// A video.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct Video {
    /// The video's id.
    pub id: VideoId,
    /// Its workspace.
    pub workspace_id: WorkspaceId,
    /// The project it is filed under.
    pub project_id: Option<ProjectId>,
    /// Who added it.
    pub created_by: Option<UserId>,
    /// Display title (the file name until the user changes it).
    pub title: String,
    /// Uploaded or fetched.
    #[sqlx(try_from = "String")]
    pub source: VideoSource,
    /// The link it was fetched from.
    pub source_url: Option<String>,
    /// The uploaded file's name.
    pub original_filename: Option<String>,
    /// Where the file is in object storage, once it is there.
    pub storage_key: Option<String>,
    /// Where the thumbnail is, once made.
    pub thumbnail_key: Option<String>,
    /// Pipeline state.
    #[sqlx(try_from = "String")]
    pub status: VideoStatus,
    /// Why the last step failed.
    pub error: Option<String>,
    /// What the probe found, once ingested.
    #[sqlx(json(nullable))]
    pub media: Option<MediaInfo>,
    /// Per-video settings (clip lengths, caption template, how many clips to render).
    #[sqlx(json)]
    pub config: Value,
    /// When it was added.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

const VIDEO_COLUMNS: &str = "id, workspace_id, project_id, created_by, title, source, source_url, \
    original_filename, storage_key, thumbnail_key, status, error, media, config, created_at, updated_at";

/// A new video.
#[derive(Debug, Clone)]
pub struct NewVideo<'a> {
    /// The project to file it under; must be a live project of the same workspace.
    pub project_id: Option<ProjectId>,
    /// Who adds it.
    pub created_by: Option<UserId>,
    /// Display title.
    pub title: &'a str,
    /// Uploaded or fetched.
    pub source: VideoSource,
    /// The link, for fetched videos.
    pub source_url: Option<&'a str>,
    /// The uploaded file's name.
    pub original_filename: Option<&'a str>,
    /// Where the file is stored, when it already is (uploads).
    pub storage_key: Option<&'a str>,
    /// Starting state (`Queued` when the caller enqueues the ingest job alongside).
    pub status: VideoStatus,
    /// Per-video settings.
    pub config: &'a Value,
}

/// Adds a video; [`StoreError::NotFound`] when `project_id` names no live project of the
/// workspace. Pass the transaction that enqueues its first job.
pub async fn create(
    db: impl Into<Db<'_>>,
    workspace: WorkspaceId,
    new: NewVideo<'_>,
) -> Result<Video, StoreError> {
    create_with_id(db, workspace, VideoId::new(), new).await
}

/// Like [`create`], with an id chosen beforehand: an upload is streamed to the video's
/// storage key before its row is written, so the key can name the id from the start.
pub async fn create_with_id(
    db: impl Into<Db<'_>>,
    workspace: WorkspaceId,
    id: VideoId,
    new: NewVideo<'_>,
) -> Result<Video, StoreError> {
    let at = now();
    // One statement, so it also runs atomically straight on the pool: the row is written
    // only when the project check passes.
    let sql = format!(
        "INSERT INTO videos (id, workspace_id, project_id, created_by, title, source, source_url, \
         original_filename, storage_key, status, config, created_at, updated_at) \
         SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12 \
         WHERE $3 IS NULL OR EXISTS (SELECT 1 FROM projects p WHERE p.id = $3 AND p.workspace_id = $2 AND p.deleted_at IS NULL) \
         RETURNING {VIDEO_COLUMNS}"
    );
    let video = on_db!(db.into(), conn => sqlx::query_as::<_, Video>(&sql)
        .bind(id)
        .bind(workspace)
        .bind(new.project_id)
        .bind(new.created_by)
        .bind(new.title)
        .bind(new.source.as_str())
        .bind(new.source_url)
        .bind(new.original_filename)
        .bind(new.storage_key)
        .bind(new.status.as_str())
        .bind(sqlx::types::Json(new.config))
        .bind(at)
        .fetch_optional(conn)
        .await)?;
    video.ok_or(StoreError::NotFound { what: "project" })
}

/// One of the workspace's live videos.
pub async fn get(
    store: &Store,
    workspace: WorkspaceId,
    id: VideoId,
) -> Result<Option<Video>, StoreError> {
    let sql = format!(
        "SELECT {VIDEO_COLUMNS} FROM videos WHERE id = $1 AND workspace_id = $2 AND deleted_at IS NULL"
    );
    Ok(on_pool!(store, pool => sqlx::query_as::<_, Video>(&sql)
        .bind(id)
        .bind(workspace)
        .fetch_optional(pool)
        .await)?)
}

/// Which videos a list shows; every set field must match.
#[derive(Debug, Clone, Default)]
pub struct VideoFilter<'a> {
    /// Only this state.
    pub status: Option<VideoStatus>,
    /// Only this project's.
    pub project_id: Option<ProjectId>,
    /// Title or file name contains this, ignoring case.
    pub search: Option<&'a str>,
}

/// What a video list is ordered by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum VideoSortField {
    /// When added (the default).
    #[default]
    CreatedAt,
    /// Last change.
    UpdatedAt,
    /// Title, alphabetically.
    Title,
}

impl VideoSortField {
    fn column(self) -> &'static str {
        match self {
            VideoSortField::CreatedAt => "created_at",
            VideoSortField::UpdatedAt => "updated_at",
            VideoSortField::Title => "title",
        }
    }
}

/// The workspace's live videos that pass `filter`, one page of them.
pub async fn list(
    store: &Store,
    workspace: WorkspaceId,
    filter: &VideoFilter<'_>,
    sort: VideoSortField,
    order: SortOrder,
    page: Page,
) -> Result<Paged<Video>, StoreError> {
    // Optional filters as `$n IS NULL OR …`: one statement text per sort, so the
    // prepared-statement cache holds a handful of plans, not one per filter combination.
    let conditions = "workspace_id = $1 AND deleted_at IS NULL \
        AND ($2 IS NULL OR status = $2) \
        AND ($3 IS NULL OR project_id = $3) \
        AND ($4 IS NULL OR lower(title) LIKE $4 ESCAPE '\\' OR lower(COALESCE(original_filename, '')) LIKE $4 ESCAPE '\\')";
    let order = order.sql();
    // The id breaks ties, so pages never repeat or skip rows that share a timestamp.
    let sql = format!(
        "SELECT {VIDEO_COLUMNS} FROM videos WHERE {conditions} \
         ORDER BY {column} {order}, id {order} LIMIT $5 OFFSET $6",
        column = sort.column()
    );
    let status = filter.status.map(VideoStatus::as_str);
    let search = filter.search.map(contains_pattern);
    let items = on_pool!(store, pool => sqlx::query_as::<_, Video>(&sql)
        .bind(workspace)
        .bind(status)
        .bind(filter.project_id)
        .bind(search.as_deref())
        .bind(page.limit())
        .bind(page.offset())
        .fetch_all(pool)
        .await)?;
    let count = format!("SELECT COUNT(*) FROM videos WHERE {conditions}");
    let total: i64 = on_pool!(store, pool => sqlx::query_scalar(&count)
        .bind(workspace)
        .bind(status)
        .bind(filter.project_id)
        .bind(search.as_deref())
        .fetch_one(pool)
        .await)?;
    Ok(Paged::new(items, total, page))
}

/// Changes a user may make to a video; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct VideoUpdate<'a> {
    /// A new title.
    pub title: Option<&'a str>,
    /// Move to another live project of the workspace, or `Some(None)` to take it out.
    pub project_id: Option<Option<ProjectId>>,
    /// New settings, replacing the old.
    pub config: Option<&'a Value>,
}

/// Changes one of the workspace's live videos; `None` when there is no such video, or when
/// the target project is not a live project of the workspace.
pub async fn update(
    db: impl Into<Db<'_>>,
    workspace: WorkspaceId,
    id: VideoId,
    update: VideoUpdate<'_>,
) -> Result<Option<Video>, StoreError> {
    let sql = format!(
        "UPDATE videos SET title = COALESCE($3, title), \
         project_id = CASE WHEN $4 THEN $5 ELSE project_id END, \
         config = COALESCE($6, config), updated_at = $7 \
         WHERE id = $1 AND workspace_id = $2 AND deleted_at IS NULL \
         AND (NOT $4 OR $5 IS NULL OR EXISTS (SELECT 1 FROM projects p WHERE p.id = $5 AND p.workspace_id = $2 AND p.deleted_at IS NULL)) \
         RETURNING {VIDEO_COLUMNS}"
    );
    Ok(on_db!(db.into(), conn => sqlx::query_as::<_, Video>(&sql)
        .bind(id)
        .bind(workspace)
        .bind(update.title)
        .bind(update.project_id.is_some())
        .bind(update.project_id.flatten())
        .bind(update.config.map(sqlx::types::Json))
        .bind(now())
        .fetch_optional(conn)
        .await)?)
}

/// Moves a live video to `status`, recording `error` (cleared when `None`); false when
/// there is no such video (deleted while a job ran on it).
pub async fn set_status(
    db: impl Into<Db<'_>>,
    workspace: WorkspaceId,
    id: VideoId,
    status: VideoStatus,
    error: Option<&str>,
) -> Result<bool, StoreError> {
    let sql = "UPDATE videos SET status = $3, error = $4, updated_at = $5 \
               WHERE id = $1 AND workspace_id = $2 AND deleted_at IS NULL";
    let done = on_db!(db.into(), conn => sqlx::query(sql)
        .bind(id)
        .bind(workspace)
        .bind(status.as_str())
        .bind(error)
        .bind(now())
        .execute(conn)
        .await.map(|r| r.rows_affected()))?;
    Ok(done == 1)
}

/// Records where a fetched file was stored and its name; false when there is no such video.
pub async fn set_stored_file(
    db: impl Into<Db<'_>>,
    workspace: WorkspaceId,
    id: VideoId,
    storage_key: &str,
    original_filename: Option<&str>,
) -> Result<bool, StoreError> {
    let sql =
        "UPDATE videos SET storage_key = $3, original_filename = COALESCE($4, original_filename), \
               updated_at = $5 WHERE id = $1 AND workspace_id = $2 AND deleted_at IS NULL";
    let done = on_db!(db.into(), conn => sqlx::query(sql)
        .bind(id)
        .bind(workspace)
        .bind(storage_key)
        .bind(original_filename)
        .bind(now())
        .execute(conn)
        .await.map(|r| r.rows_affected()))?;
    Ok(done == 1)
}

/// Records what the probe found and where the thumbnail is; false when there is no such
/// video.
pub async fn set_media(
    db: impl Into<Db<'_>>,
    workspace: WorkspaceId,
    id: VideoId,
    media: &MediaInfo,
    thumbnail_key: Option<&str>,
) -> Result<bool, StoreError> {
    let sql = "UPDATE videos SET media = $3, thumbnail_key = COALESCE($4, thumbnail_key), updated_at = $5 \
               WHERE id = $1 AND workspace_id = $2 AND deleted_at IS NULL";
    let done = on_db!(db.into(), conn => sqlx::query(sql)
        .bind(id)
        .bind(workspace)
        .bind(sqlx::types::Json(media))
        .bind(thumbnail_key)
        .bind(now())
        .execute(conn)
        .await.map(|r| r.rows_affected()))?;
    Ok(done == 1)
}

/// Deletes a video and its clips (softly; the files stay until a cleanup job removes them);
/// false when there is no live video.
pub async fn delete(tx: &mut Tx, workspace: WorkspaceId, id: VideoId) -> Result<bool, StoreError> {
    let at = now();
    let sql = "UPDATE videos SET deleted_at = $3, updated_at = $3 WHERE id = $1 AND workspace_id = $2 AND deleted_at IS NULL";
    let done = crate::on_tx!(&mut *tx, conn => sqlx::query(sql).bind(id).bind(workspace).bind(at).execute(conn).await.map(|r| r.rows_affected()))?;
    if done == 0 {
        return Ok(false);
    }
    let clips = "UPDATE clips SET deleted_at = $3, updated_at = $3 WHERE video_id = $1 AND workspace_id = $2 AND deleted_at IS NULL";
    crate::on_tx!(&mut *tx, conn => sqlx::query(clips).bind(id).bind(workspace).bind(at).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip_through_their_stored_names() {
        for status in VideoStatus::ALL {
            assert_eq!(status.as_str().parse::<VideoStatus>().unwrap(), *status);
            assert_eq!(serde_json::to_value(status).unwrap(), status.as_str());
        }
        assert!("processing".parse::<VideoStatus>().is_err());
    }
}
