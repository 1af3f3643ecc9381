//! The HTTP side shared by the remote engines: [`clipforge_net`]'s client (timeouts,
//! retries with backoff, errors that say what to check) with the engine's name on its
//! errors.

use std::future::Future;
use std::time::Duration;

pub(crate) use clipforge_net::RetryPolicy;
use clipforge_net::{Client, SendError};
use reqwest::{RequestBuilder, Url};

use crate::AsrError;

/// Hints appended to errors, naming what the user should check.
#[derive(Debug, Clone)]
pub(crate) struct Hints {
    /// For 401: which setting holds the key.
    pub unauthorized: String,
    /// For 404: which settings name the endpoint and model.
    pub not_found: String,
}

/// A client for one speech service.
#[derive(Debug)]
pub(crate) struct Api {
    pub engine: &'static str,
    /// For building requests; shares its connections with the retrying client.
    pub client: reqwest::Client,
    http: Client,
}

impl Api {
    pub fn new(
        engine: &'static str,
        timeout: Duration,
        retry: RetryPolicy,
        hints: Hints,
    ) -> Result<Self, AsrError> {
        let hints = clipforge_net::Hints {
            too_large: Some(
                "the upload is larger than the service accepts; lower the upload size limit"
                    .to_owned(),
            ),
            ..clipforge_net::Hints::new(hints.unauthorized, hints.not_found)
        };
        let http = Client::new(timeout, retry, hints).map_err(|e| AsrError::Remote {
            engine,
            message: e.message,
        })?;
        Ok(Self {
            engine,
            client: http.reqwest().clone(),
            http,
        })
    }

    /// Sends the request that `build` makes (once per attempt, so a body streamed from a
    /// file starts over) and returns the body of the first successful answer. Retries on
    /// 408, 429, 5xx and transport errors; any other status fails at once.
    #[tracing::instrument(skip_all, fields(engine = self.engine))]
    pub async fn send<F, Fut>(&self, url: &Url, build: F) -> Result<bytes::Bytes, AsrError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<RequestBuilder, AsrError>>,
    {
        self.http.send(url, build).await.map_err(|e| match e {
            SendError::Build(e) => e,
            SendError::Http(e) => AsrError::Remote {
                engine: self.engine,
                message: e.message,
            },
        })
    }
}

/// The start of a body that failed to parse, for a `BadResponse` message.
pub(crate) fn bad_response(engine: &'static str, e: &serde_json::Error, body: &[u8]) -> AsrError {
    AsrError::BadResponse {
        engine,
        message: format!(
            "{e} (the answer starts with: {})",
            clipforge_net::snippet(body)
        ),
    }
}
