//! Finds the best moments of a transcript: sentences and pauses, candidate windows snapped
//! to word boundaries, topic segmentation, scoring, diversity, and optional ranking by a
//! language model.

pub mod analysis;
mod boundaries;
pub mod candidates;
pub mod embed;
mod error;
pub mod features;
mod lexical;
mod lexicon;
pub mod llm;
mod moments;
mod score;
pub mod sentences;
mod text;
pub mod topics;
mod voice;

pub use analysis::{Analysis, AudioProfile, VisualProfile, VoiceBuilder, VoiceProfile};
pub use embed::Embedder;
pub use error::HighlightsError;
pub use lexical::LexicalEmbedder;
pub use moments::{Moments, SuggestOutcome};
