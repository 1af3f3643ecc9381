//! The one error type of the moment finder.

use std::path::PathBuf;

/// Why suggestions could not be produced.
#[derive(Debug, thiserror::Error)]
pub enum HighlightsError {
    #[error("invalid suggestion parameters: {0}")]
    Params(String),
    #[error("the transcript is not usable: {0}")]
    Transcript(String),
    #[error("sentence-embedding model not found (searched {searched}); run scripts/setup.sh to install all-MiniLM-L6-v2, or pass --embed-model DIR")]
    EmbedModelMissing { searched: String },
    #[error("sentence-embedding model in {path} cannot be loaded: {reason}")]
    EmbedModelInvalid { path: PathBuf, reason: String },
    #[error("sentence embedding failed: {0}")]
    Embed(String),
    #[error("language-model ranking failed: {0}")]
    Llm(String),
}
