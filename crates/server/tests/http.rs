//! The real router on a real port over a real SQLite file: what any client sees first.

use clipforge_server::{router, serve, AppState, ServiceConfig};
use clipforge_store::Store;

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
    let app = router(AppState::new(store, config));
    tokio::spawn(serve(listener, app, std::future::pending()));
    Server { base, _dir: dir }
}

#[tokio::test]
async fn health_readiness_and_the_error_shape() {
    let server = start(ServiceConfig::default()).await;
    let client = reqwest::Client::new();
    let health = client
        .get(format!("{}/healthz", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    let ready: serde_json::Value = client
        .get(format!("{}/readyz", server.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ready["database"], "ok");

    let missing = client
        .get(format!("{}/api/v1/nothing-here", server.base))
        .header("x-request-id", "req-test-1")
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    assert_eq!(missing.headers()["x-request-id"], "req-test-1");
    let body: serde_json::Value = missing.json().await.unwrap();
    assert_eq!(body["error"]["code"], "NOT_FOUND");
    assert_eq!(body["error"]["request_id"], "req-test-1");
    assert!(body["error"]["details"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn clients_over_their_rate_get_429_with_headers() {
    let server = start(ServiceConfig {
        rate_limit_per_minute: 3,
        ..ServiceConfig::default()
    })
    .await;
    let client = reqwest::Client::new();
    let mut remaining = Vec::new();
    for _ in 0..3 {
        let r = client
            .get(format!("{}/api/v1/anything", server.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.headers()["x-ratelimit-limit"], "3");
        remaining.push(
            r.headers()["x-ratelimit-remaining"]
                .to_str()
                .unwrap()
                .to_string(),
        );
    }
    assert_eq!(remaining, ["2", "1", "0"]);
    let refused = client
        .get(format!("{}/api/v1/anything", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 429);
    assert!(refused.headers().contains_key("retry-after"));
    let reset: u64 = refused.headers()["x-ratelimit-reset"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(reset > 1_700_000_000);
    let body: serde_json::Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["code"], "RATE_LIMIT_EXCEEDED");
    // Health checks are never rate limited.
    let health = client
        .get(format!("{}/healthz", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
}
