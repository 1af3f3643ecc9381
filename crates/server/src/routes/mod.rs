//! API v1 routes, one module per resource.

mod account;
mod assets;
mod auth;
mod clips;
mod events;
mod files;
mod jumpcut_body;
mod jumpcuts;
mod renders;
mod sniff;
mod suggest;
mod templates;
mod transcripts;
mod upload;
mod videos;

use axum::routing::get;
use axum::Router;
use utoipa::OpenApi;

use crate::app::AppState;

/// Every `/api/v1` route.
pub fn api() -> Router<AppState> {
    Router::new()
        .route("/openapi.json", get(crate::openapi::serve_document))
        .merge(auth::routes())
        .merge(account::routes())
        .merge(assets::routes())
        .merge(clips::routes())
        .merge(suggest::routes())
        .merge(events::routes())
        .merge(renders::routes())
        .merge(jumpcuts::routes())
        .merge(templates::routes())
        .merge(videos::routes())
        .merge(upload::routes())
        .merge(transcripts::routes())
        .merge(files::routes())
}

/// The operation this file routes itself.
#[derive(OpenApi)]
#[openapi(paths(crate::openapi::serve_document))]
struct Doc;

/// The `/api/v1` operations, paths relative to it.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut doc = Doc::openapi();
    for part in [
        auth::Doc::openapi(),
        account::Doc::openapi(),
        assets::Doc::openapi(),
        clips::Doc::openapi(),
        events::Doc::openapi(),
        files::Doc::openapi(),
        jumpcuts::Doc::openapi(),
        renders::Doc::openapi(),
        suggest::Doc::openapi(),
        templates::Doc::openapi(),
        transcripts::Doc::openapi(),
        upload::Doc::openapi(),
        videos::Doc::openapi(),
    ] {
        doc.merge(part);
    }
    doc
}
