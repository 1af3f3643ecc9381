//! The clipforge service over HTTP: API v1 under `/api/v1`, health and readiness, metrics.
//!
//! Handlers are thin: they parse the request into domain types, call the store or enqueue a
//! job, and map errors to the one error shape in [`error`].

pub mod app;
pub mod auth;
pub mod error;
pub mod metrics;
pub mod net_guard;
pub mod openapi;
pub mod pagination;
pub mod rate_limit;
pub mod request_id;
mod routes;

pub use app::{router, serve, AppState, ServiceConfig};
pub use error::{ApiError, ErrorCode, FieldError};
