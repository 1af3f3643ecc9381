//! Jump cuts: a whole video with its silences and filler words removed, as one MP4 and
//! optionally the cut list for editors. Request (paid in credits), follow, list, cancel
//! (refunded), download.

use std::collections::BTreeMap;
use std::time::Duration;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use clipforge_jumpcut::Settings;
use clipforge_store::credits::{self, CreditRefs};
use clipforge_store::jumpcuts::{self, Jumpcut, JumpcutId, JumpcutStatus, NewJumpcut};
use clipforge_store::videos::{self, Video, VideoStatus};
use clipforge_store::{transcripts, Page, VideoId, WorkspaceId};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, OpenApi, ToSchema};

use super::jumpcut_body::{needs_transcript, ExportFormat, JumpcutBody};
use super::videos::find_video;
use crate::app::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiJson, ErrorCode};
use crate::pagination::{PageRequest, Pagination};

/// This module's `/api/v1` routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/videos/{id}/jumpcut", post(request))
        .route("/videos/{id}/jumpcuts", get(list))
        .route("/jumpcuts/{id}", get(show))
        .route("/jumpcuts/{id}/cancel", post(cancel))
        .route("/jumpcuts/{id}/download", get(download))
        .route("/jumpcuts/{id}/exports/{format}", get(export))
}

/// This module's operations in the OpenAPI document.
#[derive(OpenApi)]
#[openapi(paths(request, list, show, cancel, download, export))]
pub(super) struct Doc;

/// A path's jump-cut id.
const JUMPCUT_ID: &str = "The jump cut's id";
/// Credits one jump cut costs, like one render.
const JUMPCUT_CREDITS: i64 = 1;
/// How long a download link works.
const LINK_LIFETIME: Duration = Duration::from_secs(3600);

/// A jump cut, paid and queued.
#[derive(Serialize, ToSchema)]
struct JumpcutAccepted {
    jumpcut: JumpcutQueued,
    job: QueuedJob,
}

#[derive(Serialize, ToSchema)]
struct JumpcutQueued {
    #[schema(value_type = uuid::Uuid)]
    id: JumpcutId,
    #[schema(value_type = String, example = "queued")]
    status: JumpcutStatus,
}

#[derive(Serialize, ToSchema)]
struct QueuedJob {
    /// Follow it at `/api/v1/jobs/{id}` or on `/api/v1/events`.
    id: uuid::Uuid,
}

#[derive(Serialize, ToSchema)]
struct OneJumpcut {
    jumpcut: JumpcutView,
}

#[derive(Serialize, ToSchema)]
struct JumpcutList {
    jumpcuts: Vec<JumpcutView>,
    pagination: Pagination,
}

#[derive(Serialize, ToSchema)]
struct JumpcutCancelled {
    jumpcut: JumpcutQueued,
    /// Credits given back.
    credits_refunded: i64,
}

/// A jump cut as the API shows it; the output fields appear once it completed.
#[derive(Serialize, ToSchema)]
struct JumpcutView {
    #[schema(value_type = uuid::Uuid)]
    id: JumpcutId,
    #[schema(value_type = uuid::Uuid)]
    video_id: VideoId,
    /// The job that makes it.
    job_id: Option<uuid::Uuid>,
    /// queued, processing, completed, failed or canceled.
    #[schema(value_type = String, example = "processing")]
    status: JumpcutStatus,
    /// 0-100.
    progress: i64,
    /// What the worker is doing.
    current_step: Option<String>,
    /// Every jump-cut setting, as used.
    #[schema(value_type = Object)]
    settings: Value,
    #[schema(example = "standard")]
    quality: String,
    /// Exports asked for.
    exports: Vec<String>,
    /// Why it failed.
    error: Option<String>,
    created_at: DateTime<Utc>,
    started_at: Option<DateTime<Utc>>,
    finished_at: Option<DateTime<Utc>>,
    /// What the cut did, once completed.
    #[serde(skip_serializing_if = "Option::is_none")]
    stats: Option<JumpcutStats>,
    /// A signed link to the MP4, valid for an hour, once completed.
    #[serde(skip_serializing_if = "Option::is_none")]
    output_url: Option<String>,
    /// Signed links to the exports by format, once completed.
    #[serde(skip_serializing_if = "Option::is_none")]
    export_urls: Option<BTreeMap<String, String>>,
}

/// What a finished jump cut did.
#[derive(Serialize, ToSchema)]
struct JumpcutStats {
    /// The source's length, seconds.
    duration_in: Option<f64>,
    /// The MP4's length, seconds.
    duration_out: Option<f64>,
    /// Seconds removed.
    removed_seconds: Option<f64>,
    /// The MP4's size.
    size_bytes: Option<i64>,
    /// removed_percent, cuts, fillers, pieces, has_audio, sped_up, false_starts,
    /// frame_rate, frames_out.
    #[serde(flatten)]
    #[schema(value_type = Object)]
    more: Value,
}

/// A jump-cut id from the path; a malformed one is as absent as another workspace's.
fn jumpcut_id(raw: &str) -> Result<JumpcutId, ApiError> {
    raw.parse().map_err(|_| ApiError::not_found("jump cut"))
}

/// One of the caller's jump cuts of a live video, or 404.
async fn load(state: &AppState, workspace: WorkspaceId, raw: &str) -> Result<Jumpcut, ApiError> {
    jumpcuts::get(state.store(), workspace, jumpcut_id(raw)?)
        .await?
        .ok_or_else(|| ApiError::not_found("jump cut"))
}

/// A signed link to a stored file, saved as `filename`.
async fn link(state: &AppState, key: &str, filename: &str) -> Result<String, ApiError> {
    let link = state
        .storage()
        .signed_url(key, LINK_LIFETIME, Some(filename))
        .await?;
    Ok(link.url)
}

/// The name downloads are saved under (before the extension): the video's title.
fn base_name(video_title: &str) -> String {
    format!("{} (jump cut)", video_title.trim())
}

/// The title of a jump cut's video, for file names.
async fn video_title(state: &AppState, jumpcut: &Jumpcut) -> Result<String, ApiError> {
    Ok(
        videos::get(state.store(), jumpcut.workspace_id, jumpcut.video_id)
            .await?
            .map_or_else(|| "video".to_string(), |v| v.title),
    )
}

async fn view(state: &AppState, jumpcut: Jumpcut, title: &str) -> Result<JumpcutView, ApiError> {
    let completed = jumpcut.status == JumpcutStatus::Completed;
    let base = base_name(title);
    let (mut output_url, mut export_urls, mut stats) = (None, None, None);
    if completed {
        if let Some(key) = &jumpcut.output_key {
            output_url = Some(link(state, key, &format!("{base}.mp4")).await?);
        }
        let mut urls = BTreeMap::new();
        for (format, key) in &jumpcut.export_keys {
            urls.insert(
                format.clone(),
                link(state, key, &format!("{base}.{format}")).await?,
            );
        }
        export_urls = Some(urls);
        stats = Some(JumpcutStats {
            duration_in: jumpcut.duration_in,
            duration_out: jumpcut.duration_out,
            removed_seconds: jumpcut.removed_seconds,
            size_bytes: jumpcut.size_bytes,
            more: jumpcut
                .stats
                .clone()
                .unwrap_or(Value::Object(Default::default())),
        });
    }
    Ok(JumpcutView {
        id: jumpcut.id,
        video_id: jumpcut.video_id,
        job_id: jumpcut.job_id,
        status: jumpcut.status,
        progress: jumpcut.progress,
        current_step: jumpcut.current_step,
        settings: jumpcut.settings,
        quality: jumpcut.quality,
        exports: jumpcut.exports,
        error: jumpcut.error,
        created_at: jumpcut.created_at,
        started_at: jumpcut.started_at,
        finished_at: jumpcut.finished_at,
        stats,
        output_url,
        export_urls,
    })
}

/// Why a video cannot be cut now, if it cannot.
async fn check_ready(state: &AppState, video: &Video, settings: &Settings) -> Result<(), ApiError> {
    if video.status != VideoStatus::Ready {
        return Err(ApiError::new(
            ErrorCode::Conflict,
            format!(
                "the video is {}; jump cuts can be made once it is ready",
                video.status
            ),
        ));
    }
    if needs_transcript(settings)
        && transcripts::get_for_video(state.store(), video.workspace_id, video.id)
            .await?
            .is_none()
    {
        return Err(ApiError::new(
            ErrorCode::Conflict,
            "the video has no transcript yet, and words mode, remove_fillers (on by default) and \
             remove_false_starts cut by its words: wait for transcription, or use loudness or \
             speech mode with remove_fillers and remove_false_starts set to false",
        ));
    }
    Ok(())
}

/// Removes the silences (and filler words) from a ready video for one credit: the MP4,
/// and the cut list for editors when asked.
#[utoipa::path(post, path = "/videos/{id}/jumpcut", tag = "jumpcuts",
    params(("id" = String, Path, description = "The video's id")), request_body = JumpcutBody,
    responses(
        (status = 202, description = "Paid and queued", body = JumpcutAccepted),
        (status = 409, description = "The video is not ready, or has no transcript the settings need"),
    ))]
async fn request(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<JumpcutBody>,
) -> Result<(StatusCode, Json<JumpcutAccepted>), ApiError> {
    let settings = body.settings()?;
    let exports = body.exports();
    let quality = body.quality.unwrap_or_default();
    let video = find_video(&state, &caller, &id).await?;
    check_ready(&state, &video, &settings).await?;
    let settings_json = serde_json::to_value(&settings).map_err(ApiError::internal)?;
    let quality_json = serde_json::to_value(quality).map_err(ApiError::internal)?;
    let quality_name = quality_json.as_str().unwrap_or("standard");
    // The jump cut, its job and its debit commit together or not at all: a short balance
    // leaves nothing behind, and a jump cut never exists without the job that makes it.
    let mut tx = state.store().begin().await?;
    let jumpcut = jumpcuts::create(
        &mut tx,
        state.queue(),
        caller.workspace,
        &NewJumpcut {
            video_id: video.id,
            requested_by: Some(caller.user_id()),
            settings: &settings_json,
            quality: quality_name,
            exports: &exports,
        },
    )
    .await?;
    let job_id = jumpcut
        .job_id
        .ok_or_else(|| ApiError::internal(format!("jump cut {} has no job", jumpcut.id)))?;
    credits::debit(
        &mut tx,
        caller.workspace,
        JUMPCUT_CREDITS,
        &format!("jump cut of \"{}\"", video.title),
        // No video reference: that would count as the video's own processing, which a
        // failed ingest refunds.
        CreditRefs {
            job_id: Some(job_id),
            ..CreditRefs::default()
        },
    )
    .await?;
    tx.commit().await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(JumpcutAccepted {
            jumpcut: JumpcutQueued {
                id: jumpcut.id,
                status: jumpcut.status,
            },
            job: QueuedJob { id: job_id },
        }),
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct PageQuery {
    /// From 1.
    page: Option<i64>,
    /// 1-100 (default 20).
    per_page: Option<i64>,
}

/// The video's jump cuts, newest first.
#[utoipa::path(get, path = "/videos/{id}/jumpcuts", tag = "jumpcuts",
    params(("id" = String, Path, description = "The video's id"), PageQuery),
    responses((status = 200, description = "One page of jump cuts", body = JumpcutList)))]
async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    query: Result<Query<PageQuery>, QueryRejection>,
) -> Result<Json<JumpcutList>, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::field("query", e.body_text()))?;
    let page = PageRequest::parse(q.page, q.per_page)?;
    let video = find_video(&state, &caller, &id).await?;
    let found = jumpcuts::list_for_video(
        state.store(),
        caller.workspace,
        video.id,
        Page::new(page.page, page.per_page),
    )
    .await?;
    let mut views = Vec::with_capacity(found.items.len());
    for jumpcut in found.items {
        views.push(view(&state, jumpcut, &video.title).await?);
    }
    Ok(Json(JumpcutList {
        jumpcuts: views,
        pagination: Pagination::new(page, found.total),
    }))
}

/// One jump cut: progress while it runs; stats and download links once it completed.
#[utoipa::path(get, path = "/jumpcuts/{id}", tag = "jumpcuts",
    params(("id" = String, Path, description = JUMPCUT_ID)),
    responses((status = 200, description = "The jump cut", body = OneJumpcut)))]
async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<OneJumpcut>, ApiError> {
    let jumpcut = load(&state, caller.workspace, &id).await?;
    let title = video_title(&state, &jumpcut).await?;
    Ok(Json(OneJumpcut {
        jumpcut: view(&state, jumpcut, &title).await?,
    }))
}

/// Stops a queued or running jump cut and refunds its credit.
#[utoipa::path(post, path = "/jumpcuts/{id}/cancel", tag = "jumpcuts",
    params(("id" = String, Path, description = JUMPCUT_ID)),
    responses(
        (status = 200, description = "Cancelled and refunded", body = JumpcutCancelled),
        (status = 409, description = "It already ended"),
    ))]
async fn cancel(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<JumpcutCancelled>, ApiError> {
    let jumpcut = load(&state, caller.workspace, &id).await?;
    if !jumpcut.status.is_active() {
        return Err(ApiError::new(
            ErrorCode::Conflict,
            format!("the jump cut already ended ({})", jumpcut.status),
        ));
    }
    // The job first: a worker that has not claimed it never will, and one running it
    // hears at its next heartbeat. Only the call that moves the row to cancelled refunds.
    if let Some(job) = jumpcut.job_id {
        state.queue().cancel(job, caller.workspace.0).await?;
    }
    let mut tx = state.store().begin().await?;
    if !jumpcuts::cancel(&mut tx, caller.workspace, jumpcut.id).await? {
        return Err(ApiError::new(
            ErrorCode::Conflict,
            "the jump cut finished before it could be cancelled",
        ));
    }
    let mut refunded = 0;
    if let Some(job) = jumpcut.job_id {
        for entry in
            credits::refund_job(&mut tx, caller.workspace, job, "jump cut cancelled").await?
        {
            refunded += entry.delta;
        }
    }
    tx.commit().await?;
    Ok(Json(JumpcutCancelled {
        jumpcut: JumpcutQueued {
            id: jumpcut.id,
            status: JumpcutStatus::Canceled,
        },
        credits_refunded: refunded,
    }))
}

/// The 409 for a file asked of a jump cut that has not completed.
fn not_finished(jumpcut: &Jumpcut) -> ApiError {
    ApiError::new(
        ErrorCode::Conflict,
        format!(
            "the jump cut is {}; its files can be downloaded once it is completed",
            jumpcut.status
        ),
    )
}

/// Redirects to the finished MP4.
#[utoipa::path(get, path = "/jumpcuts/{id}/download", tag = "jumpcuts",
    params(("id" = String, Path, description = JUMPCUT_ID)),
    responses(
        (status = 302, description = "`Location` is a signed link to the MP4, valid for an hour"),
        (status = 409, description = "Not completed (yet)"),
    ))]
async fn download(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let jumpcut = load(&state, caller.workspace, &id).await?;
    let key = jumpcut
        .output_key
        .as_deref()
        .filter(|_| jumpcut.status == JumpcutStatus::Completed)
        .ok_or_else(|| not_finished(&jumpcut))?;
    let title = video_title(&state, &jumpcut).await?;
    let url = link(&state, key, &format!("{}.mp4", base_name(&title))).await?;
    Ok((StatusCode::FOUND, [(header::LOCATION, url)]).into_response())
}

/// Redirects to one of the finished cut lists: `json`, `fcpxml` or `edl`.
#[utoipa::path(get, path = "/jumpcuts/{id}/exports/{format}", tag = "jumpcuts",
    params(
        ("id" = String, Path, description = JUMPCUT_ID),
        ("format" = String, Path, description = "json, fcpxml or edl"),
    ),
    responses(
        (status = 302, description = "`Location` is a signed link to the file, valid for an hour"),
        (status = 404, description = "No such jump cut, or that export was not asked for"),
        (status = 409, description = "Not completed (yet)"),
    ))]
async fn export(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, format)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let format: ExportFormat = serde_json::from_value(Value::String(format.clone()))
        .map_err(|_| ApiError::field("format", format!("{format:?} is not json, fcpxml or edl")))?;
    let jumpcut = load(&state, caller.workspace, &id).await?;
    if !jumpcut.exports.iter().any(|f| f == format.as_str()) {
        return Err(ApiError::new(
            ErrorCode::NotFound,
            format!(
                "this jump cut has no {} export; ask for it in `exports` when requesting one",
                format.as_str()
            ),
        ));
    }
    if jumpcut.status != JumpcutStatus::Completed {
        return Err(not_finished(&jumpcut));
    }
    let key = jumpcut
        .export_keys
        .get(format.as_str())
        .ok_or_else(|| ApiError::not_found("export"))?;
    let title = video_title(&state, &jumpcut).await?;
    let url = link(
        &state,
        key,
        &format!("{}.{}", base_name(&title), format.as_str()),
    )
    .await?;
    Ok((StatusCode::FOUND, [(header::LOCATION, url)]).into_response())
}
