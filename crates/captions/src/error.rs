//! The one error type of the captions crate.

/// Why a captions request cannot be served, phrased so a user knows what to do next.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CaptionsError {
    #[error("unknown transcript format {input:?}: use one of json, srt, vtt, txt")]
    UnknownFormat { input: String },
}
