//! `GET /metrics` in the Prometheus text format: request counts and latencies by route
//! template, queue depth read from the database at scrape time, build and uptime.
//!
//! A small registry of its own rather than a metrics crate: a handful of families, a
//! mutex held for a map update per request, and text written in one place.
//!
//! The route is public like `/healthz`: it shows counts and timings, never ids or bodies,
//! but operators should keep it off the public internet (bind a private port or block the
//! path at the proxy), as with any Prometheus target.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use clipforge_store::{JobCount, JobStatus};

use secrecy::ExposeSecret;

use crate::app::AppState;
use crate::error::{ApiError, ErrorCode};

/// Upper bounds of the latency histogram's buckets, seconds (Prometheus's defaults: from
/// a cached read to a slow upload).
const BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The `route` label of requests no route matched: one series for every unknown path, so
/// scanners cannot grow the label set.
pub const UNMATCHED: &str = "unmatched";

/// The content type of the text exposition format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Job states in the order they are listed; every state of a kind seen is written, so a
/// state that empties reads 0 instead of vanishing.
const STATES: [JobStatus; 6] = [
    JobStatus::Queued,
    JobStatus::Running,
    JobStatus::Succeeded,
    JobStatus::Failed,
    JobStatus::Dead,
    JobStatus::Cancelled,
];

#[derive(Debug, Default)]
struct Histogram {
    /// Observations at or under each bound of [`BUCKETS`] (not cumulative; summed when
    /// written).
    buckets: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

impl Histogram {
    fn observe(&mut self, seconds: f64) {
        if let Some(i) = BUCKETS.iter().position(|&bound| seconds <= bound) {
            self.buckets[i] += 1;
        }
        self.count += 1;
        self.sum += seconds;
    }
}

#[derive(Debug, Default)]
struct Series {
    /// By (method, route, status).
    requests: BTreeMap<(String, String, u16), u64>,
    /// By (method, route).
    durations: BTreeMap<(String, String), Histogram>,
}

/// The process's HTTP metrics; one per [`AppState`].
#[derive(Debug)]
pub struct Metrics {
    started: Instant,
    series: Mutex<Series>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            started: Instant::now(),
            series: Mutex::default(),
        }
    }
}

impl Metrics {
    /// Counts one finished request.
    pub fn record(&self, method: &str, route: &str, status: u16, seconds: f64) {
        // A panic while the lock was held cannot leave a count half-written: keep counting.
        let mut series = self.series.lock().unwrap_or_else(|e| e.into_inner());
        *series
            .requests
            .entry((method.to_string(), route.to_string(), status))
            .or_default() += 1;
        series
            .durations
            .entry((method.to_string(), route.to_string()))
            .or_default()
            .observe(seconds);
    }

    /// The exposition text: the HTTP families, then `jobs` (`None` when the database could
    /// not be read, which `clipforge_jobs_scrape_ok` reports).
    pub fn render(&self, jobs: Option<&[JobCount]>) -> String {
        let mut out = String::new();
        self.render_http(&mut out);
        render_jobs(&mut out, jobs);
        family(
            &mut out,
            "clipforge_build_info",
            "gauge",
            "The running build; always 1.",
        );
        let _ = writeln!(
            out,
            "clipforge_build_info{{version=\"{}\"}} 1",
            escape(env!("CARGO_PKG_VERSION"))
        );
        family(
            &mut out,
            "clipforge_process_uptime_seconds",
            "gauge",
            "Seconds since the service started.",
        );
        let _ = writeln!(
            out,
            "clipforge_process_uptime_seconds {}",
            self.started.elapsed().as_secs_f64()
        );
        out
    }

    fn render_http(&self, out: &mut String) {
        let series = self.series.lock().unwrap_or_else(|e| e.into_inner());
        family(
            out,
            "clipforge_http_requests_total",
            "counter",
            "HTTP requests answered, by method, route template and status.",
        );
        for ((method, route, status), n) in &series.requests {
            let _ = writeln!(
                out,
                "clipforge_http_requests_total{{method=\"{}\",route=\"{}\",status=\"{status}\"}} {n}",
                escape(method),
                escape(route)
            );
        }
        family(
            out,
            "clipforge_http_request_duration_seconds",
            "histogram",
            "Time from request to response headers, by method and route template.",
        );
        for ((method, route), h) in &series.durations {
            let labels = format!("method=\"{}\",route=\"{}\"", escape(method), escape(route));
            let mut cumulative = 0;
            for (bound, n) in BUCKETS.iter().zip(h.buckets) {
                cumulative += n;
                let _ = writeln!(
                    out,
                    "clipforge_http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {cumulative}"
                );
            }
            let _ = writeln!(
                out,
                "clipforge_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
                h.count
            );
            let _ = writeln!(
                out,
                "clipforge_http_request_duration_seconds_sum{{{labels}}} {}",
                h.sum
            );
            let _ = writeln!(
                out,
                "clipforge_http_request_duration_seconds_count{{{labels}}} {}",
                h.count
            );
        }
    }
}

fn render_jobs(out: &mut String, jobs: Option<&[JobCount]>) {
    family(
        out,
        "clipforge_jobs_scrape_ok",
        "gauge",
        "1 when this scrape read the job counts from the database, 0 when it could not.",
    );
    let _ = writeln!(out, "clipforge_jobs_scrape_ok {}", u8::from(jobs.is_some()));
    let Some(jobs) = jobs else {
        return;
    };
    family(
        out,
        "clipforge_jobs",
        "gauge",
        "Jobs in the queue, by kind and state.",
    );
    let mut by_kind: BTreeMap<&str, [i64; STATES.len()]> = BTreeMap::new();
    for job in jobs {
        let counts = by_kind.entry(job.kind.as_str()).or_default();
        if let Some(i) = STATES.iter().position(|&s| s == job.state) {
            counts[i] += job.count;
        }
    }
    for (kind, counts) in by_kind {
        for (state, n) in STATES.iter().zip(counts) {
            let _ = writeln!(
                out,
                "clipforge_jobs{{kind=\"{}\",state=\"{}\"}} {n}",
                escape(kind),
                state.as_str()
            );
        }
    }
}

/// The `# HELP` and `# TYPE` lines of a family.
fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// A label value as the text format quotes it.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Times every request and counts it under its route template (never the raw path, which
/// holds ids), including those the rate limiter refuses.
pub async fn track(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().to_string();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or(UNMATCHED, MatchedPath::as_str)
        .to_string();
    let response = next.run(request).await;
    state.metrics().record(
        &method,
        &route,
        response.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    response
}

/// `GET /metrics`.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "operations",
    security(()),
    responses(
        (status = 200, description = "Prometheus text exposition format (0.0.4)",
            body = String, content_type = "text/plain; version=0.0.4"),
        (status = 401, description = "The server has a metrics token (`CLIPFORGE_METRICS_TOKEN`) and the request does not bear it", body = crate::error::ErrorBody),
    ),
)]
pub async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(token) = &state.config().metrics_token {
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or_default();
        if !same_secret(given.trim().as_bytes(), token.expose_secret().as_bytes()) {
            return ApiError::new(
                ErrorCode::AuthenticationError,
                "this server's /metrics needs its token: send Authorization: Bearer <CLIPFORGE_METRICS_TOKEN>",
            )
            .into_response();
        }
    }
    let jobs = match state.queue().counts().await {
        Ok(jobs) => Some(jobs),
        Err(e) => {
            tracing::warn!(error = %crate::error::chain(&e), "job counts not readable for /metrics");
            None
        }
    };
    let text = state.metrics().render(jobs.as_deref());
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE))],
        text,
    )
        .into_response()
}

/// Whether two secrets are equal, in time that does not depend on where they differ.
fn same_secret(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histograms_are_cumulative_and_labels_escaped() {
        let metrics = Metrics::default();
        metrics.record("GET", "/api/v1/videos/{id}", 200, 0.003);
        metrics.record("GET", "/api/v1/videos/{id}", 404, 0.2);
        metrics.record("GET", "/api/v1/videos/{id}", 200, 30.0);
        metrics.record("GET", "a\"b", 200, 0.0);
        let jobs = [
            JobCount {
                kind: "render".into(),
                state: JobStatus::Queued,
                count: 2,
            },
            JobCount {
                kind: "render".into(),
                state: JobStatus::Dead,
                count: 1,
            },
        ];
        let text = metrics.render(Some(&jobs));
        let has = |line: &str| text.lines().any(|l| l == line);
        let route = r#"method="GET",route="/api/v1/videos/{id}""#;
        assert!(has(&format!(
            r#"clipforge_http_requests_total{{{route},status="200"}} 2"#
        )));
        assert!(has(&format!(
            r#"clipforge_http_requests_total{{{route},status="404"}} 1"#
        )));
        assert!(has(&format!(
            r#"clipforge_http_request_duration_seconds_bucket{{{route},le="0.005"}} 1"#
        )));
        assert!(has(&format!(
            r#"clipforge_http_request_duration_seconds_bucket{{{route},le="0.25"}} 2"#
        )));
        assert!(has(&format!(
            r#"clipforge_http_request_duration_seconds_bucket{{{route},le="10"}} 2"#
        )));
        assert!(has(&format!(
            r#"clipforge_http_request_duration_seconds_bucket{{{route},le="+Inf"}} 3"#
        )));
        assert!(has(&format!(
            r#"clipforge_http_request_duration_seconds_count{{{route}}} 3"#
        )));
        assert!(text.contains(r#"route="a\"b""#), "{text}");
        assert!(has(r#"clipforge_jobs{kind="render",state="queued"} 2"#));
        assert!(has(r#"clipforge_jobs{kind="render",state="running"} 0"#));
        assert!(has(r#"clipforge_jobs{kind="render",state="dead"} 1"#));
        assert!(has("clipforge_jobs_scrape_ok 1"));
        assert!(has(&format!(
            r#"clipforge_build_info{{version="{}"}} 1"#,
            env!("CARGO_PKG_VERSION")
        )));
        let down = metrics.render(None);
        assert!(down.lines().any(|l| l == "clipforge_jobs_scrape_ok 0"));
        assert!(!down.contains("clipforge_jobs{"));
    }
}
