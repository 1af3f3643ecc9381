//! A word-overlap embedder: the fallback when the sentence-embedding model is not
//! installed. Content words (lightly stemmed) and word pairs are hashed into a fixed
//! number of dimensions, which makes TextTiling behave as in its original lexical form.

use std::hash::{DefaultHasher, Hash, Hasher};

use crate::lexicon::{self, is_stop_word};
use crate::{Embedder, HighlightsError};

const DIMENSIONS: usize = 512;

/// Hashed bag-of-words vectors.
#[derive(Debug, Default, Clone, Copy)]
pub struct LexicalEmbedder;

/// Strips common English suffixes so that "sleeping", "sleeps" and "sleep" meet.
fn stem(word: &str) -> &str {
    for suffix in ["ingly", "edly", "ing", "ies", "ed", "es", "ly", "s"] {
        if let Some(stem) = word.strip_suffix(suffix) {
            if stem.len() >= 3 {
                return stem;
            }
        }
    }
    word
}

fn bucket(term: &str) -> (usize, f32) {
    let mut h = DefaultHasher::new();
    term.hash(&mut h);
    let v = h.finish();
    (
        (v % DIMENSIONS as u64) as usize,
        if v >> 63 == 0 { 1.0 } else { -1.0 },
    )
}

impl LexicalEmbedder {
    fn vector(text: &str) -> Vec<f32> {
        let mut v = vec![0.0f32; DIMENSIONS];
        let words: Vec<String> = lexicon::tokens(text)
            .into_iter()
            .filter(|w| w.len() >= 3 && !is_stop_word(w))
            .map(|w| stem(&w).to_string())
            .collect();
        for w in &words {
            let (i, sign) = bucket(w);
            v[i] += sign;
        }
        for pair in words.windows(2) {
            let (i, sign) = bucket(&format!("{} {}", pair[0], pair[1]));
            v[i] += 0.5 * sign;
        }
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        if norm > 0.0 {
            v.iter_mut().for_each(|x| *x /= norm);
        }
        v
    }
}

impl Embedder for LexicalEmbedder {
    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, HighlightsError> {
        Ok(texts.iter().map(|t| Self::vector(t)).collect())
    }

    fn name(&self) -> &str {
        "lexical"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::topics::cosine;

    #[test]
    fn shared_content_words_make_vectors_close() {
        let e = LexicalEmbedder;
        let v = e
            .embed(&[
                "Sleep debt builds up when you sleep badly.",
                "Sleeping badly builds sleep debt.",
                "Index funds beat most traders.",
                "",
            ])
            .unwrap();
        assert!(cosine(&v[0], &v[1]) > 0.5);
        assert!(cosine(&v[0], &v[2]) < 0.2);
        assert!(v[3].iter().all(|&x| x == 0.0));
        assert!((v[0].iter().map(|x| x * x).sum::<f32>() - 1.0).abs() < 1e-5);
    }
}
