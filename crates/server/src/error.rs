//! The one error shape of API v1 and the one table from error code to HTTP status.
//!
//! Every failure leaves a handler as an [`ApiError`] and is answered as
//! `{"error":{"code","message","details","request_id"}}`. Internal errors are logged with
//! their cause chain and answered with a plain message, so no SQL or path leaks to clients.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::request_id::RequestId;

/// What kind of failure, as clients branch on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
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
    /// Every code, by HTTP status (listed in the OpenAPI document's error response).
    pub const ALL: [ErrorCode; 10] = [
        ErrorCode::ValidationError,
        ErrorCode::AuthenticationError,
        ErrorCode::InsufficientCredits,
        ErrorCode::AuthorizationError,
        ErrorCode::NotFound,
        ErrorCode::Conflict,
        ErrorCode::PayloadTooLarge,
        ErrorCode::RateLimitExceeded,
        ErrorCode::InternalError,
        ErrorCode::ServiceUnavailable,
    ];

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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
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

/// The body of every error response; also the document's `ErrorBody` schema.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody<'a> {
    /// What went wrong.
    error: ErrorDetail<'a>,
}

/// The `error` object of an error response.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail<'a> {
    /// The kind of failure, which sets the status.
    code: ErrorCode,
    /// What went wrong, for people.
    message: &'a str,
    /// Per-field problems (validation errors); empty otherwise.
    details: &'a [FieldError],
    /// The request's id (`X-Request-Id`), to quote when reporting a problem.
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
        let body = ErrorBody {
            error: ErrorDetail {
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

impl From<clipforge_store::StoreError> for ApiError {
    fn from(error: clipforge_store::StoreError) -> Self {
        use clipforge_store::StoreError as E;
        match error {
            E::NotFound { .. } => ApiError::new(ErrorCode::NotFound, error.to_string()),
            E::Conflict { .. } => ApiError::new(ErrorCode::Conflict, error.to_string()),
            E::InsufficientCredits { .. } => {
                ApiError::new(ErrorCode::InsufficientCredits, error.to_string())
            }
            E::Invalid(message) => ApiError::new(ErrorCode::ValidationError, message),
            other => ApiError::internal(other),
        }
    }
}

impl From<clipforge_storage::StorageError> for ApiError {
    fn from(error: clipforge_storage::StorageError) -> Self {
        use clipforge_storage::StorageError as E;
        match error {
            E::NotFound { .. } => ApiError::new(ErrorCode::NotFound, "file not found"),
            E::InvalidKey { .. } => ApiError::new(ErrorCode::ValidationError, error.to_string()),
            E::SignatureInvalid | E::SignatureExpired => {
                ApiError::new(ErrorCode::AuthorizationError, error.to_string())
            }
            other => ApiError::internal(other),
        }
    }
}

impl From<axum::extract::rejection::JsonRejection> for ApiError {
    fn from(rejection: axum::extract::rejection::JsonRejection) -> Self {
        use axum::extract::rejection::JsonRejection as R;
        match rejection {
            R::MissingJsonContentType(_) => ApiError::field(
                "body",
                "send JSON with the header Content-Type: application/json",
            ),
            R::JsonSyntaxError(e) => {
                ApiError::field("body", format!("malformed JSON: {}", e.body_text()))
            }
            R::JsonDataError(e) => json_data_error(&e.body_text()),
            other => ApiError::field("body", other.body_text()),
        }
    }
}

/// serde's message for a JSON of the wrong shape, turned into a field error: `unknown field
/// `x`` and `missing field `y`` name the field; the path before `: ` names it otherwise.
fn json_data_error(text: &str) -> ApiError {
    let detail = text
        .strip_prefix("Failed to deserialize the JSON body into the target type: ")
        .unwrap_or(text);
    let quoted = |marker: &str| {
        detail
            .find(marker)
            .map(|at| &detail[at + marker.len()..])
            .and_then(|rest| rest.split('`').next())
            .map(str::to_owned)
    };
    let field = quoted("unknown field `")
        .or_else(|| quoted("missing field `"))
        .or_else(|| {
            detail
                .split_once(": ")
                .map(|(path, _)| path.to_string())
                .filter(|p| !p.contains(' '))
        })
        .unwrap_or_else(|| "body".into());
    ApiError::field(&field, detail.to_string())
}

/// A JSON body whose rejections use the API's error shape.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

impl<T, S> axum::extract::FromRequest<S> for ApiJson<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: axum::extract::Request, state: &S) -> Result<Self, ApiError> {
        let axum::Json(value) = axum::Json::<T>::from_request(request, state).await?;
        Ok(ApiJson(value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_map_to_their_statuses() {
        assert_eq!(ErrorCode::ValidationError.status(), 400);
        assert_eq!(ErrorCode::AuthenticationError.status(), 401);
        assert_eq!(ErrorCode::AuthorizationError.status(), 403);
        assert_eq!(ErrorCode::NotFound.status(), 404);
        assert_eq!(ErrorCode::Conflict.status(), 409);
        assert_eq!(ErrorCode::RateLimitExceeded.status(), 429);
        assert_eq!(ErrorCode::InternalError.status(), 500);
        assert_eq!(
            serde_json::to_value(ErrorCode::RateLimitExceeded).unwrap(),
            "RATE_LIMIT_EXCEEDED"
        );
    }

    #[test]
    fn shape_errors_name_the_field() {
        let e = json_data_error("Failed to deserialize the JSON body into the target type: unknown field `emial`, expected one of `email`, `password` at line 1 column 9");
        assert_eq!(e.details[0].field, "emial");
        let e = json_data_error("Failed to deserialize the JSON body into the target type: missing field `password` at line 1 column 20");
        assert_eq!(e.details[0].field, "password");
        let e = json_data_error("Failed to deserialize the JSON body into the target type: max_duration: invalid type: string \"x\", expected f64 at line 1 column 30");
        assert_eq!(e.details[0].field, "max_duration");
    }
}
