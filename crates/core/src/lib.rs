//! Domain types shared by every clipforge crate. Nothing in here does I/O.

mod progress;
mod render;
mod suggestion;
mod transcript;

pub use progress::{NoProgress, Progress};
pub use render::{
    AspectRatio, CaptionAnimation, CaptionPosition, CaptionStyle, CropKey, CropPath, Framing,
    Quality, ReframeMode, Rgba,
};
pub use suggestion::{
    ClipSuggestion, Genre, Platform, Preferences, RankedBy, ScoreBreakdown, ScoreWeights,
    SuggestParams, MAX_CLIP_DURATION,
};
pub use transcript::{ends_sentence, Segment, Transcript, TranscriptError, Word};
