//! Sentence embeddings: all-MiniLM-L6-v2 run with candle, and a lexical fallback.

mod encoder;
mod location;
mod minilm;
mod wordpiece;

use crate::HighlightsError;

pub use location::{resolve_model, MODEL_ENV, MODEL_FOLDER};
pub use minilm::MiniLm;

/// Turns sentences into vectors whose cosine similarity reflects closeness of meaning.
pub trait Embedder: Send + Sync + std::fmt::Debug {
    /// One L2-normalised vector per text, in order, all of the same length. Empty input
    /// gives an empty output.
    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, HighlightsError>;

    /// A short name for logs and reports, e.g. `all-MiniLM-L6-v2`.
    fn name(&self) -> &str;
}
