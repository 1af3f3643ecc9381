//! The one error shape of API v1 and the one table from error code to HTTP status.
//!
//! Every failure leaves a handler as an [`ApiError`] and is answered as
//! `{"error":{"code","message","details","request_id"}}`. Internal errors are logged with
//! their cause chain and answered with a plain message, so no SQL or path leaks to clients.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::request_id::RequestId;

/// What kind of failure, as clients branch on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ErrorCode {
    /// Input failed validation (400).
    ValidationError,
    /// No or bad credentials (401).
    AuthenticationError,
    /// Authenticated but not allowed (403).
    AuthorizationError,
    /// No such resource in the caller's workspace (404).
    NotFound,
    /// The request conflicts with the current state (409).
    Conflict,
    /// The body is larger than allowed (413).
    PayloadTooLarge,
    /// Too many requests (429).
    RateLimitExceeded,
    /// Not enough credits for the work asked for (402).
    InsufficientCredits,
    /// A bug or an outage on our side (500).
    InternalError,
    /// A dependency (database, storage) is down (503).
    ServiceUnavailable,
}

impl ErrorCode {
    /// The HTTP status this code is answered with.
    pub fn status(self) -> StatusCode {
        match self {
            ErrorCode::ValidationError => StatusCode::BAD_REQUEST,
            ErrorCode::AuthenticationError => StatusCode::UNAUTHORIZED,
            ErrorCode::AuthorizationError => StatusCode::FORBIDDEN,
            ErrorCode::NotFound => StatusCode::NOT_FOUND,
            ErrorCode::Conflict => StatusCode::CONFLICT,
            ErrorCode::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::RateLimitExceeded => StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::InsufficientCredits => StatusCode::PAYMENT_REQUIRED,
            ErrorCode::InternalError => StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::ServiceUnavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

/// One field's problem in a validation error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// The field, as named in the request (`email`, `per_page`, `file`).
    pub field: String,
    /// What is wrong with it and what would be accepted.
    pub message: String,
}

/// A failed request: its code, a message for people, and per-field details.
#[derive(Debug)]
pub struct ApiError {
    /// The kind of failure.
    pub code: ErrorCode,
    /// What went wrong, for people.
    pub message: String,
    /// Per-field problems (validation errors).
    pub details: Vec<FieldError>,
    /// For internal errors: the cause, logged and never sent.
    pub source: Option<Box<dyn std::error::Error + Send + Sync>>,
    /// Seconds until a rate-limited client may retry.
    pub retry_after: Option<u64>,
}

impl ApiError {
    /// An error with a code and message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError {
            code,
            message: message.into(),
            details: Vec::new(),
            source: None,
            retry_after: None,
        }
    }

    /// A validation error about fields.
    pub fn validation(details: Vec<FieldError>) -> Self {
        let message = match details.as_slice() {
            [one] => format!("{}: {}", one.field, one.message),
            _ => "the request has invalid fields; see details".to_string(),
        };
        ApiError {
            details,
            ..ApiError::new(ErrorCode::ValidationError, message)
        }
    }

    /// A validation error about one field.
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        ApiError::validation(vec![FieldError {
            field: field.into(),
            message: message.into(),
        }])
    }

    /// Not found, worded for the kind of resource (`video`, `clip`).
    pub fn not_found(what: &str) -> Self {
        ApiError::new(ErrorCode::NotFound, format!("{what} not found"))
    }

    /// An internal error: `source` is logged with the request id, the client sees a plain
    /// message.
    pub fn internal(source: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        ApiError {
            source: Some(source.into()),
            ..ApiError::new(
                ErrorCode::InternalError,
                "something went wrong on our side; quote the request id if you report it",
            )
        }
    }
}

#[derive(Serialize)]
struct Body<'a> {
    error: Inner<'a>,
}

#[derive(Serialize)]
struct Inner<'a> {
    code: ErrorCode,
    message: &'a str,
    details: &'a [FieldError],
    request_id: Option<&'a str>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let request_id = RequestId::current();
        if let Some(source) = &self.source {
            tracing::error!(
                request_id = request_id.as_deref().unwrap_or("-"),
                error = %crate::error::chain(source.as_ref()),
                "internal error"
            );
        }
        let body = Body {
            error: Inner {
                code: self.code,
                message: &self.message,
                details: &self.details,
                request_id: request_id.as_deref(),
            },
        };
        let mut response = (self.code.status(), axum::Json(body)).into_response();
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// An error and its causes on one line: `a: b: c`.
pub fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
