//! Videos, transcripts and file downloads over HTTP, on the real router over a real SQLite
//! file and local storage, with a real MP4 made by ffmpeg: what a client uploading,
//! listing, editing and downloading sees, what bad input gets, and that one workspace can
//! never reach another's videos.

mod links_and_lists;
mod transcripts;
mod uploads;

use std::path::{Path, PathBuf};
use std::time::Duration;

use clipforge_media::Runner;
use clipforge_server::{router, serve, AppState, ServiceConfig};
use clipforge_storage::{Storage, StorageConfig};
use clipforge_store::{Store, VideoId, WorkspaceId};
use reqwest::multipart::{Form, Part};
use reqwest::{Client, Response};
use serde_json::{json, Value};

struct Server {
    api: String,
    store: Store,
    storage: Storage,
    dir: tempfile::TempDir,
}

impl Server {
    /// The media folder local storage writes to.
    fn media(&self) -> PathBuf {
        self.dir.path().join("media")
    }
}

async fn start(config: ServiceConfig) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("clipforge.db").display());
    let store = Store::connect(&url).await.unwrap();
    store.migrate().await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let storage_config = StorageConfig {
        public_base_url: base.clone(),
        ..StorageConfig::default()
    };
    let storage = Storage::new(&storage_config, dir.path()).unwrap();
    let app = router(AppState::new(store.clone(), storage.clone(), config));
    tokio::spawn(serve(listener, app, std::future::pending()));
    Server {
        api: format!("{base}/api/v1"),
        store,
        storage,
        dir,
    }
}

/// A signed-up user: their bearer token and workspace.
struct User {
    token: String,
    ws: WorkspaceId,
}

async fn sign_up(client: &Client, server: &Server, name: &str) -> User {
    let r = client
        .post(format!("{}/auth/register", server.api))
        .json(&json!({"email": format!("{name}@example.com"), "password": "long enough pw", "full_name": name}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let body: Value = r.json().await.unwrap();
    let token = body["token"]["access_token"].as_str().unwrap().to_string();
    let me: Value = client
        .get(format!("{}/users/me", server.api))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ws = me["workspace"]["id"].as_str().unwrap().parse().unwrap();
    User { token, ws }
}

/// A 4 s 1280x720 H.264/AAC MP4 at a bit rate that makes it larger than the API's 1 MB
/// JSON body limit, so a passing upload proves that limit does not apply to uploads.
async fn sample_mp4(dir: &Path) -> PathBuf {
    let out = dir.join("talk.mp4");
    Runner::new(1)
        .command("ffmpeg")
        .args(["-nostdin", "-hide_banner", "-v", "error", "-y"])
        .args([
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=1280x720:rate=30:duration=4",
        ])
        .args([
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=300:sample_rate=44100:duration=4",
        ])
        .args(["-c:v", "libx264", "-preset", "ultrafast", "-b:v", "4M"])
        .args(["-pix_fmt", "yuv420p", "-c:a", "aac"])
        .arg(out.to_str().unwrap())
        .timeout(Duration::from_secs(120))
        .run()
        .await
        .unwrap_or_else(|e| panic!("making the sample video failed: {e}"));
    out
}

async fn upload(
    client: &Client,
    server: &Server,
    token: &str,
    bytes: Vec<u8>,
    filename: &str,
    fields: &[(&str, &str)],
) -> Response {
    let mut form = Form::new();
    for (name, value) in fields {
        form = form.text(name.to_string(), value.to_string());
    }
    form = form.part("file", Part::bytes(bytes).file_name(filename.to_string()));
    client
        .post(format!("{}/videos/upload", server.api))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .unwrap()
}

async fn import(client: &Client, server: &Server, token: &str, body: Value) -> Response {
    client
        .post(format!("{}/videos/upload/url", server.api))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap()
}

/// Imports a link and returns the new video's id.
async fn imported(client: &Client, server: &Server, token: &str, title: &str) -> VideoId {
    let r = import(
        client,
        server,
        token,
        json!({"url": "https://93.184.215.14/watch?v=1", "title": title}),
    )
    .await;
    assert_eq!(r.status(), 202);
    let body: Value = r.json().await.unwrap();
    body["video"]["id"].as_str().unwrap().parse().unwrap()
}

/// Asserts a validation error naming `field`, and returns the body.
async fn assert_field_error(r: Response, field: &str) -> Value {
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "VALIDATION_ERROR", "{body}");
    assert_eq!(body["error"]["details"][0]["field"], field, "{body}");
    body
}

/// Every regular file under `root`.
fn files_under(root: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                found.push(path);
            }
        }
    }
    found
}

async fn video_count(client: &Client, server: &Server, token: &str) -> u64 {
    let body: Value = client
        .get(format!("{}/videos", server.api))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["pagination"]["total_count"].as_u64().unwrap()
}
