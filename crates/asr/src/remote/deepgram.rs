//! Deepgram's pre-recorded API, `POST /v1/listen`: punctuated, scored and (optionally)
//! diarized words, grouped into segments at speaker turns, sentence ends and pauses.

use std::path::{Path, PathBuf};
use std::time::Duration;

use clipforge_core::{Progress, Transcript, Word};
use clipforge_media::UploadPart;
use reqwest::header::{HeaderValue, AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE};
use reqwest::Url;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::http::{bad_response, Api, Hints, RetryPolicy};
use super::{
    finish, language, LanguageVotes, PreparedAudio, Timeline, SEGMENT_MAX_LEN, SEGMENT_MAX_PAUSE,
};
use crate::{AsrError, TranscribeOptions, Transcriber};

const ENGINE: &str = "Deepgram transcription";
/// Deepgram's hosted API.
pub const DEFAULT_BASE_URL: &str = "https://api.deepgram.com";
pub const DEFAULT_MODEL: &str = "nova-2";
/// Deepgram takes files up to 2 GB; the audio is still re-encoded to FLAC first so that a
/// video's picture is never uploaded.
pub const DEFAULT_MAX_UPLOAD_BYTES: u64 = 1_500_000_000;

const BASE_URL_VAR: &str = "CLIPFORGE_DEEPGRAM_BASE_URL";
const KEY_VAR: &str = "CLIPFORGE_DEEPGRAM_API_KEY";
const FALLBACK_KEY_VAR: &str = "DEEPGRAM_API_KEY";
const MODEL_VAR: &str = "CLIPFORGE_DEEPGRAM_MODEL";

/// Settings of [`DeepgramEngine`]. `Debug` shows no key.
#[derive(Debug, Clone)]
pub struct DeepgramConfig {
    /// Root of the API (`/v1/listen` is appended); a self-hosted Deepgram needs no key.
    pub base_url: String,
    /// Sent as `Authorization: Token`.
    pub api_key: Option<SecretString>,
    pub model: String,
    /// Ask Deepgram who speaks when; segments then carry speaker numbers.
    pub diarize: bool,
    /// Limit for one request: upload, transcription and answer.
    pub timeout: Duration,
    /// Retries after the first attempt on 408, 429, 5xx and connection errors.
    pub max_retries: u32,
    /// Wait before the first retry; doubles for each further one (with jitter, at most 30 s).
    pub initial_backoff: Duration,
    /// Largest file sent in one request; longer audio is split at silences.
    pub max_upload_bytes: u64,
    /// Where the temporary upload files go; the system temp dir when `None`.
    pub work_dir: Option<PathBuf>,
}

impl Default for DeepgramConfig {
    fn default() -> Self {
        Self {
            base_url: DEFAULT_BASE_URL.to_owned(),
            api_key: None,
            model: DEFAULT_MODEL.to_owned(),
            diarize: true,
            timeout: Duration::from_secs(900),
            max_retries: 3,
            initial_backoff: Duration::from_secs(1),
            max_upload_bytes: DEFAULT_MAX_UPLOAD_BYTES,
            work_dir: None,
        }
    }
}

impl DeepgramConfig {
    /// Defaults overridden by `CLIPFORGE_DEEPGRAM_BASE_URL`, `CLIPFORGE_DEEPGRAM_MODEL` and
    /// `CLIPFORGE_DEEPGRAM_API_KEY` (or `DEEPGRAM_API_KEY`).
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
        config.api_key = get(KEY_VAR)
            .or_else(|| get(FALLBACK_KEY_VAR))
            .map(SecretString::from);
        config
    }
}

/// Transcribes through Deepgram's `/v1/listen`.
#[derive(Debug)]
pub struct DeepgramEngine {
    config: DeepgramConfig,
    endpoint: Url,
    api: Api,
}

impl DeepgramEngine {
    /// Checks the settings; Deepgram's hosted API without a key is [`AsrError::NotConfigured`].
    pub fn new(mut config: DeepgramConfig) -> Result<Self, AsrError> {
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
        let root = base.as_str().trim_end_matches('/');
        let root = root.strip_suffix("/v1").unwrap_or(root);
        let endpoint = Url::parse(&format!("{root}/v1/listen"))
            .map_err(|e| not_configured(format!("{BASE_URL_VAR} gives no usable endpoint: {e}")))?;
        config.api_key = config
            .api_key
            .filter(|k| !k.expose_secret().trim().is_empty());
        let hosted = base
            .host_str()
            .is_some_and(|h| h == "deepgram.com" || h.ends_with(".deepgram.com"));
        if config.api_key.is_none() && hosted {
            return Err(not_configured(format!(
                "set {KEY_VAR} (or {FALLBACK_KEY_VAR}) to a Deepgram API key, or point {BASE_URL_VAR} at a self-hosted Deepgram"
            )));
        }
        let retry = RetryPolicy {
            max_retries: config.max_retries,
            initial_backoff: config.initial_backoff,
        };
        let hints = Hints {
            unauthorized: format!("check {KEY_VAR} or {FALLBACK_KEY_VAR}"),
            not_found: format!("check {BASE_URL_VAR} and {MODEL_VAR}"),
        };
        let api = Api::new(ENGINE, config.timeout, retry, hints)?;
        Ok(Self {
            config,
            endpoint,
            api,
        })
    }

    fn url(&self, language: Option<&str>) -> Url {
        let mut url = self.endpoint.clone();
        {
            let mut query = url.query_pairs_mut();
            query
                .append_pair("model", &self.config.model)
                .append_pair("punctuate", "true")
                .append_pair("smart_format", "true")
                .append_pair(
                    "diarize",
                    if self.config.diarize { "true" } else { "false" },
                );
            match language {
                Some(language) => query.append_pair("language", language),
                None => query.append_pair("detect_language", "true"),
            };
        }
        url
    }

    /// Sends one part and parses the answer.
    #[tracing::instrument(skip_all, fields(part = index, offset = part.offset))]
    async fn request(
        &self,
        index: usize,
        part: &UploadPart,
        language: Option<&str>,
    ) -> Result<Listen, AsrError> {
        let url = self.url(language);
        let body = self
            .api
            .send(&url, || async {
                let io = |source| AsrError::Io {
                    path: part.path.clone(),
                    source,
                };
                let file = tokio::fs::File::open(&part.path).await.map_err(io)?;
                let len = file.metadata().await.map_err(io)?.len();
                let mut request = self
                    .api
                    .client
                    .post(url.clone())
                    .header(CONTENT_TYPE, part.mime)
                    // Streamed bodies are otherwise sent chunked; Deepgram wants the length.
                    .header(CONTENT_LENGTH, len)
                    .body(file);
                if let Some(key) = &self.config.api_key {
                    let mut value = HeaderValue::try_from(format!("Token {}", key.expose_secret()))
                        .map_err(|_| AsrError::NotConfigured {
                            engine: ENGINE,
                            hint: format!(
                                "{KEY_VAR} holds characters that cannot be sent in a header"
                            ),
                        })?;
                    value.set_sensitive(true);
                    request = request.header(AUTHORIZATION, value);
                }
                Ok(request)
            })
            .await?;
        serde_json::from_slice(&body).map_err(|e| bad_response(ENGINE, &e, &body))
    }
}

#[async_trait::async_trait]
impl Transcriber for DeepgramEngine {
    #[tracing::instrument(skip_all, fields(engine = "deepgram", model = %self.config.model, input = %input.display()))]
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
        progress.stage("transcribing (Deepgram)");
        let mut timeline = Timeline::new(audio.duration);
        let mut votes = LanguageVotes::default();
        let mut words = Vec::new();
        for (index, part) in audio.parts.iter().enumerate() {
            let response = self.request(index, part, requested.as_deref()).await?;
            let (detected, part_words) = response.into_words(part, &mut timeline);
            votes.add(detected, part_words.len());
            words.extend(part_words);
            progress.update(
                (part.offset + part.duration).min(audio.duration),
                audio.duration,
            );
        }
        let transcript = Transcript {
            language: votes.decide(requested.as_deref()),
            duration: audio.duration,
            segments: Transcript::segment_words(words, SEGMENT_MAX_PAUSE, SEGMENT_MAX_LEN),
        };
        finish(ENGINE, transcript)
    }
}

/// The documented answer of `/v1/listen`; fields clipforge does not use are ignored.
#[derive(Debug, Deserialize)]
struct Listen {
    #[serde(default)]
    metadata: Option<Metadata>,
    results: Results,
}

#[derive(Debug, Deserialize)]
struct Metadata {
    #[serde(default)]
    duration: Option<f64>,
}

#[derive(Debug, Deserialize)]
struct Results {
    channels: Vec<Channel>,
}

#[derive(Debug, Deserialize)]
struct Channel {
    #[serde(default)]
    alternatives: Vec<Alternative>,
    #[serde(default)]
    detected_language: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Alternative {
    #[serde(default)]
    words: Vec<ApiWord>,
}

#[derive(Debug, Deserialize)]
struct ApiWord {
    word: String,
    start: f64,
    end: f64,
    #[serde(default)]
    confidence: Option<f32>,
    #[serde(default)]
    punctuated_word: Option<String>,
    #[serde(default)]
    speaker: Option<u32>,
}

impl Listen {
    /// The detected language and the part's words on the input's timeline, with speakers.
    fn into_words(
        self,
        part: &UploadPart,
        timeline: &mut Timeline,
    ) -> (Option<String>, Vec<(Word, Option<u32>)>) {
        let reported = self.metadata.and_then(|m| m.duration);
        let Some(channel) = self.results.channels.into_iter().next() else {
            return (None, Vec::new());
        };
        let detected = channel
            .detected_language
            .as_deref()
            .and_then(language::to_code);
        let words = channel
            .alternatives
            .into_iter()
            .next()
            .map(|a| a.words)
            .unwrap_or_default()
            .into_iter()
            .filter_map(|w| {
                let text = w
                    .punctuated_word
                    .as_deref()
                    .filter(|p| !p.trim().is_empty())
                    .unwrap_or(&w.word);
                let confidence = w.confidence.unwrap_or(1.0);
                let word = timeline.place(part, reported, (w.start, w.end), text, confidence)?;
                Some((word, w.speaker))
            })
            .collect();
        (detected, words)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_use_punctuation_confidence_and_speakers() {
        let body = r#"{
          "metadata": {"request_id": "r", "duration": 4.0, "channels": 1},
          "results": {"channels": [{"detected_language": "en", "alternatives": [{
            "transcript": "hello there how are you",
            "confidence": 0.99,
            "words": [
              {"word": "hello", "start": 0.1, "end": 0.5, "confidence": 0.98, "punctuated_word": "Hello", "speaker": 0, "speaker_confidence": 0.9},
              {"word": "there", "start": 0.5, "end": 0.9, "confidence": 0.97, "punctuated_word": "there.", "speaker": 0},
              {"word": "how", "start": 1.2, "end": 1.4, "confidence": 0.6, "punctuated_word": "How", "speaker": 1},
              {"word": "you", "start": 1.5, "end": 5.0, "confidence": 1.4, "speaker": 1}
            ]}]}]}
        }"#;
        let listen: Listen = serde_json::from_str(body).unwrap();
        let part = UploadPart {
            path: PathBuf::from("p.flac"),
            offset: 10.0,
            duration: 5.0,
            mime: "audio/flac",
        };
        let (language, words) = listen.into_words(&part, &mut Timeline::new(20.0));
        assert_eq!(language.as_deref(), Some("en"));
        let got: Vec<_> = words
            .iter()
            .map(|(w, s)| (w.text.as_str(), w.start, *s))
            .collect();
        assert_eq!(
            got,
            [
                ("Hello", 10.1, Some(0)),
                ("there.", 10.5, Some(0)),
                ("How", 11.2, Some(1)),
                ("you", 11.5, Some(1))
            ]
        );
        // Clamped to the reported 4 s and to confidence 1.
        assert_eq!((words[3].0.end, words[3].0.confidence), (14.0, 1.0));
        let segments = Transcript::segment_words(words, SEGMENT_MAX_PAUSE, SEGMENT_MAX_LEN);
        let turns: Vec<_> = segments
            .iter()
            .map(|s| (s.text.as_str(), s.speaker))
            .collect();
        assert_eq!(turns, [("Hello there.", Some(0)), ("How you", Some(1))]);
    }

    #[test]
    fn url_asks_for_language_or_detection() {
        let config = DeepgramConfig {
            base_url: "http://127.0.0.1:1/v1/".into(),
            diarize: false,
            ..DeepgramConfig::default()
        };
        let engine = DeepgramEngine::new(config).unwrap();
        assert_eq!(
            engine.url(Some("de")).as_str(),
            "http://127.0.0.1:1/v1/listen?model=nova-2&punctuate=true&smart_format=true&diarize=false&language=de"
        );
        assert!(engine.url(None).as_str().ends_with("&detect_language=true"));
    }

    #[test]
    fn config_reads_env_needs_a_key_and_hides_it() {
        let config = DeepgramConfig::from_lookup(|name| {
            (name == FALLBACK_KEY_VAR).then(|| "dg-secret".to_owned())
        });
        assert_eq!(
            config.api_key.as_ref().unwrap().expose_secret(),
            "dg-secret"
        );
        assert!(!format!("{config:?}").contains("dg-secret"));
        assert!(DeepgramEngine::new(config).is_ok());
        let err = DeepgramEngine::new(DeepgramConfig::default()).unwrap_err();
        assert!(matches!(err, AsrError::NotConfigured { .. }));
        assert!(err.to_string().contains(KEY_VAR), "{err}");
    }
}
