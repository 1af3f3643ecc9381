//! API v1 routes, one module per resource.

mod account;
mod auth;
mod clips;
mod events;
mod files;
mod renders;
mod sniff;
mod templates;
mod transcripts;
mod upload;
mod videos;

use axum::Router;

use crate::app::AppState;

/// Every `/api/v1` route.
pub fn api() -> Router<AppState> {
    Router::new()
        .merge(auth::routes())
        .merge(account::routes())
        .merge(clips::routes())
        .merge(events::routes())
        .merge(renders::routes())
        .merge(templates::routes())
        .merge(videos::routes())
        .merge(upload::routes())
        .merge(transcripts::routes())
        .merge(files::routes())
}
