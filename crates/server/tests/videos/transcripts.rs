//! Transcripts read, corrected and exported; and tenant isolation across every video and
//! transcript route.

use clipforge_core::{Segment, Transcript, Word};
use clipforge_server::ServiceConfig;
use clipforge_store::videos::{self, MediaInfo};
use clipforge_store::{projects, transcripts, VideoId};
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};

use super::*;

fn word(text: &str, start: f64, end: f64) -> Word {
    Word {
        start,
        end,
        text: text.into(),
        confidence: 0.9,
    }
}

fn sample_transcript() -> Transcript {
    let segment = |words: Vec<Word>| Segment {
        start: words[0].start,
        end: words.last().unwrap().end,
        text: words
            .iter()
            .map(|w| w.text.as_str())
            .collect::<Vec<_>>()
            .join(" "),
        speaker: None,
        words,
    };
    Transcript {
        language: "en".into(),
        duration: 6.0,
        segments: vec![
            segment(vec![word("Welcome", 0.5, 0.9), word("back.", 0.9, 1.4)]),
            segment(vec![
                word("Today", 3.0, 3.4),
                word("we", 3.4, 3.6),
                word("begin.", 3.6, 4.2),
            ]),
        ],
    }
}

#[tokio::test]
async fn transcripts_read_edit_and_export() {
    let server = start(ServiceConfig::default()).await;
    let client = Client::new();
    let fay = sign_up(&client, &server, "fay").await;
    let video = imported(&client, &server, &fay.token, "Weekly show").await;
    let r = client
        .get(format!("{}/transcriptions/videos/{video}", server.api))
        .bearer_auth(&fay.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let record = transcripts::replace(&server.store, fay.ws, video, &sample_transcript())
        .await
        .unwrap();
    let id = record.id;

    let body: Value = client
        .get(format!("{}/transcriptions/videos/{video}", server.api))
        .bearer_auth(&fay.token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let t = &body["transcription"];
    assert_eq!(t["id"], id.to_string());
    assert_eq!(t["word_count"], 5);
    assert_eq!(t["version"], 1);
    assert_eq!(t["segments"][1]["id"], 1);
    assert_eq!(t["segments"][1]["text"], "Today we begin.");
    assert_eq!(
        t["segments"][0]["words"][1],
        json!({"word": "back.", "start_time": 0.9, "end_time": 1.4, "confidence": 0.9})
    );

    // A spelling fix keeps the word times; a stale version is a conflict.
    let edit = |segment: &str, body: Value| {
        let request = client
            .put(format!(
                "{}/transcriptions/{id}/segments/{segment}",
                server.api
            ))
            .bearer_auth(&fay.token)
            .json(&body);
        async move { request.send().await.unwrap() }
    };
    let r = edit("1", json!({"text": "Today we start.", "version": 1})).await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    let segment = &body["transcription"]["segments"][1];
    assert_eq!(segment["text"], "Today we start.");
    assert_eq!(segment["words"][2]["word"], "start.");
    assert_eq!(segment["words"][2]["start_time"], 3.6);
    assert_eq!(body["transcription"]["version"], 2);
    let r = edit("1", json!({"text": "Today we go.", "version": 1})).await;
    assert_eq!(r.status(), 409);
    let r = edit(
        "0",
        json!({"words": [{"word": "Hello", "start_time": 0.5, "end_time": 1.4}]}),
    )
    .await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["transcription"]["segments"][0]["text"], "Hello");
    assert_eq!(
        r#"1.0"#,
        body["transcription"]["segments"][0]["words"][0]["confidence"].to_string()
    );
    // Words past the end of the audio, an unknown field, a missing segment.
    let r = edit(
        "0",
        json!({"words": [{"word": "Hi", "start_time": 0.5, "end_time": 60.0}]}),
    )
    .await;
    assert_field_error(r, "words").await;
    assert_field_error(edit("0", json!({"txt": "Hi"})).await, "txt").await;
    assert_field_error(edit("0", json!({"text": "  "})).await, "text").await;
    assert_eq!(edit("7", json!({"text": "Hi"})).await.status(), 404);
    assert_eq!(edit("x", json!({"text": "Hi"})).await.status(), 404);

    let export = |format: &str| {
        let request = client
            .post(format!("{}/transcriptions/{id}/export", server.api))
            .bearer_auth(&fay.token)
            .json(&json!({ "format": format }));
        async move { request.send().await.unwrap() }
    };
    let r = export("srt").await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/x-subrip");
    let disposition = r.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        disposition.contains("filename=\"Weekly show.srt\""),
        "{disposition}"
    );
    let srt = r.text().await.unwrap();
    assert!(
        srt.starts_with("1\n00:00:00,500 --> 00:00:01,400\nHello\n"),
        "{srt}"
    );
    assert!(
        srt.contains("00:00:03,000 --> 00:00:04,200\nToday we start."),
        "{srt}"
    );
    let r = export("vtt").await;
    assert_eq!(r.headers()["content-type"], "text/vtt");
    let vtt = r.text().await.unwrap();
    assert!(vtt.starts_with("WEBVTT"), "{vtt}");
    assert!(vtt.contains("00:00:03.000 --> 00:00:04.200"), "{vtt}");
    let r = export("txt").await;
    assert_eq!(r.headers()["content-type"], "text/plain; charset=utf-8");
    let txt = r.text().await.unwrap();
    assert!(
        txt.contains("Hello") && txt.contains("Today we start."),
        "{txt}"
    );
    let r = export("json").await;
    assert_eq!(r.headers()["content-type"], "application/json");
    let exported: Transcript = r.json().await.unwrap();
    assert_eq!(exported.segments.len(), 2);
    assert_eq!(exported.segments[1].words[2].text, "start.");
    assert_field_error(export("ass").await, "format").await;
}

#[tokio::test]
async fn another_workspace_gets_404_for_every_video_and_transcript_route() {
    let server = start(ServiceConfig::default()).await;
    let client = Client::new();
    let gil = sign_up(&client, &server, "gil").await;
    let hal = sign_up(&client, &server, "hal").await;
    let mp4 = std::fs::read(sample_mp4(server.dir.path()).await).unwrap();
    let r = upload(&client, &server, &gil.token, mp4, "private.mp4", &[]).await;
    assert_eq!(r.status(), 202);
    let body: Value = r.json().await.unwrap();
    let video: VideoId = body["video"]["id"].as_str().unwrap().parse().unwrap();
    let thumb_key = format!("ws/{}/videos/{video}/thumbnail.jpg", gil.ws);
    server
        .storage
        .put_bytes(&thumb_key, b"\xff\xd8\xff".to_vec().into())
        .await
        .unwrap();
    let media = MediaInfo {
        duration_seconds: 4.0,
        width: 1280,
        height: 720,
        fps: 30.0,
        video_codec: None,
        audio_codec: None,
        size_bytes: 1,
    };
    videos::set_media(&server.store, gil.ws, video, &media, Some(&thumb_key))
        .await
        .unwrap();
    let transcript = transcripts::replace(&server.store, gil.ws, video, &sample_transcript())
        .await
        .unwrap()
        .id;
    let project = projects::create(
        &server.store,
        gil.ws,
        projects::NewProject {
            name: "Gil's",
            description: None,
            settings: &json!({}),
            created_by: None,
        },
    )
    .await
    .unwrap();

    let api = &server.api;
    let attempts = [
        client.get(format!("{api}/videos/{video}")),
        client
            .put(format!("{api}/videos/{video}"))
            .json(&json!({"title": "mine now"})),
        client.delete(format!("{api}/videos/{video}")),
        client.get(format!("{api}/videos/{video}/thumbnail")),
        client.get(format!("{api}/transcriptions/videos/{video}")),
        client.get(format!("{api}/transcriptions/{transcript}")),
        client
            .put(format!("{api}/transcriptions/{transcript}/segments/0"))
            .json(&json!({"text": "mine now"})),
        client
            .post(format!("{api}/transcriptions/{transcript}/export"))
            .json(&json!({"format": "srt"})),
    ];
    for attempt in attempts {
        let request = attempt.bearer_auth(&hal.token).build().unwrap();
        let what = format!("{} {}", request.method(), request.url());
        let r = client.execute(request).await.unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{what}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"]["code"], "NOT_FOUND", "{what}");
    }
    // Hal's list is empty, and Gil's project cannot take Hal's videos.
    assert_eq!(video_count(&client, &server, &hal.token).await, 0);
    let mine = imported(&client, &server, &hal.token, "Hal's").await;
    let r = client
        .put(format!("{api}/videos/{mine}"))
        .bearer_auth(&hal.token)
        .json(&json!({"project_id": project.id}))
        .send()
        .await
        .unwrap();
    assert_field_error(r, "project_id").await;
    let r = import(
        &client,
        &server,
        &hal.token,
        json!({"url": "https://93.184.215.14/v.mp4", "project_id": project.id}),
    )
    .await;
    assert_field_error(r, "project_id").await;

    // Gil's video is untouched.
    let shown: Value = client
        .get(format!("{api}/videos/{video}"))
        .bearer_auth(&gil.token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(shown["video"]["title"], "private");
    let t = transcripts::get(&server.store, gil.ws, transcript)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(t.version, 1);
    assert!(server.media().join(&thumb_key).exists());
}
