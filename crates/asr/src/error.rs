//! The one error type of the speech engines.

use std::path::PathBuf;

use clipforge_media::MediaError;

/// Why a transcription failed, phrased so a user knows what to do next.
#[derive(Debug, thiserror::Error)]
pub enum AsrError {
    #[error(transparent)]
    Media(#[from] MediaError),
    #[error("no Whisper model found (looked in {searched}). Get one with `clipforge models import <DIR>` from a faster-whisper model folder (config.json, model.bin, tokenizer.json, vocabulary.txt), or pass --model DIR")]
    ModelMissing { searched: String },
    #[error("{path} is not a usable faster-whisper model folder: {reason}")]
    InvalidModel { path: PathBuf, reason: String },
    #[error("speech engine failed: {0}")]
    Engine(String),
    #[error("{engine} is not configured: {hint}")]
    NotConfigured { engine: &'static str, hint: String },
    #[error("{engine} request failed: {message}")]
    Remote {
        engine: &'static str,
        message: String,
    },
    #[error("{engine} answered with something that is not a transcript: {message}")]
    BadResponse {
        engine: &'static str,
        message: String,
    },
    #[error("I/O error on {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}
