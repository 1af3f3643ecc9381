//! Asking the clip finder for clips of a transcribed video: checked settings, then one
//! `suggest` job per video at a time.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use clipforge_core::Preferences;
use clipforge_store::{transcripts, videos, Enqueued, NewJob, VideoId};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use utoipa::{OpenApi, ToSchema};

use super::clips::{Problems, DURATION_RANGE};
use crate::app::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiJson, ErrorCode};

/// This module's `/api/v1` routes.
pub fn routes() -> Router<AppState> {
    Router::new().route("/analysis/videos/{video_id}/suggest-clips", post(suggest))
}

/// This module's operations in the OpenAPI document.
#[derive(OpenApi)]
#[openapi(paths(suggest))]
pub(super) struct Doc;

/// A suggest job, queued.
#[derive(Serialize, ToSchema)]
struct SuggestAccepted {
    job: QueuedJob,
}

#[derive(Serialize, ToSchema)]
struct QueuedJob {
    /// Follow it at `/api/v1/jobs/{id}` or on `/api/v1/events`.
    id: uuid::Uuid,
    /// Always `queued`.
    status: &'static str,
}

/// The body of `suggest-clips`; every field has the clip finder's default.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct SuggestBody {
    /// Seconds, 5-180 (default 20).
    min_duration: Option<f64>,
    /// Seconds, 5-180 (default 60).
    max_duration: Option<f64>,
    /// 0-100 (default 0).
    min_virality_score: Option<f64>,
    /// 1-50 (default 10).
    max_suggestions: Option<i64>,
    /// What the clip finder should favour.
    #[schema(value_type = Option<Object>)]
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

/// Asks the clip finder for clips of a transcribed video; one run per video at a time.
#[utoipa::path(post, path = "/analysis/videos/{video_id}/suggest-clips", tag = "clips",
    params(("video_id" = String, Path, description = "The video's id")), request_body = SuggestBody,
    responses((status = 202, description = "The suggest job, queued", body = SuggestAccepted)))]
async fn suggest(
    State(state): State<AppState>,
    caller: Caller,
    Path(video_id): Path<String>,
    ApiJson(body): ApiJson<SuggestBody>,
) -> Result<(StatusCode, Json<SuggestAccepted>), ApiError> {
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
        Json(SuggestAccepted {
            job: QueuedJob {
                id,
                status: "queued",
            },
        }),
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
