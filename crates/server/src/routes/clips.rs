//! Clips: hand-cut and suggested moments of a video, and asking the clip finder for more.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use clipforge_core::Preferences;
use clipforge_store::clips::{
    self, Clip, ClipFilter, ClipSortField, ClipStatus, ClipUpdate, NewClip,
};
use clipforge_store::{
    transcripts, videos, ClipId, Enqueued, NewJob, Page, SortOrder, VideoId, WorkspaceId,
};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{json, Value};

use crate::app::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiJson, ErrorCode, FieldError};
use crate::pagination::{PageRequest, Pagination};

/// This module's `/api/v1` routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/analysis/videos/{video_id}/suggest-clips", post(suggest))
        .route("/clips", post(create).get(list))
        .route("/clips/{id}", get(show).put(update).delete(remove))
        .route("/clips/{id}/duplicate", post(duplicate))
}

/// Shortest and longest clip the API lets anyone ask for, seconds.
const DURATION_RANGE: std::ops::RangeInclusive<f64> = 5.0..=180.0;
/// Longest title a clip may have, characters.
const MAX_TITLE: usize = 200;

/// Collects field errors so a request hears of every bad field at once.
#[derive(Default)]
pub(crate) struct Problems(Vec<FieldError>);

impl Problems {
    pub(crate) fn add(&mut self, field: &str, message: impl Into<String>) {
        self.0.push(FieldError {
            field: field.into(),
            message: message.into(),
        });
    }

    pub(crate) fn finish(self) -> Result<(), ApiError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(ApiError::validation(self.0))
        }
    }
}

/// A present-but-null JSON field as `Some(None)`, so "clear it" differs from "leave it".
pub(crate) fn nullable<'de, D, T>(de: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(de).map(Some)
}

/// A clip id from the path; a malformed one is as absent as another workspace's.
pub(crate) fn clip_id(raw: &str) -> Result<ClipId, ApiError> {
    raw.parse().map_err(|_| ApiError::not_found("clip"))
}

/// One of the caller's live clips, or 404.
pub(crate) async fn load_clip(
    state: &AppState,
    workspace: WorkspaceId,
    raw: &str,
) -> Result<Clip, ApiError> {
    clips::get(state.store(), workspace, clip_id(raw)?)
        .await?
        .ok_or_else(|| ApiError::not_found("clip"))
}

/// A clip as the API shows it: the record plus the names clients know from the seed design.
#[derive(Serialize)]
struct ClipView {
    #[serde(flatten)]
    clip: Clip,
    virality_score: Option<f64>,
    duration_seconds: f64,
}

impl From<Clip> for ClipView {
    fn from(clip: Clip) -> Self {
        ClipView {
            virality_score: clip.score,
            duration_seconds: clip.duration_seconds(),
            clip,
        }
    }
}

fn check_title(problems: &mut Problems, title: &str) {
    let n = title.trim().chars().count();
    if n == 0 || n > MAX_TITLE {
        problems.add("title", format!("must be 1-{MAX_TITLE} characters"));
    }
}

fn check_times(problems: &mut Problems, start: Option<f64>, end: Option<f64>) {
    for (field, t) in [("start", start), ("end", end)] {
        if let Some(t) = t {
            if !t.is_finite() || t < 0.0 {
                problems.add(field, format!("{t} is not a time in the video"));
            }
        }
    }
    if let (Some(start), Some(end)) = (start, end) {
        let length = end - start;
        if length <= 0.0 {
            problems.add("end", "must be after start");
        } else if !DURATION_RANGE.contains(&length) {
            problems.add("end", format!("a clip lasts 5-180 s, not {length:.1} s"));
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateClip {
    video_id: String,
    #[serde(alias = "start_seconds")]
    start: f64,
    #[serde(alias = "end_seconds")]
    end: f64,
    title: String,
    hook: Option<String>,
}

async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<CreateClip>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let mut problems = Problems::default();
    check_title(&mut problems, &body.title);
    check_times(&mut problems, Some(body.start), Some(body.end));
    let video_id: Option<VideoId> = body.video_id.parse().ok();
    if video_id.is_none() {
        problems.add("video_id", "is not a video id");
    }
    problems.finish()?;
    let video = videos::get(state.store(), caller.workspace, video_id.expect("checked"))
        .await?
        .ok_or_else(|| ApiError::not_found("video"))?;
    if let Some(media) = &video.media {
        if body.end > media.duration_seconds + 0.5 {
            return Err(ApiError::field(
                "end",
                format!(
                    "the video lasts {:.1} s; the clip must end within it",
                    media.duration_seconds
                ),
            ));
        }
    }
    let clip = clips::create(
        state.store(),
        caller.workspace,
        NewClip {
            video_id: video.id,
            created_by: Some(caller.user_id()),
            title: body.title.trim(),
            hook: body.hook.as_deref(),
            start_seconds: body.start,
            end_seconds: body.end,
            score: None,
            breakdown: None,
            reason: None,
            highlights: &[],
            is_ai_suggested: false,
        },
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "clip": ClipView::from(clip) })),
    ))
}

/// Query parameters of `GET /clips`, as text so each bad one is reported by name.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    page: Option<i64>,
    per_page: Option<i64>,
    video_id: Option<String>,
    status: Option<String>,
    is_ai_suggested: Option<String>,
    favourite: Option<String>,
    min_score: Option<String>,
    search: Option<String>,
    sort_by: Option<String>,
    sort_order: Option<String>,
}

fn parse_bool(problems: &mut Problems, field: &str, raw: Option<&str>) -> Option<bool> {
    match raw? {
        "true" | "1" => Some(true),
        "false" | "0" => Some(false),
        other => {
            problems.add(field, format!("{other:?} is not true or false"));
            None
        }
    }
}

/// A text enum from a query value through its serde name (`"rendered"`, `"virality_score"`).
fn parse_named<T: serde::de::DeserializeOwned>(
    problems: &mut Problems,
    field: &str,
    raw: Option<&str>,
    allowed: &str,
) -> Option<T> {
    let raw = raw?;
    match serde_json::from_value(Value::String(raw.to_string())) {
        Ok(v) => Some(v),
        Err(_) => {
            problems.add(field, format!("{raw:?} is not one of {allowed}"));
            None
        }
    }
}

async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<ListQuery>,
) -> Result<Json<Value>, ApiError> {
    let page = PageRequest::parse(q.page, q.per_page)?;
    let mut problems = Problems::default();
    let video_id = q.video_id.as_deref().and_then(|raw| {
        let id = raw.parse::<VideoId>().ok();
        if id.is_none() {
            problems.add("video_id", "is not a video id");
        }
        id
    });
    let status: Option<ClipStatus> = q.status.as_deref().and_then(|raw| {
        let s = raw.parse().ok();
        if s.is_none() {
            problems.add(
                "status",
                "must be draft, queued, rendering, rendered or failed",
            );
        }
        s
    });
    let is_ai_suggested = parse_bool(
        &mut problems,
        "is_ai_suggested",
        q.is_ai_suggested.as_deref(),
    );
    let favourite = parse_bool(&mut problems, "favourite", q.favourite.as_deref());
    let min_score = q
        .min_score
        .as_deref()
        .and_then(|raw| match raw.parse::<f64>() {
            Ok(s) if (0.0..=100.0).contains(&s) => Some(s),
            _ => {
                problems.add("min_score", "must be a number in 0-100");
                None
            }
        });
    // `start` is the seed design's name for ordering by position in the video.
    let sort_raw = q
        .sort_by
        .as_deref()
        .map(|s| if s == "start" { "start_time" } else { s });
    let sort: ClipSortField = parse_named(
        &mut problems,
        "sort_by",
        sort_raw,
        "virality_score, created_at, start",
    )
    .unwrap_or_default();
    let order: SortOrder = parse_named(
        &mut problems,
        "sort_order",
        q.sort_order.as_deref(),
        "asc, desc",
    )
    .unwrap_or_default();
    problems.finish()?;
    let filter = ClipFilter {
        video_id,
        status,
        is_ai_suggested,
        favourite,
        min_score,
        search: q.search.as_deref().map(str::trim).filter(|s| !s.is_empty()),
    };
    let found = clips::list(
        state.store(),
        caller.workspace,
        &filter,
        sort,
        order,
        Page::new(page.page, page.per_page),
    )
    .await?;
    let pagination = Pagination::new(page, found.total);
    let items: Vec<ClipView> = found.items.into_iter().map(ClipView::from).collect();
    Ok(Json(json!({ "clips": items, "pagination": pagination })))
}

async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let clip = load_clip(&state, caller.workspace, &id).await?;
    Ok(Json(json!({ "clip": ClipView::from(clip) })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UpdateClip {
    title: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    hook: Option<Option<String>>,
    #[serde(alias = "start_seconds")]
    start: Option<f64>,
    #[serde(alias = "end_seconds")]
    end: Option<f64>,
    #[serde(alias = "is_favorite", alias = "favorite")]
    favourite: Option<bool>,
}

async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<UpdateClip>,
) -> Result<Json<Value>, ApiError> {
    let current = load_clip(&state, caller.workspace, &id).await?;
    let mut problems = Problems::default();
    if let Some(title) = &body.title {
        check_title(&mut problems, title);
    }
    if body.start.is_some() || body.end.is_some() {
        check_times(
            &mut problems,
            Some(body.start.unwrap_or(current.start_seconds)),
            Some(body.end.unwrap_or(current.end_seconds)),
        );
    }
    problems.finish()?;
    let clip = clips::update(
        state.store(),
        caller.workspace,
        current.id,
        ClipUpdate {
            title: body.title.as_deref().map(str::trim),
            hook: body.hook.as_ref().map(|h| h.as_deref()),
            start_seconds: body.start,
            end_seconds: body.end,
            favourite: body.favourite,
        },
    )
    .await?
    .ok_or_else(|| ApiError::not_found("clip"))?;
    Ok(Json(json!({ "clip": ClipView::from(clip) })))
}

async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    if !clips::delete(state.store(), caller.workspace, clip_id(&id)?).await? {
        return Err(ApiError::not_found("clip"));
    }
    Ok(StatusCode::NO_CONTENT)
}

async fn duplicate(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let id = clip_id(&id)?;
    let mut tx = state.store().begin().await?;
    let copy = clips::duplicate(&mut tx, caller.workspace, id, Some(caller.user_id()))
        .await?
        .ok_or_else(|| ApiError::not_found("clip"))?;
    tx.commit().await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "clip": ClipView::from(copy) })),
    ))
}

/// The body of `suggest-clips`; every field has the clip finder's default.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SuggestBody {
    min_duration: Option<f64>,
    max_duration: Option<f64>,
    min_virality_score: Option<f64>,
    max_suggestions: Option<i64>,
    preferences: Option<Preferences>,
}

/// The settings a `suggest` job carries, checked field by field.
fn suggest_settings(body: &SuggestBody) -> Result<Value, ApiError> {
    let mut problems = Problems::default();
    let min = body.min_duration.unwrap_or(20.0);
    let max = body.max_duration.unwrap_or(60.0);
    let score = body.min_virality_score.unwrap_or(0.0);
    let count = body.max_suggestions.unwrap_or(10);
    for (field, value) in [("min_duration", min), ("max_duration", max)] {
        if !DURATION_RANGE.contains(&value) {
            problems.add(field, format!("must be 5-180 seconds, not {value}"));
        }
    }
    if min > max {
        problems.add(
            "min_duration",
            format!("must not exceed max_duration ({max})"),
        );
    }
    if !(0.0..=100.0).contains(&score) {
        problems.add("min_virality_score", format!("must be 0-100, not {score}"));
    }
    if !(1..=50).contains(&count) {
        problems.add("max_suggestions", format!("must be 1-50, not {count}"));
    }
    problems.finish()?;
    Ok(json!({
        "min_duration": min,
        "max_duration": max,
        "min_virality_score": score,
        "max_suggestions": count,
        "preferences": body.preferences.unwrap_or_default(),
    }))
}

async fn suggest(
    State(state): State<AppState>,
    caller: Caller,
    Path(video_id): Path<String>,
    ApiJson(body): ApiJson<SuggestBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let video_id: VideoId = video_id.parse().map_err(|_| ApiError::not_found("video"))?;
    let settings = suggest_settings(&body)?;
    let video = videos::get(state.store(), caller.workspace, video_id)
        .await?
        .ok_or_else(|| ApiError::not_found("video"))?;
    if transcripts::get_for_video(state.store(), caller.workspace, video.id)
        .await?
        .is_none()
    {
        return Err(ApiError::new(
            ErrorCode::Conflict,
            "the video has no transcript yet; clips can be suggested once it is transcribed",
        ));
    }
    let job = NewJob::new(
        "suggest",
        json!({ "video_id": video.id, "settings": settings }),
    )
    .workspace(caller.workspace.0)
    .unique_key(format!("video:{}:suggest", video.id));
    let mut tx = state.store().begin().await?;
    let id = match state.queue().enqueue_in(&mut tx, job).await? {
        Enqueued::Created(id) => id,
        Enqueued::Duplicate(_) => {
            return Err(ApiError::new(
                ErrorCode::Conflict,
                "clips are already being suggested for this video",
            ))
        }
    };
    tx.commit().await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({ "job": { "id": id, "status": "queued" } })),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(min: f64, max: f64, score: f64, count: i64) -> SuggestBody {
        SuggestBody {
            min_duration: Some(min),
            max_duration: Some(max),
            min_virality_score: Some(score),
            max_suggestions: Some(count),
            preferences: None,
        }
    }

    #[test]
    fn suggest_settings_name_each_bad_field() {
        let fields = |b: SuggestBody| -> Vec<String> {
            suggest_settings(&b)
                .map(|_| Vec::new())
                .unwrap_or_else(|e| e.details.into_iter().map(|d| d.field).collect())
        };
        assert!(fields(body(15.0, 60.0, 50.0, 10)).is_empty());
        assert_eq!(fields(body(4.0, 60.0, 50.0, 10)), ["min_duration"]);
        assert_eq!(fields(body(30.0, 181.0, 50.0, 10)), ["max_duration"]);
        assert_eq!(fields(body(60.0, 30.0, 50.0, 10)), ["min_duration"]);
        assert_eq!(
            fields(body(15.0, 60.0, 101.0, 0)),
            ["min_virality_score", "max_suggestions"]
        );
    }
}
