//! `clipforge suggest` end to end: the real binary on transcripts a user could hand it,
//! on real speech, and with a language model behind a local chat-completions server.

mod common;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use clipforge_core::{Segment, Transcript, Word};
use serde_json::{json, Value};

use common::{clipforge, fixture, model_dir};

/// A transcript of `text` spoken at a steady pace (0.3 s a word, 0.1 s apart), with
/// `pause` seconds of silence after every word that ends with `|` (the bar is removed).
fn spoken(text: &str, pause: f64) -> Transcript {
    let mut t = 0.5;
    let mut words = Vec::new();
    for token in text.split_whitespace() {
        let (token, paused) = match token.strip_suffix('|') {
            Some(w) => (w, true),
            None => (token, false),
        };
        words.push(Word {
            start: t,
            end: t + 0.3,
            text: token.into(),
            confidence: 0.9,
        });
        t += 0.4 + if paused { pause } else { 0.0 };
    }
    let text = words
        .iter()
        .map(|w| w.text.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    Transcript {
        language: "en".into(),
        duration: t + 1.0,
        segments: if words.is_empty() {
            Vec::new()
        } else {
            vec![Segment {
                start: words[0].start,
                end: words.last().unwrap().end,
                text,
                speaker: None,
                words,
            }]
        },
    }
}

fn write(dir: &Path, name: &str, transcript: &Transcript) -> String {
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_string(transcript).unwrap()).unwrap();
    path.to_str().unwrap().to_string()
}

/// Runs `clipforge suggest ARGS --json` and parses the report.
async fn suggest(args: &[&str]) -> Value {
    let mut all = vec!["suggest"];
    all.extend_from_slice(args);
    all.push("--json");
    let run = clipforge(&all, &[]).await;
    assert!(run.ok, "suggest failed: {}", run.stderr);
    serde_json::from_str(&run.stdout).expect("stdout is the suggestion JSON")
}

const STORY: &str = "Why do most people quit running after two weeks? \
    The truth is they start too fast. \
    They run every day, their legs hurt, and they decide running is not for them. \
    Here is what works instead. \
    Run three times a week, slowly enough to talk. \
    After a month, add five minutes to one run. \
    That is the whole plan, and it works because it is boring. \
    So the lesson is simple: go slow to go far.";

/// Checks what every suggestion must satisfy, whatever the input.
fn check_suggestions(report: &Value, transcript: &Transcript, min: f64, max: f64) {
    let words: Vec<&Word> = transcript.words().collect();
    let list = report["suggestions"].as_array().unwrap();
    let mut previous = f64::INFINITY;
    for s in list {
        let (start, end) = (s["start"].as_f64().unwrap(), s["end"].as_f64().unwrap());
        let duration = s["duration"].as_f64().unwrap();
        assert!((end - start - duration).abs() < 0.01, "{s}");
        assert!(duration >= min - 0.01 && duration <= max + 0.01, "{s}");
        assert!(start >= 0.0 && end <= transcript.duration + 0.001, "{s}");
        for w in &words {
            for t in [start, end] {
                assert!(
                    !(t > w.start + 0.001 && t < w.end - 0.001),
                    "cut {t} inside {w:?}"
                );
            }
        }
        let score = s["score"].as_f64().unwrap();
        assert!((0.0..=100.0).contains(&score));
        assert!(score <= previous, "sorted by score");
        previous = score;
        for k in [
            "hook",
            "emotion",
            "topic",
            "completeness",
            "pacing",
            "visual",
        ] {
            let v = s["breakdown"][k].as_f64().unwrap();
            assert!((0.0..=1.0).contains(&v), "{k} = {v}");
        }
        for k in ["title", "hook", "reason", "transcript"] {
            assert!(!s[k].as_str().unwrap().is_empty(), "empty {k} in {s}");
        }
        assert!(!s["platforms"].as_array().unwrap().is_empty());
    }
    for (i, a) in list.iter().enumerate() {
        for b in &list[i + 1..] {
            let shared = a["end"].as_f64().unwrap().min(b["end"].as_f64().unwrap())
                - a["start"]
                    .as_f64()
                    .unwrap()
                    .max(b["start"].as_f64().unwrap());
            let shorter = a["duration"]
                .as_f64()
                .unwrap()
                .min(b["duration"].as_f64().unwrap());
            assert!(shared / shorter <= 0.3 + 1e-9, "{a} overlaps {b}");
        }
    }
}

#[tokio::test]
async fn an_empty_transcript_gives_no_suggestions_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let t = write(dir.path(), "empty.json", &Transcript::empty("en", 30.0));
    let report = suggest(&[&t]).await;
    assert_eq!(report["suggestions"], json!([]));
    assert!(
        report["message"].as_str().unwrap().contains("no words"),
        "{report}"
    );
}

#[tokio::test]
async fn a_transcript_shorter_than_the_minimum_says_how_to_clip_it() {
    let dir = tempfile::tempdir().unwrap();
    let t = write(
        dir.path(),
        "short.json",
        &spoken("Hello there. This is short.", 0.0),
    );
    let report = suggest(&[&t]).await;
    assert_eq!(report["suggestions"], json!([]));
    let message = report["message"].as_str().unwrap();
    assert!(message.contains("shorter than the minimum"), "{message}");
    assert!(message.contains("--min-duration"), "{message}");
    let run = clipforge(&["suggest", &t], &[]).await;
    assert!(run.ok);
    assert!(run.stdout.starts_with("No suggestions:"), "{}", run.stdout);
}

#[tokio::test]
async fn a_transcript_without_punctuation_is_split_at_pauses() {
    let mut text = String::new();
    for i in 0..40 {
        text.push_str(&format!(
            "we talked about training plan number {i} and how slow runs build the base| "
        ));
    }
    let transcript = spoken(&text, 0.8);
    let dir = tempfile::tempdir().unwrap();
    let t = write(dir.path(), "plain.json", &transcript);
    let report = suggest(&[&t, "--max", "5"]).await;
    let list = report["suggestions"].as_array().unwrap();
    assert!(!list.is_empty(), "{report}");
    check_suggestions(&report, &transcript, 20.0, 60.0);
    // Pause-based sentences: every clip starts right after a pause.
    for s in list {
        let start = s["start"].as_f64().unwrap();
        let first = transcript.words().find(|w| w.start >= start).unwrap();
        assert_eq!(first.text, "we", "{s}");
    }
}

#[tokio::test]
async fn the_hook_and_the_conclusion_make_the_top_clip() {
    // Ordinary chat around one strong, self-contained moment.
    let filler = "yeah so um we were just talking about the weather and stuff you know. \
        it was kind of cloudy I guess. anyway. ";
    let text = format!("{}{STORY} {}", filler.repeat(6), filler.repeat(6));
    let transcript = spoken(&text, 0.0);
    let dir = tempfile::tempdir().unwrap();
    let t = write(dir.path(), "story.json", &transcript);
    let report = suggest(&[&t, "--max", "3", "--min-duration", "15"]).await;
    check_suggestions(&report, &transcript, 15.0, 60.0);
    let top = &report["suggestions"][0];
    let text = top["transcript"].as_str().unwrap();
    assert!(text.starts_with("Why do most people quit running"), "{top}");
    assert!(text.ends_with("go slow to go far."), "{top}");
    assert!(top["highlights"]
        .as_array()
        .unwrap()
        .contains(&json!("Opens with a question")));
    assert_eq!(
        top["hook"],
        "Why do most people quit running after two weeks?"
    );
}

#[tokio::test]
async fn wrong_parameters_and_wrong_files_get_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let t = write(dir.path(), "t.json", &spoken(STORY, 0.0));
    let run = clipforge(
        &[
            "suggest",
            &t,
            "--min-duration",
            "70",
            "--max-duration",
            "60",
        ],
        &[],
    )
    .await;
    assert!(!run.ok);
    assert!(run.stderr.contains("max_duration"), "{}", run.stderr);

    let bogus = dir.path().join("other.json");
    std::fs::write(&bogus, r#"{"hello": "world"}"#).unwrap();
    let run = clipforge(&["suggest", bogus.to_str().unwrap()], &[]).await;
    assert!(!run.ok);
    assert!(
        run.stderr.contains("is not a clipforge transcript"),
        "{}",
        run.stderr
    );

    let run = clipforge(&["suggest", "/nonexistent/talk.mp4"], &[]).await;
    assert!(!run.ok);
    assert!(run.stderr.contains("does not exist"), "{}", run.stderr);
}

#[tokio::test]
async fn suggests_clips_from_a_real_talk() {
    let video = fixture("talk-3m.mp4");
    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("talk.json");
    let model = model_dir();
    let report = suggest(&[
        video.to_str().unwrap(),
        "--model",
        model.to_str().unwrap(),
        "--save-transcript",
        saved.to_str().unwrap(),
        "--max",
        "4",
    ])
    .await;
    let transcript: Transcript =
        serde_json::from_str(&std::fs::read_to_string(&saved).unwrap()).unwrap();
    assert!(
        !report["suggestions"].as_array().unwrap().is_empty(),
        "{report}"
    );
    check_suggestions(&report, &transcript, 20.0, 60.0);
}

/// A chat-completions server that rates the first candidate 99 and retitles it.
async fn chat_server(calls: Arc<AtomicUsize>) -> SocketAddr {
    async fn complete(
        State(calls): State<Arc<AtomicUsize>>,
        Json(body): Json<Value>,
    ) -> Json<Value> {
        calls.fetch_add(1, Ordering::SeqCst);
        assert_eq!(body["model"], "local-test");
        let answer = json!({"clips": [{"id": "c1", "score": 99, "title": "Go slow to go far",
            "hook": "Why most runners quit", "reason": "A complete piece of advice."}]});
        Json(json!({"choices": [{"message": {"role": "assistant",
            "content": answer.to_string()}}]}))
    }
    let app = Router::new()
        .route("/v1/chat/completions", post(complete))
        .with_state(calls);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

#[tokio::test]
async fn a_language_model_reranks_and_retitles_through_the_chat_api() {
    let calls = Arc::new(AtomicUsize::new(0));
    let addr = chat_server(calls.clone()).await;
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "{} {STORY}",
        "We met at the track on Sunday morning. ".repeat(12)
    );
    let t = write(dir.path(), "t.json", &spoken(&text, 0.0));
    let url = format!("http://{addr}/v1");
    let report = suggest(&[
        &t,
        "--llm-url",
        &url,
        "--llm-model",
        "local-test",
        "--min-duration",
        "15",
    ])
    .await;
    assert!(calls.load(Ordering::SeqCst) >= 1);
    let top = &report["suggestions"][0];
    assert_eq!(top["ranked_by"], "llm", "{report}");
    assert_eq!(top["title"], "Go slow to go far");
    assert_eq!(top["reason"], "A complete piece of advice.");
}

#[tokio::test]
async fn an_unreachable_language_model_leaves_the_local_ranking() {
    let dir = tempfile::tempdir().unwrap();
    let t = write(
        dir.path(),
        "t.json",
        &spoken(&format!("{STORY} {STORY}"), 0.0),
    );
    let report = suggest(&[
        &t,
        "--llm-url",
        "http://127.0.0.1:9/v1",
        "--min-duration",
        "15",
    ])
    .await;
    assert!(!report["suggestions"].as_array().unwrap().is_empty());
    assert_eq!(report["suggestions"][0]["ranked_by"], "local");
    assert!(
        !report["warnings"].as_array().unwrap().is_empty(),
        "{report}"
    );
}
