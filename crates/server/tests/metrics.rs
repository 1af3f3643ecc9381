//! `GET /metrics` on the real router: requests counted under their route template with
//! their status, never their raw path; the queue depth read from the database at scrape
//! time; no credential and no rate limit needed unless a metrics token is set.

use clipforge_server::{router, serve, AppState, ServiceConfig};
use clipforge_storage::{Storage, StorageConfig};
use clipforge_store::Store;
use serde_json::{json, Value};

struct Server {
    base: String,
    _dir: tempfile::TempDir,
}

async fn start(config: ServiceConfig) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("clipforge.db").display());
    let store = Store::connect(&url).await.unwrap();
    store.migrate().await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let storage = Storage::new(&StorageConfig::default(), dir.path()).unwrap();
    let app = router(AppState::new(store, storage, config));
    tokio::spawn(serve(listener, app, std::future::pending()));
    Server { base, _dir: dir }
}

/// The value of the sample written exactly as `series` (name and labels), if any.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .map(|v| v.parse().unwrap())
}

#[tokio::test]
async fn requests_are_counted_by_route_template_and_jobs_by_state() {
    let server = start(ServiceConfig {
        // The import below points at a LAN address.
        allow_private_urls: true,
        // Low enough that the scrapes below would be refused if /metrics were limited.
        rate_limit_per_minute: 8,
        ..ServiceConfig::default()
    })
    .await;
    let client = reqwest::Client::new();
    let api = format!("{}/api/v1", server.base);
    let token = client
        .post(format!("{api}/auth/register"))
        .json(
            &json!({"email": "ann@example.com", "password": "long enough pw", "full_name": "Ann"}),
        )
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap()["token"]["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let imported = client
        .post(format!("{api}/videos/upload/url"))
        .bearer_auth(&token)
        .json(&json!({"url": "http://10.0.0.1/talk.mp4"}))
        .send()
        .await
        .unwrap();
    assert_eq!(imported.status(), 202);
    let video: Value = imported.json().await.unwrap();
    let id = video["video"]["id"].as_str().unwrap();
    for path in [id, id, "0190a6f0-0000-7000-8000-000000000000"] {
        client
            .get(format!("{api}/videos/{path}"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
    }
    client
        .get(format!("{api}/no/such/route"))
        .send()
        .await
        .unwrap();

    let mut text = String::new();
    for _ in 0..10 {
        let scrape = client
            .get(format!("{}/metrics", server.base))
            .send()
            .await
            .unwrap();
        assert_eq!(scrape.status(), 200);
        let content_type = scrape.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_string();
        assert!(
            content_type.starts_with("text/plain; version=0.0.4"),
            "{content_type}"
        );
        text = scrape.text().await.unwrap();
    }

    let show = r#"method="GET",route="/api/v1/videos/{id}""#;
    assert_eq!(
        sample(
            &text,
            &format!(r#"clipforge_http_requests_total{{{show},status="200"}}"#)
        ),
        Some(2.0),
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            &format!(r#"clipforge_http_requests_total{{{show},status="404"}}"#)
        ),
        Some(1.0)
    );
    assert_eq!(
        sample(
            &text,
            r#"clipforge_http_requests_total{method="POST",route="/api/v1/auth/register",status="201"}"#
        ),
        Some(1.0)
    );
    assert_eq!(
        sample(
            &text,
            &format!(r#"clipforge_http_request_duration_seconds_count{{{show}}}"#)
        ),
        Some(3.0)
    );
    assert_eq!(
        sample(
            &text,
            &format!(r#"clipforge_http_request_duration_seconds_bucket{{{show},le="+Inf"}}"#)
        ),
        Some(3.0)
    );
    // No raw path (with its id) ever becomes a label.
    assert!(!text.contains(id), "{text}");
    assert!(!text.contains("no/such/route"), "{text}");
    assert_eq!(
        sample(
            &text,
            r#"clipforge_http_requests_total{method="GET",route="unmatched",status="404"}"#
        ),
        Some(1.0),
        "{text}"
    );
    // Earlier scrapes were counted too, and none was rate limited.
    assert!(
        sample(
            &text,
            r#"clipforge_http_requests_total{method="GET",route="/metrics",status="200"}"#
        )
        .unwrap()
            >= 9.0
    );
    assert!(!text.contains(r#"route="/metrics",status="429""#));

    assert_eq!(
        sample(&text, r#"clipforge_jobs{kind="ingest",state="queued"}"#),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        sample(&text, r#"clipforge_jobs{kind="ingest",state="running"}"#),
        Some(0.0)
    );
    assert_eq!(sample(&text, "clipforge_jobs_scrape_ok"), Some(1.0));
    assert_eq!(
        sample(
            &text,
            &format!(
                r#"clipforge_build_info{{version="{}"}}"#,
                env!("CARGO_PKG_VERSION")
            )
        ),
        Some(1.0)
    );
    assert!(sample(&text, "clipforge_process_uptime_seconds").unwrap() > 0.0);
}

#[tokio::test]
async fn a_metrics_token_keeps_out_scrapes_without_it() {
    let server = start(ServiceConfig {
        metrics_token: Some(secrecy::SecretString::from("s3cret-scrape-token")),
        ..ServiceConfig::default()
    })
    .await;
    let client = reqwest::Client::new();
    let url = format!("{}/metrics", server.base);
    for auth in [
        None,
        Some("Bearer wrong"),
        Some("Bearer s3cret-scrape-toke"),
    ] {
        let mut request = client.get(&url);
        if let Some(auth) = auth {
            request = request.header("Authorization", auth);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 401, "{auth:?}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "AUTHENTICATION_ERROR", "{body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("CLIPFORGE_METRICS_TOKEN"),
            "{body}"
        );
    }
    let response = client
        .get(&url)
        .bearer_auth("s3cret-scrape-token")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();
    assert!(text.contains("clipforge_process_uptime_seconds"), "{text}");
    // Health checks stay open.
    let health = client
        .get(format!("{}/healthz", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
}
