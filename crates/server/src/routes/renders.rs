//! Rendering a clip: request (paid in credits), follow, cancel (refunded), download.

use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use clipforge_core::{AspectRatio, Quality, ReframeMode};
use clipforge_store::clips::{self, ClipStatus};
use clipforge_store::credits::{self, CreditRefs};
use clipforge_store::renders::{self, Render, RenderStatus};
use clipforge_store::{Enqueued, NewJob, WorkspaceId};
use serde::Deserialize;
use serde_json::{json, Value};

use super::clips::load_clip;
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

/// Credits one render costs.
const RENDER_CREDITS: i64 = 1;
/// How long a download or preview link works.
const LINK_LIFETIME: Duration = Duration::from_secs(3600);

/// What a render request may set; the clip's style decides anything left out.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RenderBody {
    #[serde(default)]
    quality: Quality,
    aspect: Option<AspectRatio>,
    reframe_mode: Option<ReframeMode>,
    #[serde(default = "yes")]
    captions: bool,
}

fn yes() -> bool {
    true
}

async fn request(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<RenderBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
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
        Json(json!({
            "render_job": { "id": render.id, "job_id": job_id, "status": render.status }
        })),
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

async fn status(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let clip = load_clip(&state, caller.workspace, &id).await?;
    let render = renders::latest_for_clip(state.store(), caller.workspace, clip.id)
        .await?
        .ok_or_else(|| ApiError::not_found("render"))?;
    let url = output_url(&state, &render, &clip.title).await?;
    let mut view = json!({
        "id": render.id,
        "status": render.status,
        "progress": render.progress,
        "current_step": render.current_step,
        "error": render.error,
        "created_at": render.created_at,
        "finished_at": render.finished_at,
    });
    if let Some(url) = url {
        view["output_url"] = json!(url);
        view["size_bytes"] = json!(render.size_bytes);
        view["duration_seconds"] = json!(render.duration_seconds);
    }
    Ok(Json(json!({ "render_job": view })))
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

async fn cancel(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
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
    Ok(Json(json!({
        "render_job": { "id": render.id, "status": RenderStatus::Canceled },
        "credits_refunded": refunded,
    })))
}

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
