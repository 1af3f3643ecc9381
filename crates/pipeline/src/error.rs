//! The pipeline's one error type.

use clipforge_media::MediaError;
use clipforge_reframe::ReframeError;

/// Why a pipeline stage failed, in words a user can act on.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error(transparent)]
    Media(#[from] MediaError),
    #[error(transparent)]
    Reframe(#[from] ReframeError),
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
