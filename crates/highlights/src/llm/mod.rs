//! Optional ranking by a language model behind any OpenAI-compatible
//! `POST {base_url}/chat/completions` (OpenAI, Groq, Ollama, vLLM, llama.cpp).
//!
//! The transcript goes in overlapping parts of about [`LlmConfig::chunk_chars`]; with each
//! part go the best local candidates that lie in it. The model scores and titles them and
//! may propose new ranges, which are always re-snapped to words and re-scored by the
//! caller's `resnap` before they count. Answers are JSON; one that does not parse is asked
//! for again twice, then that part keeps its local ranking. Nothing here is required: every
//! failure of the model or the server becomes a warning and the local ranking stands.
//!
//! Scores blend: a rated clip gets [`MODEL_WEIGHT`] × the model's score plus the rest of
//! its local score. The model judges meaning (does it hook, does it stand alone) that the
//! local features only approximate; the local share keeps its scores comparable across
//! parts, which the model sees one at a time. The model's one-sentence reason replaces the
//! local `reason`; the local `highlights` (the facts behind the local score) stay, with the
//! model's score added as one more.

mod chunk;
mod client;
mod merge;
mod parse;
mod prompt;

use std::time::Duration;

use clipforge_core::ClipSuggestion;
use reqwest::Url;
use secrecy::SecretString;

use crate::HighlightsError;
use client::{ChatClient, ChatError};
use merge::Board;

/// Share of the model's score in the final score of a clip it rated; the local score
/// makes up the rest.
pub const MODEL_WEIGHT: f64 = 0.6;
/// Attempts per transcript part when the answer is not the JSON asked for.
pub const ATTEMPTS_PER_PART: u32 = 3;
/// Most parts one ranking sends; a longer transcript gets larger parts.
pub const MAX_PARTS: usize = 32;
/// Parts in a row whose answers were all unusable before the rest is not asked for.
const GIVE_UP_AFTER_FAILED_PARTS: usize = 2;

/// OpenAI's API root.
pub const DEFAULT_BASE_URL: &str = "https://api.openai.com/v1";
/// A small, cheap model that follows JSON instructions well.
pub const DEFAULT_MODEL: &str = "gpt-4o-mini";

/// Settings of the language-model ranking. `Debug` shows no key.
#[derive(Debug, Clone)]
pub struct LlmConfig {
    /// API root that `/chat/completions` is appended to, e.g. `https://api.openai.com/v1`
    /// or `http://localhost:11434/v1` (Ollama).
    pub base_url: String,
    /// Sent as `Authorization: Bearer`; leave unset for self-hosted servers without one.
    pub api_key: Option<SecretString>,
    pub model: String,
    /// Limit for one request, answer included.
    pub timeout: Duration,
    /// How many of the best local candidates the model rates.
    pub top_candidates: usize,
    /// Size of one transcript part in characters; parts overlap by a tenth of this.
    pub chunk_chars: usize,
    pub temperature: f32,
    /// Retries after the first attempt on 408, 429, 5xx and connection errors.
    pub max_retries: u32,
    /// Wait before the first retry; doubles for each further one (with jitter, at most
    /// 30 s). A server's `Retry-After` takes precedence.
    pub initial_backoff: Duration,
}

impl Default for LlmConfig {
    fn default() -> Self {
        Self {
            base_url: DEFAULT_BASE_URL.to_owned(),
            api_key: None,
            model: DEFAULT_MODEL.to_owned(),
            timeout: Duration::from_secs(180),
            top_candidates: 20,
            chunk_chars: 12_000,
            temperature: 0.2,
            max_retries: 3,
            initial_backoff: Duration::from_secs(1),
        }
    }
}

/// One sentence of the transcript, in time order.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TranscriptLine<'a> {
    pub start: f64,
    pub end: f64,
    pub text: &'a str,
}

/// The suggestions after ranking, and what went wrong on the way (each warning says what
/// the user can check; the suggestions are still usable).
#[derive(Debug, Clone, PartialEq)]
pub struct LlmOutcome {
    pub suggestions: Vec<ClipSuggestion>,
    pub warnings: Vec<String>,
}

/// Re-ranks `candidates` (the local ranking, best first) with the model and returns at
/// most `max_out` suggestions, best first.
///
/// `resnap(start, end)` snaps a range to sentence and word boundaries, checks the duration
/// limits and scores it locally, or returns `None` when the range is unusable; every range
/// the model proposes goes through it. Only a malformed `config` is an error; a model or
/// server that fails leaves the local ranking with a warning.
#[tracing::instrument(skip_all, fields(model = %config.model, lines = lines.len(), candidates = candidates.len()))]
pub async fn rank(
    config: &LlmConfig,
    lines: &[TranscriptLine<'_>],
    candidates: Vec<ClipSuggestion>,
    resnap: &(dyn Fn(f64, f64) -> Option<ClipSuggestion> + Sync),
    max_out: usize,
) -> Result<LlmOutcome, HighlightsError> {
    let client = ChatClient::new(config, endpoint(&config.base_url)?)?;
    let mut board = Board::new(candidates, config.top_candidates);
    let mut warnings = Vec::new();
    let parts = chunk::split(lines, config.chunk_chars, MAX_PARTS);
    let assigned = board.assign(&parts);
    let lengths = board.length_range();
    let mut failed_in_a_row = 0;
    for (k, part) in parts.iter().enumerate() {
        let ids = &assigned[k];
        let user = prompt::user(part, k, parts.len(), &board.listed(ids), lengths);
        match ask(&client, &user).await {
            Ok(clips) => {
                failed_in_a_row = 0;
                board.apply(&clips, part, ids, resnap);
            }
            Err(Failure::Output(why)) => {
                failed_in_a_row += 1;
                let mut warning = format!(
                    "language model: part {} of {} keeps its local ranking: {why} ({ATTEMPTS_PER_PART} attempts)",
                    k + 1,
                    parts.len()
                );
                if failed_in_a_row >= GIVE_UP_AFTER_FAILED_PARTS && k + 1 < parts.len() {
                    warning.push_str("; the remaining parts were not sent");
                    warnings.push(warning);
                    break;
                }
                warnings.push(warning);
            }
            Err(Failure::Server(why)) => {
                let rest = if k == 0 {
                    "the local ranking stands".to_owned()
                } else {
                    format!(
                        "parts {} to {} keep their local ranking",
                        k + 1,
                        parts.len()
                    )
                };
                warnings.push(format!("language model: {why}; {rest}"));
                break;
            }
        }
    }
    for warning in &warnings {
        tracing::warn!("{warning}");
    }
    Ok(LlmOutcome {
        suggestions: board.finish(max_out),
        warnings,
    })
}

/// Why a part got no usable answer.
enum Failure {
    /// The answers were not the JSON asked for; later parts may fare better.
    Output(String),
    /// The server cannot be used (key, URL, model, outage); later parts would fail too.
    Server(String),
}

/// Sends one part, asking again when the answer is not usable.
async fn ask(client: &ChatClient, user: &str) -> Result<Vec<parse::ModelClip>, Failure> {
    let mut last = String::new();
    for attempt in 1..=ATTEMPTS_PER_PART {
        let why = match client.complete(prompt::SYSTEM, user).await {
            Ok(body) => match parse::answer(&body) {
                Ok(clips) => return Ok(clips),
                Err(why) => why,
            },
            Err(ChatError::Rejected(e)) => e.message,
            Err(ChatError::Failed(e)) => return Err(Failure::Server(e.message)),
        };
        tracing::debug!(attempt, %why, "unusable answer");
        last = why;
    }
    Err(Failure::Output(last))
}

/// The chat-completions URL under `base_url`, which may also name the endpoint itself.
fn endpoint(base_url: &str) -> Result<Url, HighlightsError> {
    let bad = |why: String| HighlightsError::Llm(format!("base_url {base_url:?} {why}"));
    let base = Url::parse(base_url.trim()).map_err(|e| {
        bad(format!(
            "is not a URL ({e}); use the API root, like {DEFAULT_BASE_URL}"
        ))
    })?;
    if !matches!(base.scheme(), "http" | "https") || base.host_str().is_none() {
        return Err(bad(format!(
            "must be an http(s) URL like {DEFAULT_BASE_URL}"
        )));
    }
    if base.query().is_some() || base.fragment().is_some() {
        return Err(bad("must not have a query or fragment".to_owned()));
    }
    let root = base.as_str().trim_end_matches('/');
    let url = if root.ends_with("/chat/completions") {
        root.to_owned()
    } else {
        format!("{root}/chat/completions")
    };
    Url::parse(&url).map_err(|e| bad(format!("gives no usable endpoint: {e}")))
}

#[cfg(test)]
mod tests {
    use secrecy::SecretString;

    use super::*;

    #[test]
    fn endpoint_is_appended_to_the_api_root() {
        let url = |s: &str| endpoint(s).map(|u| u.to_string());
        assert_eq!(
            url("https://api.openai.com/v1").unwrap(),
            "https://api.openai.com/v1/chat/completions"
        );
        assert_eq!(
            url(" http://localhost:11434/v1/ ").unwrap(),
            "http://localhost:11434/v1/chat/completions"
        );
        assert_eq!(
            url("http://h:8080/v1/chat/completions").unwrap(),
            "http://h:8080/v1/chat/completions"
        );
        for bad in ["", "localhost:11434/v1", "ftp://h/v1", "http://h/v1?x=1"] {
            let err = endpoint(bad).unwrap_err();
            assert!(err.to_string().contains("base_url"), "{bad:?}: {err}");
        }
    }

    #[test]
    fn debug_output_hides_the_key() {
        let config = LlmConfig {
            api_key: Some(SecretString::from("sk-very-secret")),
            ..LlmConfig::default()
        };
        let debug = format!("{config:?}");
        assert!(!debug.contains("sk-very-secret"), "{debug}");
        assert!(debug.contains("gpt-4o-mini"));
    }
}
