//! Clips: time ranges of a video with their score, whether suggested by the clip finder or
//! cut by hand.

use chrono::{DateTime, Utc};
use clipforge_core::ScoreBreakdown;
use serde::{Deserialize, Serialize};

use crate::db::{
    contains_pattern, now, on_db, text_enum, ClipId, Db, UserId, VideoId, WorkspaceId,
};
use crate::page::{Page, Paged, SortOrder};
use crate::{on_pool, Store, StoreError, Tx};

text_enum! {
    /// Where a clip stands.
    pub enum ClipStatus {
        /// Not rendered yet.
        Draft = "draft",
        /// A render is waiting for a worker.
        Queued = "queued",
        /// A render is running.
        Rendering = "rendering",
        /// The latest render finished.
        Rendered = "rendered",
        /// The latest render failed.
        Failed = "failed",
    }
}

/// A clip.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct Clip {
    /// The clip's id.
    pub id: ClipId,
    /// Its workspace.
    pub workspace_id: WorkspaceId,
    /// The video it is cut from.
    pub video_id: VideoId,
    /// Who made it; `None` for the clip finder's suggestions.
    pub created_by: Option<UserId>,
    /// Display title.
    pub title: String,
    /// The line for the intro overlay.
    pub hook: Option<String>,
    /// Start, seconds into the video.
    pub start_seconds: f64,
    /// End, seconds into the video.
    pub end_seconds: f64,
    /// Virality score, 0–100; `None` for a hand-cut clip never scored.
    pub score: Option<f64>,
    /// The score's parts, each 0–1.
    #[sqlx(json(nullable))]
    pub breakdown: Option<ScoreBreakdown>,
    /// One sentence saying why the moment was picked.
    pub reason: Option<String>,
    /// Short facts behind the score.
    #[sqlx(json)]
    pub highlights: Vec<String>,
    /// Render state.
    #[sqlx(try_from = "String")]
    pub status: ClipStatus,
    /// Starred by a user.
    pub favourite: bool,
    /// Made by the clip finder rather than a person.
    pub is_ai_suggested: bool,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl Clip {
    /// Length in seconds.
    pub fn duration_seconds(&self) -> f64 {
        self.end_seconds - self.start_seconds
    }
}

const CLIP_COLUMNS: &str = "id, workspace_id, video_id, created_by, title, hook, start_seconds, \
    end_seconds, score, breakdown, reason, highlights, status, favourite, is_ai_suggested, \
    created_at, updated_at";

/// A new clip.
#[derive(Debug, Clone)]
pub struct NewClip<'a> {
    /// The video it is cut from; a live video of the same workspace.
    pub video_id: VideoId,
    /// Who makes it; `None` for suggestions.
    pub created_by: Option<UserId>,
    /// Display title.
    pub title: &'a str,
    /// Intro line.
    pub hook: Option<&'a str>,
    /// Start, seconds.
    pub start_seconds: f64,
    /// End, seconds; after the start.
    pub end_seconds: f64,
    /// Score, 0–100.
    pub score: Option<f64>,
    /// The score's parts.
    pub breakdown: Option<&'a ScoreBreakdown>,
    /// Why it was picked.
    pub reason: Option<&'a str>,
    /// Facts behind the score.
    pub highlights: &'a [String],
    /// Made by the clip finder.
    pub is_ai_suggested: bool,
}

/// Refuses a time range or score no clip can have: the database would refuse it too, but
/// with a message the user cannot act on.
fn check_clip(start: Option<f64>, end: Option<f64>, score: Option<f64>) -> Result<(), StoreError> {
    for t in [start, end].into_iter().flatten() {
        if !t.is_finite() || t < 0.0 {
            return Err(StoreError::Invalid(format!(
                "clip time {t} is not a time in the video"
            )));
        }
    }
    if let (Some(start), Some(end)) = (start, end) {
        if end <= start {
            return Err(StoreError::Invalid(format!(
                "clip ends at {end} s, not after its start at {start} s"
            )));
        }
    }
    if let Some(score) = score {
        if !(0.0..=100.0).contains(&score) {
            return Err(StoreError::Invalid(format!(
                "score {score} is outside 0–100"
            )));
        }
    }
    Ok(())
}

/// Turns the database's refusal of a time range (an update that moved only one end)
/// into the same error [`check_clip`] gives.
fn range_refused(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::Database(db) if db.is_check_violation() => {
            StoreError::Invalid("a clip must end after it starts".into())
        }
        _ => StoreError::Database(e),
    }
}

/// Adds a clip; [`StoreError::NotFound`] when the video is not a live video of the
/// workspace, [`StoreError::Invalid`] for an impossible range or score.
pub async fn create(
    db: impl Into<Db<'_>>,
    workspace: WorkspaceId,
    new: NewClip<'_>,
) -> Result<Clip, StoreError> {
    check_clip(Some(new.start_seconds), Some(new.end_seconds), new.score)?;
    let sql = format!(
        "INSERT INTO clips (id, workspace_id, video_id, created_by, title, hook, start_seconds, end_seconds, \
         score, breakdown, reason, highlights, status, is_ai_suggested, created_at, updated_at) \
         SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 'draft', $13, $14, $14 \
         WHERE EXISTS (SELECT 1 FROM videos v WHERE v.id = $3 AND v.workspace_id = $2 AND v.deleted_at IS NULL) \
         RETURNING {CLIP_COLUMNS}"
    );
    let clip = on_db!(db.into(), conn => sqlx::query_as::<_, Clip>(&sql)
        .bind(ClipId::new())
        .bind(workspace)
        .bind(new.video_id)
        .bind(new.created_by)
        .bind(new.title)
        .bind(new.hook)
        .bind(new.start_seconds)
        .bind(new.end_seconds)
        .bind(new.score)
        .bind(new.breakdown.map(sqlx::types::Json))
        .bind(new.reason)
        .bind(sqlx::types::Json(new.highlights))
        .bind(new.is_ai_suggested)
        .bind(now())
        .fetch_optional(conn)
        .await)
    .map_err(range_refused)?;
    clip.ok_or(StoreError::NotFound { what: "video" })
}

/// One of the workspace's live clips.
pub async fn get(
    store: &Store,
    workspace: WorkspaceId,
    id: ClipId,
) -> Result<Option<Clip>, StoreError> {
    let sql = format!(
        "SELECT {CLIP_COLUMNS} FROM clips WHERE id = $1 AND workspace_id = $2 AND deleted_at IS NULL"
    );
    Ok(on_pool!(store, pool => sqlx::query_as::<_, Clip>(&sql)
        .bind(id)
        .bind(workspace)
        .fetch_optional(pool)
        .await)?)
}

/// Which clips a list shows; every set field must match.
#[derive(Debug, Clone, Default)]
pub struct ClipFilter<'a> {
    /// Only this video's.
    pub video_id: Option<VideoId>,
    /// Only this state.
    pub status: Option<ClipStatus>,
    /// Only suggestions (`true`) or only hand-cut clips (`false`).
    pub is_ai_suggested: Option<bool>,
    /// Only starred (`true`) or only unstarred (`false`).
    pub favourite: Option<bool>,
    /// Only clips scoring at least this.
    pub min_score: Option<f64>,
    /// Title contains this, ignoring case.
    pub search: Option<&'a str>,
}

/// What a clip list is ordered by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ClipSortField {
    /// When made (the default).
    #[default]
    CreatedAt,
    /// Virality score; unscored clips come last either way.
    #[serde(alias = "score")]
    ViralityScore,
    /// Position in the video.
    StartTime,
}

impl ClipSortField {
    /// The `ORDER BY` for this field; the id breaks ties so pages are stable.
    fn order_by(self, order: SortOrder) -> String {
        let dir = order.sql();
        match self {
            ClipSortField::CreatedAt => format!("created_at {dir}, id {dir}"),
            // `score IS NULL` sorts false (scored) before true on both engines, which
            // disagree on where NULLs go by default.
            ClipSortField::ViralityScore => format!("score IS NULL, score {dir}, id {dir}"),
            ClipSortField::StartTime => format!("start_seconds {dir}, id {dir}"),
        }
    }
}

/// The workspace's live clips that pass `filter`, one page of them.
pub async fn list(
    store: &Store,
    workspace: WorkspaceId,
    filter: &ClipFilter<'_>,
    sort: ClipSortField,
    order: SortOrder,
    page: Page,
) -> Result<Paged<Clip>, StoreError> {
    let conditions = "workspace_id = $1 AND deleted_at IS NULL \
        AND ($2 IS NULL OR video_id = $2) \
        AND ($3 IS NULL OR status = $3) \
        AND ($4 IS NULL OR is_ai_suggested = $4) \
        AND ($5 IS NULL OR favourite = $5) \
        AND ($6 IS NULL OR score >= $6) \
        AND ($7 IS NULL OR lower(title) LIKE $7 ESCAPE '\\')";
    let sql = format!(
        "SELECT {CLIP_COLUMNS} FROM clips WHERE {conditions} ORDER BY {} LIMIT $8 OFFSET $9",
        sort.order_by(order)
    );
    let status = filter.status.map(ClipStatus::as_str);
    let search = filter.search.map(contains_pattern);
    let items = on_pool!(store, pool => sqlx::query_as::<_, Clip>(&sql)
        .bind(workspace)
        .bind(filter.video_id)
        .bind(status)
        .bind(filter.is_ai_suggested)
        .bind(filter.favourite)
        .bind(filter.min_score)
        .bind(search.as_deref())
        .bind(page.limit())
        .bind(page.offset())
        .fetch_all(pool)
        .await)?;
    let count = format!("SELECT COUNT(*) FROM clips WHERE {conditions}");
    let total: i64 = on_pool!(store, pool => sqlx::query_scalar(&count)
        .bind(workspace)
        .bind(filter.video_id)
        .bind(status)
        .bind(filter.is_ai_suggested)
        .bind(filter.favourite)
        .bind(filter.min_score)
        .bind(search.as_deref())
        .fetch_one(pool)
        .await)?;
    Ok(Paged::new(items, total, page))
}

/// Changes a user may make to a clip; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct ClipUpdate<'a> {
    /// A new title.
    pub title: Option<&'a str>,
    /// A new intro line, or `Some(None)` to drop it.
    pub hook: Option<Option<&'a str>>,
    /// A new start, seconds.
    pub start_seconds: Option<f64>,
    /// A new end, seconds.
    pub end_seconds: Option<f64>,
    /// Star or unstar.
    pub favourite: Option<bool>,
}

/// Changes one of the workspace's live clips; `None` when there is none,
/// [`StoreError::Invalid`] when the new range ends before it starts.
pub async fn update(
    db: impl Into<Db<'_>>,
    workspace: WorkspaceId,
    id: ClipId,
    update: ClipUpdate<'_>,
) -> Result<Option<Clip>, StoreError> {
    check_clip(update.start_seconds, update.end_seconds, None)?;
    let sql = format!(
        "UPDATE clips SET title = COALESCE($3, title), hook = CASE WHEN $4 THEN $5 ELSE hook END, \
         start_seconds = COALESCE($6, start_seconds), end_seconds = COALESCE($7, end_seconds), \
         favourite = COALESCE($8, favourite), updated_at = $9 \
         WHERE id = $1 AND workspace_id = $2 AND deleted_at IS NULL RETURNING {CLIP_COLUMNS}"
    );
    on_db!(db.into(), conn => sqlx::query_as::<_, Clip>(&sql)
        .bind(id)
        .bind(workspace)
        .bind(update.title)
        .bind(update.hook.is_some())
        .bind(update.hook.flatten())
        .bind(update.start_seconds)
        .bind(update.end_seconds)
        .bind(update.favourite)
        .bind(now())
        .fetch_optional(conn)
        .await)
    .map_err(range_refused)
}

/// Moves a live clip to `status` (render jobs); false when there is none.
pub async fn set_status(
    db: impl Into<Db<'_>>,
    workspace: WorkspaceId,
    id: ClipId,
    status: ClipStatus,
) -> Result<bool, StoreError> {
    let sql = "UPDATE clips SET status = $3, updated_at = $4 WHERE id = $1 AND workspace_id = $2 AND deleted_at IS NULL";
    let done = on_db!(db.into(), conn => sqlx::query(sql)
        .bind(id)
        .bind(workspace)
        .bind(status.as_str())
        .bind(now())
        .execute(conn)
        .await.map(|r| r.rows_affected()))?;
    Ok(done == 1)
}

/// Deletes a clip (softly); false when there is no live one.
pub async fn delete(
    db: impl Into<Db<'_>>,
    workspace: WorkspaceId,
    id: ClipId,
) -> Result<bool, StoreError> {
    let sql = "UPDATE clips SET deleted_at = $3, updated_at = $3 WHERE id = $1 AND workspace_id = $2 AND deleted_at IS NULL";
    let done = on_db!(db.into(), conn => sqlx::query(sql).bind(id).bind(workspace).bind(now()).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(done == 1)
}

/// Clears a video's earlier suggestions before the clip finder runs again: the unstarred,
/// never rendered ones go, anything a user starred or rendered stays. How many went.
pub async fn delete_unused_suggestions(
    db: impl Into<Db<'_>>,
    workspace: WorkspaceId,
    video: VideoId,
) -> Result<u64, StoreError> {
    let sql = "UPDATE clips SET deleted_at = $3, updated_at = $3 \
               WHERE video_id = $1 AND workspace_id = $2 AND deleted_at IS NULL \
               AND is_ai_suggested = $4 AND favourite = $5 AND status = 'draft'";
    let done = on_db!(db.into(), conn => sqlx::query(sql)
        .bind(video)
        .bind(workspace)
        .bind(now())
        .bind(true)
        .bind(false)
        .execute(conn)
        .await.map(|r| r.rows_affected()))?;
    Ok(done)
}

/// Copies a live clip and its style into a new draft owned by `by` (titled "… (copy)",
/// unstarred, counted as hand-made); `None` when there is no such clip.
pub async fn duplicate(
    tx: &mut Tx,
    workspace: WorkspaceId,
    id: ClipId,
    by: Option<UserId>,
) -> Result<Option<Clip>, StoreError> {
    let at = now();
    let copy = ClipId::new();
    let sql = format!(
        "INSERT INTO clips (id, workspace_id, video_id, created_by, title, hook, start_seconds, end_seconds, \
         score, breakdown, reason, highlights, status, favourite, is_ai_suggested, created_at, updated_at) \
         SELECT $3, workspace_id, video_id, $4, title || ' (copy)', hook, start_seconds, end_seconds, \
         score, breakdown, reason, highlights, 'draft', $5, $5, $6, $6 \
         FROM clips WHERE id = $1 AND workspace_id = $2 AND deleted_at IS NULL RETURNING {CLIP_COLUMNS}"
    );
    let clip = crate::on_tx!(&mut *tx, conn => sqlx::query_as::<_, Clip>(&sql)
        .bind(id)
        .bind(workspace)
        .bind(copy)
        .bind(by)
        .bind(false)
        .bind(at)
        .fetch_optional(conn)
        .await)?;
    if clip.is_some() {
        let style = "INSERT INTO clip_styles (clip_id, workspace_id, template_id, caption_template, \
                     caption_overrides, logo_key, logo_position, music_key, music_volume, aspect, reframe_mode, updated_at) \
                     SELECT $3, workspace_id, template_id, caption_template, caption_overrides, logo_key, \
                     logo_position, music_key, music_volume, aspect, reframe_mode, $4 \
                     FROM clip_styles WHERE clip_id = $1 AND workspace_id = $2";
        crate::on_tx!(&mut *tx, conn => sqlx::query(style)
            .bind(id)
            .bind(workspace)
            .bind(copy)
            .bind(at)
            .execute(conn)
            .await.map(|r| r.rows_affected()))?;
    }
    Ok(clip)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn impossible_ranges_and_scores_are_refused() {
        assert!(check_clip(Some(10.0), Some(40.0), Some(85.0)).is_ok());
        assert!(check_clip(Some(10.0), Some(10.0), None).is_err());
        assert!(check_clip(Some(40.0), Some(10.0), None).is_err());
        assert!(check_clip(Some(-1.0), Some(10.0), None).is_err());
        assert!(check_clip(Some(f64::NAN), None, None).is_err());
        assert!(check_clip(None, None, Some(100.5)).is_err());
        assert!(check_clip(None, Some(5.0), None).is_ok());
    }

    #[test]
    fn sorting_by_score_puts_unscored_clips_last() {
        assert_eq!(
            ClipSortField::ViralityScore.order_by(SortOrder::Desc),
            "score IS NULL, score DESC, id DESC"
        );
        let field: ClipSortField = serde_json::from_str("\"virality_score\"").unwrap();
        assert_eq!(field, ClipSortField::ViralityScore);
    }
}
