//! API v1 routes, one module per resource.

mod auth;

use axum::Router;

use crate::app::AppState;

/// Every `/api/v1` route.
pub fn api() -> Router<AppState> {
    Router::new().merge(auth::routes())
}
