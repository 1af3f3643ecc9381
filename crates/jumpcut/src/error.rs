//! The one error type of this crate.

use clipforge_core::TranscriptError;

use crate::settings::Mode;

/// Why a jump-cut plan or an export could not be made.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum JumpcutError {
    /// A [`Settings`](crate::Settings) field is out of range; `field` is its serde name.
    #[error("invalid setting `{field}`: {reason}")]
    InvalidSetting {
        /// The field's name as written in configuration files.
        field: &'static str,
        /// What is wrong with it, for the user.
        reason: String,
    },
    /// An input (duration, frame rate, ranges, envelope, source info) is unusable.
    #[error("invalid input `{field}`: {reason}")]
    InvalidInput {
        /// Which input.
        field: &'static str,
        /// What is wrong with it, for the user.
        reason: String,
    },
    /// The chosen mode needs an input the caller did not give.
    #[error("{mode} mode needs {needs}, which was not given")]
    MissingInput {
        /// The mode that was asked for.
        mode: Mode,
        /// What it needs, in words.
        needs: &'static str,
    },
    /// No speech was found, so nothing would be kept.
    #[error("nothing to keep: the input is silent")]
    NoSpeech,
    /// Words mode was asked for with a transcript that has no words.
    #[error("the transcript has no words to cut by")]
    EmptyTranscript,
    /// The transcript breaks the invariants of [`clipforge_core::Transcript::validate`].
    #[error("invalid transcript: {0}")]
    Transcript(#[from] TranscriptError),
}

impl JumpcutError {
    pub(crate) fn setting(field: &'static str, reason: impl Into<String>) -> Self {
        Self::InvalidSetting {
            field,
            reason: reason.into(),
        }
    }

    pub(crate) fn input(field: &'static str, reason: impl Into<String>) -> Self {
        Self::InvalidInput {
            field,
            reason: reason.into(),
        }
    }
}
