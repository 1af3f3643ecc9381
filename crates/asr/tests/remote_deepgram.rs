//! The Deepgram engine against a local server that speaks the documented pre-recorded
//! protocol: `POST /v1/listen?…` with the audio as the body, JSON with words out.

mod common;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use clipforge_asr::remote::{DeepgramConfig, DeepgramEngine};
use clipforge_asr::{AsrError, TranscribeOptions, Transcriber};
use clipforge_core::Transcript;
use common::{flac_info, script, Failures, FlacInfo, Recorder};
use serde_json::{json, Value};
use tempfile::TempDir;

const KEY: &str = "dg-test-key-42";

#[derive(Debug, Clone, Copy, PartialEq)]
enum Mode {
    Speech,
    Silence,
    Malformed,
}

/// One request as the fake server saw it.
#[derive(Debug, Clone, Default)]
struct Seen {
    authorization: Option<String>,
    content_type: Option<String>,
    content_length: Option<usize>,
    query: Vec<(String, String)>,
    body_len: usize,
    flac: Option<FlacInfo>,
}

impl Seen {
    fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Debug)]
struct FakeDeepgram {
    mode: Mutex<Mode>,
    failures: Failures,
    seen: Mutex<Vec<Seen>>,
}

impl FakeDeepgram {
    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

fn deepgram_error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = json!({"err_code": code, "err_msg": message, "request_id": "5c1d8a3e-0000-4000-8000-000000000000"});
    (status, Json(body)).into_response()
}

async fn listen(
    State(api): State<Arc<FakeDeepgram>>,
    Query(query): Query<Vec<(String, String)>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let seen = Seen {
        authorization: header("authorization"),
        content_type: header("content-type"),
        content_length: header("content-length").and_then(|v| v.parse().ok()),
        query,
        body_len: body.len(),
        flac: flac_info(&body),
    };
    api.seen.lock().unwrap().push(seen.clone());

    if seen.authorization.as_deref() != Some(&format!("Token {KEY}")) {
        return deepgram_error(
            StatusCode::UNAUTHORIZED,
            "INVALID_AUTH",
            "Invalid credentials.",
        );
    }
    if let Some(failure) = api.failures.next() {
        return failure;
    }
    let Some(flac) = seen
        .flac
        .filter(|f| f.sample_rate == 16_000 && f.channels == 1)
    else {
        return deepgram_error(
            StatusCode::BAD_REQUEST,
            "Bad Request",
            "Expected mono 16 kHz FLAC.",
        );
    };
    if seen.content_type.as_deref() != Some("audio/flac") {
        return deepgram_error(
            StatusCode::BAD_REQUEST,
            "Bad Request",
            "Content-Type is not audio/flac.",
        );
    }
    let diarize = seen.param("diarize") == Some("true");
    let mode = *api.mode.lock().unwrap();
    match mode {
        Mode::Speech => Json(listen_json(flac.duration, diarize)).into_response(),
        Mode::Silence => {
            let mut answer = listen_json(flac.duration, diarize);
            answer["results"]["channels"][0]["alternatives"][0] =
                json!({"transcript": "", "confidence": 0.0, "words": []});
            Json(answer).into_response()
        }
        Mode::Malformed => Json(json!({"metadata": {"duration": flac.duration}})).into_response(),
    }
}

/// What Deepgram answers for the script heard in `duration` seconds; with `diarize`,
/// sentences alternate between speakers 0 and 1.
fn listen_json(duration: f64, diarize: bool) -> Value {
    let sentences = script(duration);
    let mut words = Vec::new();
    for (i, sentence) in sentences.iter().enumerate() {
        for w in sentence {
            let mut word = json!({
                "word": w.bare().to_lowercase(), "start": w.start, "end": w.end,
                "confidence": 0.9, "punctuated_word": w.text
            });
            if diarize {
                word["speaker"] = json!(i % 2);
                word["speaker_confidence"] = json!(0.8);
            }
            words.push(word);
        }
    }
    let transcript = sentences
        .iter()
        .flatten()
        .map(|w| w.text.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    json!({
        "metadata": {
            "transaction_key": "deprecated", "request_id": "5c1d8a3e-0000-4000-8000-000000000000",
            "sha256": "0", "created": "2024-01-01T00:00:00.000Z", "duration": duration, "channels": 1,
            "models": ["1abfe86b-0000-4000-8000-000000000000"],
            "model_info": {"1abfe86b-0000-4000-8000-000000000000": {"name": "2-general-nova", "version": "2024-01-09.29447", "arch": "nova-2"}}
        },
        "results": {"channels": [{
            "detected_language": "en", "language_confidence": 0.99,
            "alternatives": [{"transcript": transcript, "confidence": 0.99, "words": words}]
        }]}
    })
}

struct Fixture {
    api: Arc<FakeDeepgram>,
    addr: SocketAddr,
    input: PathBuf,
    work: PathBuf,
    _dir: TempDir,
}

impl Fixture {
    async fn new(layout: &[(f64, bool)]) -> Self {
        let dir = TempDir::new().unwrap();
        let input = dir.path().join("talk.wav");
        common::write_wav(&input, layout);
        let work = dir.path().join("work");
        std::fs::create_dir(&work).unwrap();
        let api = Arc::new(FakeDeepgram {
            mode: Mutex::new(Mode::Speech),
            failures: Failures::default(),
            seen: Mutex::new(Vec::new()),
        });
        let router = Router::new()
            .route("/v1/listen", post(listen))
            .with_state(api.clone());
        let addr = common::serve(router).await;
        Self {
            api,
            addr,
            input,
            work,
            _dir: dir,
        }
    }

    fn config(&self) -> DeepgramConfig {
        DeepgramConfig {
            base_url: format!("http://{}", self.addr),
            api_key: Some(KEY.to_owned().into()),
            timeout: Duration::from_secs(30),
            initial_backoff: Duration::from_millis(10),
            work_dir: Some(self.work.clone()),
            ..DeepgramConfig::default()
        }
    }

    async fn run(
        &self,
        config: DeepgramConfig,
        language: Option<&str>,
    ) -> Result<Transcript, AsrError> {
        let engine = DeepgramEngine::new(config)?;
        let options = TranscribeOptions {
            language: language.map(str::to_owned),
        };
        let result = engine
            .transcribe(&self.input, &options, &Recorder::default())
            .await;
        assert_eq!(
            common::leftovers(&self.work),
            Vec::<String>::new(),
            "temp files left behind"
        );
        result
    }
}

#[tokio::test]
async fn diarized_words_become_speaker_segments() {
    let fx = Fixture::new(common::SHORT).await;
    let progress = Recorder::default();
    let engine = DeepgramEngine::new(fx.config()).unwrap();
    let transcript = engine
        .transcribe(&fx.input, &TranscribeOptions::default(), &progress)
        .await
        .unwrap();

    transcript.validate().unwrap();
    assert_eq!(transcript.language, "en");
    assert!((transcript.duration - 6.0).abs() < 0.01);
    let turns: Vec<_> = transcript
        .segments
        .iter()
        .map(|s| (s.text.as_str(), s.speaker))
        .collect();
    assert_eq!(
        turns,
        [
            ("Well, welcome back to the show.", Some(0)),
            ("Today we talk about rivers,", Some(1))
        ]
    );
    let first = &transcript.segments[0].words[0];
    assert_eq!((first.text.as_str(), first.confidence), ("Well,", 0.9));

    let seen = fx.api.seen();
    assert_eq!(seen.len(), 1);
    let request = &seen[0];
    for (name, value) in [
        ("model", "nova-2"),
        ("punctuate", "true"),
        ("smart_format", "true"),
        ("diarize", "true"),
        ("detect_language", "true"),
    ] {
        assert_eq!(
            request.param(name),
            Some(value),
            "query {:?}",
            request.query
        );
    }
    assert_eq!(request.param("language"), None);
    assert_eq!(
        request.content_length,
        Some(request.body_len),
        "the body has a declared length"
    );
    assert!(request.body_len > 1000);
    assert_eq!(
        progress.updates.lock().unwrap().last(),
        Some(&(transcript.duration, transcript.duration))
    );
}

#[tokio::test]
async fn a_requested_language_replaces_detection_and_diarization_can_be_off() {
    let fx = Fixture::new(common::SHORT).await;
    let config = DeepgramConfig {
        diarize: false,
        model: "nova-3".to_owned(),
        ..fx.config()
    };
    let transcript = fx.run(config, Some("de")).await.unwrap();
    let request = &fx.api.seen()[0];
    assert_eq!(request.param("language"), Some("de"));
    assert_eq!(request.param("detect_language"), None);
    assert_eq!(request.param("diarize"), Some("false"));
    assert_eq!(request.param("model"), Some("nova-3"));
    assert_eq!(transcript.language, "de");
    assert!(transcript.segments.iter().all(|s| s.speaker.is_none()));
    // Without speakers, segments still end at sentence ends.
    assert_eq!(transcript.segments.len(), 2);
}

#[tokio::test]
async fn long_audio_goes_in_parts_and_times_are_shifted_by_each_offset() {
    let fx = Fixture::new(common::LONG).await;
    let config = DeepgramConfig {
        max_upload_bytes: common::SMALL_UPLOAD,
        ..fx.config()
    };
    let transcript = fx.run(config, None).await.unwrap();
    transcript.validate().unwrap();
    let seen = fx.api.seen();
    assert!(
        seen.len() >= 2,
        "expected several uploads, got {}",
        seen.len()
    );
    let words: Vec<_> = transcript.words().collect();
    let mut at = 0;
    let mut previous_end = 0.0;
    for (k, request) in seen.iter().enumerate() {
        let part_len = request.flac.unwrap().duration;
        let expected: Vec<_> = script(part_len).into_iter().flatten().collect();
        let got = &words[at..at + expected.len()];
        at += expected.len();
        let offset = got[0].start - expected[0].start;
        for (w, e) in got.iter().zip(&expected) {
            assert!(
                (w.start - e.start - offset).abs() < 1e-6,
                "part {k}: {w:?} vs {e:?}"
            );
            assert_eq!(w.text, e.text);
        }
        assert!(
            offset >= previous_end - 0.05,
            "part {k} at {offset} overlaps the previous one"
        );
        previous_end = offset + part_len;
    }
    assert_eq!(at, words.len());
    assert!(previous_end > 11.0 && previous_end <= transcript.duration + 0.05);
}

#[tokio::test]
async fn unavailable_is_retried_until_it_works() {
    let fx = Fixture::new(common::SHORT).await;
    fx.api.failures.push(
        2,
        503,
        None,
        r#"{"err_code":"SERVICE_UNAVAILABLE","err_msg":"Service is temporarily unavailable."}"#,
    );
    let transcript = fx.run(fx.config(), None).await.unwrap();
    assert_eq!(fx.api.seen().len(), 3);
    assert_eq!(transcript.segments.len(), 2);
}

#[tokio::test]
async fn a_rate_limit_is_waited_out_and_retried() {
    let fx = Fixture::new(common::SHORT).await;
    fx.api.failures.push(
        1,
        429,
        Some("1"),
        r#"{"err_code":"TOO_MANY_REQUESTS","err_msg":"Too many requests. Please try again later"}"#,
    );
    let started = Instant::now();
    fx.run(fx.config(), None).await.unwrap();
    assert_eq!(fx.api.seen().len(), 2);
    assert!(started.elapsed() >= Duration::from_secs(1));
}

#[tokio::test]
async fn server_errors_are_retried_then_reported() {
    let fx = Fixture::new(common::SHORT).await;
    fx.api.failures.push(
        3,
        500,
        None,
        r#"{"err_code":"INTERNAL_SERVER_ERROR","err_msg":"Something went wrong."}"#,
    );
    let config = DeepgramConfig {
        max_retries: 2,
        ..fx.config()
    };
    let err = fx.run(config, None).await.unwrap_err();
    assert_eq!(fx.api.seen().len(), 3);
    assert!(matches!(err, AsrError::Remote { .. }), "{err:?}");
    let message = err.to_string();
    for part in [
        "Deepgram",
        "500",
        "Something went wrong.",
        "INTERNAL_SERVER_ERROR",
        "3 attempts",
    ] {
        assert!(message.contains(part), "{message:?} lacks {part:?}");
    }
}

#[tokio::test]
async fn a_wrong_key_fails_at_once_and_names_the_variable() {
    let fx = Fixture::new(common::SHORT).await;
    let config = DeepgramConfig {
        api_key: Some("dg-wrong".to_owned().into()),
        ..fx.config()
    };
    let err = fx.run(config, None).await.unwrap_err();
    assert_eq!(fx.api.seen().len(), 1, "401 is not retried");
    let message = err.to_string();
    for part in [
        "401",
        "Invalid credentials.",
        "INVALID_AUTH",
        "CLIPFORGE_DEEPGRAM_API_KEY",
    ] {
        assert!(message.contains(part), "{message:?} lacks {part:?}");
    }
    assert!(!message.contains("dg-wrong"));
}

#[tokio::test]
async fn an_answer_without_results_is_a_bad_response() {
    let fx = Fixture::new(common::SHORT).await;
    *fx.api.mode.lock().unwrap() = Mode::Malformed;
    let err = fx.run(fx.config(), None).await.unwrap_err();
    assert!(matches!(err, AsrError::BadResponse { .. }), "{err:?}");
    assert!(err.to_string().contains("results"), "{err}");
}

#[tokio::test]
async fn silence_gives_an_empty_transcript() {
    let fx = Fixture::new(common::SHORT).await;
    *fx.api.mode.lock().unwrap() = Mode::Silence;
    let transcript = fx.run(fx.config(), None).await.unwrap();
    assert!(transcript.segments.is_empty());
    assert_eq!(transcript.language, "en");
    assert!((transcript.duration - 6.0).abs() < 0.01);
}

#[tokio::test]
async fn deepgram_without_a_key_is_not_configured() {
    let config = DeepgramConfig {
        api_key: None,
        ..DeepgramConfig::default()
    };
    let err = DeepgramEngine::new(config).unwrap_err();
    assert!(matches!(err, AsrError::NotConfigured { .. }), "{err:?}");
    assert!(
        err.to_string().contains("CLIPFORGE_DEEPGRAM_API_KEY"),
        "{err}"
    );
}
