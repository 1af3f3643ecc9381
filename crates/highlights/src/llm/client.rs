//! One chat-completions request: the body, the key, retries on overload, and the settings
//! to check when the server refuses.

use std::sync::atomic::{AtomicBool, Ordering};

use clipforge_net::{Client, Hints, HttpError, RetryPolicy, SendError};
use reqwest::{StatusCode, Url};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{json, Value};

use super::LlmConfig;
use crate::HighlightsError;

/// Why a request gave no answer to read.
#[derive(Debug)]
pub(crate) enum ChatError {
    /// The server refused this request (400, 422): a JSON-mode server whose model wrote
    /// invalid JSON, a prompt too long for the model. Asking again may help.
    Rejected(HttpError),
    /// The server cannot be used: wrong key, URL or model, or still failing after retries.
    Failed(HttpError),
}

/// A client for one chat-completions endpoint.
#[derive(Debug)]
pub(crate) struct ChatClient {
    http: Client,
    endpoint: Url,
    api_key: Option<SecretString>,
    model: String,
    temperature: f64,
    /// Whether to send `response_format`; turned off for the rest of the run when the
    /// server says it does not know it.
    json_mode: AtomicBool,
}

impl ChatClient {
    pub fn new(config: &LlmConfig, endpoint: Url) -> Result<Self, HighlightsError> {
        let model = config.model.trim();
        if model.is_empty() {
            return Err(HighlightsError::Llm(
                "model is empty; name the model to ask, like gpt-4o-mini or llama3.1".into(),
            ));
        }
        let hints = Hints {
            forbidden: Some(
                "the key may not use this model; check the LLM api_key and model settings".into(),
            ),
            ..Hints::new(
                "check the LLM api_key setting: the key is missing, wrong or expired",
                format!(
                    "check the LLM base_url (the API root, like {}) and model settings",
                    super::DEFAULT_BASE_URL
                ),
            )
        };
        let retry = RetryPolicy {
            max_retries: config.max_retries,
            initial_backoff: config.initial_backoff,
        };
        let http = Client::new(config.timeout, retry, hints)
            .map_err(|e| HighlightsError::Llm(e.message))?;
        // Two decimals, so 0.2 goes out as 0.2 rather than f32's 0.20000000298.
        let temperature = (f64::from(config.temperature) * 100.0).round() / 100.0;
        Ok(Self {
            http,
            endpoint,
            api_key: config
                .api_key
                .clone()
                .filter(|k| !k.expose_secret().trim().is_empty()),
            model: model.to_owned(),
            temperature,
            json_mode: AtomicBool::new(true),
        })
    }

    /// Sends the two messages and returns the body of the answer.
    #[tracing::instrument(skip_all, fields(endpoint = %self.endpoint))]
    pub async fn complete(&self, system: &str, user: &str) -> Result<bytes::Bytes, ChatError> {
        let json_mode = self.json_mode.load(Ordering::Relaxed);
        let body = self.body(system, user, json_mode);
        let sent = self
            .http
            .send(&self.endpoint, || {
                let mut request = self.http.reqwest().post(self.endpoint.clone()).json(&body);
                if let Some(key) = &self.api_key {
                    request = request.bearer_auth(key.expose_secret());
                }
                std::future::ready(Ok::<_, std::convert::Infallible>(request))
            })
            .await;
        match sent {
            Ok(body) => Ok(body),
            Err(SendError::Build(never)) => match never {},
            Err(SendError::Http(e)) => {
                let refused = matches!(
                    e.status,
                    Some(StatusCode::BAD_REQUEST | StatusCode::UNPROCESSABLE_ENTITY)
                );
                if !refused {
                    return Err(ChatError::Failed(e));
                }
                if json_mode && e.message.contains("response_format") {
                    tracing::info!("the server does not take response_format; asking without it");
                    self.json_mode.store(false, Ordering::Relaxed);
                }
                Err(ChatError::Rejected(e))
            }
        }
    }

    fn body(&self, system: &str, user: &str, json_mode: bool) -> Value {
        let mut body = json!({
            "model": self.model,
            "messages": [
                {"role": "system", "content": system},
                {"role": "user", "content": user},
            ],
            "temperature": self.temperature,
            "stream": false,
        });
        if json_mode {
            body["response_format"] = json!({"type": "json_object"});
        }
        body
    }
}
