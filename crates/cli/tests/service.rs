//! The service end to end, as a user drives it over HTTP: `clipforge serve` on a free port
//! with a temp SQLite file and local storage, its in-process worker running the real
//! pipeline. Register, upload a real-speech video, wait for the jobs, list the scored clips,
//! render one and download a playable MP4 of the clip's length.

use std::time::{Duration, Instant};

use clipforge_media::{probe, Runner};
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

#[tokio::test]
async fn upload_to_downloaded_clip_over_http() {
    common::model_dir();
    let video = common::fixture("librivox-talk.mp4");
    let data = tempfile::tempdir().unwrap();
    let mut server = Runner::new(1)
        .command(env!("CARGO_BIN_EXE_clipforge"))
        .args(["serve", "--bind", "127.0.0.1:0", "--data-dir"])
        .arg(data.path().join("data"))
        .timeout(Duration::from_secs(600))
        .spawn_reader()
        .await
        .unwrap();
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
    let api = format!("{base}/api/v1");
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();

    let registered: Value = client
        .post(format!("{api}/auth/register"))
        .json(&json!({"email": "host@example.com", "password": "a long password", "full_name": "Host"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = registered["token"]["access_token"]
        .as_str()
        .unwrap()
        .to_string();

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

    let ready = wait_for(
        &client,
        &format!("{api}/videos/{video_id}"),
        &token,
        Duration::from_secs(300),
        |v| matches!(v["video"]["status"].as_str(), Some("ready" | "failed")),
    )
    .await;
    assert_eq!(ready["video"]["status"], "ready", "{ready}");

    let transcript: Value = client
        .get(format!("{api}/transcriptions/videos/{video_id}"))
        .bearer_auth(&token)
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
    assert!(
        location.starts_with(&base),
        "{location} points at this server"
    );
    let file = client.get(&location).send().await.unwrap();
    assert_eq!(file.status(), 200);
    let path = data.path().join("clip.mp4");
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
}
