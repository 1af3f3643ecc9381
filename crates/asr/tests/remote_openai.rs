//! The OpenAI-compatible engine against a local server that speaks the documented
//! `POST /v1/audio/transcriptions` protocol (multipart in, `verbose_json` out).

mod common;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Multipart, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use clipforge_asr::remote::{OpenAiConfig, OpenAiEngine};
use clipforge_asr::{AsrError, TranscribeOptions, Transcriber};
use clipforge_core::Transcript;
use common::{flac_info, script, Failures, FlacInfo, Recorder};
use serde_json::{json, Value};
use tempfile::TempDir;

const KEY: &str = "sk-test-0123456789";
const MODEL: &str = "whisper-large-v3";
const AVG_LOGPROB: f64 = -0.25;

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
    /// Text fields in order (`timestamp_granularities[]` appears twice).
    fields: Vec<(String, String)>,
    file_name: Option<String>,
    file_type: Option<String>,
    file_len: usize,
    flac: Option<FlacInfo>,
}

impl Seen {
    fn field(&self, name: &str) -> Vec<&str> {
        self.fields
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// What a real server would reject, phrased as its error message.
    fn problem(&self) -> Option<String> {
        let flac = self.flac?;
        let problems = [
            (self.field("model") != [MODEL], "model missing or wrong"),
            (
                self.field("response_format") != ["verbose_json"],
                "response_format must be verbose_json",
            ),
            (
                self.field("timestamp_granularities[]") != ["word", "segment"],
                "timestamp_granularities[] must be word and segment",
            ),
            (
                !self
                    .file_name
                    .as_deref()
                    .is_some_and(|n| n.ends_with(".flac")),
                "file name lacks .flac",
            ),
            (
                self.file_type.as_deref() != Some("audio/flac"),
                "file content type is not audio/flac",
            ),
            (
                flac.sample_rate != 16_000 || flac.channels != 1,
                "audio is not mono 16 kHz",
            ),
        ];
        problems
            .iter()
            .find(|(bad, _)| *bad)
            .map(|(_, why)| (*why).to_owned())
    }
}

#[derive(Debug)]
struct FakeOpenAi {
    mode: Mutex<Mode>,
    failures: Failures,
    seen: Mutex<Vec<Seen>>,
}

impl FakeOpenAi {
    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

fn openai_error(status: StatusCode, message: &str, code: &str) -> Response {
    let body = json!({"error": {"message": message, "type": "invalid_request_error", "param": null, "code": code}});
    (status, Json(body)).into_response()
}

async fn transcriptions(
    State(api): State<Arc<FakeOpenAi>>,
    headers: HeaderMap,
    mut form: Multipart,
) -> Response {
    let mut seen = Seen {
        authorization: headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        ..Seen::default()
    };
    while let Some(field) = form.next_field().await.expect("multipart") {
        let name = field.name().unwrap_or_default().to_owned();
        if name == "file" {
            seen.file_name = field.file_name().map(str::to_owned);
            seen.file_type = field.content_type().map(str::to_owned);
            let bytes = field.bytes().await.expect("file bytes");
            seen.file_len = bytes.len();
            seen.flac = flac_info(&bytes);
        } else {
            seen.fields
                .push((name, field.text().await.expect("text field")));
        }
    }
    api.seen.lock().unwrap().push(seen.clone());

    if seen.authorization.as_deref() != Some(&format!("Bearer {KEY}")) {
        let message = "Incorrect API key provided: sk-wr***ng. You can find your API key at https://platform.openai.com/account/api-keys.";
        return openai_error(StatusCode::UNAUTHORIZED, message, "invalid_api_key");
    }
    if let Some(failure) = api.failures.next() {
        return failure;
    }
    let Some(flac) = seen.flac else {
        return openai_error(
            StatusCode::BAD_REQUEST,
            "The file is not FLAC audio.",
            "invalid_file",
        );
    };
    if let Some(problem) = seen.problem() {
        return openai_error(StatusCode::BAD_REQUEST, &problem, "invalid_request");
    }
    let mode = *api.mode.lock().unwrap();
    match mode {
        Mode::Speech => Json(verbose_json(flac.duration)).into_response(),
        Mode::Silence => Json(json!({
            "task": "transcribe", "language": "english", "duration": flac.duration,
            "text": "", "segments": [], "words": []
        }))
        .into_response(),
        Mode::Malformed => (
            StatusCode::OK,
            "{\"task\": \"transcribe\", \"words\": [{\"word\": ",
        )
            .into_response(),
    }
}

/// What OpenAI answers for the script heard in `duration` seconds: punctuated segment
/// texts, bare words.
fn verbose_json(duration: f64) -> Value {
    let sentences = script(duration);
    let text_of = |s: &[common::ScriptWord]| {
        s.iter()
            .map(|w| w.text.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    };
    let segments: Vec<Value> = sentences
        .iter()
        .enumerate()
        .map(|(id, s)| {
            json!({
                "id": id, "seek": 0, "start": s[0].start, "end": s[s.len() - 1].end,
                "text": format!(" {}", text_of(s)), "tokens": [50364, 440, 1500],
                "temperature": 0.0, "avg_logprob": AVG_LOGPROB, "compression_ratio": 1.4,
                "no_speech_prob": 0.01
            })
        })
        .collect();
    let words: Vec<Value> = sentences
        .iter()
        .flatten()
        .map(|w| json!({"word": w.bare(), "start": w.start, "end": w.end}))
        .collect();
    let text = sentences
        .iter()
        .map(|s| text_of(s))
        .collect::<Vec<_>>()
        .join(" ");
    json!({
        "task": "transcribe", "language": "english", "duration": duration,
        "text": text, "segments": segments, "words": words
    })
}

struct Fixture {
    api: Arc<FakeOpenAi>,
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
        let api = Arc::new(FakeOpenAi {
            mode: Mutex::new(Mode::Speech),
            failures: Failures::default(),
            seen: Mutex::new(Vec::new()),
        });
        let router = Router::new()
            .route("/v1/audio/transcriptions", post(transcriptions))
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

    fn config(&self) -> OpenAiConfig {
        OpenAiConfig {
            base_url: format!("http://{}/v1", self.addr),
            api_key: Some(KEY.to_owned().into()),
            model: MODEL.to_owned(),
            timeout: Duration::from_secs(30),
            max_retries: 3,
            initial_backoff: Duration::from_millis(10),
            work_dir: Some(self.work.clone()),
            ..OpenAiConfig::default()
        }
    }

    async fn run(
        &self,
        config: OpenAiConfig,
        language: Option<&str>,
    ) -> Result<Transcript, AsrError> {
        let engine = OpenAiEngine::new(config)?;
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
async fn transcribes_into_a_punctuated_valid_transcript() {
    let fx = Fixture::new(common::SHORT).await;
    let engine = OpenAiEngine::new(fx.config()).unwrap();
    let progress = Recorder::default();
    let transcript = engine
        .transcribe(&fx.input, &TranscribeOptions::default(), &progress)
        .await
        .unwrap();

    transcript.validate().unwrap();
    assert_eq!(transcript.language, "en", "`english` becomes a code");
    assert!(
        (transcript.duration - 6.0).abs() < 0.01,
        "{}",
        transcript.duration
    );
    assert_eq!(
        transcript.text(),
        "Well, welcome back to the show. Today we talk about rivers,"
    );
    let segments: Vec<_> = transcript
        .segments
        .iter()
        .map(|s| s.text.as_str())
        .collect();
    assert_eq!(
        segments,
        [
            "Well, welcome back to the show.",
            "Today we talk about rivers,"
        ]
    );
    let first = &transcript.segments[0].words[0];
    assert_eq!(first.text, "Well,");
    assert!(
        (first.start - 0.2).abs() < 1e-9 && (first.end - 0.6).abs() < 1e-9,
        "{first:?}"
    );
    assert!((first.confidence - (AVG_LOGPROB as f32).exp()).abs() < 1e-6);
    assert!(transcript.segments.iter().all(|s| s.speaker.is_none()));

    let seen = fx.api.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(
        seen[0].authorization.as_deref(),
        Some(format!("Bearer {KEY}").as_str())
    );
    assert_eq!(
        seen[0].field("language"),
        Vec::<&str>::new(),
        "no language asked: detect"
    );
    assert!(seen[0].file_len > 1000);
    let flac = seen[0].flac.expect("the upload is FLAC");
    assert!((flac.duration - 6.0).abs() < 0.01);

    assert!(progress.stages.lock().unwrap().len() >= 2);
    assert_eq!(
        progress.updates.lock().unwrap().last(),
        Some(&(transcript.duration, transcript.duration))
    );
    assert!(common::leftovers(&fx.work).is_empty());
}

#[tokio::test]
async fn sends_the_requested_language() {
    let fx = Fixture::new(common::SHORT).await;
    let transcript = fx.run(fx.config(), Some("de")).await.unwrap();
    assert_eq!(fx.api.seen()[0].field("language"), ["de"]);
    assert_eq!(transcript.language, "de");
}

#[tokio::test]
async fn long_audio_goes_in_parts_and_times_are_shifted_by_each_offset() {
    let fx = Fixture::new(common::LONG).await;
    let config = OpenAiConfig {
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
    assert!(seen
        .iter()
        .all(|s| s.file_len as u64 <= common::SMALL_UPLOAD));
    let words: Vec<_> = transcript.words().collect();
    let mut at = 0;
    let mut previous_end = 0.0;
    for (k, request) in seen.iter().enumerate() {
        let part_len = request.flac.unwrap().duration;
        let expected: Vec<_> = script(part_len).into_iter().flatten().collect();
        let got = &words[at..at + expected.len()];
        at += expected.len();
        // Every word of a part moved by the same offset, and parts follow each other.
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
        assert!(offset + part_len <= transcript.duration + 0.05);
        previous_end = offset + part_len;
    }
    assert_eq!(
        at,
        words.len(),
        "only the server's words are in the transcript"
    );
    assert!(words.windows(2).all(|w| w[0].start <= w[1].start));
    assert!(previous_end > 11.0, "the parts cover the whole input");
}

#[tokio::test]
async fn a_rate_limit_is_waited_out_and_retried() {
    let fx = Fixture::new(common::SHORT).await;
    let body = json!({"error": {"message": "Rate limit reached for whisper-1", "type": "requests", "code": "rate_limit_exceeded"}});
    fx.api.failures.push(1, 429, Some("1"), &body.to_string());
    let started = Instant::now();
    let transcript = fx.run(fx.config(), None).await.unwrap();
    assert_eq!(fx.api.seen().len(), 2);
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After: 1 was not honoured"
    );
    assert!(!transcript.segments.is_empty());
}

#[tokio::test]
async fn server_errors_are_retried_then_reported() {
    let fx = Fixture::new(common::SHORT).await;
    let body = json!({"error": {"message": "The server had an error while processing your request.", "type": "server_error"}});
    fx.api.failures.push(3, 500, None, &body.to_string());
    let config = OpenAiConfig {
        max_retries: 2,
        ..fx.config()
    };
    let err = fx.run(config, None).await.unwrap_err();
    assert_eq!(fx.api.seen().len(), 3);
    let message = err.to_string();
    assert!(matches!(err, AsrError::Remote { .. }), "{err:?}");
    for part in [
        "OpenAI",
        "500",
        "127.0.0.1",
        "The server had an error",
        "3 attempts",
    ] {
        assert!(message.contains(part), "{message:?} lacks {part:?}");
    }
}

#[tokio::test]
async fn a_wrong_key_fails_at_once_and_names_the_variable() {
    let fx = Fixture::new(common::SHORT).await;
    let config = OpenAiConfig {
        api_key: Some("sk-wrong".to_owned().into()),
        ..fx.config()
    };
    let err = fx.run(config, None).await.unwrap_err();
    assert_eq!(fx.api.seen().len(), 1, "401 is not retried");
    let message = err.to_string();
    for part in [
        "401",
        "Incorrect API key provided",
        "CLIPFORGE_OPENAI_API_KEY",
    ] {
        assert!(message.contains(part), "{message:?} lacks {part:?}");
    }
    assert!(
        !message.contains("sk-wrong"),
        "the key leaked into {message:?}"
    );
}

#[tokio::test]
async fn malformed_json_is_a_bad_response() {
    let fx = Fixture::new(common::SHORT).await;
    *fx.api.mode.lock().unwrap() = Mode::Malformed;
    let err = fx.run(fx.config(), None).await.unwrap_err();
    assert!(matches!(err, AsrError::BadResponse { .. }), "{err:?}");
    assert!(
        err.to_string().contains("\"task\""),
        "the message quotes the answer: {err}"
    );
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
async fn openai_without_a_key_is_not_configured() {
    let config = OpenAiConfig {
        api_key: None,
        ..OpenAiConfig::default()
    };
    let err = OpenAiEngine::new(config).unwrap_err();
    assert!(matches!(err, AsrError::NotConfigured { .. }), "{err:?}");
    assert!(
        err.to_string().contains("CLIPFORGE_OPENAI_API_KEY"),
        "{err}"
    );

    // A self-hosted server may run without one: no Authorization header is sent.
    let fx = Fixture::new(common::SHORT).await;
    let config = OpenAiConfig {
        api_key: None,
        ..fx.config()
    };
    let err = fx.run(config, None).await.unwrap_err();
    assert_eq!(fx.api.seen()[0].authorization, None);
    assert!(err.to_string().contains("401"));
}
