//! The pipeline's one error type.

use std::path::PathBuf;

use clipforge_jumpcut::JumpcutError;
use clipforge_media::MediaError;
use clipforge_reframe::ReframeError;

/// Why a pipeline stage failed, in words a user can act on.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error(transparent)]
    Media(#[from] MediaError),
    #[error(transparent)]
    Reframe(#[from] ReframeError),
    /// The jump-cut plan could not be made: a bad setting, nothing to keep (silent
    /// input), a missing or empty transcript.
    #[error(transparent)]
    Jumpcut(#[from] JumpcutError),
    /// Cutting silences (loudness or speech mode) on a file without an audio stream.
    #[error(
        "{} has no audio stream, and cutting silences ({mode} mode) needs sound; use a file \
         with sound, or words mode with a transcript",
        path.display()
    )]
    NeedsSound { path: PathBuf, mode: String },
    /// A jump cut of a file without a picture.
    #[error("{} has no video stream; jump cuts are made from a video", path.display())]
    NoVideo { path: PathBuf },
    /// A setting that cannot work, with what to use instead.
    #[error("{0}")]
    Settings(String),
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
}

impl PipelineError {
    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Self::Io {
            context: context.into(),
            source,
        }
    }
}
