//! The router, its shared state and the middleware every request passes through.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use clipforge_storage::Storage;
use clipforge_store::{Queue, Store};
use secrecy::SecretString;

use crate::error::{ApiError, ErrorCode};
use crate::metrics::Metrics;
use crate::rate_limit::{Client, RateLimiter};
use crate::request_id;

/// What the service is configured with.
#[derive(Debug, Clone)]
pub struct ServiceConfig {
    /// Requests per minute per client before 429.
    pub rate_limit_per_minute: u32,
    /// Largest JSON body accepted, in bytes (uploads have their own limit).
    pub json_body_limit: usize,
    /// Largest video upload, in bytes.
    pub upload_limit: u64,
    /// Days a session lasts without use.
    pub session_days: u32,
    /// Credits a new workspace starts with.
    pub signup_credits: i64,
    /// Whether cookies are marked `Secure` (served over HTTPS).
    pub secure_cookies: bool,
    /// Whether URL imports may reach private, loopback and link-local addresses.
    pub allow_private_urls: bool,
    /// When set, `/metrics` answers only requests bearing this token
    /// (`Authorization: Bearer …`), for a metrics port that cannot be kept private.
    pub metrics_token: Option<SecretString>,
}

impl Default for ServiceConfig {
    fn default() -> Self {
        ServiceConfig {
            rate_limit_per_minute: 600,
            json_body_limit: 1024 * 1024,
            upload_limit: 10 * 1024 * 1024 * 1024,
            session_days: 30,
            signup_credits: 60,
            secure_cookies: false,
            allow_private_urls: false,
            metrics_token: None,
        }
    }
}

impl ServiceConfig {
    /// How long a session lasts without use.
    pub fn session_lifetime(&self) -> chrono::Duration {
        chrono::Duration::days(i64::from(self.session_days))
    }
}

/// Everything handlers share; cheap to clone.
#[derive(Debug, Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    store: Store,
    storage: Storage,
    queue: Queue,
    config: ServiceConfig,
    limiter: RateLimiter,
    metrics: Metrics,
}

impl AppState {
    /// State over a migrated store and its media storage.
    pub fn new(store: Store, storage: Storage, config: ServiceConfig) -> Self {
        let limiter = RateLimiter::new(config.rate_limit_per_minute, Duration::from_secs(60));
        AppState {
            inner: Arc::new(Inner {
                queue: Queue::new(store.clone()),
                store,
                storage,
                config,
                limiter,
                metrics: Metrics::default(),
            }),
        }
    }

    /// The database.
    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// Media storage.
    pub fn storage(&self) -> &Storage {
        &self.inner.storage
    }

    /// The job queue.
    pub fn queue(&self) -> &Queue {
        &self.inner.queue
    }

    /// The configuration.
    pub fn config(&self) -> &ServiceConfig {
        &self.inner.config
    }

    /// Request counts and latencies since start.
    pub fn metrics(&self) -> &Metrics {
        &self.inner.metrics
    }
}

/// The whole HTTP surface. `/healthz`, `/readyz` and `/metrics` sit outside `/api/v1`, so
/// the rate limit never starves a load balancer or a Prometheus scrape.
pub fn router(state: AppState) -> Router {
    let api = crate::routes::api()
        .fallback(not_found)
        .layer(axum::extract::DefaultBodyLimit::max(
            state.config().json_body_limit,
        ))
        .layer(middleware::from_fn_with_state(state.clone(), rate_limit));
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(crate::metrics::metrics))
        .nest("/api/v1", api)
        .fallback(not_found)
        // Inside the request id, outside the rate limit: refused requests count too.
        .layer(middleware::from_fn_with_state(
            state.clone(),
            crate::metrics::track,
        ))
        .layer(middleware::from_fn(request_id::assign))
        .with_state(state)
}

/// What `/healthz` and `/readyz` answer with.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct Status {
    /// `ok` (health) or `ready` (readiness).
    status: &'static str,
    /// `ok` when the database answered (readiness only).
    #[serde(skip_serializing_if = "Option::is_none")]
    database: Option<&'static str>,
    /// `ok` when media storage answered (readiness only).
    #[serde(skip_serializing_if = "Option::is_none")]
    storage: Option<&'static str>,
}

/// Liveness: answers as soon as the server listens.
#[utoipa::path(get, path = "/healthz", tag = "operations", security(()),
    responses((status = 200, description = "The server is up", body = Status)))]
pub(crate) async fn healthz() -> Json<Status> {
    Json(Status {
        status: "ok",
        database: None,
        storage: None,
    })
}

/// Ready when the database answers; 503 in the error shape otherwise.
#[utoipa::path(get, path = "/readyz", tag = "operations", security(()),
    responses((status = 200, description = "Database and media storage answer", body = Status)))]
pub(crate) async fn readyz(State(state): State<AppState>) -> Result<Json<Status>, ApiError> {
    state.store().ping().await.map_err(|e| {
        tracing::warn!(error = %e, "database not reachable");
        ApiError::new(
            ErrorCode::ServiceUnavailable,
            "the database is not reachable",
        )
    })?;
    state.storage().ping().await.map_err(|e| {
        tracing::warn!(error = %e, "storage not reachable");
        ApiError::new(
            ErrorCode::ServiceUnavailable,
            "media storage is not reachable",
        )
    })?;
    Ok(Json(Status {
        status: "ready",
        database: Some("ok"),
        storage: Some("ok"),
    }))
}

async fn not_found() -> ApiError {
    ApiError::new(ErrorCode::NotFound, "no such route")
}

/// Counts the request against its client's bucket and sets the `X-RateLimit-*` headers.
async fn rate_limit(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let client = client_of(&request);
    let decision = state.inner.limiter.check(&client, Instant::now());
    let mut response = if decision.allowed {
        next.run(request).await
    } else {
        ApiError {
            retry_after: Some(decision.retry_after),
            ..ApiError::new(
                ErrorCode::RateLimitExceeded,
                format!(
                    "too many requests: {} a minute are allowed; retry in {} s",
                    decision.limit, decision.retry_after
                ),
            )
        }
        .into_response()
    };
    set_rate_headers(response.headers_mut(), &decision);
    response
}

fn set_rate_headers(headers: &mut HeaderMap, decision: &crate::rate_limit::Decision) {
    headers.insert("x-ratelimit-limit", HeaderValue::from(decision.limit));
    headers.insert(
        "x-ratelimit-remaining",
        HeaderValue::from(decision.remaining),
    );
    headers.insert("x-ratelimit-reset", HeaderValue::from(decision.reset));
}

/// The caller as the limiter counts it: by the credential it presents (each API key and
/// session has its own budget), else by address. Counting happens before the credential
/// is checked, so a flood of bad tokens still costs the flooder's address nothing extra
/// but cannot spend another client's budget.
fn client_of(request: &Request) -> Client {
    let presented = request
        .headers()
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    if let Some(token) = presented {
        return Client::Token(crate::auth::secrets::hash_token(token.trim()));
    }
    let ip = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(std::net::IpAddr::from([0, 0, 0, 0]), |c| c.0.ip());
    Client::Ip(ip)
}

/// Serves `router` on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}
