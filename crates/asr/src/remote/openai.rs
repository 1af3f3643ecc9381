//! Any server that speaks OpenAI's `POST /audio/transcriptions` with `verbose_json`:
//! OpenAI, Groq, and self-hosted Whisper servers.
//!
//! Word confidence: this API times words but scores none, so each word carries its
//! segment's `exp(avg_logprob)` (the geometric mean of the segment's token probabilities).
//! That keeps the words of a doubtful segment low without inventing differences between
//! words; a server that sends no `avg_logprob` gets 1.0.

use std::path::{Path, PathBuf};
use std::time::Duration;

use clipforge_core::{Progress, Segment, Transcript};
use clipforge_media::UploadPart;
use reqwest::multipart::{Form, Part};
use reqwest::Url;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::align::align;
use super::http::{bad_response, Api, Hints, RetryPolicy};
use super::{
    finish, group_by_key, language, LanguageVotes, PreparedAudio, Timeline, SEGMENT_MAX_LEN,
    SEGMENT_MAX_PAUSE,
};
use crate::{AsrError, TranscribeOptions, Transcriber};

const ENGINE: &str = "OpenAI transcription";
/// OpenAI's API root.
pub const DEFAULT_BASE_URL: &str = "https://api.openai.com/v1";
/// OpenAI's Whisper model; Groq's are `whisper-large-v3` and `whisper-large-v3-turbo`.
pub const DEFAULT_MODEL: &str = "whisper-1";
/// OpenAI and Groq take files up to 25 MiB; this leaves room for the multipart framing.
pub const DEFAULT_MAX_UPLOAD_BYTES: u64 = 24 * 1024 * 1024;

const BASE_URL_VAR: &str = "CLIPFORGE_OPENAI_BASE_URL";
const KEY_VAR: &str = "CLIPFORGE_OPENAI_API_KEY";
const MODEL_VAR: &str = "CLIPFORGE_OPENAI_MODEL";

/// Hosted services that cannot be used without a key, with the variable their own tools
/// read it from. That variable is only read for its own host, so an OpenAI key is never
/// sent to another server.
const HOSTED: &[(&str, &str)] = &[
    ("api.openai.com", "OPENAI_API_KEY"),
    ("api.groq.com", "GROQ_API_KEY"),
];

/// Settings of [`OpenAiEngine`]. `Debug` shows no key.
#[derive(Debug, Clone)]
pub struct OpenAiConfig {
    /// API root the endpoint path is appended to, e.g. `https://api.groq.com/openai/v1`.
    pub base_url: String,
    /// Sent as `Authorization: Bearer`; optional for self-hosted servers.
    pub api_key: Option<SecretString>,
    pub model: String,
    /// Limit for one request: upload, transcription and answer.
    pub timeout: Duration,
    /// Retries after the first attempt on 408, 429, 5xx and connection errors.
    pub max_retries: u32,
    /// Wait before the first retry; doubles for each further one (with jitter, at most 30 s).
    pub initial_backoff: Duration,
    /// Largest file sent in one request; longer audio is split at silences.
    pub max_upload_bytes: u64,
    /// Where the temporary upload files go (a folder removed afterwards is made inside it);
    /// the system temp dir when `None`.
    pub work_dir: Option<PathBuf>,
}

impl Default for OpenAiConfig {
    fn default() -> Self {
        Self {
            base_url: DEFAULT_BASE_URL.to_owned(),
            api_key: None,
            model: DEFAULT_MODEL.to_owned(),
            timeout: Duration::from_secs(300),
            max_retries: 3,
            initial_backoff: Duration::from_secs(1),
            max_upload_bytes: DEFAULT_MAX_UPLOAD_BYTES,
            work_dir: None,
        }
    }
}

impl OpenAiConfig {
    /// Defaults overridden by `CLIPFORGE_OPENAI_BASE_URL`, `CLIPFORGE_OPENAI_MODEL` and
    /// `CLIPFORGE_OPENAI_API_KEY` (or `OPENAI_API_KEY` for OpenAI, `GROQ_API_KEY` for Groq).
    pub fn from_env() -> Self {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let get = |name: &str| {
            lookup(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let mut config = Self::default();
        if let Some(url) = get(BASE_URL_VAR) {
            config.base_url = url;
        }
        if let Some(model) = get(MODEL_VAR) {
            config.model = model;
        }
        let hosted_var = Url::parse(&config.base_url)
            .ok()
            .and_then(|url| hosted_key_var(&url));
        config.api_key = get(KEY_VAR)
            .or_else(|| hosted_var.and_then(get))
            .map(SecretString::from);
        config
    }
}

fn hosted_key_var(url: &Url) -> Option<&'static str> {
    let host = url.host_str()?;
    HOSTED.iter().find(|(h, _)| *h == host).map(|(_, var)| *var)
}

/// Transcribes through an OpenAI-compatible `/audio/transcriptions` endpoint.
#[derive(Debug)]
pub struct OpenAiEngine {
    config: OpenAiConfig,
    endpoint: Url,
    api: Api,
}

impl OpenAiEngine {
    /// Checks the settings; a hosted service without a key is [`AsrError::NotConfigured`].
    pub fn new(mut config: OpenAiConfig) -> Result<Self, AsrError> {
        let not_configured = |hint: String| AsrError::NotConfigured {
            engine: ENGINE,
            hint,
        };
        let base = Url::parse(config.base_url.trim())
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https"))
            .ok_or_else(|| {
                not_configured(format!(
                    "{BASE_URL_VAR} must be an http(s) URL like {DEFAULT_BASE_URL}, not {:?}",
                    config.base_url
                ))
            })?;
        let endpoint = Url::parse(&format!(
            "{}/audio/transcriptions",
            base.as_str().trim_end_matches('/')
        ))
        .map_err(|e| not_configured(format!("{BASE_URL_VAR} gives no usable endpoint: {e}")))?;
        config.api_key = config
            .api_key
            .filter(|k| !k.expose_secret().trim().is_empty());
        let hosted_var = hosted_key_var(&base);
        let key_vars =
            hosted_var.map_or_else(|| KEY_VAR.to_owned(), |var| format!("{KEY_VAR} or {var}"));
        if config.api_key.is_none() && hosted_var.is_some() {
            return Err(not_configured(format!(
                "set {key_vars} to an API key for {}, or point {BASE_URL_VAR} at a self-hosted server",
                base.host_str().unwrap_or_default()
            )));
        }
        let retry = RetryPolicy {
            max_retries: config.max_retries,
            initial_backoff: config.initial_backoff,
        };
        let hints = Hints {
            unauthorized: format!("check {key_vars}"),
            not_found: format!(
                "check {BASE_URL_VAR} (the API root, like {DEFAULT_BASE_URL}) and {MODEL_VAR}"
            ),
        };
        let api = Api::new(ENGINE, config.timeout, retry, hints)?;
        Ok(Self {
            config,
            endpoint,
            api,
        })
    }

    /// Sends one part and parses the answer.
    #[tracing::instrument(skip_all, fields(part = index, offset = part.offset))]
    async fn request(
        &self,
        index: usize,
        part: &UploadPart,
        language: Option<&str>,
    ) -> Result<VerboseJson, AsrError> {
        let file_name = part.path.file_name().map_or_else(
            || "audio.flac".to_owned(),
            |n| n.to_string_lossy().into_owned(),
        );
        let body = self
            .api
            .send(&self.endpoint, || {
                let file_name = file_name.clone();
                async move {
                    let io = |source| AsrError::Io {
                        path: part.path.clone(),
                        source,
                    };
                    let file = tokio::fs::File::open(&part.path).await.map_err(io)?;
                    let len = file.metadata().await.map_err(io)?.len();
                    let file = Part::stream_with_length(file, len)
                        .file_name(file_name)
                        .mime_str(part.mime)
                        .map_err(|e| AsrError::Remote {
                            engine: ENGINE,
                            message: format!("unusable MIME type {:?}: {e}", part.mime),
                        })?;
                    let mut form = Form::new()
                        .part("file", file)
                        .text("model", self.config.model.clone())
                        .text("response_format", "verbose_json")
                        .text("timestamp_granularities[]", "word")
                        .text("timestamp_granularities[]", "segment");
                    if let Some(language) = language {
                        form = form.text("language", language.to_owned());
                    }
                    let mut request = self.api.client.post(self.endpoint.clone()).multipart(form);
                    if let Some(key) = &self.config.api_key {
                        request = request.bearer_auth(key.expose_secret());
                    }
                    Ok(request)
                }
            })
            .await?;
        serde_json::from_slice(&body).map_err(|e| bad_response(ENGINE, &e, &body))
    }
}

#[async_trait::async_trait]
impl Transcriber for OpenAiEngine {
    #[tracing::instrument(skip_all, fields(engine = "openai", model = %self.config.model, input = %input.display()))]
    async fn transcribe(
        &self,
        input: &Path,
        options: &TranscribeOptions,
        progress: &dyn Progress,
    ) -> Result<Transcript, AsrError> {
        let requested = options.language.as_deref().and_then(language::to_code);
        let work_dir = self.config.work_dir.as_deref();
        let audio =
            PreparedAudio::new(input, self.config.max_upload_bytes, work_dir, progress).await?;
        progress.stage("transcribing (OpenAI-compatible API)");
        let mut timeline = Timeline::new(audio.duration);
        let mut votes = LanguageVotes::default();
        let mut segments = Vec::new();
        for (index, part) in audio.parts.iter().enumerate() {
            let response = self.request(index, part, requested.as_deref()).await?;
            let detected = response.language.as_deref().and_then(language::to_code);
            let part_segments = response.into_segments(part, &mut timeline);
            votes.add(detected, part_segments.iter().map(|s| s.words.len()).sum());
            segments.extend(part_segments);
            progress.update(
                (part.offset + part.duration).min(audio.duration),
                audio.duration,
            );
        }
        let transcript = Transcript {
            language: votes.decide(requested.as_deref()),
            duration: audio.duration,
            segments,
        };
        finish(ENGINE, transcript)
    }
}

/// The documented `verbose_json` answer; fields clipforge does not use are ignored.
#[derive(Debug, Deserialize)]
struct VerboseJson {
    /// A name like `english` from OpenAI, `English` from Groq, a code from some servers.
    #[serde(default)]
    language: Option<String>,
    /// Seconds of audio the server heard; a string on some servers, ignored then.
    #[serde(default)]
    duration: Option<serde_json::Value>,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    segments: Option<Vec<ApiSegment>>,
    /// `None` when the server ignored `timestamp_granularities[]=word`; empty for silence.
    #[serde(default)]
    words: Option<Vec<ApiWord>>,
}

#[derive(Debug, Deserialize)]
struct ApiSegment {
    start: f64,
    end: f64,
    #[serde(default)]
    text: String,
    #[serde(default)]
    avg_logprob: Option<f64>,
}

impl ApiSegment {
    fn confidence(&self) -> f32 {
        self.avg_logprob
            .map_or(1.0, |lp| lp.exp().clamp(0.0, 1.0) as f32)
    }
}

#[derive(Debug, Clone, Deserialize)]
struct ApiWord {
    word: String,
    start: f64,
    end: f64,
}

impl VerboseJson {
    /// The part's words on the input's timeline, punctuated from the segment text and
    /// grouped by the server's segments (or by sentences and pauses when it sent none).
    fn into_segments(self, part: &UploadPart, timeline: &mut Timeline) -> Vec<Segment> {
        let api_segments = self.segments.unwrap_or_default();
        let words = self.words.unwrap_or_else(|| spread_words(&api_segments));
        if words.is_empty() {
            return Vec::new();
        }
        let texts: Vec<&str> = if api_segments.is_empty() {
            self.text.as_deref().into_iter().collect()
        } else {
            api_segments.iter().map(|s| s.text.as_str()).collect()
        };
        let bare: Vec<&str> = words.iter().map(|w| w.word.as_str()).collect();
        let aligned = align(&bare, &texts);
        let reported = self.duration.as_ref().and_then(serde_json::Value::as_f64);
        let mut place = |w: &ApiWord, text: &str, confidence| {
            timeline.place(part, reported, (w.start, w.end), text, confidence)
        };

        if api_segments.is_empty() {
            let placed = words
                .iter()
                .zip(&aligned)
                .filter_map(|(w, a)| place(w, &a.text, 1.0))
                .map(|w| (w, None))
                .collect();
            return Transcript::segment_words(placed, SEGMENT_MAX_PAUSE, SEGMENT_MAX_LEN);
        }
        let mut segment = 0;
        let mut placed = Vec::with_capacity(words.len());
        for (word, aligned) in words.iter().zip(aligned) {
            // A word belongs to the segment whose text it was found in, else to the one its
            // middle falls in; never to a segment before the previous word's.
            let middle = (word.start + word.end) / 2.0;
            let by_time = || {
                api_segments
                    .iter()
                    .position(|s| middle <= s.end)
                    .unwrap_or(api_segments.len() - 1)
            };
            segment = aligned.source.unwrap_or_else(by_time).max(segment);
            if let Some(w) = place(word, &aligned.text, api_segments[segment].confidence()) {
                placed.push((w, segment));
            }
        }
        group_by_key(placed)
    }
}

/// Words for a server that sent segments but no word times: each segment's time is spread
/// over its words by length. Rough, but captions stay near the speech.
fn spread_words(segments: &[ApiSegment]) -> Vec<ApiWord> {
    if segments.iter().any(|s| !s.text.trim().is_empty()) {
        tracing::warn!(
            "the server sent no word timestamps; word times are estimated from segments"
        );
    }
    let mut words = Vec::new();
    for segment in segments {
        let tokens: Vec<&str> = segment.text.split_whitespace().collect();
        let letters: usize = tokens.iter().map(|t| t.chars().count()).sum();
        let per_letter = (segment.end - segment.start).max(0.0) / letters.max(1) as f64;
        let mut at = segment.start;
        for token in tokens {
            let end = at + per_letter * token.chars().count() as f64;
            words.push(ApiWord {
                word: token.to_owned(),
                start: at,
                end,
            });
            at = end;
        }
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shape of OpenAI's documented `verbose_json` example, with word timestamps.
    const RESPONSE: &str = r#"{
      "task": "transcribe", "language": "english", "duration": 8.47,
      "text": "The beach was a popular spot on a hot summer day. People were swimming.",
      "segments": [
        {"id": 0, "seek": 0, "start": 0.0, "end": 3.32, "text": " The beach was a popular spot on a hot summer day.",
         "tokens": [50364, 440], "temperature": 0.0, "avg_logprob": -0.2860786020755768,
         "compression_ratio": 1.2363636493682861, "no_speech_prob": 0.00985979475080967},
        {"id": 1, "seek": 0, "start": 3.32, "end": 8.47, "text": " People were swimming.",
         "tokens": [50530], "temperature": 0.0, "avg_logprob": -0.1, "compression_ratio": 1.0, "no_speech_prob": 0.01}
      ],
      "words": [
        {"word": "The", "start": 0.0, "end": 0.24}, {"word": "beach", "start": 0.24, "end": 0.6},
        {"word": "was", "start": 0.6, "end": 0.8}, {"word": "a", "start": 0.8, "end": 0.9},
        {"word": "popular", "start": 0.9, "end": 1.3}, {"word": "spot", "start": 1.3, "end": 1.6},
        {"word": "on", "start": 1.6, "end": 1.8}, {"word": "a", "start": 1.8, "end": 1.9},
        {"word": "hot", "start": 1.9, "end": 2.2}, {"word": "summer", "start": 2.2, "end": 2.6},
        {"word": "day", "start": 2.6, "end": 3.0}, {"word": "People", "start": 3.5, "end": 3.9},
        {"word": "were", "start": 3.9, "end": 4.1}, {"word": "swimming", "start": 4.1, "end": 9.0}
      ]
    }"#;

    fn part(offset: f64, duration: f64) -> UploadPart {
        UploadPart {
            path: PathBuf::from("part.flac"),
            offset,
            duration,
            mime: "audio/flac",
        }
    }

    #[test]
    fn verbose_json_becomes_punctuated_segments_on_the_input_timeline() {
        let response: VerboseJson = serde_json::from_str(RESPONSE).unwrap();
        let mut timeline = Timeline::new(100.0);
        let segments = response.into_segments(&part(60.0, 9.0), &mut timeline);
        assert_eq!(segments.len(), 2);
        assert_eq!(
            segments[0].text,
            "The beach was a popular spot on a hot summer day."
        );
        assert_eq!(segments[1].text, "People were swimming.");
        assert_eq!(segments[0].start, 60.0);
        // The last word ran past the reported duration: clamped to it.
        assert!((segments[1].end - 68.47).abs() < 1e-9);
        let confidence = segments[0].words[0].confidence;
        assert!((confidence - (-0.2860786f32).exp()).abs() < 1e-6);
    }

    #[test]
    fn silence_is_no_segments_and_missing_word_times_are_estimated() {
        let silent: VerboseJson = serde_json::from_str(
            r#"{"language":"english","duration":3.0,"text":"","segments":[],"words":[]}"#,
        )
        .unwrap();
        assert!(silent
            .into_segments(&part(0.0, 3.0), &mut Timeline::new(3.0))
            .is_empty());

        let no_words: VerboseJson = serde_json::from_str(
            r#"{"text":"Hi there. Bye.","segments":[{"start":1.0,"end":2.0,"text":" Hi there."},{"start":2.0,"end":3.0,"text":" Bye."}]}"#,
        )
        .unwrap();
        let segments = no_words.into_segments(&part(0.0, 3.0), &mut Timeline::new(3.0));
        let words: Vec<_> = segments
            .iter()
            .flat_map(|s| &s.words)
            .map(|w| (w.text.as_str(), w.start))
            .collect();
        assert_eq!(words, [("Hi", 1.0), ("there.", 1.25), ("Bye.", 2.0)]);
    }

    #[test]
    fn words_without_segments_take_punctuation_from_the_text() {
        let response: VerboseJson = serde_json::from_str(
            r#"{"text":"One two. Three?","words":[{"word":"one","start":0.1,"end":0.3},{"word":"two","start":0.4,"end":0.6},{"word":"three","start":0.8,"end":1.0}]}"#,
        )
        .unwrap();
        let segments = response.into_segments(&part(0.0, 2.0), &mut Timeline::new(2.0));
        let texts: Vec<_> = segments.iter().map(|s| s.text.as_str()).collect();
        assert_eq!(texts, ["One two.", "Three?"]);
    }

    #[test]
    fn config_reads_env_and_hides_the_key() {
        let env = |vars: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                vars.iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| (*v).to_owned())
            }
        };
        let config = OpenAiConfig::from_lookup(env(&[
            ("OPENAI_API_KEY", "sk-secret-1"),
            (MODEL_VAR, " whisper-large "),
        ]));
        assert_eq!(
            config.api_key.as_ref().unwrap().expose_secret(),
            "sk-secret-1"
        );
        assert_eq!(config.model, "whisper-large");
        assert!(!format!("{config:?}").contains("sk-secret-1"));

        // Another server never gets the OpenAI key; its own variable is read instead.
        let config = OpenAiConfig::from_lookup(env(&[
            (BASE_URL_VAR, "https://api.groq.com/openai/v1"),
            ("OPENAI_API_KEY", "sk-openai"),
            ("GROQ_API_KEY", "gsk-groq"),
        ]));
        assert_eq!(config.api_key.as_ref().unwrap().expose_secret(), "gsk-groq");
        let config = OpenAiConfig::from_lookup(env(&[
            (BASE_URL_VAR, "http://localhost:8000/v1"),
            ("OPENAI_API_KEY", "sk"),
        ]));
        assert!(config.api_key.is_none());
        let config = OpenAiConfig::from_lookup(env(&[(KEY_VAR, "k1"), ("OPENAI_API_KEY", "k2")]));
        assert_eq!(config.api_key.as_ref().unwrap().expose_secret(), "k1");
    }

    #[test]
    fn hosted_services_need_a_key_and_urls_must_be_http() {
        let err = OpenAiEngine::new(OpenAiConfig::default()).unwrap_err();
        assert!(matches!(err, AsrError::NotConfigured { .. }));
        assert!(
            err.to_string()
                .contains("CLIPFORGE_OPENAI_API_KEY or OPENAI_API_KEY"),
            "{err}"
        );
        let groq = OpenAiConfig {
            base_url: "https://api.groq.com/openai/v1".into(),
            api_key: Some(SecretString::from(" ")),
            ..OpenAiConfig::default()
        };
        assert!(OpenAiEngine::new(groq)
            .unwrap_err()
            .to_string()
            .contains("GROQ_API_KEY"));
        let local = OpenAiConfig {
            base_url: "http://127.0.0.1:9000/v1/".into(),
            ..OpenAiConfig::default()
        };
        let engine = OpenAiEngine::new(local).unwrap();
        assert_eq!(
            engine.endpoint.as_str(),
            "http://127.0.0.1:9000/v1/audio/transcriptions"
        );
        let bad = OpenAiConfig {
            base_url: "api.openai.com".into(),
            ..OpenAiConfig::default()
        };
        assert!(matches!(
            OpenAiEngine::new(bad),
            Err(AsrError::NotConfigured { .. })
        ));
    }
}
