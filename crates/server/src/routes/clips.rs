//! Clips: hand-cut and suggested moments of a video. Asking the clip finder for more is in
//! [`super::suggest`].

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use clipforge_store::clips::{
    self, Clip, ClipFilter, ClipSortField, ClipStatus, ClipUpdate, NewClip,
};
use clipforge_store::{videos, ClipId, Page, SortOrder, VideoId, WorkspaceId};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, OpenApi, ToSchema};

use crate::app::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiJson, FieldError};
use crate::pagination::{PageRequest, Pagination};

/// This module's `/api/v1` routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/clips", post(create).get(list))
        .route("/clips/{id}", get(show).put(update).delete(remove))
        .route("/clips/{id}/duplicate", post(duplicate))
}

/// This module's operations in the OpenAPI document.
#[derive(OpenApi)]
#[openapi(paths(create, list, show, update, remove, duplicate))]
pub(super) struct Doc;

/// A path's clip id.
pub(crate) const CLIP_ID: &str = "The clip's id";

#[derive(Serialize, ToSchema)]
struct OneClip {
    clip: ClipView,
}

#[derive(Serialize, ToSchema)]
struct ClipList {
    clips: Vec<ClipView>,
    pagination: Pagination,
}

/// Shortest and longest clip the API lets anyone ask for, seconds.
pub(crate) const DURATION_RANGE: std::ops::RangeInclusive<f64> = 5.0..=180.0;
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
#[derive(Serialize, ToSchema)]
struct ClipView {
    /// The clip's record: id, video_id, title, hook, start_seconds, end_seconds, score,
    /// status, favourite, ...
    #[serde(flatten)]
    #[schema(value_type = Object)]
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

#[derive(Debug, Deserialize, ToSchema)]
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

/// Cuts a clip by hand from one of the workspace's videos (5-180 s).
#[utoipa::path(post, path = "/clips", tag = "clips", request_body = CreateClip,
    responses((status = 201, description = "The new clip", body = OneClip)))]
async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<CreateClip>,
) -> Result<(StatusCode, Json<OneClip>), ApiError> {
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
        Json(OneClip {
            clip: ClipView::from(clip),
        }),
    ))
}

/// Query parameters of `GET /clips`, as text so each bad one is reported by name.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    /// From 1.
    page: Option<i64>,
    /// 1-100 (default 20).
    per_page: Option<i64>,
    /// Only this video's clips.
    video_id: Option<String>,
    /// draft, queued, rendering, rendered or failed.
    status: Option<String>,
    /// true or false.
    is_ai_suggested: Option<String>,
    /// true or false.
    favourite: Option<String>,
    /// 0-100.
    min_score: Option<String>,
    /// Words in the title or hook.
    search: Option<String>,
    /// virality_score, created_at or start.
    sort_by: Option<String>,
    /// asc or desc.
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

/// The workspace's clips, filtered and sorted.
#[utoipa::path(get, path = "/clips", tag = "clips", params(ListQuery),
    responses((status = 200, description = "One page of clips", body = ClipList)))]
async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<ListQuery>,
) -> Result<Json<ClipList>, ApiError> {
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
    Ok(Json(ClipList {
        clips: items,
        pagination,
    }))
}

/// One clip.
#[utoipa::path(get, path = "/clips/{id}", tag = "clips",
    params(("id" = String, Path, description = CLIP_ID)),
    responses((status = 200, description = "The clip", body = OneClip)))]
async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<OneClip>, ApiError> {
    let clip = load_clip(&state, caller.workspace, &id).await?;
    Ok(Json(OneClip {
        clip: ClipView::from(clip),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct UpdateClip {
    title: Option<String>,
    /// `null` clears it; absent leaves it.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    hook: Option<Option<String>>,
    #[serde(alias = "start_seconds")]
    start: Option<f64>,
    #[serde(alias = "end_seconds")]
    end: Option<f64>,
    #[serde(alias = "is_favorite", alias = "favorite")]
    favourite: Option<bool>,
}

/// Retitles, retimes or (un)favourites a clip.
#[utoipa::path(put, path = "/clips/{id}", tag = "clips",
    params(("id" = String, Path, description = CLIP_ID)), request_body = UpdateClip,
    responses((status = 200, description = "The clip as changed", body = OneClip)))]
async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<UpdateClip>,
) -> Result<Json<OneClip>, ApiError> {
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
    Ok(Json(OneClip {
        clip: ClipView::from(clip),
    }))
}

/// Deletes a clip.
#[utoipa::path(delete, path = "/clips/{id}", tag = "clips",
    params(("id" = String, Path, description = CLIP_ID)),
    responses((status = 204, description = "Deleted")))]
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

/// Copies a clip (with its style) to edit separately.
#[utoipa::path(post, path = "/clips/{id}/duplicate", tag = "clips",
    params(("id" = String, Path, description = CLIP_ID)),
    responses((status = 201, description = "The copy", body = OneClip)))]
async fn duplicate(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<OneClip>), ApiError> {
    let id = clip_id(&id)?;
    let mut tx = state.store().begin().await?;
    let copy = clips::duplicate(&mut tx, caller.workspace, id, Some(caller.user_id()))
        .await?
        .ok_or_else(|| ApiError::not_found("clip"))?;
    tx.commit().await?;
    Ok((
        StatusCode::CREATED,
        Json(OneClip {
            clip: ClipView::from(copy),
        }),
    ))
}
