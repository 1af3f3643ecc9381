//! Jump cuts over HTTP on the real router, a temp SQLite file and local storage: what bad
//! requests get, that only ready videos are cut, that another workspace finds nothing,
//! and, with the real worker running the real pipeline on a real recording, that the
//! downloaded MP4 is shorter than the source with picture and sound of the same length.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use clipforge_core::{Segment, Transcript, Word};
use clipforge_media::{probe, Runner};
use clipforge_server::{router, serve, AppState, ServiceConfig};
use clipforge_storage::{Storage, StorageConfig};
use clipforge_store::videos::{self, MediaInfo, NewVideo, VideoSource, VideoStatus};
use clipforge_store::{credits, transcripts, Queue, Store, VideoId, Worker, WorkspaceId};
use clipforge_worker::{Pipeline, WorkerSettings};
use reqwest::{redirect, Client, Method, StatusCode};
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

struct Server {
    api: String,
    store: Store,
    storage: Storage,
    dir: tempfile::TempDir,
    stop: CancellationToken,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// The API on a free port; with `worker`, the pipeline's handlers run in-process too.
async fn start(worker: bool) -> Server {
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
    let state = AppState::new(store.clone(), storage.clone(), ServiceConfig::default());
    tokio::spawn(serve(
        listener,
        router(state.clone()),
        std::future::pending(),
    ));
    let stop = CancellationToken::new();
    if worker {
        let pipeline = Pipeline::new(
            store.clone(),
            storage.clone(),
            WorkerSettings {
                temp_dir: dir.path().join("tmp"),
                model: None,
                model_dir: None,
            },
        );
        let worker = pipeline.register(
            Worker::new(Queue::new(store.clone()), "test-worker")
                .poll_interval(Duration::from_millis(200)),
        );
        tokio::spawn(worker.run(stop.clone()));
    }
    Server {
        api: format!("{base}/api/v1"),
        store,
        storage,
        dir,
        stop,
    }
}

/// A registered user, acting in their own new workspace.
struct User {
    token: String,
    ws: WorkspaceId,
}

async fn register(server: &Server, client: &Client, name: &str) -> User {
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

/// A video as ingest leaves it, in `status`, stored under `key`.
async fn video(store: &Store, ws: WorkspaceId, status: VideoStatus, key: &str) -> VideoId {
    let v = videos::create(
        store,
        ws,
        NewVideo {
            project_id: None,
            created_by: None,
            title: "Talk",
            source: VideoSource::Upload,
            source_url: None,
            original_filename: Some("talk.mp4"),
            storage_key: Some(key),
            status,
            config: &json!({}),
        },
    )
    .await
    .unwrap();
    let media = MediaInfo {
        duration_seconds: 28.4,
        width: 1280,
        height: 720,
        fps: 30.0,
        video_codec: Some("h264".into()),
        audio_codec: Some("aac".into()),
        size_bytes: 1_000_000,
    };
    videos::set_media(store, ws, v.id, &media, None)
        .await
        .unwrap();
    v.id
}

/// A one-sentence transcript, as transcription stores it.
async fn transcribed(store: &Store, ws: WorkspaceId, v: VideoId) {
    let word = |text: &str, start: f64, end: f64| Word {
        text: text.into(),
        start,
        end,
        confidence: 0.9,
    };
    let transcript = Transcript {
        language: "en".into(),
        duration: 28.4,
        segments: vec![Segment {
            start: 0.5,
            end: 2.0,
            text: "um hello there".into(),
            words: vec![
                word("um", 0.5, 0.8),
                word("hello", 1.0, 1.4),
                word("there", 1.5, 2.0),
            ],
            speaker: None,
        }],
    };
    transcripts::replace(store, ws, v, &transcript)
        .await
        .unwrap();
}

async fn call(
    client: &Client,
    method: Method,
    url: String,
    token: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut request = client.request(method, url).bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let r = request.send().await.unwrap();
    let status = r.status();
    let text = r.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

fn field(body: &Value) -> &str {
    body["error"]["details"][0]["field"].as_str().unwrap_or("")
}

async fn balance(server: &Server, ws: WorkspaceId) -> i64 {
    credits::balance(&server.store, ws).await.unwrap()
}

#[tokio::test]
async fn bad_settings_are_refused_naming_the_field() {
    let server = start(false).await;
    let client = Client::new();
    let ann = register(&server, &client, "ann").await;
    let v = video(&server.store, ann.ws, VideoStatus::Ready, "ws/x/source.mp4").await;
    transcribed(&server.store, ann.ws, v).await;
    let url = format!("{}/videos/{v}/jumpcut", server.api);
    let before = balance(&server, ann.ws).await;

    for (body, expected) in [
        (json!({"margin": 0.1}), "margin"),
        (json!({"threshold_db": "loud"}), "threshold_db"),
        (json!({"mode": "vad"}), "mode"),
        (json!({"quality": "ultra"}), "quality"),
        (json!({"margin_before": -1.0}), "margin_before"),
        (json!({"threshold_db": 6.0}), "threshold_db"),
        (json!({"min_silence": -0.5}), "min_silence"),
        (json!({"silence_speed": 1.0}), "silence_speed"),
        (json!({"fillers": ["um", "..."]}), "fillers"),
    ] {
        let (status, answer) = call(
            &client,
            Method::POST,
            url.clone(),
            &ann.token,
            Some(body.clone()),
        )
        .await;
        assert_eq!(status, 400, "{body} -> {answer}");
        assert_eq!(answer["error"]["code"], "VALIDATION_ERROR", "{answer}");
        assert_eq!(field(&answer), expected, "{body} -> {answer}");
    }
    let (status, answer) = call(
        &client,
        Method::POST,
        url.clone(),
        &ann.token,
        Some(json!({"exports": ["json", "srt"]})),
    )
    .await;
    assert_eq!(status, 400, "{answer}");
    assert!(field(&answer).starts_with("exports"), "{answer}");

    // Nothing was queued or paid for.
    let (_, list) = call(
        &client,
        Method::GET,
        format!("{}/videos/{v}/jumpcuts", server.api),
        &ann.token,
        None,
    )
    .await;
    assert_eq!(list["pagination"]["total_count"], 0, "{list}");
    assert_eq!(balance(&server, ann.ws).await, before);
}

#[tokio::test]
async fn only_ready_videos_with_what_the_settings_need_are_cut() {
    let server = start(false).await;
    let client = Client::new();
    let ann = register(&server, &client, "ann").await;
    let busy = video(
        &server.store,
        ann.ws,
        VideoStatus::Transcribing,
        "ws/x/a.mp4",
    )
    .await;
    let (status, answer) = call(
        &client,
        Method::POST,
        format!("{}/videos/{busy}/jumpcut", server.api),
        &ann.token,
        Some(json!({"mode": "loudness", "remove_fillers": false})),
    )
    .await;
    assert_eq!(status, 409, "{answer}");
    assert_eq!(answer["error"]["code"], "CONFLICT");
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .contains("transcribing"),
        "{answer}"
    );

    // Ready but without a transcript: filler removal (on by default) cannot work, loudness
    // alone can.
    let ready = video(&server.store, ann.ws, VideoStatus::Ready, "ws/x/b.mp4").await;
    let url = format!("{}/videos/{ready}/jumpcut", server.api);
    for body in [json!({}), json!({"mode": "words", "remove_fillers": false})] {
        let (status, answer) =
            call(&client, Method::POST, url.clone(), &ann.token, Some(body)).await;
        assert_eq!(status, 409, "{answer}");
        assert!(
            answer["error"]["message"]
                .as_str()
                .unwrap()
                .contains("transcript"),
            "{answer}"
        );
    }
    let before = balance(&server, ann.ws).await;
    let (status, answer) = call(
        &client,
        Method::POST,
        url.clone(),
        &ann.token,
        Some(
            json!({"remove_fillers": false, "quality": "draft", "exports": ["edl", "json", "edl"]}),
        ),
    )
    .await;
    assert_eq!(status, 202, "{answer}");
    assert_eq!(answer["jumpcut"]["status"], "queued");
    assert!(answer["jumpcut"]["id"].is_string() && answer["job"]["id"].is_string());
    assert_eq!(balance(&server, ann.ws).await, before - 1, "one credit");

    // What was queued: every setting filled in, exports once each.
    let id = answer["jumpcut"]["id"].as_str().unwrap();
    let (status, shown) = call(
        &client,
        Method::GET,
        format!("{}/jumpcuts/{id}", server.api),
        &ann.token,
        None,
    )
    .await;
    assert_eq!(status, 200, "{shown}");
    let j = &shown["jumpcut"];
    assert_eq!(j["status"], "queued");
    assert_eq!(j["job_id"], answer["job"]["id"]);
    assert_eq!(j["quality"], "draft");
    assert_eq!(j["exports"], json!(["json", "edl"]));
    assert_eq!(j["settings"]["remove_fillers"], false);
    assert_eq!(j["settings"]["mode"], "loudness");
    assert_eq!(j["settings"]["margin_after"], 0.25);
    assert!(
        j.get("output_url").is_none() && j.get("stats").is_none(),
        "{j}"
    );

    // Not finished: nothing to download yet; an export not asked for never will be.
    let no_redirects = Client::builder()
        .redirect(redirect::Policy::none())
        .build()
        .unwrap();
    let (status, answer) = call(
        &no_redirects,
        Method::GET,
        format!("{}/jumpcuts/{id}/download", server.api),
        &ann.token,
        None,
    )
    .await;
    assert_eq!(status, 409, "{answer}");
    let (status, _) = call(
        &no_redirects,
        Method::GET,
        format!("{}/jumpcuts/{id}/exports/fcpxml", server.api),
        &ann.token,
        None,
    )
    .await;
    assert_eq!(status, 404);
    let (status, answer) = call(
        &no_redirects,
        Method::GET,
        format!("{}/jumpcuts/{id}/exports/srt", server.api),
        &ann.token,
        None,
    )
    .await;
    assert_eq!(
        (status, field(&answer)),
        (StatusCode::BAD_REQUEST, "format")
    );

    // Cancelled: refunded once, and it stays cancelled.
    let (status, answer) = call(
        &client,
        Method::POST,
        format!("{}/jumpcuts/{id}/cancel", server.api),
        &ann.token,
        None,
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["jumpcut"]["status"], "canceled");
    assert_eq!(answer["credits_refunded"], 1);
    assert_eq!(balance(&server, ann.ws).await, before);
    let (status, _) = call(
        &client,
        Method::POST,
        format!("{}/jumpcuts/{id}/cancel", server.api),
        &ann.token,
        None,
    )
    .await;
    assert_eq!(status, 409);
    assert_eq!(balance(&server, ann.ws).await, before);
}

#[tokio::test]
async fn another_workspace_finds_nothing() {
    let server = start(false).await;
    let client = Client::new();
    let ann = register(&server, &client, "ann").await;
    let bob = register(&server, &client, "bob").await;
    let v = video(&server.store, ann.ws, VideoStatus::Ready, "ws/x/source.mp4").await;
    transcribed(&server.store, ann.ws, v).await;
    let api = &server.api;
    let (status, answer) = call(
        &client,
        Method::POST,
        format!("{api}/videos/{v}/jumpcut"),
        &ann.token,
        Some(json!({"exports": ["json"]})),
    )
    .await;
    assert_eq!(status, 202, "{answer}");
    let id = answer["jumpcut"]["id"].as_str().unwrap().to_string();
    let bob_before = balance(&server, bob.ws).await;

    let no_redirects = Client::builder()
        .redirect(redirect::Policy::none())
        .build()
        .unwrap();
    let unknown = uuid::Uuid::now_v7().to_string();
    for (method, path, body) in [
        (
            Method::POST,
            format!("/videos/{v}/jumpcut"),
            Some(json!({})),
        ),
        (Method::GET, format!("/videos/{v}/jumpcuts"), None),
        (Method::GET, format!("/jumpcuts/{id}"), None),
        (Method::POST, format!("/jumpcuts/{id}/cancel"), None),
        (Method::GET, format!("/jumpcuts/{id}/download"), None),
        (Method::GET, format!("/jumpcuts/{id}/exports/json"), None),
        (Method::GET, format!("/jumpcuts/{unknown}"), None),
        (Method::GET, "/jumpcuts/not-an-id".to_string(), None),
        (Method::GET, "/videos/not-an-id/jumpcuts".to_string(), None),
    ] {
        let (status, answer) = call(
            &no_redirects,
            method.clone(),
            format!("{api}{path}"),
            &bob.token,
            body,
        )
        .await;
        assert_eq!(status, 404, "{method} {path} -> {answer}");
        assert_eq!(answer["error"]["code"], "NOT_FOUND", "{answer}");
    }
    assert_eq!(balance(&server, bob.ws).await, bob_before);

    // Ana's is untouched, and listed for her alone.
    let (status, list) = call(
        &client,
        Method::GET,
        format!("{api}/videos/{v}/jumpcuts?per_page=1"),
        &ann.token,
        None,
    )
    .await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list["jumpcuts"][0]["id"], id.as_str());
    assert_eq!(list["jumpcuts"][0]["status"], "queued");
    assert_eq!(list["pagination"]["total_count"], 1);
    assert_eq!(list["pagination"]["has_next"], false);
    let (status, answer) = call(
        &client,
        Method::GET,
        format!("{api}/videos/{v}/jumpcuts?per_page=500"),
        &ann.token,
        None,
    )
    .await;
    assert_eq!(
        (status, field(&answer)),
        (StatusCode::BAD_REQUEST, "per_page")
    );
}

fn fixture(name: &str) -> Option<PathBuf> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/generated")
        .join(name);
    if path.exists() {
        return Some(path);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "{} is missing: run scripts/fixtures.sh first",
        path.display()
    );
    eprintln!(
        "{} is missing: the end-to-end jump cut is skipped",
        path.display()
    );
    None
}

/// Each stream's duration in seconds, by codec type, as ffprobe reports it.
async fn stream_durations(path: &Path) -> Vec<(String, f64)> {
    let out = Runner::new(1)
        .command("ffprobe")
        .args(["-v", "error", "-show_entries", "stream=codec_type,duration"])
        .args(["-of", "json"])
        .arg(path.to_str().unwrap())
        .timeout(Duration::from_secs(60))
        .run()
        .await
        .unwrap();
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    doc["streams"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["codec_type"].as_str().unwrap().to_string(),
                s["duration"].as_str().unwrap().parse().unwrap(),
            )
        })
        .collect()
}

/// Polls the jump cut until it leaves queued/processing.
async fn settled(client: &Client, api: &str, token: &str, id: &str) -> Value {
    let started = Instant::now();
    loop {
        let (status, body) = call(
            client,
            Method::GET,
            format!("{api}/jumpcuts/{id}"),
            token,
            None,
        )
        .await;
        assert_eq!(status, 200, "{body}");
        let state = body["jumpcut"]["status"].as_str().unwrap().to_string();
        if state != "queued" && state != "processing" {
            return body["jumpcut"].clone();
        }
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "gave up waiting: {body}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// GET with redirects off: the `Location` of a 302.
async fn location(client: &Client, url: String, token: &str) -> String {
    let r = client.get(url).bearer_auth(token).send().await.unwrap();
    assert_eq!(r.status(), 302);
    r.headers()[reqwest::header::LOCATION]
        .to_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn a_real_talk_comes_back_shorter_with_picture_and_sound_in_step() {
    let Some(talk) = fixture("librivox-talk.mp4") else {
        return;
    };
    let server = start(true).await;
    let client = Client::new();
    let no_redirects = Client::builder()
        .redirect(redirect::Policy::none())
        .build()
        .unwrap();
    let ann = register(&server, &client, "ann").await;
    let key = format!("ws/{}/videos/talk/source.mp4", ann.ws);
    server.storage.put_file(&key, &talk).await.unwrap();
    let v = video(&server.store, ann.ws, VideoStatus::Ready, &key).await;
    let source = probe(&talk).await.unwrap();
    let before = balance(&server, ann.ws).await;

    // Pauses between sentences here are about 0.65 s: tight margins make them cuts.
    let (status, answer) = call(
        &client,
        Method::POST,
        format!("{}/videos/{v}/jumpcut", server.api),
        &ann.token,
        Some(json!({
            "mode": "loudness",
            "remove_fillers": false,
            "margin_before": 0.05,
            "margin_after": 0.1,
            "min_silence": 0.3,
            "quality": "draft",
            "exports": ["json", "fcpxml", "edl"],
        })),
    )
    .await;
    assert_eq!(status, 202, "{answer}");
    let id = answer["jumpcut"]["id"].as_str().unwrap().to_string();
    let done = settled(&client, &server.api, &ann.token, &id).await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(done["progress"], 100);
    let stats = &done["stats"];
    let (duration_in, duration_out) = (
        stats["duration_in"].as_f64().unwrap(),
        stats["duration_out"].as_f64().unwrap(),
    );
    assert!((duration_in - source.duration).abs() < 0.1, "{stats}");
    assert!(duration_out < duration_in - 1.0, "{stats}");
    assert!(stats["cuts"].as_u64().unwrap() >= 3, "{stats}");
    assert_eq!(stats["has_audio"], true);
    assert_eq!(balance(&server, ann.ws).await, before - 1);

    // The download: a playable MP4 of the reported length, sound as long as picture.
    let link = location(
        &no_redirects,
        format!("{}/jumpcuts/{id}/download", server.api),
        &ann.token,
    )
    .await;
    assert_eq!(
        done["output_url"].as_str().map(|u| u.split('?').next()),
        Some(link.split('?').next())
    );
    let r = client.get(&link).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let bytes = r.bytes().await.unwrap();
    let file = server.dir.path().join("downloaded.mp4");
    std::fs::write(&file, &bytes).unwrap();
    let cut = probe(&file).await.unwrap();
    assert!(cut.video.is_some() && cut.has_audio(), "{cut:?}");
    assert!(cut.duration < source.duration - 1.0, "{cut:?}");
    assert!(
        (cut.duration - duration_out).abs() < 0.1,
        "{cut:?} vs {stats}"
    );
    let streams = stream_durations(&file).await;
    let of = |kind: &str| {
        streams
            .iter()
            .find(|(k, _)| k == kind)
            .map(|(_, d)| *d)
            .unwrap()
    };
    let frame = 1.0 / 30.0;
    assert!(
        (of("video") - of("audio")).abs() <= frame + 1e-6,
        "picture and sound differ by more than a frame: {streams:?}"
    );

    // The exports: the cut list for scripts, Final Cut and CMX3600 editors.
    for format in ["json", "fcpxml", "edl"] {
        let link = location(
            &no_redirects,
            format!("{}/jumpcuts/{id}/exports/{format}", server.api),
            &ann.token,
        )
        .await;
        assert_eq!(
            done["export_urls"][format]
                .as_str()
                .map(|u| u.split('?').next()),
            Some(link.split('?').next())
        );
        let text = client
            .get(&link)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        match format {
            "json" => {
                let plan: Value = serde_json::from_str(&text).unwrap();
                assert!(plan.is_object(), "{plan}");
            }
            "fcpxml" => assert!(text.contains("<fcpxml"), "{text}"),
            _ => assert!(text.contains("TITLE:"), "{text}"),
        }
    }
}

#[tokio::test]
async fn a_silent_recording_fails_with_the_reason_and_its_credit_back() {
    let Some(silence) = fixture("silence.mp4") else {
        return;
    };
    let server = start(true).await;
    let client = Client::new();
    let ann = register(&server, &client, "ann").await;
    let key = format!("ws/{}/videos/silence/source.mp4", ann.ws);
    server.storage.put_file(&key, &silence).await.unwrap();
    let v = video(&server.store, ann.ws, VideoStatus::Ready, &key).await;
    let before = balance(&server, ann.ws).await;

    let (status, answer) = call(
        &client,
        Method::POST,
        format!("{}/videos/{v}/jumpcut", server.api),
        &ann.token,
        Some(json!({"remove_fillers": false})),
    )
    .await;
    assert_eq!(status, 202, "{answer}");
    assert_eq!(balance(&server, ann.ws).await, before - 1);
    let id = answer["jumpcut"]["id"].as_str().unwrap().to_string();
    let failed = settled(&client, &server.api, &ann.token, &id).await;
    assert_eq!(failed["status"], "failed", "{failed}");
    let error = failed["error"].as_str().unwrap();
    assert!(error.contains("silent"), "{error}");
    assert!(failed.get("output_url").is_none(), "{failed}");
    assert_eq!(
        balance(&server, ann.ws).await,
        before,
        "the credit came back"
    );
    // The job dies at once (the row is marked before the job settles): no retry runs.
    let job_url = format!("{}/jobs/{}", server.api, failed["job_id"].as_str().unwrap());
    let started = Instant::now();
    loop {
        let (_, job) = call(&client, Method::GET, job_url.clone(), &ann.token, None).await;
        if job["job"]["status"] != "running" {
            assert_eq!(job["job"]["status"], "dead", "{job}");
            assert_eq!(job["job"]["attempts"], 1, "{job}");
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "{job}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
