//! Adding videos: a file streamed in a multipart upload, or a link a worker downloads.
//!
//! An upload goes to storage as it arrives (never whole in memory), under the key of a video
//! id chosen up front; the video row and its `ingest` job are then written in one
//! transaction. Whatever fails on the way (too large, not a video, a bad field, the database)
//! removes the stored file, so no half-added video is left behind.
//!
//! Credits are not debited here: they are charged per started minute of source, and the
//! length is known only once the ingest job has probed the file, so that job debits them.
//! An empty balance is refused up front, before any bytes are stored.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::extract::multipart::{Field, MultipartError, MultipartRejection};
use axum::extract::{ConnectInfo, DefaultBodyLimit, Multipart, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use bytes::Bytes;
use clipforge_store::audit::{self, NewAuditEntry};
use clipforge_store::videos::{self, NewVideo, Video, VideoSource, VideoStatus};
use clipforge_store::{credits, NewJob, ProjectId, StoreError, VideoId, WorkspaceId};
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{OpenApi, ToSchema};

use super::sniff::{sniff, ACCEPTED, SNIFF_LEN};
use super::videos::{check_title, parse_project_id, video_prefix, VideoView};
use crate::app::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiJson, ErrorCode};
use crate::net_guard;

/// Largest non-file form field (a title, an id), in bytes.
const MAX_TEXT_FIELD: usize = 4096;

pub fn routes() -> Router<AppState> {
    Router::new()
        // The API's JSON body limit would cut uploads off: this route counts the file's
        // bytes itself against the upload limit.
        .route(
            "/videos/upload",
            post(upload).layer(DefaultBodyLimit::disable()),
        )
        .route("/videos/upload/url", post(import_url))
}

/// This module's operations in the OpenAPI document.
#[derive(OpenApi)]
#[openapi(paths(upload, import_url))]
pub(super) struct Doc;

/// The parts of an upload (`multipart/form-data`).
#[derive(ToSchema)]
#[allow(dead_code)] // describes the form `read_form` parses part by part
struct UploadForm {
    /// The video or audio file.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
    /// A project of this workspace to file the video under.
    project_id: Option<String>,
    /// Defaults to the file's name without its extension.
    title: Option<String>,
    /// `true` or `false`: whether to suggest clips once transcribed.
    suggest: Option<String>,
}

/// A video added and its ingest job queued.
#[derive(Serialize, ToSchema)]
struct VideoAdded {
    video: VideoView,
    job: IngestJob,
}

#[derive(Serialize, ToSchema)]
struct IngestJob {
    id: uuid::Uuid,
    /// Always `ingest`.
    kind: &'static str,
    /// Where to follow the job.
    status_url: String,
}

/// The ingest job for a new video: probe, thumbnail, then transcription.
fn ingest_job(workspace: WorkspaceId, video: VideoId) -> NewJob {
    NewJob::new("ingest", json!({ "video_id": video }))
        .workspace(workspace.0)
        .unique_key(format!("video:{video}:ingest"))
}

/// Fails with 402 when the workspace has no credits left to transcribe anything.
async fn require_credits(state: &AppState, workspace: WorkspaceId) -> Result<(), ApiError> {
    let balance = credits::balance(state.store(), workspace).await?;
    if balance <= 0 {
        return Err(ApiError::new(
            ErrorCode::InsufficientCredits,
            format!(
                "the workspace has {balance} credits; transcription costs 1 credit per \
                 started minute of video"
            ),
        ));
    }
    Ok(())
}

/// What a new video is made from, whichever way it came in.
struct Addition<'a> {
    id: VideoId,
    project_id: Option<ProjectId>,
    title: &'a str,
    source: VideoSource,
    source_url: Option<&'a str>,
    original_filename: Option<&'a str>,
    storage_key: Option<&'a str>,
    config: serde_json::Value,
}

/// Writes the video and its ingest job in one transaction, with an audit entry; answers
/// 202 with the video and the job.
async fn add_video(
    state: &AppState,
    caller: &Caller,
    ip: &str,
    add: Addition<'_>,
) -> Result<Response, ApiError> {
    let mut tx = state.store().begin().await?;
    let video: Video = videos::create_with_id(
        &mut tx,
        caller.workspace,
        add.id,
        NewVideo {
            project_id: add.project_id,
            created_by: Some(caller.user_id()),
            title: add.title,
            source: add.source,
            source_url: add.source_url,
            original_filename: add.original_filename,
            storage_key: add.storage_key,
            status: VideoStatus::Queued,
            config: &add.config,
        },
    )
    .await
    .map_err(|e| match e {
        StoreError::NotFound { .. } => {
            ApiError::field("project_id", "no such project in this workspace")
        }
        other => other.into(),
    })?;
    let job = state
        .queue()
        .enqueue_in(&mut tx, ingest_job(caller.workspace, video.id))
        .await?
        .id();
    audit::record(
        &mut tx,
        NewAuditEntry {
            details: Some(&json!({ "source": add.source })),
            ..caller.audit("video.create", "video", video.id.to_string(), ip)
        },
    )
    .await?;
    tx.commit().await?;
    tracing::info!(video_id = %video.id, job_id = %job, source = %add.source, "video added");
    Ok((
        StatusCode::ACCEPTED,
        Json(VideoAdded {
            video: VideoView::from(video),
            job: IngestJob {
                id: job,
                kind: "ingest",
                status_url: format!("/api/v1/jobs/{job}"),
            },
        }),
    )
        .into_response())
}

/// The video settings a `suggest` flag asks for: without it, the defaults.
fn config_for(suggest: Option<bool>) -> serde_json::Value {
    match suggest {
        Some(suggest) => json!({ "suggest": suggest }),
        None => json!({}),
    }
}

fn multipart_error(e: &MultipartError) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return ApiError::new(ErrorCode::PayloadTooLarge, e.body_text());
    }
    ApiError::field(
        "file",
        format!("the upload could not be read: {}", e.body_text()),
    )
}

/// A short text field's value; 400 naming the field when it is too long or not UTF-8.
async fn text_field(mut field: Field<'_>, name: &str) -> Result<String, ApiError> {
    let mut bytes = Vec::new();
    while let Some(chunk) = field.chunk().await.map_err(|e| multipart_error(&e))? {
        bytes.extend_from_slice(&chunk);
        if bytes.len() > MAX_TEXT_FIELD {
            return Err(ApiError::field(
                name,
                format!("must be at most {MAX_TEXT_FIELD} bytes"),
            ));
        }
    }
    String::from_utf8(bytes).map_err(|_| ApiError::field(name, "must be UTF-8 text"))
}

/// The fields of an upload once the file is stored.
#[derive(Default)]
struct Form {
    stored: Option<StoredFile>,
    project_id: Option<ProjectId>,
    title: Option<String>,
    suggest: Option<bool>,
}

struct StoredFile {
    key: String,
    filename: Option<String>,
}

/// Uploads a video, streamed to storage; ingest (probe, thumbnail, transcription) follows.
#[utoipa::path(post, path = "/videos/upload", tag = "videos",
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    responses((status = 202, description = "Stored; the ingest job is queued", body = VideoAdded)))]
async fn upload(
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    caller: Caller,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, ApiError> {
    let mut multipart = multipart.map_err(|e| {
        ApiError::field(
            "body",
            format!(
                "send the video as multipart/form-data with a `file` part: {}",
                e.body_text()
            ),
        )
    })?;
    require_credits(&state, caller.workspace).await?;
    let id = VideoId::new();
    let mut form = Form::default();
    let read = read_form(&state, &caller, id, &mut multipart, &mut form).await;
    let result = match read {
        Ok(()) => finish_upload(&state, &caller, &addr, id, &form).await,
        Err(e) => Err(e),
    };
    if result.is_err() {
        if let Some(stored) = &form.stored {
            if let Err(e) = state.storage().delete(&stored.key).await {
                tracing::warn!(key = %stored.key, error = %crate::error::chain(&e), "a refused upload's file was not removed");
            }
        }
    }
    result
}

async fn finish_upload(
    state: &AppState,
    caller: &Caller,
    addr: &SocketAddr,
    id: VideoId,
    form: &Form,
) -> Result<Response, ApiError> {
    let Some(stored) = &form.stored else {
        return Err(ApiError::field(
            "file",
            "is missing: send the video in a multipart part named `file`",
        ));
    };
    let title = match (&form.title, &stored.filename) {
        (Some(title), _) => title.clone(),
        (None, Some(name)) => title_from_filename(name),
        (None, None) => "Untitled video".to_string(),
    };
    add_video(
        state,
        caller,
        &addr.ip().to_string(),
        Addition {
            id,
            project_id: form.project_id,
            title: &title,
            source: VideoSource::Upload,
            source_url: None,
            original_filename: stored.filename.as_deref(),
            storage_key: Some(&stored.key),
            config: config_for(form.suggest),
        },
    )
    .await
}

/// A title from an uploaded file's name: the name without its extension.
fn title_from_filename(name: &str) -> String {
    let stem = std::path::Path::new(name)
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or(name)
        .trim();
    let title: String = stem.chars().take(super::videos::MAX_TITLE_CHARS).collect();
    if title.is_empty() {
        "Untitled video".to_string()
    } else {
        title
    }
}

/// Reads every part, streaming the file to storage; `form.stored` is set as soon as a
/// file may exist in storage, so the caller can remove it on any later failure.
async fn read_form(
    state: &AppState,
    caller: &Caller,
    id: VideoId,
    multipart: &mut Multipart,
    form: &mut Form,
) -> Result<(), ApiError> {
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| multipart_error(&e))?
    {
        let name = field.name().unwrap_or("").to_string();
        match name.as_str() {
            "file" => {
                if form.stored.is_some() {
                    return Err(ApiError::field("file", "send one file per upload"));
                }
                store_file(state, caller.workspace, id, field, form).await?;
            }
            "project_id" => {
                let raw = text_field(field, "project_id").await?;
                if !raw.trim().is_empty() {
                    form.project_id = Some(parse_project_id(&raw)?);
                }
            }
            "title" => form.title = Some(check_title(&text_field(field, "title").await?)?),
            "suggest" => {
                let raw = text_field(field, "suggest").await?;
                form.suggest = Some(match raw.trim() {
                    "true" => true,
                    "false" => false,
                    _ => return Err(ApiError::field("suggest", "must be true or false")),
                });
            }
            other => {
                return Err(ApiError::field(
                    other,
                    "unknown field; an upload takes file, project_id, title and suggest",
                ))
            }
        }
    }
    Ok(())
}

/// Checks the file's first bytes, then streams it to the video's storage key, counting
/// bytes against the upload limit.
async fn store_file(
    state: &AppState,
    workspace: WorkspaceId,
    id: VideoId,
    mut field: Field<'_>,
    form: &mut Form,
) -> Result<(), ApiError> {
    let filename = field
        .file_name()
        .map(|n| n.chars().take(255).collect::<String>())
        .filter(|n| !n.trim().is_empty());
    let mut head = Vec::with_capacity(SNIFF_LEN);
    while head.len() < SNIFF_LEN {
        match field.chunk().await.map_err(|e| multipart_error(&e))? {
            Some(chunk) => head.extend_from_slice(&chunk),
            None => break,
        }
    }
    if head.is_empty() {
        return Err(ApiError::field("file", "is empty"));
    }
    let Some(container) = sniff(&head) else {
        return Err(ApiError::field(
            "file",
            format!("is not a video or audio file; accepted formats: {ACCEPTED}"),
        ));
    };
    let limit = state.config().upload_limit;
    let key = format!("{}/source.{}", video_prefix(workspace, id), container.ext);
    // Set before the first byte is written: from here on a failure must remove the file.
    form.stored = Some(StoredFile {
        key: key.clone(),
        filename,
    });
    let too_large = AtomicBool::new(false);
    let mut total = 0u64;
    let body = futures::stream::once(async { Ok(Bytes::from(head)) })
        .chain(field)
        .map(|chunk| {
            let chunk = chunk.map_err(std::io::Error::other)?;
            total += chunk.len() as u64;
            if total > limit {
                too_large.store(true, Ordering::Relaxed);
                return Err(std::io::Error::other("the upload is over the size limit"));
            }
            Ok::<_, std::io::Error>(chunk)
        });
    let reader = tokio_util::io::StreamReader::new(Box::pin(body));
    match state.storage().put_stream(&key, reader).await {
        Ok(_) => Ok(()),
        Err(_) if too_large.load(Ordering::Relaxed) => Err(ApiError::new(
            ErrorCode::PayloadTooLarge,
            format!(
                "the file is larger than the upload limit of {}",
                human_bytes(limit)
            ),
        )),
        Err(clipforge_storage::StorageError::Io { source, .. })
            if source.get_ref().is_some_and(|e| e.is::<MultipartError>()) =>
        {
            Err(ApiError::field(
                "file",
                format!("the upload was cut off: {source}"),
            ))
        }
        Err(e) => Err(e.into()),
    }
}

/// A byte count as people read it (`10 GB`, `64 KB`).
fn human_bytes(n: u64) -> String {
    const UNITS: [(&str, u64); 3] = [("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)];
    for (unit, size) in UNITS {
        if n >= size {
            let value = n as f64 / size as f64;
            return if value.fract() == 0.0 {
                format!("{value:.0} {unit}")
            } else {
                format!("{value:.1} {unit}")
            };
        }
    }
    format!("{n} bytes")
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct ImportBody {
    url: String,
    #[serde(default)]
    project_id: Option<String>,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    suggest: Option<bool>,
}

/// Adds a video from a public link; a worker downloads it.
#[utoipa::path(post, path = "/videos/upload/url", tag = "videos", request_body = ImportBody,
    responses((status = 202, description = "Added; the ingest job will download it", body = VideoAdded)))]
async fn import_url(
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    caller: Caller,
    ApiJson(body): ApiJson<ImportBody>,
) -> Result<Response, ApiError> {
    let url = net_guard::check_link(&body.url, state.config().allow_private_urls)
        .await
        .map_err(|problem| ApiError::field("url", problem.to_string()))?;
    let project_id = body
        .project_id
        .as_deref()
        .filter(|s| !s.trim().is_empty())
        .map(parse_project_id)
        .transpose()?;
    let title = match &body.title {
        Some(title) => check_title(title)?,
        None => title_from_url(&url),
    };
    require_credits(&state, caller.workspace).await?;
    add_video(
        &state,
        &caller,
        &addr.ip().to_string(),
        Addition {
            id: VideoId::new(),
            project_id,
            title: &title,
            source: VideoSource::Url,
            source_url: Some(url.as_str()),
            original_filename: None,
            storage_key: None,
            config: config_for(body.suggest),
        },
    )
    .await
}

/// A title until the download names the video: the link's last path segment, else its host.
fn title_from_url(url: &url::Url) -> String {
    let segment = url
        .path_segments()
        .and_then(|mut s| s.next_back())
        .filter(|s| !s.is_empty())
        .map(title_from_filename);
    segment.unwrap_or_else(|| url.host_str().unwrap_or("Imported video").to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_come_from_names_and_links() {
        assert_eq!(
            title_from_filename("Episode 12.final.mp4"),
            "Episode 12.final"
        );
        assert_eq!(title_from_filename(".mp4"), ".mp4");
        assert_eq!(title_from_filename("   "), "Untitled video");
        let url = url::Url::parse("https://example.com/talks/keynote.mp4?x=1").unwrap();
        assert_eq!(title_from_url(&url), "keynote");
        let url = url::Url::parse("https://example.com/").unwrap();
        assert_eq!(title_from_url(&url), "example.com");
    }

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(human_bytes(10 * 1024 * 1024 * 1024), "10 GB");
        assert_eq!(human_bytes(64 * 1024), "64 KB");
        assert_eq!(human_bytes(1536 * 1024), "1.5 MB");
        assert_eq!(human_bytes(100), "100 bytes");
    }
}
