//! Jump cuts: requests to remove the silences and filler words from a whole video, with
//! their progress, the rendered MP4 and the editor exports.
//!
//! Every statement names the workspace and requires the video to be live, so another
//! workspace's id, or a deleted video's jump cut, reads as nothing. State changes are
//! guarded in SQL (`WHERE status IN …`), so a late report from a worker cannot revive a
//! jump cut that already ended.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::db::{now, on_db, text_enum, Db, UserId, VideoId, WorkspaceId};
use crate::page::{Page, Paged};
use crate::{on_pool, on_tx, NewJob, Queue, Store, StoreError, Tx};

/// The job kind that makes a jump cut; its payload is `{"jumpcut_id"}`.
pub const JOB_KIND: &str = "jumpcut";

/// A jump cut's id (UUIDv7, so ids sort by creation time).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    serde::Serialize,
    serde::Deserialize,
    sqlx::Type,
)]
#[serde(transparent)]
#[sqlx(transparent)]
pub struct JumpcutId(pub Uuid);

impl JumpcutId {
    /// A new id.
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        JumpcutId(Uuid::now_v7())
    }
}

impl fmt::Display for JumpcutId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl std::str::FromStr for JumpcutId {
    type Err = uuid::Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.parse().map(JumpcutId)
    }
}

impl From<Uuid> for JumpcutId {
    fn from(id: Uuid) -> Self {
        JumpcutId(id)
    }
}

text_enum! {
    /// Where a jump cut stands.
    pub enum JumpcutStatus {
        /// Waiting for a worker.
        Queued = "queued",
        /// A worker is on it.
        Processing = "processing",
        /// The MP4 (and exports) are stored.
        Completed = "completed",
        /// It failed; `error` says why.
        Failed = "failed",
        /// The user stopped it.
        Canceled = "canceled",
    }
}

impl JumpcutStatus {
    /// Whether the jump cut can still change.
    pub fn is_active(self) -> bool {
        matches!(self, JumpcutStatus::Queued | JumpcutStatus::Processing)
    }
}

/// A jump cut of a video.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct Jumpcut {
    /// The jump cut's id.
    pub id: JumpcutId,
    /// Its workspace.
    pub workspace_id: WorkspaceId,
    /// The video cut.
    pub video_id: VideoId,
    /// Who asked for it.
    pub requested_by: Option<UserId>,
    /// The job that makes it.
    pub job_id: Option<Uuid>,
    /// The jump-cut settings, as requested.
    #[sqlx(json)]
    pub settings: Value,
    /// `draft`, `standard` or `high`.
    pub quality: String,
    /// Editor exports asked for (`json`, `fcpxml`, `edl`).
    #[sqlx(json)]
    pub exports: Vec<String>,
    /// Where it stands.
    #[sqlx(try_from = "String")]
    pub status: JumpcutStatus,
    /// 0–100.
    pub progress: i64,
    /// What the worker is doing ("cutting").
    pub current_step: Option<String>,
    /// Where the finished MP4 is stored.
    pub output_key: Option<String>,
    /// Where each finished export is stored, by format.
    #[sqlx(json)]
    pub export_keys: BTreeMap<String, String>,
    /// The MP4's size.
    pub size_bytes: Option<i64>,
    /// The source's length in seconds.
    pub duration_in: Option<f64>,
    /// The MP4's length in seconds.
    pub duration_out: Option<f64>,
    /// Seconds removed.
    pub removed_seconds: Option<f64>,
    /// The rest of what the cut did: cuts, fillers, pieces, removed_percent, has_audio.
    #[sqlx(json(nullable))]
    pub stats: Option<Value>,
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

const COLUMNS: &str = "id, workspace_id, video_id, requested_by, job_id, settings, quality, exports, \
    status, progress, current_step, output_key, export_keys, size_bytes, duration_in, duration_out, \
    removed_seconds, stats, error, created_at, started_at, finished_at, updated_at";

/// Only rows whose video is live in the workspace (`$2`).
const LIVE_VIDEO: &str =
    "video_id IN (SELECT id FROM videos WHERE workspace_id = $2 AND deleted_at IS NULL)";

/// A jump-cut request.
#[derive(Debug, Clone)]
pub struct NewJumpcut<'a> {
    /// One of the workspace's live videos.
    pub video_id: VideoId,
    /// Who asks.
    pub requested_by: Option<UserId>,
    /// The jump-cut settings.
    pub settings: &'a Value,
    /// `draft`, `standard` or `high`.
    pub quality: &'a str,
    /// Editor exports wanted.
    pub exports: &'a [String],
}

/// Records a jump-cut request for one of the workspace's live videos and enqueues the job
/// that makes it, both in `tx`: neither exists without the other.
/// [`StoreError::NotFound`] when there is no such video.
pub async fn create(
    tx: &mut Tx,
    queue: &Queue,
    workspace: WorkspaceId,
    new: &NewJumpcut<'_>,
) -> Result<Jumpcut, StoreError> {
    let id = JumpcutId::new();
    let insert = "INSERT INTO jumpcuts (id, workspace_id, video_id, requested_by, settings, quality, exports, \
         status, progress, created_at, updated_at) \
         SELECT $1, $2, $3, $4, $5, $6, $7, 'queued', 0, $8, $8 \
         WHERE EXISTS (SELECT 1 FROM videos v WHERE v.id = $3 AND v.workspace_id = $2 AND v.deleted_at IS NULL)";
    let inserted = on_tx!(&mut *tx, conn => sqlx::query(insert)
        .bind(id)
        .bind(workspace)
        .bind(new.video_id)
        .bind(new.requested_by)
        .bind(sqlx::types::Json(new.settings))
        .bind(new.quality)
        .bind(sqlx::types::Json(new.exports))
        .bind(now())
        .execute(conn)
        .await
        .map(|r| r.rows_affected()))?;
    if inserted != 1 {
        return Err(StoreError::NotFound { what: "video" });
    }
    let job = NewJob::new(JOB_KIND, json!({ "jumpcut_id": id }))
        .workspace(workspace.0)
        .unique_key(format!("jumpcut:{id}"));
    let job_id = queue.enqueue_in(tx, job).await?.id();
    let sql = format!(
        "UPDATE jumpcuts SET job_id = $3 WHERE id = $1 AND workspace_id = $2 RETURNING {COLUMNS}"
    );
    Ok(on_tx!(&mut *tx, conn => sqlx::query_as::<_, Jumpcut>(&sql)
        .bind(id)
        .bind(workspace)
        .bind(job_id)
        .fetch_one(conn)
        .await)?)
}

/// One of the workspace's jump cuts of a live video.
pub async fn get(
    store: &Store,
    workspace: WorkspaceId,
    id: JumpcutId,
) -> Result<Option<Jumpcut>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM jumpcuts WHERE id = $1 AND workspace_id = $2 AND {LIVE_VIDEO}"
    );
    Ok(on_pool!(store, pool => sqlx::query_as::<_, Jumpcut>(&sql)
        .bind(id)
        .bind(workspace)
        .fetch_optional(pool)
        .await)?)
}

/// One page of the jump cuts of one of the workspace's live videos, newest first.
pub async fn list_for_video(
    store: &Store,
    workspace: WorkspaceId,
    video: VideoId,
    page: Page,
) -> Result<Paged<Jumpcut>, StoreError> {
    let conditions = format!("video_id = $1 AND workspace_id = $2 AND {LIVE_VIDEO}");
    let sql = format!(
        "SELECT {COLUMNS} FROM jumpcuts WHERE {conditions} \
         ORDER BY created_at DESC, id DESC LIMIT $3 OFFSET $4"
    );
    let items = on_pool!(store, pool => sqlx::query_as::<_, Jumpcut>(&sql)
        .bind(video)
        .bind(workspace)
        .bind(page.limit())
        .bind(page.offset())
        .fetch_all(pool)
        .await)?;
    let count = format!("SELECT COUNT(*) FROM jumpcuts WHERE {conditions}");
    let total: i64 = on_pool!(store, pool => sqlx::query_scalar(&count)
        .bind(video)
        .bind(workspace)
        .fetch_one(pool)
        .await)?;
    Ok(Paged::new(items, total, page))
}

/// A worker took the jump cut: `processing`, progress from 0. False when it is no longer
/// queued or processing (cancelled meanwhile), so the worker should stop.
pub async fn start(
    db: impl Into<Db<'_>>,
    workspace: WorkspaceId,
    id: JumpcutId,
) -> Result<bool, StoreError> {
    let sql = "UPDATE jumpcuts SET status = 'processing', progress = 0, error = NULL, started_at = $3, updated_at = $3 \
               WHERE id = $1 AND workspace_id = $2 AND status IN ('queued', 'processing')";
    let done = on_db!(db.into(), conn => sqlx::query(sql)
        .bind(id)
        .bind(workspace)
        .bind(now())
        .execute(conn)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(done == 1)
}

/// Reports progress (clamped to 0–100) and the current step of a running jump cut; false
/// when it is no longer running.
pub async fn set_progress(
    db: impl Into<Db<'_>>,
    workspace: WorkspaceId,
    id: JumpcutId,
    progress: u8,
    step: Option<&str>,
) -> Result<bool, StoreError> {
    let sql = "UPDATE jumpcuts SET progress = $3, current_step = COALESCE($4, current_step), updated_at = $5 \
               WHERE id = $1 AND workspace_id = $2 AND status = 'processing'";
    let done = on_db!(db.into(), conn => sqlx::query(sql)
        .bind(id)
        .bind(workspace)
        .bind(i64::from(progress.min(100)))
        .bind(step)
        .bind(now())
        .execute(conn)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(done == 1)
}

/// What a finished jump cut produced.
#[derive(Debug, Clone)]
pub struct JumpcutOutput<'a> {
    /// Where the MP4 is stored.
    pub output_key: &'a str,
    /// Where each export is stored, by format.
    pub export_keys: &'a BTreeMap<String, String>,
    /// The MP4's size.
    pub size_bytes: u64,
    /// The source's length in seconds.
    pub duration_in: f64,
    /// The MP4's length in seconds.
    pub duration_out: f64,
    /// Seconds removed.
    pub removed_seconds: f64,
    /// The rest of what the cut did.
    pub stats: &'a Value,
}

/// Marks a running jump cut of a live video completed with its output; false when it was
/// no longer running or its video was deleted meanwhile (the files are then nobody's, and
/// the caller removes them).
pub async fn complete(
    db: impl Into<Db<'_>>,
    workspace: WorkspaceId,
    id: JumpcutId,
    output: &JumpcutOutput<'_>,
) -> Result<bool, StoreError> {
    let sql = format!(
        "UPDATE jumpcuts SET status = 'completed', progress = 100, current_step = NULL, output_key = $3, \
               export_keys = $4, size_bytes = $5, duration_in = $6, duration_out = $7, removed_seconds = $8, \
               stats = $9, finished_at = $10, updated_at = $10 \
               WHERE id = $1 AND workspace_id = $2 AND status = 'processing' AND {LIVE_VIDEO}"
    );
    let done = on_db!(db.into(), conn => sqlx::query(&sql)
        .bind(id)
        .bind(workspace)
        .bind(output.output_key)
        .bind(sqlx::types::Json(output.export_keys))
        .bind(i64::try_from(output.size_bytes).unwrap_or(i64::MAX))
        .bind(output.duration_in)
        .bind(output.duration_out)
        .bind(output.removed_seconds)
        .bind(sqlx::types::Json(output.stats))
        .bind(now())
        .execute(conn)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(done == 1)
}

/// Marks an active jump cut failed with the reason; false when it already ended.
pub async fn fail(
    db: impl Into<Db<'_>>,
    workspace: WorkspaceId,
    id: JumpcutId,
    error: &str,
) -> Result<bool, StoreError> {
    let sql =
        "UPDATE jumpcuts SET status = 'failed', error = $3, finished_at = $4, updated_at = $4 \
               WHERE id = $1 AND workspace_id = $2 AND status IN ('queued', 'processing')";
    let done = on_db!(db.into(), conn => sqlx::query(sql)
        .bind(id)
        .bind(workspace)
        .bind(error)
        .bind(now())
        .execute(conn)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(done == 1)
}

/// Cancels an active jump cut; false when there is none such (unknown, or already ended).
pub async fn cancel(
    db: impl Into<Db<'_>>,
    workspace: WorkspaceId,
    id: JumpcutId,
) -> Result<bool, StoreError> {
    let sql = "UPDATE jumpcuts SET status = 'canceled', finished_at = $3, updated_at = $3 \
               WHERE id = $1 AND workspace_id = $2 AND status IN ('queued', 'processing')";
    let done = on_db!(db.into(), conn => sqlx::query(sql)
        .bind(id)
        .bind(workspace)
        .bind(now())
        .execute(conn)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(done == 1)
}
