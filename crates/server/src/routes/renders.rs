//! Rendering a clip: request (paid in credits), follow, cancel (refunded), download.

use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use clipforge_core::{AspectRatio, Quality, ReframeMode};
use clipforge_store::clips::{self, ClipStatus};
use clipforge_store::credits::{self, CreditRefs};
use clipforge_store::renders::{self, Render, RenderStatus};
use clipforge_store::{Enqueued, NewJob, RenderId, WorkspaceId};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{OpenApi, ToSchema};

use super::clips::{load_clip, CLIP_ID};
use crate::app::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiJson, ErrorCode};

/// This module's `/api/v1` routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/clips/{id}/render", post(request))
        .route("/clips/{id}/render/status", get(status))
        .route("/clips/{id}/cancel-render", post(cancel))
        .route("/clips/{id}/download", get(download))
}

/// This module's operations in the OpenAPI document.
#[derive(OpenApi)]
#[openapi(paths(request, status, cancel, download))]
pub(super) struct Doc;

/// A render request, paid and queued.
#[derive(Serialize, ToSchema)]
struct RenderAccepted {
    render_job: RenderQueued,
}

#[derive(Serialize, ToSchema)]
struct RenderQueued {
    /// The render's id.
    #[schema(value_type = uuid::Uuid)]
    id: RenderId,
    /// The job that makes it (`/api/v1/jobs/{job_id}`).
    job_id: uuid::Uuid,
    #[schema(value_type = String, example = "queued")]
    status: RenderStatus,
}

#[derive(Serialize, ToSchema)]
struct RenderState {
    render_job: RenderView,
}

/// The clip's latest render; the output fields appear once it completed.
#[derive(Serialize, ToSchema)]
struct RenderView {
    #[schema(value_type = uuid::Uuid)]
    id: RenderId,
    #[schema(value_type = String, example = "rendering")]
    status: RenderStatus,
    /// 0-100.
    progress: i64,
    current_step: Option<String>,
    error: Option<String>,
    created_at: DateTime<Utc>,
    finished_at: Option<DateTime<Utc>>,
    /// A signed download link, valid for an hour.
    #[serde(skip_serializing_if = "Option::is_none")]
    output_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<i64>)]
    size_bytes: Option<Option<i64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<f64>)]
    duration_seconds: Option<Option<f64>>,
}

#[derive(Serialize, ToSchema)]
struct RenderCancelled {
    render_job: RenderEnded,
    /// Credits given back for the render.
    credits_refunded: i64,
}

#[derive(Serialize, ToSchema)]
struct RenderEnded {
    #[schema(value_type = uuid::Uuid)]
    id: RenderId,
    /// Always `canceled`.
    #[schema(value_type = String, example = "canceled")]
    status: RenderStatus,
}

/// Credits one render costs.
const RENDER_CREDITS: i64 = 1;
/// How long a download or preview link works.
const LINK_LIFETIME: Duration = Duration::from_secs(3600);

/// What a render request may set; the clip's style decides anything left out.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct RenderBody {
    /// draft, standard or high.
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "standard")]
    quality: Quality,
    /// Output aspect ratio, e.g. `9:16`.
    #[schema(value_type = Option<String>)]
    aspect: Option<AspectRatio>,
    /// How the picture is fitted to the aspect.
    #[schema(value_type = Option<String>)]
    reframe_mode: Option<ReframeMode>,
    /// Burn in captions (default true).
    #[serde(default = "yes")]
    #[schema(value_type = Option<bool>)]
    captions: bool,
}

fn yes() -> bool {
    true
}

/// Renders a clip for one credit; one render of a clip at a time.
#[utoipa::path(post, path = "/clips/{id}/render", tag = "renders",
    params(("id" = String, Path, description = CLIP_ID)), request_body = RenderBody,
    responses((status = 202, description = "Paid and queued", body = RenderAccepted)))]
async fn request(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<RenderBody>,
) -> Result<(StatusCode, Json<RenderAccepted>), ApiError> {
    let clip = load_clip(&state, caller.workspace, &id).await?;
    // A second request while one is under way would pay twice for the same file.
    let latest = renders::latest_for_clip(state.store(), caller.workspace, clip.id).await?;
    if latest.is_some_and(|r| r.status.is_active()) {
        return Err(ApiError::new(
            ErrorCode::Conflict,
            "the clip is already being rendered; cancel that render or wait for it",
        ));
    }
    let mut settings = json!({ "quality": body.quality, "captions": body.captions });
    if let Some(aspect) = body.aspect {
        settings["aspect"] = json!(aspect);
    }
    if let Some(mode) = body.reframe_mode {
        settings["reframe_mode"] = json!(mode);
    }
    // The render, its job and its debit commit together or not at all: a short balance
    // leaves no render behind, and a render never exists without the job that makes it.
    let mut tx = state.store().begin().await?;
    let render = renders::create(
        &mut tx,
        caller.workspace,
        clip.id,
        Some(caller.user_id()),
        &settings,
    )
    .await?;
    let job = NewJob::new("render", json!({ "render_id": render.id }))
        .workspace(caller.workspace.0)
        .unique_key(format!("render:{}", render.id));
    let job_id = match state.queue().enqueue_in(&mut tx, job).await? {
        Enqueued::Created(id) => id,
        Enqueued::Duplicate(id) => {
            return Err(ApiError::internal(format!(
                "render {} already has job {id}",
                render.id
            )))
        }
    };
    credits::debit(
        &mut tx,
        caller.workspace,
        RENDER_CREDITS,
        &format!("render of \"{}\"", clip.title),
        CreditRefs {
            job_id: Some(job_id),
            render_id: Some(render.id),
            video_id: Some(clip.video_id),
        },
    )
    .await?;
    clips::set_status(&mut tx, caller.workspace, clip.id, ClipStatus::Queued).await?;
    tx.commit().await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(RenderAccepted {
            render_job: RenderQueued {
                id: render.id,
                job_id,
                status: render.status,
            },
        }),
    ))
}

/// A signed link to a finished render's file, saved under the clip's title.
async fn output_url(
    state: &AppState,
    render: &Render,
    title: &str,
) -> Result<Option<String>, ApiError> {
    let Some(key) = render
        .output_key
        .as_deref()
        .filter(|_| render.status == RenderStatus::Completed)
    else {
        return Ok(None);
    };
    let filename = format!("{}.mp4", title.trim());
    let link = state
        .storage()
        .signed_url(key, LINK_LIFETIME, Some(&filename))
        .await?;
    Ok(Some(link.url))
}

/// The clip's latest render, with a download link once it completed.
#[utoipa::path(get, path = "/clips/{id}/render/status", tag = "renders",
    params(("id" = String, Path, description = CLIP_ID)),
    responses((status = 200, description = "The latest render", body = RenderState)))]
async fn status(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<RenderState>, ApiError> {
    let clip = load_clip(&state, caller.workspace, &id).await?;
    let render = renders::latest_for_clip(state.store(), caller.workspace, clip.id)
        .await?
        .ok_or_else(|| ApiError::not_found("render"))?;
    let url = output_url(&state, &render, &clip.title).await?;
    let done = url.is_some();
    let view = RenderView {
        id: render.id,
        status: render.status,
        progress: render.progress,
        current_step: render.current_step,
        error: render.error,
        created_at: render.created_at,
        finished_at: render.finished_at,
        output_url: url,
        size_bytes: done.then_some(render.size_bytes),
        duration_seconds: done.then_some(render.duration_seconds),
    };
    Ok(Json(RenderState { render_job: view }))
}

/// The clip's state once its active render is gone: rendered if an earlier render of it
/// finished, a draft otherwise.
async fn settled_status(
    state: &AppState,
    workspace: WorkspaceId,
    clip: clipforge_store::ClipId,
) -> Result<ClipStatus, ApiError> {
    let all = renders::list_for_clip(state.store(), workspace, clip).await?;
    Ok(if all.iter().any(|r| r.status == RenderStatus::Completed) {
        ClipStatus::Rendered
    } else {
        ClipStatus::Draft
    })
}

/// Cancels the clip's render in progress and refunds its credit.
#[utoipa::path(post, path = "/clips/{id}/cancel-render", tag = "renders",
    params(("id" = String, Path, description = CLIP_ID)),
    responses((status = 200, description = "Cancelled and refunded", body = RenderCancelled)))]
async fn cancel(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<RenderCancelled>, ApiError> {
    let clip = load_clip(&state, caller.workspace, &id).await?;
    let render = renders::latest_for_clip(state.store(), caller.workspace, clip.id)
        .await?
        .filter(|r| r.status.is_active())
        .ok_or_else(|| ApiError::new(ErrorCode::Conflict, "the clip has no render in progress"))?;
    let debits = credits::debits_for_render(state.store(), caller.workspace, render.id).await?;
    let jobs: Vec<uuid::Uuid> = debits.iter().filter_map(|d| d.job_id).collect();
    // The job first: a worker that has not claimed it yet never will, and one running it
    // hears at its next heartbeat. The render row then records the cancel, and only the
    // call that moved it to cancelled refunds, so two cancels cannot refund twice.
    for job in &jobs {
        state.queue().cancel(*job, caller.workspace.0).await?;
    }
    let mut tx = state.store().begin().await?;
    if !renders::cancel(&mut tx, caller.workspace, render.id).await? {
        return Err(ApiError::new(
            ErrorCode::Conflict,
            "the render finished before it could be cancelled",
        ));
    }
    let mut refunded = 0;
    for job in &jobs {
        for entry in
            credits::refund_job(&mut tx, caller.workspace, *job, "render cancelled").await?
        {
            refunded += entry.delta;
        }
    }
    tx.commit().await?;
    let now = settled_status(&state, caller.workspace, clip.id).await?;
    clips::set_status(state.store(), caller.workspace, clip.id, now).await?;
    Ok(Json(RenderCancelled {
        render_job: RenderEnded {
            id: render.id,
            status: RenderStatus::Canceled,
        },
        credits_refunded: refunded,
    }))
}

/// Redirects to the clip's newest finished render, saved under the clip's title.
#[utoipa::path(get, path = "/clips/{id}/download", tag = "renders",
    params(("id" = String, Path, description = CLIP_ID)),
    responses((status = 302, description = "`Location` is a signed link to the MP4, valid for an hour")))]
async fn download(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let clip = load_clip(&state, caller.workspace, &id).await?;
    // The newest finished render, even while a newer one is being made.
    let finished = renders::list_for_clip(state.store(), caller.workspace, clip.id)
        .await?
        .into_iter()
        .find(|r| r.status == RenderStatus::Completed);
    let Some(render) = finished else {
        return Err(ApiError::new(
            ErrorCode::NotFound,
            "the clip has no finished render yet",
        ));
    };
    let url = output_url(&state, &render, &clip.title)
        .await?
        .ok_or_else(|| ApiError::not_found("render output"))?;
    Ok((StatusCode::FOUND, [(header::LOCATION, url)]).into_response())
}
