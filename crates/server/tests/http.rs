//! The real router on a real port over a real SQLite file: what any client sees first.

use clipforge_server::{router, serve, AppState, ServiceConfig};
use clipforge_storage::{Storage, StorageConfig};
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
    let storage = Storage::new(&StorageConfig::default(), dir.path()).unwrap();
    let app = router(AppState::new(store, storage, config));
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
    assert_eq!(ready["database"], "ok", "{ready}");
    assert_eq!(ready["storage"], "ok");

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

async fn post(client: &reqwest::Client, url: String, body: serde_json::Value) -> reqwest::Response {
    client.post(url).json(&body).send().await.unwrap()
}

#[tokio::test]
async fn register_login_me_keys_and_logout() {
    let server = start(ServiceConfig::default()).await;
    let client = reqwest::Client::new();
    let api = format!("{}/api/v1", server.base);
    let registered = post(
        &client,
        format!("{api}/auth/register"),
        serde_json::json!({"email": "Ann@Example.com", "password": "long enough pw", "full_name": "Ann"}),
    )
    .await;
    assert_eq!(registered.status(), 201);
    assert!(registered.headers().get_all("set-cookie").iter().count() >= 2);
    let body: serde_json::Value = registered.json().await.unwrap();
    assert_eq!(body["user"]["email"], "ann@example.com");
    assert!(body["user"].get("password_hash").is_none());
    let token = body["token"]["access_token"].as_str().unwrap().to_string();

    // The same address again, in any case, is a conflict on the email field.
    let again = post(
        &client,
        format!("{api}/auth/register"),
        serde_json::json!({"email": "ann@example.COM", "password": "long enough pw", "full_name": "Ann"}),
    )
    .await;
    assert_eq!(again.status(), 400);
    let e: serde_json::Value = again.json().await.unwrap();
    assert_eq!(e["error"]["details"][0]["field"], "email");

    let wrong = post(
        &client,
        format!("{api}/auth/login"),
        serde_json::json!({"email": "ann@example.com", "password": "not the password"}),
    )
    .await;
    assert_eq!(wrong.status(), 401);
    let login = post(
        &client,
        format!("{api}/auth/login"),
        serde_json::json!({"email": "ann@example.com", "password": "long enough pw"}),
    )
    .await;
    assert_eq!(login.status(), 200);

    let me: serde_json::Value = client
        .get(format!("{api}/users/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["workspace"]["role"], "owner");

    let created = client
        .post(format!("{api}/api-keys"))
        .bearer_auth(&token)
        .json(&serde_json::json!({"name": "ci"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let created: serde_json::Value = created.json().await.unwrap();
    let key = created["key"].as_str().unwrap().to_string();
    let key_id = created["api_key"]["id"].as_str().unwrap().to_string();
    let by_key = client
        .get(format!("{api}/users/me"))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(by_key.status(), 200);
    let listed: serde_json::Value = client
        .get(format!("{api}/api-keys"))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed["api_keys"].as_array().unwrap().len(), 1);
    assert!(
        !listed.to_string().contains(&key),
        "the key itself is never listed"
    );
    let deleted = client
        .delete(format!("{api}/api-keys/{key_id}"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    let revoked = client
        .get(format!("{api}/users/me"))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 401);

    let out = client
        .post(format!("{api}/auth/logout"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 204);
    let after = client
        .get(format!("{api}/users/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(after.status(), 401);
    let e: serde_json::Value = after.json().await.unwrap();
    assert_eq!(e["error"]["code"], "AUTHENTICATION_ERROR");
}

#[tokio::test]
async fn bad_bodies_get_field_errors_and_cookies_need_csrf() {
    let server = start(ServiceConfig::default()).await;
    let client = reqwest::Client::new();
    let api = format!("{}/api/v1", server.base);
    let malformed = client
        .post(format!("{api}/auth/register"))
        .header("content-type", "application/json")
        .body("{\"email\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), 400);
    let e: serde_json::Value = malformed.json().await.unwrap();
    assert_eq!(e["error"]["code"], "VALIDATION_ERROR");
    let unknown = post(
        &client,
        format!("{api}/auth/register"),
        serde_json::json!({"email": "a@b.co", "password": "long enough pw", "full_name": "A", "admin": true}),
    )
    .await;
    assert_eq!(unknown.status(), 400);
    let e: serde_json::Value = unknown.json().await.unwrap();
    assert_eq!(e["error"]["details"][0]["field"], "admin");
    let short = post(
        &client,
        format!("{api}/auth/register"),
        serde_json::json!({"email": "nope", "password": "short", "full_name": ""}),
    )
    .await;
    let e: serde_json::Value = short.json().await.unwrap();
    let fields: Vec<_> = e["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["field"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(fields, ["email", "password", "full_name"]);

    // A browser session: the cookie alone reads, but writes need the CSRF echo.
    let registered = post(
        &client,
        format!("{api}/auth/register"),
        serde_json::json!({"email": "b@b.co", "password": "long enough pw", "full_name": "B"}),
    )
    .await;
    let cookies: Vec<String> = registered
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_string())
        .collect();
    let csrf = cookies
        .iter()
        .find_map(|c| c.strip_prefix("clipforge_csrf="))
        .unwrap()
        .to_string();
    let cookie_header = cookies.join("; ");
    let read = client
        .get(format!("{api}/users/me"))
        .header("cookie", &cookie_header)
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), 200);
    let forged = client
        .post(format!("{api}/api-keys"))
        .header("cookie", &cookie_header)
        .json(&serde_json::json!({"name": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    let allowed = client
        .post(format!("{api}/api-keys"))
        .header("cookie", &cookie_header)
        .header("x-csrf-token", csrf)
        .json(&serde_json::json!({"name": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(allowed.status(), 201);
}
