//! Videos: list, show, rename or move, delete, thumbnail. Adding videos (upload, link
//! import) is in [`super::upload`].

use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use clipforge_store::audit;
use clipforge_store::videos::{
    self, MediaInfo, Video, VideoFilter, VideoSortField, VideoSource, VideoStatus, VideoUpdate,
};
use clipforge_store::{Page, ProjectId, UserId, VideoId, WorkspaceId};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};

use crate::app::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiJson, FieldError};
use crate::pagination::{PageRequest, Pagination, SortOrder};

/// How long a thumbnail link works.
const THUMBNAIL_LINK_TTL: Duration = Duration::from_secs(3600);
/// Longest title accepted.
pub const MAX_TITLE_CHARS: usize = 200;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/videos", get(list))
        .route("/videos/{id}", get(show).put(update).delete(remove))
        .route("/videos/{id}/thumbnail", get(thumbnail))
}

/// This module's operations in the OpenAPI document.
#[derive(OpenApi)]
#[openapi(paths(list, show, update, remove, thumbnail))]
pub(super) struct Doc;

/// A path's video id.
const VIDEO_ID: &str = "The video's id";

#[derive(Serialize, ToSchema)]
struct OneVideo {
    video: VideoView,
}

#[derive(Serialize, ToSchema)]
struct VideoList {
    videos: Vec<VideoView>,
    pagination: Pagination,
}

/// A video as the API shows it: no storage keys, media facts at the top level.
#[derive(Debug, Serialize, ToSchema)]
pub struct VideoView {
    #[schema(value_type = uuid::Uuid)]
    id: VideoId,
    #[schema(value_type = Option<uuid::Uuid>)]
    project_id: Option<ProjectId>,
    title: String,
    /// `upload` or `url`.
    #[schema(value_type = String, example = "upload")]
    source: VideoSource,
    source_url: Option<String>,
    original_filename: Option<String>,
    /// uploaded, queued, downloading, ingesting, transcribing, analyzing, ready or failed.
    #[schema(value_type = String, example = "ready")]
    status: VideoStatus,
    error: Option<String>,
    duration_seconds: Option<f64>,
    width: Option<u32>,
    height: Option<u32>,
    file_size_bytes: Option<u64>,
    /// What probing found: container, streams, codecs, frame rate.
    #[schema(value_type = Option<Object>)]
    media: Option<MediaInfo>,
    thumbnail_url: Option<String>,
    config: serde_json::Value,
    #[schema(value_type = Option<uuid::Uuid>)]
    created_by: Option<UserId>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<Video> for VideoView {
    fn from(v: Video) -> Self {
        let media = v.media;
        VideoView {
            thumbnail_url: v
                .thumbnail_key
                .as_ref()
                .map(|_| format!("/api/v1/videos/{}/thumbnail", v.id)),
            id: v.id,
            project_id: v.project_id,
            title: v.title,
            source: v.source,
            source_url: v.source_url,
            original_filename: v.original_filename,
            status: v.status,
            error: v.error,
            duration_seconds: media.as_ref().map(|m| m.duration_seconds),
            width: media.as_ref().map(|m| m.width),
            height: media.as_ref().map(|m| m.height),
            file_size_bytes: media.as_ref().map(|m| m.size_bytes),
            media,
            config: v.config,
            created_by: v.created_by,
            created_at: v.created_at,
            updated_at: v.updated_at,
        }
    }
}

/// Where everything stored for a video lives; deleting the video deletes this prefix.
pub fn video_prefix(workspace: WorkspaceId, video: VideoId) -> String {
    format!("ws/{workspace}/videos/{video}")
}

/// A video id from the path; one that does not parse is as missing as one that is gone.
pub fn parse_video_id(raw: &str) -> Result<VideoId, ApiError> {
    raw.parse().map_err(|_| ApiError::not_found("video"))
}

/// One of the caller's workspace's live videos, or 404.
pub async fn find_video(state: &AppState, caller: &Caller, raw: &str) -> Result<Video, ApiError> {
    let id = parse_video_id(raw)?;
    videos::get(state.store(), caller.workspace, id)
        .await?
        .ok_or_else(|| ApiError::not_found("video"))
}

/// `project_id` from a request: a project id, or a 400 naming the field.
pub fn parse_project_id(raw: &str) -> Result<ProjectId, ApiError> {
    raw.trim()
        .parse()
        .map_err(|_| ApiError::field("project_id", "is not a project id"))
}

/// A title from a request, trimmed; 400 naming the field when empty or too long.
pub fn check_title(raw: &str) -> Result<String, ApiError> {
    let title = raw.trim();
    if title.is_empty() || title.chars().count() > MAX_TITLE_CHARS {
        return Err(ApiError::field(
            "title",
            format!("must be 1-{MAX_TITLE_CHARS} characters"),
        ));
    }
    Ok(title.to_string())
}

/// The query of `GET /videos`; every value arrives as text so a bad one is reported by
/// field rather than as a generic query error.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// From 1.
    page: Option<String>,
    /// 1-100 (default 20).
    per_page: Option<String>,
    /// A video status.
    status: Option<String>,
    /// Only this project's videos.
    project_id: Option<String>,
    /// Words in the title (at most 200 characters).
    search: Option<String>,
    /// created_at, updated_at or title.
    sort_by: Option<String>,
    /// asc or desc.
    sort_order: Option<String>,
}

/// What a list request asks for, checked.
#[derive(Debug)]
struct ListRequest {
    page: PageRequest,
    status: Option<VideoStatus>,
    project_id: Option<ProjectId>,
    search: Option<String>,
    sort_by: VideoSortField,
    sort_order: SortOrder,
}

fn number(field: &str, raw: Option<&str>, problems: &mut Vec<FieldError>) -> Option<i64> {
    let raw = raw?;
    match raw.trim().parse() {
        Ok(n) => Some(n),
        Err(_) => {
            problems.push(FieldError {
                field: field.into(),
                message: format!("{raw:?} is not a whole number"),
            });
            None
        }
    }
}

impl ListQuery {
    fn check(self) -> Result<ListRequest, ApiError> {
        let mut problems = Vec::new();
        let mut bad = |field: &str, message: String| {
            problems.push(FieldError {
                field: field.into(),
                message,
            })
        };
        let status = match self.status.as_deref().filter(|s| !s.is_empty()) {
            None => None,
            Some(s) => s.parse::<VideoStatus>().map(Some).unwrap_or_else(|_| {
                let names: Vec<_> = VideoStatus::ALL.iter().map(|s| s.as_str()).collect();
                bad(
                    "status",
                    format!("{s:?} is not one of {}", names.join(", ")),
                );
                None
            }),
        };
        let project_id = match self.project_id.as_deref().filter(|s| !s.is_empty()) {
            None => None,
            Some(s) => s.parse::<ProjectId>().map(Some).unwrap_or_else(|_| {
                bad("project_id", format!("{s:?} is not a project id"));
                None
            }),
        };
        let sort_by = match self.sort_by.as_deref().unwrap_or("created_at") {
            "created_at" => VideoSortField::CreatedAt,
            "updated_at" => VideoSortField::UpdatedAt,
            "title" => VideoSortField::Title,
            other => {
                bad(
                    "sort_by",
                    format!("{other:?} is not one of created_at, updated_at, title"),
                );
                VideoSortField::default()
            }
        };
        let sort_order = match self.sort_order.as_deref().unwrap_or("desc") {
            "asc" => SortOrder::Asc,
            "desc" => SortOrder::Desc,
            other => {
                bad("sort_order", format!("{other:?} is not asc or desc"));
                SortOrder::Desc
            }
        };
        let search = self
            .search
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty());
        if search.as_ref().is_some_and(|s| s.chars().count() > 200) {
            bad("search", "must be at most 200 characters".into());
        }
        let page = number("page", self.page.as_deref(), &mut problems);
        let per_page = number("per_page", self.per_page.as_deref(), &mut problems);
        let page = match PageRequest::parse(page, per_page) {
            Ok(page) => Some(page),
            Err(e) => {
                problems.extend(e.details);
                None
            }
        };
        match page {
            Some(page) if problems.is_empty() => Ok(ListRequest {
                page,
                status,
                project_id,
                search,
                sort_by,
                sort_order,
            }),
            _ => Err(ApiError::validation(problems)),
        }
    }
}

/// The workspace's videos, filtered and sorted.
#[utoipa::path(get, path = "/videos", tag = "videos", params(ListQuery),
    responses((status = 200, description = "One page of videos", body = VideoList)))]
async fn list(
    State(state): State<AppState>,
    caller: Caller,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<VideoList>, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::field("query", e.body_text()))?;
    let request = query.check()?;
    let order = match request.sort_order {
        SortOrder::Asc => clipforge_store::SortOrder::Asc,
        SortOrder::Desc => clipforge_store::SortOrder::Desc,
    };
    let filter = VideoFilter {
        status: request.status,
        project_id: request.project_id,
        search: request.search.as_deref(),
    };
    let page = Page::new(request.page.page, request.page.per_page);
    let found = videos::list(
        state.store(),
        caller.workspace,
        &filter,
        request.sort_by,
        order,
        page,
    )
    .await?;
    let pagination = Pagination::new(request.page, found.total);
    let views: Vec<VideoView> = found.items.into_iter().map(VideoView::from).collect();
    Ok(Json(VideoList {
        videos: views,
        pagination,
    }))
}

/// One video.
#[utoipa::path(get, path = "/videos/{id}", tag = "videos",
    params(("id" = String, Path, description = VIDEO_ID)),
    responses((status = 200, description = "The video", body = OneVideo)))]
async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<OneVideo>, ApiError> {
    let video = find_video(&state, &caller, &id).await?;
    Ok(Json(OneVideo {
        video: VideoView::from(video),
    }))
}

/// A field that may be absent, `null` or a value: `Some(None)` is an explicit `null`.
fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = UpdateVideo)]
#[serde(deny_unknown_fields)]
struct UpdateBody {
    #[serde(default)]
    title: Option<String>,
    /// Absent: unchanged; `null`: out of its project; an id: into that project.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    project_id: Option<Option<String>>,
}

/// Retitles a video or moves it into or out of a project.
#[utoipa::path(put, path = "/videos/{id}", tag = "videos",
    params(("id" = String, Path, description = VIDEO_ID)), request_body = UpdateBody,
    responses((status = 200, description = "The video as changed", body = OneVideo)))]
async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<UpdateBody>,
) -> Result<Json<OneVideo>, ApiError> {
    let id = parse_video_id(&id)?;
    let title = body.title.as_deref().map(check_title).transpose()?;
    let project_id = match &body.project_id {
        None => None,
        Some(None) => Some(None),
        Some(Some(raw)) => Some(Some(parse_project_id(raw)?)),
    };
    let changed = videos::update(
        state.store(),
        caller.workspace,
        id,
        VideoUpdate {
            title: title.as_deref(),
            project_id,
            config: None,
        },
    )
    .await?;
    match changed {
        Some(video) => Ok(Json(OneVideo {
            video: VideoView::from(video),
        })),
        // The update matches nothing both for a missing video and for a project that is
        // not the workspace's: tell which.
        None => match videos::get(state.store(), caller.workspace, id).await? {
            None => Err(ApiError::not_found("video")),
            Some(_) => Err(ApiError::field(
                "project_id",
                "no such project in this workspace",
            )),
        },
    }
}

/// Deletes a video with its clips and stored files.
#[utoipa::path(delete, path = "/videos/{id}", tag = "videos",
    params(("id" = String, Path, description = VIDEO_ID)),
    responses((status = 204, description = "Deleted")))]
async fn remove(
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = parse_video_id(&id)?;
    let mut tx = state.store().begin().await?;
    if !videos::delete(&mut tx, caller.workspace, id).await? {
        return Err(ApiError::not_found("video"));
    }
    audit::record(
        &mut tx,
        caller.audit(
            "video.delete",
            "video",
            id.to_string(),
            &addr.ip().to_string(),
        ),
    )
    .await?;
    tx.commit().await?;
    // After the commit: a rolled-back delete must not lose the files. A failure here only
    // leaves orphaned files behind, so the delete still succeeds.
    let prefix = video_prefix(caller.workspace, id);
    if let Err(e) = state.storage().delete_prefix(&prefix).await {
        tracing::warn!(video_id = %id, error = %crate::error::chain(&e), "deleted video's files were not removed");
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Redirects to the video's thumbnail.
#[utoipa::path(get, path = "/videos/{id}/thumbnail", tag = "videos",
    params(("id" = String, Path, description = VIDEO_ID)),
    responses((status = 302, description = "`Location` is a signed link to the JPEG, valid for an hour")))]
async fn thumbnail(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let video = find_video(&state, &caller, &id).await?;
    let key = video.thumbnail_key.ok_or_else(|| {
        ApiError::not_found("thumbnail (it is made when the video has been ingested)")
    })?;
    let link = state
        .storage()
        .signed_url(&key, THUMBNAIL_LINK_TTL, None)
        .await?;
    Ok((
        StatusCode::FOUND,
        [
            (header::LOCATION, link.url),
            (header::CACHE_CONTROL, "private, max-age=300".to_string()),
        ],
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The query as axum would extract it from the request line.
    fn query(pairs: &[(&str, &str)]) -> ListQuery {
        let text: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let uri: axum::http::Uri = format!("/videos?{}", text.join("&")).parse().unwrap();
        Query::<ListQuery>::try_from_uri(&uri).unwrap().0
    }

    #[test]
    fn list_queries_are_checked_field_by_field() {
        let ok = query(&[
            ("page", "2"),
            ("per_page", "50"),
            ("status", "ready"),
            ("sort_by", "title"),
            ("sort_order", "asc"),
            ("search", "%20%20talk+"),
        ])
        .check()
        .unwrap();
        assert_eq!((ok.page.page, ok.page.per_page), (2, 50));
        assert_eq!(ok.status, Some(VideoStatus::Ready));
        assert_eq!(ok.sort_by, VideoSortField::Title);
        assert_eq!(ok.sort_order, SortOrder::Asc);
        assert_eq!(ok.search.as_deref(), Some("talk"));

        let bad = query(&[
            ("page", "x"),
            ("per_page", "101"),
            ("status", "processing"),
            ("sort_by", "size"),
            ("project_id", "nope"),
        ])
        .check()
        .unwrap_err();
        let mut fields: Vec<_> = bad.details.iter().map(|d| d.field.as_str()).collect();
        fields.sort_unstable();
        assert_eq!(
            fields,
            ["page", "per_page", "project_id", "sort_by", "status"]
        );
    }

    #[test]
    fn update_bodies_tell_null_from_absent() {
        let absent: UpdateBody = serde_json::from_str(r#"{"title":"A"}"#).unwrap();
        assert_eq!(absent.project_id, None);
        let null: UpdateBody = serde_json::from_str(r#"{"project_id":null}"#).unwrap();
        assert_eq!(null.project_id, Some(None));
        assert!(serde_json::from_str::<UpdateBody>(r#"{"name":"A"}"#).is_err());
    }
}
