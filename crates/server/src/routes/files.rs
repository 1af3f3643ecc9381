//! Downloads of locally stored media through signed links (`/api/v1/files/{key}?expires=…
//! &sig=…[&filename=…]`). The signature is the credential: whoever holds an unexpired link
//! may fetch that one object, with no session. S3 links go to the bucket and never here.

use std::io::SeekFrom;
use std::ops::Range;
use std::time::SystemTime;

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde::Deserialize;
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use utoipa::{IntoParams, OpenApi};

use crate::app::AppState;
use crate::error::{ApiError, ErrorCode};

pub fn routes() -> Router<AppState> {
    Router::new().route("/files/{*key}", get(download))
}

/// This module's operations in the OpenAPI document.
#[derive(OpenApi)]
#[openapi(paths(download))]
pub(super) struct Doc;

/// A signed link's query, as the API hands it out.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct LinkQuery {
    /// When the link stops working, Unix seconds.
    expires: Option<String>,
    /// The link's signature.
    sig: Option<String>,
    /// The name to save the file under (signed too).
    filename: Option<String>,
}

fn forbidden(message: &str) -> ApiError {
    ApiError::new(ErrorCode::AuthorizationError, message)
}

/// The media type of a stored file, by its extension.
fn content_type(key: &str) -> &'static str {
    let ext = key.rsplit_once('.').map_or("", |(_, e)| e);
    match ext.to_ascii_lowercase().as_str() {
        "mp4" | "m4v" => "video/mp4",
        "mov" => "video/quicktime",
        "webm" => "video/webm",
        "mkv" => "video/x-matroska",
        "avi" => "video/x-msvideo",
        "ts" | "m2ts" => "video/mp2t",
        "mpg" => "video/mpeg",
        "flv" => "video/x-flv",
        "wmv" => "video/x-ms-wmv",
        "m4a" => "audio/mp4",
        "mp3" => "audio/mpeg",
        "aac" => "audio/aac",
        "wav" => "audio/wav",
        "flac" => "audio/flac",
        "ogg" => "audio/ogg",
        "aiff" => "audio/aiff",
        "jpg" | "jpeg" => "image/jpeg",
        "png" => "image/png",
        "webp" => "image/webp",
        "json" => "application/json",
        "srt" => "application/x-subrip",
        "vtt" => "text/vtt",
        "txt" => "text/plain; charset=utf-8",
        "ass" => "text/x-ssa",
        _ => "application/octet-stream",
    }
}

/// What a `Range` header asks of a file of `size` bytes.
#[derive(Debug, PartialEq, Eq)]
enum Wanted {
    /// The whole file (no header, or one this route does not serve, like several ranges).
    Whole,
    /// One byte range, end exclusive.
    Part(Range<u64>),
    /// A range that lies past the end: 416.
    Unsatisfiable,
}

/// Parses a single-range `bytes=` header (`a-b`, `a-`, `-n`); anything else is answered
/// with the whole file, as RFC 9110 allows.
fn wanted(header: Option<&str>, size: u64) -> Wanted {
    let Some(spec) = header.and_then(|h| h.trim().strip_prefix("bytes=")) else {
        return Wanted::Whole;
    };
    if spec.contains(',') {
        return Wanted::Whole;
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return Wanted::Whole;
    };
    let (first, last) = (first.trim(), last.trim());
    let range = if first.is_empty() {
        // The last `n` bytes.
        let Ok(n) = last.parse::<u64>() else {
            return Wanted::Whole;
        };
        if n == 0 {
            return Wanted::Unsatisfiable;
        }
        size.saturating_sub(n)..size
    } else {
        let Ok(start) = first.parse::<u64>() else {
            return Wanted::Whole;
        };
        let end = if last.is_empty() {
            size
        } else {
            match last.parse::<u64>() {
                Ok(last) if last >= start => (last + 1).min(size),
                _ => return Wanted::Whole,
            }
        };
        start..end
    };
    if range.start >= size || range.is_empty() {
        return Wanted::Unsatisfiable;
    }
    Wanted::Part(range)
}

/// A stored file through a signed link; the signature is the credential. Serves single
/// byte ranges.
#[utoipa::path(get, path = "/files/{key}", tag = "files", security(()),
    params(("key" = String, Path, description = "The file's storage key (may contain `/`)"),
        LinkQuery,
        ("Range" = Option<String>, Header, description = "One `bytes=` range")),
    responses(
        (status = 200, description = "The whole file", body = Vec<u8>, content_type = "application/octet-stream"),
        (status = 206, description = "The range asked for", body = Vec<u8>, content_type = "application/octet-stream"),
    ))]
async fn download(
    State(state): State<AppState>,
    Path(key): Path<String>,
    Query(link): Query<LinkQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (Some(expires), Some(sig)) = (link.expires.as_deref(), link.sig.as_deref()) else {
        return Err(forbidden(
            "this link is not signed; ask the API for a download link",
        ));
    };
    let expires: u64 = expires
        .parse()
        .map_err(|_| forbidden("the download link's expiry is not a time"))?;
    let filename = link.filename.as_deref();
    state
        .storage()
        .verify_local_signature(&key, expires, filename, sig, SystemTime::now())
        .map_err(|e| match e {
            // A key altered into an invalid one is a tampered link like any other.
            clipforge_storage::StorageError::InvalidKey { .. } => {
                forbidden("the download link's signature does not match")
            }
            other => other.into(),
        })?;
    let path = state
        .storage()
        .local_path(&key)?
        .ok_or_else(|| ApiError::not_found("file"))?;
    let mut file = match tokio::fs::File::open(&path).await {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(ApiError::not_found("file"))
        }
        Err(e) => return Err(ApiError::internal(e)),
    };
    let size = file.metadata().await.map_err(ApiError::internal)?.len();
    let range_header = headers.get(header::RANGE).and_then(|v| v.to_str().ok());
    let (status, range) = match wanted(range_header, size) {
        Wanted::Whole => (StatusCode::OK, 0..size),
        Wanted::Part(range) => (StatusCode::PARTIAL_CONTENT, range),
        Wanted::Unsatisfiable => {
            let mut response = ApiError::field(
                "Range",
                format!("the range lies outside the file's {size} bytes"),
            )
            .into_response();
            *response.status_mut() = StatusCode::RANGE_NOT_SATISFIABLE;
            if let Ok(v) = HeaderValue::from_str(&format!("bytes */{size}")) {
                response.headers_mut().insert(header::CONTENT_RANGE, v);
            }
            return Ok(response);
        }
    };
    if range.start > 0 {
        file.seek(SeekFrom::Start(range.start))
            .await
            .map_err(ApiError::internal)?;
    }
    let length = range.end - range.start;
    let body = Body::from_stream(tokio_util::io::ReaderStream::new(file.take(length)));
    let mut response = (status, body).into_response();
    let out = response.headers_mut();
    out.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type(&key)),
    );
    out.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    out.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    // The link is personal and expires: no shared cache may keep it.
    out.insert(header::CACHE_CONTROL, HeaderValue::from_static("private"));
    if status == StatusCode::PARTIAL_CONTENT {
        if let Ok(v) =
            HeaderValue::from_str(&format!("bytes {}-{}/{size}", range.start, range.end - 1))
        {
            out.insert(header::CONTENT_RANGE, v);
        }
    }
    if let Some(name) = filename {
        if let Ok(v) = HeaderValue::from_str(&clipforge_storage::content_disposition(name)) {
            out.insert(header::CONTENT_DISPOSITION, v);
        }
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_read_as_rfc_9110_writes_them() {
        assert_eq!(wanted(None, 100), Wanted::Whole);
        assert_eq!(wanted(Some("bytes=0-9"), 100), Wanted::Part(0..10));
        assert_eq!(wanted(Some("bytes=90-"), 100), Wanted::Part(90..100));
        assert_eq!(wanted(Some("bytes=-10"), 100), Wanted::Part(90..100));
        assert_eq!(wanted(Some("bytes=-500"), 100), Wanted::Part(0..100));
        assert_eq!(wanted(Some("bytes=50-500"), 100), Wanted::Part(50..100));
        assert_eq!(wanted(Some("bytes=100-"), 100), Wanted::Unsatisfiable);
        assert_eq!(wanted(Some("bytes=-0"), 100), Wanted::Unsatisfiable);
        assert_eq!(wanted(Some("bytes=0-1,5-6"), 100), Wanted::Whole);
        assert_eq!(wanted(Some("bytes=9-3"), 100), Wanted::Whole);
        assert_eq!(wanted(Some("items=0-3"), 100), Wanted::Whole);
        assert_eq!(wanted(Some("bytes=0-0"), 0), Wanted::Unsatisfiable);
    }

    #[test]
    fn types_follow_extensions() {
        assert_eq!(content_type("ws/a/renders/b.mp4"), "video/mp4");
        assert_eq!(content_type("ws/a/videos/b/thumbnail.JPG"), "image/jpeg");
        assert_eq!(content_type("ws/a/x"), "application/octet-stream");
    }
}
