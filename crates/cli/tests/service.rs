//! The service end to end, as a user drives it over HTTP: register, upload a real-speech
//! video, wait for the jobs, list the scored clips, render one and download a playable MP4
//! of the clip's length. Twice: `clipforge serve` alone on a temp SQLite file and local
//! storage (its in-process worker runs the pipeline), and scaled out — PostgreSQL, the S3
//! test server, one `serve` with no workers of its own and two `clipforge worker`
//! processes, each with a data folder of its own so nothing passes through a shared disk.
//! And a video imported by link, fetched by yt-dlp from a local web server.

use std::path::Path;
use std::time::{Duration, Instant};

use clipforge_media::{probe, Runner, RunningProcess};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, BufReader};

mod common;

/// Polls `url` until `done` accepts the JSON, failing after `limit` with the last answer.
async fn wait_for(
    client: &reqwest::Client,
    url: &str,
    token: &str,
    limit: Duration,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let started = Instant::now();
    loop {
        let body: Value = client
            .get(url)
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if done(&body) {
            return body;
        }
        assert!(
            started.elapsed() < limit,
            "gave up waiting on {url} after {limit:?}: {body}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// A `clipforge` process of the service, started with `args` and `env`.
async fn start(args: &[&str], data: &Path, env: &[(String, String)]) -> RunningProcess {
    let mut command = Runner::new(1)
        .command(env!("CARGO_BIN_EXE_clipforge"))
        .args(args)
        .arg("--data-dir")
        .arg(data)
        .timeout(Duration::from_secs(900));
    for (k, v) in env {
        command = command.env(k, v);
    }
    command.spawn_reader().await.unwrap()
}

/// Starts `clipforge serve` on a free port; returns it and the address it printed.
async fn serve(args: &[&str], data: &Path, env: &[(String, String)]) -> (RunningProcess, String) {
    let mut all = vec!["serve", "--bind", "127.0.0.1:0"];
    all.extend_from_slice(args);
    let mut server = start(&all, data, env).await;
    let mut lines = BufReader::new(server.stdout()).lines();
    let line = tokio::time::timeout(Duration::from_secs(60), lines.next_line())
        .await
        .expect("serve printed its address")
        .unwrap()
        .unwrap();
    let base = line
        .strip_prefix("clipforge is listening on ")
        .unwrap()
        .to_string();
    (server, base)
}

#[tokio::test]
async fn upload_to_downloaded_clip_over_http() {
    common::model_dir();
    let data = tempfile::tempdir().unwrap();
    let (_server, base) = serve(&[], &data.path().join("data"), &[]).await;
    let location = user_flow(&base, data.path()).await;
    assert!(
        location.starts_with(&base),
        "{location} points at this server"
    );
}

/// A video imported by link: yt-dlp fetches it from a web server (here on this machine,
/// which `--allow-private-urls` permits), and the pipeline takes it from there.
#[tokio::test]
async fn a_video_imported_by_link_is_fetched_and_transcribed() {
    common::model_dir();
    let bytes = std::fs::read(common::fixture("librivox-talk.mp4")).unwrap();
    let site = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let site_url = format!("http://{}/media/talk.mp4", site.local_addr().unwrap());
    let app = axum::Router::new().route(
        "/media/talk.mp4",
        axum::routing::get(move || {
            let bytes = bytes.clone();
            async move { ([("content-type", "video/mp4")], bytes) }
        }),
    );
    tokio::spawn(async move { axum::serve(site, app).await });

    let data = tempfile::tempdir().unwrap();
    let (_server, base) = serve(&["--allow-private-urls"], &data.path().join("data"), &[]).await;
    let api = format!("{base}/api/v1");
    let client = reqwest::Client::new();
    let token = register(&client, &api).await;
    let imported = client
        .post(format!("{api}/videos/upload/url"))
        .bearer_auth(&token)
        .json(&json!({ "url": site_url }))
        .send()
        .await
        .unwrap();
    assert_eq!(imported.status(), 202);
    let imported: Value = imported.json().await.unwrap();
    let video_id = imported["video"]["id"].as_str().unwrap().to_string();
    ready_and_transcribed(&client, &api, &token, &video_id).await;
}

/// Waits for the talk's ingest and transcription to finish and checks its transcript has
/// the talk's words.
async fn ready_and_transcribed(client: &reqwest::Client, api: &str, token: &str, video_id: &str) {
    let ready = wait_for(
        client,
        &format!("{api}/videos/{video_id}"),
        token,
        Duration::from_secs(300),
        |v| matches!(v["video"]["status"].as_str(), Some("ready" | "failed")),
    )
    .await;
    assert_eq!(ready["video"]["status"], "ready", "{ready}");
    let transcript: Value = client
        .get(format!("{api}/transcriptions/videos/{video_id}"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        transcript.to_string().to_lowercase().contains("dashwood"),
        "the transcript has the talk's words"
    );
}

/// Registers a user; their bearer token.
async fn register(client: &reqwest::Client, api: &str) -> String {
    let registered: Value = client
        .post(format!("{api}/auth/register"))
        .json(&json!({"email": "host@example.com", "password": "a long password", "full_name": "Host"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    registered["token"]["access_token"]
        .as_str()
        .unwrap()
        .to_string()
}

/// The same flow on PostgreSQL and S3, with the pipeline on two worker processes.
#[tokio::test]
async fn scaled_out_on_postgres_and_s3_with_two_workers() {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let (Some(admin), Some(endpoint), Some(bucket), Some(key), Some(secret)) = (
        var("DATABASE_URL_TEST"),
        var("CLIPFORGE_TEST_S3_ENDPOINT"),
        var("CLIPFORGE_TEST_S3_BUCKET"),
        var("CLIPFORGE_TEST_S3_ACCESS_KEY"),
        var("CLIPFORGE_TEST_S3_SECRET_KEY"),
    ) else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must run the scaled-out service: scripts/test.sh starts PostgreSQL and S3"
        );
        eprintln!("DATABASE_URL_TEST or CLIPFORGE_TEST_S3_* unset: scaled-out flow skipped");
        return;
    };
    common::model_dir();
    let data = tempfile::tempdir().unwrap();
    let database = fresh_postgres_database(&admin).await;
    let env: Vec<(String, String)> = [
        ("DATABASE_URL", database.as_str()),
        ("CLIPFORGE_S3_BUCKET", bucket.as_str()),
        ("CLIPFORGE_S3_ENDPOINT", endpoint.as_str()),
        ("CLIPFORGE_S3_ACCESS_KEY_ID", key.as_str()),
        ("CLIPFORGE_S3_SECRET_ACCESS_KEY", secret.as_str()),
        ("CLIPFORGE_S3_ALLOW_HTTP", "true"),
        ("CLIPFORGE_S3_PATH_STYLE", "true"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let (_server, base) = serve(&["--concurrency", "0"], &data.path().join("api"), &env).await;
    let mut workers = Vec::new();
    for n in 1..=2 {
        let folder = data.path().join(format!("worker-{n}"));
        workers.push(start(&["worker", "--concurrency", "1"], &folder, &env).await);
    }
    let location = user_flow(&base, data.path()).await;
    assert!(
        location.starts_with(&endpoint),
        "{location} is a link to the bucket at {endpoint}"
    );
    // The API process runs no jobs (the workers did), and its data folder holds no media:
    // everything went to the bucket.
    let api_media = data.path().join("api/media");
    assert!(
        !api_media.exists() || std::fs::read_dir(&api_media).unwrap().next().is_none(),
        "media stayed on the API's disk"
    );
    drop(workers);
}

/// A new, empty database on the PostgreSQL server at `admin_url`; returns its URL.
async fn fresh_postgres_database(admin_url: &str) -> String {
    let name = format!("clipforge_e2e_{}", std::process::id());
    let created = Runner::new(1)
        .command("psql")
        .args([admin_url, "-v", "ON_ERROR_STOP=1", "-q"])
        .args(["-c", &format!("DROP DATABASE IF EXISTS {name}")])
        .args(["-c", &format!("CREATE DATABASE {name}")])
        .timeout(Duration::from_secs(30))
        .run()
        .await;
    if let Err(e) = created {
        panic!("could not create the database {name} with psql: {e}");
    }
    let base = admin_url
        .rsplit_once('/')
        .map_or(admin_url, |(base, _)| base);
    format!("{base}/{name}")
}

/// Register → upload → ingest, transcribe and suggest → clips with scores → render →
/// download a playable MP4 of the clip's length. Returns where the download redirected.
async fn user_flow(base: &str, scratch: &Path) -> String {
    let video = common::fixture("librivox-talk.mp4");
    let api = format!("{base}/api/v1");
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let token = register(&client, &api).await;

    let bytes = std::fs::read(&video).unwrap();
    let form = reqwest::multipart::Form::new()
        .text("title", "Dashwood reading")
        .part(
            "file",
            reqwest::multipart::Part::bytes(bytes).file_name("talk.mp4"),
        );
    let uploaded = client
        .post(format!("{api}/videos/upload"))
        .bearer_auth(&token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(uploaded.status(), 202);
    let uploaded: Value = uploaded.json().await.unwrap();
    let video_id = uploaded["video"]["id"].as_str().unwrap().to_string();

    ready_and_transcribed(&client, &api, &token, &video_id).await;

    let clips: Value = client
        .get(format!(
            "{api}/clips?video_id={video_id}&sort_by=virality_score&sort_order=desc"
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let clips = clips["clips"].as_array().expect("a clip list");
    assert!(!clips.is_empty(), "the talk has at least one suggestion");
    let best = &clips[0];
    let score = best["virality_score"].as_f64().unwrap();
    assert!((0.0..=100.0).contains(&score));
    assert_eq!(best["is_ai_suggested"], true);
    let clip_id = best["id"].as_str().unwrap().to_string();
    let clip_seconds = best["duration_seconds"].as_f64().unwrap();

    let render = client
        .post(format!("{api}/clips/{clip_id}/render"))
        .bearer_auth(&token)
        .json(&json!({"quality": "draft"}))
        .send()
        .await
        .unwrap();
    assert_eq!(render.status(), 202);
    let status = wait_for(
        &client,
        &format!("{api}/clips/{clip_id}/render/status"),
        &token,
        Duration::from_secs(300),
        |v| {
            matches!(
                v["render_job"]["status"].as_str(),
                Some("completed" | "failed")
            )
        },
    )
    .await;
    assert_eq!(status["render_job"]["status"], "completed", "{status}");

    let download = client
        .get(format!("{api}/clips/{clip_id}/download"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(download.status(), 302);
    let location = download.headers()["location"].to_str().unwrap().to_string();
    let file = client.get(&location).send().await.unwrap();
    assert_eq!(file.status(), 200, "downloading {location}");
    let path = scratch.join("clip.mp4");
    std::fs::write(&path, file.bytes().await.unwrap()).unwrap();
    let info = probe(&path).await.unwrap();
    let video_stream = info.video.as_ref().expect("a video stream");
    assert_eq!((video_stream.width, video_stream.height), (540, 960));
    assert!(info.has_audio());
    assert!(
        (info.duration - clip_seconds).abs() < 0.3,
        "the MP4 lasts {} s, the clip {clip_seconds} s",
        info.duration
    );
    location
}
