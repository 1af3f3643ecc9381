//! The one error type of the reframing crate.

/// Why reframing a clip failed.
#[derive(Debug, thiserror::Error)]
pub enum ReframeError {
    /// Sampling frames failed (missing ffmpeg, unreadable file, no video, cancelled...).
    #[error("could not sample frames for reframing: {0}")]
    Media(#[from] clipforge_media::MediaError),

    /// The face model compiled into clipforge could not be read (a broken build).
    #[error("the built-in face detection model is unreadable ({0}); reinstall clipforge")]
    Model(std::io::Error),

    /// A setting is out of range.
    #[error("invalid reframe setting {name}: {detail}")]
    InvalidSetting {
        /// The setting's name.
        name: &'static str,
        /// Why it is invalid and what is allowed.
        detail: String,
    },

    /// The face detection thread died (a bug in the detector).
    #[error("face detection stopped unexpectedly: {0}")]
    Detector(String),
}
