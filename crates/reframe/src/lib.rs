//! Face-following reframing: sample a clip's frames, find and track faces, and plan a crop
//! path (or a split screen, or a fallback layout) for a frame of another shape.
//!
//! [`analyse`] reads video (through ffmpeg and the SeetaFace detector compiled in) and
//! returns a serialisable [`FaceAnalysis`]; [`plan`] and [`thumbnail_time`] are pure
//! functions of it, so a cached analysis can be re-planned for any aspect ratio.

mod analysis;
mod error;
mod plan;
mod settings;
pub mod track;

pub use analysis::{analyse, detect_frame, Face, FaceAnalysis, Sample};
pub use error::ReframeError;
pub use plan::{crop_size, plan, thumbnail_time, SpeakerTurn};
pub use settings::{NoFaceFallback, ReframeSettings};

#[cfg(test)]
mod tests;
