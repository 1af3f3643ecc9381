//! Speech to text. Every engine implements [`Transcriber`] and returns the one
//! [`clipforge_core::Transcript`] shape.

pub mod error;
pub mod local;
pub mod remote;

pub use error::AsrError;
pub use local::{model, DecodeOptions, LocalEngine, LocalOptions, WhisperModel};

use std::path::Path;

use clipforge_core::{Progress, Transcript};

/// Options every engine understands.
#[derive(Debug, Clone, Default)]
pub struct TranscribeOptions {
    /// ISO 639-1 language code; `None` lets the engine detect it.
    pub language: Option<String>,
}

/// Turns the speech in a media file into a word-timed transcript.
#[async_trait::async_trait]
pub trait Transcriber: Send + Sync {
    /// Transcribes the audio of `input` (any media file ffmpeg can read).
    async fn transcribe(
        &self,
        input: &Path,
        options: &TranscribeOptions,
        progress: &dyn Progress,
    ) -> Result<Transcript, AsrError>;
}
