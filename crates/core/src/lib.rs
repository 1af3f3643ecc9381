//! Domain types shared by every clipforge crate. Nothing in here does I/O.

mod progress;
mod transcript;

pub use progress::{NoProgress, Progress};
pub use transcript::{ends_sentence, Segment, Transcript, TranscriptError, Word};
