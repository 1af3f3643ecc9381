//! Brand assets: a logo image or a music track uploaded once and named by its storage key
//! in clip styles (`logo_key`, `music_key`); render jobs fetch them from there.
//!
//! Assets are small, so the file is read into memory up to [`MAX_ASSET_BYTES`] and checked
//! by its first bytes before anything is stored: a PNG, JPEG or WebP image, or a file with
//! sound in it.

use axum::extract::multipart::MultipartRejection;
use axum::extract::{DefaultBodyLimit, Multipart, State};
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use bytes::Bytes;
use clipforge_store::WorkspaceId;
use serde::Serialize;
use utoipa::{OpenApi, ToSchema};

use super::sniff::{sniff, ACCEPTED};
use crate::app::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ErrorCode};

/// Largest asset accepted (a music track of several minutes fits).
pub const MAX_ASSET_BYTES: usize = 50 * 1024 * 1024;

pub fn routes() -> Router<AppState> {
    Router::new().route(
        "/assets",
        post(upload_asset).layer(DefaultBodyLimit::max(MAX_ASSET_BYTES + 64 * 1024)),
    )
}

/// This module's operations in the OpenAPI document.
#[derive(OpenApi)]
#[openapi(paths(upload_asset))]
pub(super) struct Doc;

/// The parts of an asset upload (`multipart/form-data`).
#[derive(ToSchema)]
#[allow(dead_code)] // describes the form the handler reads part by part
struct AssetForm {
    /// A PNG, JPEG or WebP image (a logo), or an audio file (music).
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

/// A stored asset.
#[derive(Serialize, ToSchema)]
struct AssetView {
    /// The storage key to put in a clip style's `logo_key` or `music_key`.
    key: String,
    /// `image` or `audio`.
    kind: &'static str,
    size_bytes: u64,
}

#[derive(Serialize, ToSchema)]
struct OneAsset {
    asset: AssetView,
}

/// What an asset's first bytes say it is: its kind and the extension it is stored with.
fn asset_type(head: &[u8]) -> Option<(&'static str, &'static str)> {
    if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Some(("image", "png"));
    }
    if head.starts_with(&[0xff, 0xd8, 0xff]) {
        return Some(("image", "jpg"));
    }
    if head.len() >= 12 && &head[0..4] == b"RIFF" && &head[8..12] == b"WEBP" {
        return Some(("image", "webp"));
    }
    sniff(head).map(|c| ("audio", c.ext))
}

/// Stores a logo or a music track for clip styles.
#[utoipa::path(post, path = "/assets", tag = "templates",
    request_body(content = AssetForm, content_type = "multipart/form-data"),
    responses((status = 201, description = "Stored", body = OneAsset)))]
async fn upload_asset(
    State(state): State<AppState>,
    caller: Caller,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<(StatusCode, Json<OneAsset>), ApiError> {
    let mut multipart = multipart.map_err(|e| {
        ApiError::field(
            "body",
            format!(
                "send the asset as multipart/form-data with a `file` part: {}",
                e.body_text()
            ),
        )
    })?;
    let mut file: Option<Vec<u8>> = None;
    while let Some(mut field) = multipart.next_field().await.map_err(read_error)? {
        if field.name() != Some("file") {
            let name = field.name().unwrap_or("").to_string();
            return Err(ApiError::field(&name, "unknown field; send only `file`"));
        }
        if file.is_some() {
            return Err(ApiError::field("file", "send one file per upload"));
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = field.chunk().await.map_err(read_error)? {
            bytes.extend_from_slice(&chunk);
            if bytes.len() > MAX_ASSET_BYTES {
                return Err(too_large());
            }
        }
        file = Some(bytes);
    }
    let bytes = file.ok_or_else(|| ApiError::field("file", "is missing"))?;
    if bytes.is_empty() {
        return Err(ApiError::field("file", "is empty"));
    }
    let (kind, ext) = asset_type(&bytes).ok_or_else(|| {
        ApiError::field(
            "file",
            format!("is neither an image (PNG, JPEG, WebP) nor a sound file ({ACCEPTED})"),
        )
    })?;
    let key = asset_key(caller.workspace, ext);
    let size_bytes = bytes.len() as u64;
    state.storage().put_bytes(&key, Bytes::from(bytes)).await?;
    Ok((
        StatusCode::CREATED,
        Json(OneAsset {
            asset: AssetView {
                key,
                kind,
                size_bytes,
            },
        }),
    ))
}

/// A new key under the workspace's own prefix, which styles accept.
fn asset_key(workspace: WorkspaceId, ext: &str) -> String {
    format!("ws/{workspace}/assets/{}.{ext}", uuid::Uuid::now_v7())
}

fn too_large() -> ApiError {
    ApiError::new(
        ErrorCode::PayloadTooLarge,
        format!(
            "the asset is larger than {} MB",
            MAX_ASSET_BYTES / (1024 * 1024)
        ),
    )
}

fn read_error(e: axum::extract::multipart::MultipartError) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return too_large();
    }
    ApiError::field(
        "file",
        format!("the upload could not be read: {}", e.body_text()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assets_are_told_by_their_first_bytes() {
        assert_eq!(
            asset_type(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"),
            Some(("image", "png"))
        );
        assert_eq!(
            asset_type(&[0xff, 0xd8, 0xff, 0xe0]),
            Some(("image", "jpg"))
        );
        assert_eq!(asset_type(b"RIFF\0\0\0\0WEBPVP8 "), Some(("image", "webp")));
        assert_eq!(asset_type(b"RIFF\0\0\0\0WAVEfmt "), Some(("audio", "wav")));
        assert_eq!(asset_type(b"%PDF-1.7"), None);
    }
}
