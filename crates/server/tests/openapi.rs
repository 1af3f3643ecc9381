//! `GET /api/v1/openapi.json` from the real router: every route the source registers is in
//! the document with the same methods (read from the `.route("…", get(…).post(…))` calls
//! in `src/app.rs` and `src/routes/*.rs`, so a new route without documentation fails here),
//! nothing documented is missing from the router, and the shapes a client relies on (the
//! error body, security, multipart upload, parameters) are there and match real responses.

use std::collections::BTreeSet;
use std::path::Path;

use clipforge_server::{router, serve, AppState, ServiceConfig};
use clipforge_storage::{Storage, StorageConfig};
use clipforge_store::Store;
use regex::Regex;
use serde_json::{json, Value};

struct Server {
    base: String,
    _dir: tempfile::TempDir,
}

async fn start() -> Server {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("clipforge.db").display());
    let store = Store::connect(&url).await.unwrap();
    store.migrate().await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let storage = Storage::new(&StorageConfig::default(), dir.path()).unwrap();
    let app = router(AppState::new(store, storage, ServiceConfig::default()));
    tokio::spawn(serve(listener, app, std::future::pending()));
    Server { base, _dir: dir }
}

/// The argument text of every `.route(` call in `source`, up to its closing parenthesis.
fn route_calls(source: &str) -> Vec<&str> {
    let mut calls = Vec::new();
    for (at, _) in source.match_indices(".route(") {
        let args = &source[at + ".route(".len()..];
        let mut depth = 1;
        let mut in_string = false;
        let mut end = None;
        for (i, c) in args.char_indices() {
            match c {
                '"' => in_string = !in_string,
                '(' if !in_string => depth += 1,
                ')' if !in_string => {
                    depth -= 1;
                    if depth == 0 {
                        end = Some(i);
                        break;
                    }
                }
                _ => {}
            }
        }
        calls.push(&args[..end.expect("a .route( call closes")]);
    }
    calls
}

/// `(path, method)` of every route registered in `source`, under `prefix`. axum's
/// `{*key}` wildcard is an ordinary `{key}` parameter in OpenAPI.
fn routes_in(source: &str, prefix: &str) -> BTreeSet<(String, String)> {
    let path = Regex::new(r#"^\s*"([^"]+)""#).unwrap();
    let method = Regex::new(r"\b(get|post|put|delete|patch)\(").unwrap();
    let mut routes = BTreeSet::new();
    for call in route_calls(source) {
        let found = path.captures(call).expect("a route's path is a literal");
        let route = format!("{prefix}{}", &found[1]).replace("{*", "{");
        let methods: Vec<_> = method
            .captures_iter(call)
            .map(|m| m[1].to_string())
            .collect();
        assert!(!methods.is_empty(), "no method in .route({call})");
        for m in methods {
            routes.insert((route.clone(), m));
        }
    }
    routes
}

/// Every route of the router, from the source: `app.rs` at the root, `routes/*.rs` under
/// the prefix `app.rs` nests them at.
fn registered_routes() -> BTreeSet<(String, String)> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let app = std::fs::read_to_string(src.join("app.rs")).unwrap();
    let nest = Regex::new(r#"\.nest\(\s*"([^"]+)""#).unwrap();
    let prefix = nest.captures(&app).expect("app.rs nests the API")[1].to_string();
    let mut routes = routes_in(&app, "");
    let mut files = 0;
    for entry in std::fs::read_dir(src.join("routes")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "rs") {
            let source = std::fs::read_to_string(&path).unwrap();
            routes.extend(routes_in(&source, &prefix));
            files += 1;
        }
    }
    assert!(files >= 10, "read {files} route files");
    routes
}

fn documented_routes(doc: &Value) -> BTreeSet<(String, String)> {
    let mut routes = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in ["get", "post", "put", "delete", "patch"] {
            if item.get(method).is_some() {
                routes.insert((path.clone(), method.to_string()));
            }
        }
    }
    routes
}

/// Follows a `$ref` to a component schema.
fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(reference) => {
            let name = reference.rsplit('/').next().unwrap();
            &doc["components"]["schemas"][name]
        }
        None => schema,
    }
}

/// A component schema by name.
fn component<'a>(doc: &'a Value, name: &str) -> &'a Value {
    &doc["components"]["schemas"][name]
}

/// The property names of the JSON body an operation documents for `status`.
fn documented_keys(doc: &Value, path: &str, method: &str, status: &str) -> BTreeSet<String> {
    let response = &doc["paths"][path][method]["responses"][status];
    let schema = resolve(doc, &response["content"]["application/json"]["schema"]);
    schema["properties"]
        .as_object()
        .unwrap_or_else(|| panic!("{method} {path} {status}: no properties in {schema}"))
        .keys()
        .cloned()
        .collect()
}

fn keys(body: &Value) -> BTreeSet<String> {
    body.as_object().unwrap().keys().cloned().collect()
}

#[tokio::test]
async fn the_document_covers_every_route_of_the_router() {
    let server = start().await;
    let client = reqwest::Client::new();
    let response = client
        .get(format!("{}/api/v1/openapi.json", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let doc: Value = response.json().await.unwrap();
    assert_eq!(doc["openapi"], "3.1.0");

    let registered = registered_routes();
    let documented = documented_routes(&doc);
    assert!(registered.len() > 40, "{registered:?}");
    let undocumented: Vec<_> = registered.difference(&documented).collect();
    assert!(
        undocumented.is_empty(),
        "routes missing from the OpenAPI document: {undocumented:?}"
    );
    let stale: Vec<_> = documented.difference(&registered).collect();
    assert!(stale.is_empty(), "documented but not routed: {stale:?}");

    // Every operation answers errors in the one shape.
    for (path, method) in &documented {
        let default = &doc["paths"][path][method]["responses"]["default"];
        assert_eq!(
            default["$ref"], "#/components/responses/Error",
            "{method} {path}"
        );
    }
    let error = resolve(
        &doc,
        &doc["components"]["responses"]["Error"]["content"]["application/json"]["schema"],
    );
    let inner = resolve(&doc, &error["properties"]["error"]);
    assert_eq!(
        keys(&inner["properties"]),
        BTreeSet::from(["code", "message", "details", "request_id"].map(String::from))
    );
    let codes = &resolve(&doc, &inner["properties"]["code"])["enum"];
    assert!(
        codes
            .as_array()
            .unwrap()
            .contains(&json!("RATE_LIMIT_EXCEEDED")),
        "{codes}"
    );

    // Bearer tokens and the session cookie; public routes ask for neither.
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes["bearer"]["type"], "http");
    assert_eq!(schemes["bearer"]["scheme"], "bearer");
    assert_eq!(schemes["cookie"]["type"], "apiKey");
    assert_eq!(schemes["cookie"]["in"], "cookie");
    assert_eq!(schemes["cookie"]["name"], "clipforge_session");
    assert_eq!(
        doc["paths"]["/api/v1/videos"]["get"]["security"],
        json!([{ "bearer": [] }, { "cookie": [] }])
    );
    assert_eq!(
        doc["paths"]["/api/v1/auth/login"]["post"]["security"],
        json!([{}])
    );

    // The upload is a multipart form whose `file` part is binary.
    let upload = &doc["paths"]["/api/v1/videos/upload"]["post"];
    let form = resolve(
        &doc,
        &upload["requestBody"]["content"]["multipart/form-data"]["schema"],
    );
    assert_eq!(form["properties"]["file"]["format"], "binary", "{form}");
    assert!(upload["responses"]["202"].is_object());

    // Path and query parameters.
    let params = |path: &str, method: &str| -> Vec<(String, String)> {
        doc["paths"][path][method]["parameters"]
            .as_array()
            .map(|all| {
                all.iter()
                    .map(|p| {
                        (
                            p["name"].as_str().unwrap().to_string(),
                            p["in"].as_str().unwrap().to_string(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    assert!(params("/api/v1/videos/{id}", "put").contains(&("id".into(), "path".into())));
    assert!(params("/api/v1/clips", "get").contains(&("sort_by".into(), "query".into())));
    assert!(params("/api/v1/files/{key}", "get").contains(&("sig".into(), "query".into())));
    let member = params("/api/v1/workspaces/{id}/members/{user_id}", "delete");
    assert!(
        member.contains(&("user_id".into(), "path".into())),
        "{member:?}"
    );
}

/// The documented success bodies have the keys real responses have.
#[tokio::test]
async fn documented_bodies_match_real_responses() {
    let server = start().await;
    let client = reqwest::Client::new();
    let api = format!("{}/api/v1", server.base);
    let doc: Value = client
        .get(format!("{api}/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();

    let registered = client
        .post(format!("{api}/auth/register"))
        .json(
            &json!({"email": "ann@example.com", "password": "long enough pw", "full_name": "Ann"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(registered.status(), 201);
    let registered: Value = registered.json().await.unwrap();
    assert_eq!(
        keys(&registered),
        documented_keys(&doc, "/api/v1/auth/register", "post", "201")
    );
    let token = registered["token"]["access_token"].as_str().unwrap();

    let get = |path: &str| client.get(format!("{api}{path}")).bearer_auth(token).send();
    let me: Value = get("/users/me").await.unwrap().json().await.unwrap();
    assert_eq!(
        keys(&me),
        documented_keys(&doc, "/api/v1/users/me", "get", "200")
    );
    let videos: Value = get("/videos").await.unwrap().json().await.unwrap();
    assert_eq!(
        keys(&videos),
        documented_keys(&doc, "/api/v1/videos", "get", "200")
    );
    assert_eq!(
        keys(&videos["pagination"]),
        keys(&component(&doc, "Pagination")["properties"])
    );
    let credits: Value = get("/credits").await.unwrap().json().await.unwrap();
    assert_eq!(
        keys(&credits),
        documented_keys(&doc, "/api/v1/credits", "get", "200")
    );

    let missing = get("/videos/not-a-video").await.unwrap();
    assert_eq!(missing.status(), 404);
    let missing: Value = missing.json().await.unwrap();
    assert_eq!(
        keys(&missing),
        keys(&component(&doc, "ErrorBody")["properties"])
    );
}
