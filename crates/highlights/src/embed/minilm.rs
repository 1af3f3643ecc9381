//! all-MiniLM-L6-v2 (a six-layer BERT) run by candle on the CPU: WordPiece tokens in,
//! mean-pooled and L2-normalised sentence vectors out.

use std::path::Path;
use std::time::Instant;

use candle_core::{DType, Device};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{Config, HiddenAct};

use super::encoder::Encoder;
use super::wordpiece::WordPiece;
use super::Embedder;
use crate::HighlightsError;

/// The model name reported by [`Embedder::name`].
const NAME: &str = "all-MiniLM-L6-v2";
/// Token limit (markers included) the model was trained with, used when the folder does
/// not say (sentence_bert_config.json `max_seq_length`).
const DEFAULT_MAX_TOKENS: usize = 256;
/// Tokens run through the encoder together. Sentences are packed without padding, so
/// what matters is rows per matrix product: 256 to 512 measured best on two cores, 128
/// was slower and 1,024 or more slower again (the feed-forward layer holds 1,536 floats
/// a token, so memory grows with this too).
const BATCH_TOKENS: usize = 512;

/// Sentence embeddings from a local all-MiniLM-L6-v2 (or another mean-pooled BERT
/// sentence-transformers) folder.
pub struct MiniLm {
    encoder: Encoder,
    tokenizer: WordPiece,
    max_tokens: usize,
    dim: usize,
}

impl std::fmt::Debug for MiniLm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MiniLm")
            .field("dim", &self.dim)
            .field("max_tokens", &self.max_tokens)
            .field("vocab", &self.tokenizer.len())
            .finish_non_exhaustive()
    }
}

impl MiniLm {
    /// Loads the model folder: config.json, model.safetensors and vocab.txt (or
    /// tokenizer.json).
    #[tracing::instrument(level = "debug", skip_all, fields(dir = %dir.display()))]
    pub fn load(dir: &Path) -> Result<Self, HighlightsError> {
        let started = Instant::now();
        if !dir.is_dir() {
            return Err(HighlightsError::EmbedModelMissing {
                searched: dir.display().to_string(),
            });
        }
        let invalid = |reason: String| HighlightsError::EmbedModelInvalid {
            path: dir.to_path_buf(),
            reason,
        };
        let config: Config = serde_json::from_str(&read_text(dir, "config.json")?)
            .map_err(|e| invalid(format!("config.json: {e}")))?;
        if config.hidden_act != HiddenAct::Gelu {
            return Err(invalid(format!(
                "config.json: hidden_act {:?} is not supported (only gelu)",
                config.hidden_act
            )));
        }
        check_pooling(dir).map_err(invalid)?;
        let tokenizer = load_tokenizer(dir).map_err(invalid)?;
        if tokenizer.len() > config.vocab_size {
            return Err(invalid(format!(
                "the vocabulary has {} tokens but the model only {}",
                tokenizer.len(),
                config.vocab_size
            )));
        }
        let max_tokens = max_tokens(dir)
            .map_err(invalid)?
            .min(config.max_position_embeddings);

        let weights_path = dir.join("model.safetensors");
        let weights =
            std::fs::read(&weights_path).map_err(|e| invalid(format!("model.safetensors: {e}")))?;
        let encoder = VarBuilder::from_buffered_safetensors(weights, DType::F32, &Device::Cpu)
            .and_then(|vb| Encoder::load(vb, &config))
            .map_err(|e| invalid(format!("model.safetensors: {e}")))?;
        tracing::debug!(
            elapsed_ms = started.elapsed().as_millis() as u64,
            "sentence-embedding model loaded"
        );
        Ok(Self {
            encoder,
            tokenizer,
            max_tokens,
            dim: config.hidden_size,
        })
    }

    /// Length of every vector this model returns.
    pub fn dim(&self) -> usize {
        self.dim
    }
}

impl Embedder for MiniLm {
    #[tracing::instrument(level = "debug", skip_all, fields(texts = texts.len()))]
    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, HighlightsError> {
        let started = Instant::now();
        let tokens: Vec<Vec<u32>> = texts
            .iter()
            .map(|text| self.tokenizer.encode(text, self.max_tokens))
            .collect();
        let mut out = Vec::with_capacity(texts.len());
        let mut rest = tokens.as_slice();
        while !rest.is_empty() {
            // At least one sentence, then more while they fit the budget.
            let mut take = 1;
            let mut budget = rest[0].len();
            while take < rest.len() && budget + rest[take].len() <= BATCH_TOKENS {
                budget += rest[take].len();
                take += 1;
            }
            let batch: Vec<&[u32]> = rest[..take].iter().map(Vec::as_slice).collect();
            out.extend(
                self.encoder
                    .embed(&batch)
                    .map_err(|e| HighlightsError::Embed(e.to_string()))?,
            );
            rest = &rest[take..];
        }
        tracing::debug!(
            elapsed_ms = started.elapsed().as_millis() as u64,
            tokens = tokens.iter().map(Vec::len).sum::<usize>(),
            "sentences embedded"
        );
        Ok(out)
    }

    fn name(&self) -> &str {
        NAME
    }
}

/// A required text file of the model folder.
fn read_text(dir: &Path, name: &str) -> Result<String, HighlightsError> {
    std::fs::read_to_string(dir.join(name)).map_err(|e| HighlightsError::EmbedModelInvalid {
        path: dir.to_path_buf(),
        reason: format!("{name}: {e}"),
    })
}

/// An optional JSON file of the model folder; `None` when absent.
fn read_optional_json(dir: &Path, name: &str) -> Result<Option<serde_json::Value>, String> {
    let path = dir.join(name);
    if !path.is_file() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{name}: {e}"))?;
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|e| format!("{name} is not JSON: {e}"))
}

/// The vocabulary from vocab.txt, else tokenizer.json, with the casing the model expects
/// (tokenizer_config.json; uncased when it does not say).
fn load_tokenizer(dir: &Path) -> Result<WordPiece, String> {
    let tokens = if dir.join("vocab.txt").is_file() {
        WordPiece::vocab_from_txt(&dir.join("vocab.txt"))?
    } else if dir.join("tokenizer.json").is_file() {
        WordPiece::vocab_from_tokenizer_json(&dir.join("tokenizer.json"))?
    } else {
        return Err("neither vocab.txt nor tokenizer.json is there".into());
    };
    let settings = read_optional_json(dir, "tokenizer_config.json")?;
    let setting = |key: &str| settings.as_ref().and_then(|s| s.get(key)?.as_bool());
    let lowercase = setting("do_lower_case").unwrap_or(true);
    // Unset means "as lowercasing", BERT's rule.
    let strip_accents = setting("strip_accents").unwrap_or(lowercase);
    WordPiece::new(tokens, lowercase, strip_accents)
}

/// The token limit from sentence_bert_config.json, else the model's default.
fn max_tokens(dir: &Path) -> Result<usize, String> {
    let limit = read_optional_json(dir, "sentence_bert_config.json")?
        .and_then(|c| c.get("max_seq_length")?.as_u64())
        .map_or(DEFAULT_MAX_TOKENS, |n| n as usize);
    if limit < 2 {
        return Err(format!("max_seq_length {limit} leaves no room for text"));
    }
    Ok(limit)
}

/// Refuses a folder whose pooling settings say something other than mean pooling, which
/// is all this loader does.
fn check_pooling(dir: &Path) -> Result<(), String> {
    let Some(pooling) = read_optional_json(dir, "1_Pooling/config.json")? else {
        return Ok(());
    };
    if pooling
        .get("pooling_mode_mean_tokens")
        .and_then(|v| v.as_bool())
        == Some(false)
    {
        return Err("1_Pooling/config.json asks for a pooling other than the mean".into());
    }
    Ok(())
}
