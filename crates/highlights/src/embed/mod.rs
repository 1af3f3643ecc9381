//! Sentence embeddings: all-MiniLM-L6-v2 run with candle, and a lexical fallback.

mod encoder;
mod location;
mod minilm;
mod wordpiece;

use std::path::Path;

use crate::{HighlightsError, LexicalEmbedder};

pub use location::{resolve_model, MODEL_ENV, MODEL_FOLDER};
pub use minilm::MiniLm;

/// The installed sentence-embedding model (or the one in `explicit`), or word overlap when
/// none is installed and none was asked for, with a warning pushed to `warnings`: topic
/// boundaries are coarser without the model, but clips are still found.
pub fn load_embedder(
    explicit: Option<&Path>,
    warnings: &mut Vec<String>,
) -> Result<Box<dyn Embedder>, HighlightsError> {
    match resolve_model(explicit) {
        Ok(dir) => Ok(Box::new(MiniLm::load(&dir)?)),
        Err(e @ HighlightsError::EmbedModelMissing { .. }) if explicit.is_none() => {
            warnings.push(format!("{e}; using word overlap for topics instead"));
            Ok(Box::new(LexicalEmbedder))
        }
        Err(e) => Err(e),
    }
}

/// Turns sentences into vectors whose cosine similarity reflects closeness of meaning.
pub trait Embedder: Send + Sync + std::fmt::Debug {
    /// One L2-normalised vector per text, in order, all of the same length. Empty input
    /// gives an empty output.
    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, HighlightsError>;

    /// A short name for logs and reports, e.g. `all-MiniLM-L6-v2`.
    fn name(&self) -> &str;
}
