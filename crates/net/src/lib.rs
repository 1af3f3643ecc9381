//! HTTP for the remote services clipforge talks to (speech APIs, language models): one
//! client with timeouts, retries with backoff that honour `Retry-After`, and errors that
//! say which host failed, how, and which setting to check.
//!
//! Keys stay with their caller: this crate never sees them except inside the requests the
//! caller builds, and reqwest drops `Authorization` when a redirect leaves the host.

use std::future::Future;
use std::time::Duration;

use reqwest::header::HeaderMap;
use reqwest::{RequestBuilder, StatusCode, Url};

/// Longest computed backoff between two attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// Longest wait a server's `Retry-After` may ask for; a longer one is shortened to this.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(120);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);

/// When and how often a failed request is tried again.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// Wait before the first retry; doubles for each further one, up to 30 s.
    pub initial_backoff: Duration,
}

impl RetryPolicy {
    /// The wait before retry number `retry` (1-based): the server's `Retry-After` when it
    /// sent one, else exponential backoff with jitter so clients that failed together do
    /// not all come back at the same moment.
    fn delay(&self, retry: u32, retry_after: Option<Duration>) -> Duration {
        if let Some(wait) = retry_after {
            return wait.min(MAX_RETRY_AFTER);
        }
        let factor = 2u32.saturating_pow(retry.saturating_sub(1));
        let full = self.initial_backoff.saturating_mul(factor).min(MAX_BACKOFF);
        let half = full / 2;
        half + half.mul_f64(fastrand::f64())
    }
}

/// Hints appended to errors, naming what the user should check.
#[derive(Debug, Clone)]
pub struct Hints {
    /// For 401: which setting holds the key.
    pub unauthorized: String,
    /// For 404: which settings name the endpoint and model.
    pub not_found: String,
    /// For 403; a generic hint about the key's permissions when `None`.
    pub forbidden: Option<String>,
    /// For 413; a generic hint about the request size when `None`.
    pub too_large: Option<String>,
}

impl Hints {
    /// Hints naming the key setting (401) and the endpoint and model settings (404).
    pub fn new(unauthorized: impl Into<String>, not_found: impl Into<String>) -> Self {
        Self {
            unauthorized: unauthorized.into(),
            not_found: not_found.into(),
            forbidden: None,
            too_large: None,
        }
    }

    fn for_status(&self, status: StatusCode) -> Option<&str> {
        Some(match status.as_u16() {
            401 => &self.unauthorized,
            402 => "the account has run out of credit",
            403 => self
                .forbidden
                .as_deref()
                .unwrap_or("the key is valid but may not use this model or endpoint"),
            404 => &self.not_found,
            413 => self
                .too_large
                .as_deref()
                .unwrap_or("the request is larger than the service accepts"),
            429 => "the service is rate limiting this key; try again later",
            _ => return None,
        })
    }
}

/// A request that failed for good: the server's status when it answered, and a message
/// naming the host, the server's own words and what to check.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct HttpError {
    /// `None` when no answer came (connection refused, timeout, unreadable body).
    pub status: Option<StatusCode>,
    /// Attempts made, retries included.
    pub attempts: u32,
    pub message: String,
}

/// Why [`Client::send`] returned no body: the caller's request builder failed, or HTTP did.
#[derive(Debug)]
pub enum SendError<E> {
    Build(E),
    Http(HttpError),
}

/// An HTTP client for one remote service.
#[derive(Debug)]
pub struct Client {
    client: reqwest::Client,
    retry: RetryPolicy,
    hints: Hints,
}

impl Client {
    /// `timeout` bounds each attempt: connecting, sending and reading the answer.
    pub fn new(timeout: Duration, retry: RetryPolicy, hints: Hints) -> Result<Self, HttpError> {
        let client = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT.min(timeout))
            .timeout(timeout)
            .user_agent(concat!("clipforge/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| HttpError {
                status: None,
                attempts: 0,
                message: format!("cannot create an HTTP client: {}", chain(&e)),
            })?;
        Ok(Self {
            client,
            retry,
            hints,
        })
    }

    /// The underlying client, for building requests.
    pub fn reqwest(&self) -> &reqwest::Client {
        &self.client
    }

    /// Sends the request that `build` makes (once per attempt, so a body streamed from a
    /// file starts over) and returns the body of the first successful answer. Retries on
    /// 408, 429, 5xx and transport errors; any other status fails at once.
    #[tracing::instrument(skip_all, fields(%url))]
    pub async fn send<F, Fut, E>(
        &self,
        url: &Url,
        mut build: F,
    ) -> Result<bytes::Bytes, SendError<E>>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<RequestBuilder, E>>,
    {
        let host = match (url.host_str(), url.port()) {
            (Some(host), Some(port)) => format!("{host}:{port}"),
            (Some(host), None) => host.to_owned(),
            _ => url.to_string(),
        };
        let mut attempt = 0;
        loop {
            attempt += 1;
            let can_retry = attempt <= self.retry.max_retries;
            let request = build().await.map_err(SendError::Build)?;
            let (message, retry_after) = match request.send().await {
                Ok(response) if response.status().is_success() => match response.bytes().await {
                    Ok(body) => return Ok(body),
                    Err(e) if can_retry => {
                        (format!("reading the answer failed: {}", chain(&e)), None)
                    }
                    Err(e) => {
                        let message =
                            format!("reading the answer from {host} failed: {}", chain(&e));
                        return Err(fail(None, attempt, message));
                    }
                },
                Ok(response) => {
                    let status = response.status();
                    let retry_after = retry_after(response.headers());
                    let body = response.bytes().await.unwrap_or_default();
                    let message = self.describe(status, &host, &body);
                    if !(can_retry && is_transient(status)) {
                        return Err(fail(Some(status), attempt, message));
                    }
                    (message, retry_after)
                }
                Err(e) if can_retry && !e.is_builder() => (chain(&e), None),
                Err(e) => {
                    let message = format!("request to {host} failed: {}", chain(&e));
                    return Err(fail(None, attempt, message));
                }
            };
            let wait = self.retry.delay(attempt, retry_after);
            tracing::warn!(attempt, wait_ms = wait.as_millis() as u64, error = %message, "request failed; retrying");
            tokio::time::sleep(wait).await;
        }
    }

    /// `HTTP 401 Unauthorized from api.openai.com: Incorrect API key provided (check …)`.
    fn describe(&self, status: StatusCode, host: &str, body: &[u8]) -> String {
        let mut message = format!("HTTP {status} from {host}");
        let detail = serde_json::from_slice(body)
            .ok()
            .and_then(|v| api_error_message(&v))
            .unwrap_or_else(|| snippet(body));
        if !detail.is_empty() {
            message.push_str(": ");
            message.push_str(&detail);
        }
        if let Some(hint) = self.hints.for_status(status) {
            message.push_str(&format!(" ({hint})"));
        }
        message
    }
}

fn fail<E>(status: Option<StatusCode>, attempts: u32, message: String) -> SendError<E> {
    let message = if attempts > 1 {
        format!("{message} (gave up after {attempts} attempts)")
    } else {
        message
    };
    SendError::Http(HttpError {
        status,
        attempts,
        message,
    })
}

fn is_transient(status: StatusCode) -> bool {
    status == StatusCode::TOO_MANY_REQUESTS
        || status == StatusCode::REQUEST_TIMEOUT
        || status.is_server_error()
}

/// The server's requested wait: `retry-after-ms` (OpenAI) or `Retry-After` in seconds. The
/// HTTP-date form is rare for these APIs and falls back to the computed backoff.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let number = |name: &str| headers.get(name)?.to_str().ok()?.trim().parse::<f64>().ok();
    let seconds = number("retry-after-ms")
        .map(|ms| ms / 1000.0)
        .or_else(|| number("retry-after"))?;
    (seconds.is_finite() && seconds >= 0.0)
        .then(|| Duration::from_secs_f64(seconds.min(MAX_RETRY_AFTER.as_secs_f64())))
}

/// The message in the error shapes remote APIs use: OpenAI's `{"error":{"message"}}`,
/// Deepgram's `{"err_code","err_msg"}`, and the `{"message"}` / `{"detail"}` of other servers.
pub fn api_error_message(v: &serde_json::Value) -> Option<String> {
    let text = |v: &serde_json::Value| {
        v.as_str()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    if let Some(message) = v.pointer("/error/message").and_then(text) {
        return Some(message);
    }
    if let Some(message) = v.get("err_msg").and_then(text) {
        return Some(match v.get("err_code").and_then(text) {
            Some(code) => format!("{message} [{code}]"),
            None => message,
        });
    }
    ["error", "message", "detail", "details"]
        .iter()
        .find_map(|k| v.get(*k).and_then(text))
}

/// The start of a body that is not what was expected (a proxy's HTML page), on one line.
pub fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match flat.char_indices().nth(200) {
        Some((cut, _)) => format!("{}…", &flat[..cut]),
        None => flat,
    }
}

/// An error with its causes (`error sending request: connection refused`).
pub fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = cause.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_and_honours_retry_after() {
        let policy = RetryPolicy {
            max_retries: 5,
            initial_backoff: Duration::from_secs(1),
        };
        for retry in 1..=4 {
            let full = Duration::from_secs(1 << (retry - 1));
            let wait = policy.delay(retry, None);
            assert!(wait >= full / 2 && wait <= full, "retry {retry}: {wait:?}");
        }
        assert!(policy.delay(20, None) <= MAX_BACKOFF);
        assert_eq!(
            policy.delay(1, Some(Duration::from_secs(7))),
            Duration::from_secs(7)
        );
        assert_eq!(
            policy.delay(1, Some(Duration::from_secs(9999))),
            MAX_RETRY_AFTER
        );
    }

    #[test]
    fn retry_after_reads_seconds_and_milliseconds() {
        let mut h = HeaderMap::new();
        assert_eq!(retry_after(&h), None);
        h.insert("retry-after", "3".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(3)));
        h.insert("retry-after-ms", "250".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_millis(250)));
        let mut h = HeaderMap::new();
        h.insert(
            "retry-after",
            "Wed, 21 Oct 2015 07:28:00 GMT".parse().unwrap(),
        );
        assert_eq!(retry_after(&h), None);
    }

    #[test]
    fn error_messages_of_each_api_shape_are_found() {
        let openai = json!({"error": {"message": "Incorrect API key provided", "type": "invalid_request_error"}});
        assert_eq!(
            api_error_message(&openai).unwrap(),
            "Incorrect API key provided"
        );
        let deepgram = json!({"err_code": "INVALID_AUTH", "err_msg": "Invalid credentials.", "request_id": "x"});
        assert_eq!(
            api_error_message(&deepgram).unwrap(),
            "Invalid credentials. [INVALID_AUTH]"
        );
        assert_eq!(
            api_error_message(&json!({"detail": "Not Found"})).unwrap(),
            "Not Found"
        );
        assert_eq!(
            api_error_message(&json!({"error": "model not loaded"})).unwrap(),
            "model not loaded"
        );
        assert_eq!(api_error_message(&json!({"ok": true})), None);
        assert_eq!(
            snippet(b"<html>\n  <body>Bad   gateway</body></html>"),
            "<html> <body>Bad gateway</body></html>"
        );
        assert_eq!(snippet("x".repeat(300).as_bytes()).chars().count(), 201);
    }

    #[test]
    fn descriptions_name_status_host_message_and_hint() {
        let retry = RetryPolicy {
            max_retries: 0,
            initial_backoff: Duration::ZERO,
        };
        let mut hints = Hints::new("check TEST_KEY", "check TEST_URL");
        let client = Client::new(Duration::from_secs(1), retry, hints.clone()).unwrap();
        let body = br#"{"error":{"message":"bad key"}}"#;
        assert_eq!(
            client.describe(StatusCode::UNAUTHORIZED, "h:1", body),
            "HTTP 401 Unauthorized from h:1: bad key (check TEST_KEY)"
        );
        assert_eq!(
            client.describe(StatusCode::BAD_REQUEST, "h", b""),
            "HTTP 400 Bad Request from h"
        );
        assert!(client
            .describe(StatusCode::FORBIDDEN, "h", b"")
            .ends_with("(the key is valid but may not use this model or endpoint)"));
        hints.forbidden = Some("check TEST_MODEL".into());
        let client = Client::new(Duration::from_secs(1), retry, hints).unwrap();
        assert_eq!(
            client.describe(StatusCode::FORBIDDEN, "h", b""),
            "HTTP 403 Forbidden from h (check TEST_MODEL)"
        );
    }
}
