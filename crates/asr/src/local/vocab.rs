//! Whisper's byte-level BPE vocabulary: token ids ↔ token strings, the special tokens the
//! decoding loop needs, and turning generated ids back into words.

use std::collections::HashMap;
use std::path::Path;

use crate::AsrError;

/// Token strings of a Whisper model and the ids of its special tokens.
#[derive(Debug)]
pub(crate) struct Vocabulary {
    tokens: Vec<String>,
    /// Byte-level decoded form of every token (`None` for special tokens).
    bytes: Vec<Option<Vec<u8>>>,
    pub eot: usize,
    pub sot: usize,
    pub no_timestamps: usize,
    pub transcribe: Option<usize>,
    /// `<|0.00|>`: every id at or above it is a timestamp.
    #[cfg_attr(not(test), allow(dead_code))]
    pub timestamp_begin: usize,
    /// Language code → token id (`en` → `<|en|>`), empty for English-only models.
    pub languages: HashMap<String, usize>,
}

impl Vocabulary {
    /// Reads `vocabulary.txt` (one token a line) or `vocabulary.json` (array) from a model folder.
    pub fn load(dir: &Path) -> Result<Self, AsrError> {
        let txt = dir.join("vocabulary.txt");
        let json = dir.join("vocabulary.json");
        let tokens: Vec<String> = if txt.is_file() {
            let text = read(&txt)?;
            text.lines().map(str::to_owned).collect()
        } else if json.is_file() {
            let text = read(&json)?;
            serde_json::from_str(&text).map_err(|e| AsrError::InvalidModel {
                path: dir.to_path_buf(),
                reason: format!("vocabulary.json is not a JSON array of strings: {e}"),
            })?
        } else {
            return Err(AsrError::InvalidModel {
                path: dir.to_path_buf(),
                reason: "it has neither vocabulary.txt nor vocabulary.json".into(),
            });
        };
        Self::from_tokens(tokens).map_err(|reason| AsrError::InvalidModel {
            path: dir.to_path_buf(),
            reason,
        })
    }

    /// Builds the vocabulary from token strings in id order.
    pub fn from_tokens(tokens: Vec<String>) -> Result<Self, String> {
        let index: HashMap<&str, usize> = tokens
            .iter()
            .enumerate()
            .map(|(i, t)| (t.as_str(), i))
            .collect();
        let find = |name: &str| {
            index
                .get(name)
                .copied()
                .ok_or_else(|| format!("its vocabulary lacks the special token {name}"))
        };
        let eot = find("<|endoftext|>")?;
        let sot = find("<|startoftranscript|>")?;
        let no_timestamps = find("<|notimestamps|>")?;
        let timestamp_begin = find("<|0.00|>")?;
        let transcribe = index.get("<|transcribe|>").copied();
        let mut languages = HashMap::new();
        // Language tokens sit between <|startoftranscript|> and <|translate|>.
        for (id, token) in tokens.iter().enumerate().skip(sot + 1) {
            let Some(code) = token.strip_prefix("<|").and_then(|t| t.strip_suffix("|>")) else {
                break;
            };
            if code == "translate" || code == "transcribe" || code == "startoflm" {
                break;
            }
            languages.insert(code.to_owned(), id);
        }
        let decoder = byte_decoder();
        let bytes = tokens
            .iter()
            .enumerate()
            .map(|(id, t)| {
                if id >= eot {
                    None
                } else {
                    t.chars()
                        .map(|c| decoder.get(&c).copied())
                        .collect::<Option<Vec<u8>>>()
                }
            })
            .collect();
        Ok(Self {
            tokens,
            bytes,
            eot,
            sot,
            no_timestamps,
            transcribe,
            timestamp_begin,
            languages,
        })
    }

    /// Number of tokens.
    #[allow(clippy::len_without_is_empty)]
    pub fn len(&self) -> usize {
        self.tokens.len()
    }

    /// The token string of an id (as the model's vocabulary spells it).
    pub fn token(&self, id: usize) -> &str {
        self.tokens.get(id).map_or("", String::as_str)
    }

    /// Raw bytes a text token stands for; empty for special and timestamp tokens.
    pub fn token_bytes(&self, id: usize) -> &[u8] {
        self.bytes.get(id).and_then(|b| b.as_deref()).unwrap_or(&[])
    }

    /// Whether `id` is an ordinary text token (not special, not a timestamp).
    pub fn is_text(&self, id: usize) -> bool {
        id < self.eot
    }

    /// Decodes text token ids into a string (special tokens are skipped).
    pub fn decode(&self, ids: &[usize]) -> String {
        let bytes: Vec<u8> = ids
            .iter()
            .flat_map(|&id| self.token_bytes(id).iter().copied())
            .collect();
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

fn read(path: &Path) -> Result<String, AsrError> {
    std::fs::read_to_string(path).map_err(|source| AsrError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// GPT-2's byte ↔ printable-character table, inverted: every byte has one visible character.
fn byte_decoder() -> HashMap<char, u8> {
    let mut printable: Vec<u8> = (b'!'..=b'~')
        .chain(0xA1..=0xAC)
        .chain(0xAE..=0xFF)
        .collect();
    let mut chars: Vec<u32> = printable.iter().map(|&b| u32::from(b)).collect();
    let mut extra = 0;
    for b in 0..=255u8 {
        if !printable.contains(&b) {
            printable.push(b);
            chars.push(256 + extra);
            extra += 1;
        }
    }
    printable
        .into_iter()
        .zip(chars)
        .map(|(b, c)| (char::from_u32(c).expect("table maps to valid chars"), b))
        .collect()
}

/// A word made of consecutive tokens: its text and the index range of its tokens.
#[derive(Debug, Clone, PartialEq)]
pub struct WordTokens {
    pub text: String,
    pub tokens: std::ops::Range<usize>,
}

/// Splits text tokens into words: a word starts at a token that begins with a space, and
/// punctuation-only tokens are attached to the word before (closing marks) or after
/// (opening marks) so words read like written text ("Hello," not "Hello" + ",").
pub fn split_words(vocab: &Vocabulary, ids: &[usize]) -> Vec<WordTokens> {
    let mut words: Vec<(Vec<u8>, std::ops::Range<usize>)> = Vec::new();
    for (i, &id) in ids.iter().enumerate() {
        let bytes = vocab.token_bytes(id);
        if bytes.is_empty() {
            continue;
        }
        let starts_word = bytes[0] == b' ';
        match words.last_mut() {
            Some((text, range)) if !starts_word && range.end == i => {
                text.extend_from_slice(bytes);
                range.end = i + 1;
            }
            _ => words.push((bytes.to_vec(), i..i + 1)),
        }
    }
    let mut out: Vec<WordTokens> = Vec::with_capacity(words.len());
    let mut pending_open: Option<WordTokens> = None;
    for (bytes, tokens) in words {
        let text = String::from_utf8_lossy(&bytes).trim().to_owned();
        if text.is_empty() {
            continue;
        }
        let mut word = WordTokens { text, tokens };
        if let Some(open) = pending_open.take() {
            word.text = format!("{}{}", open.text, word.text);
            word.tokens = open.tokens.start..word.tokens.end;
        }
        if is_punctuation(&word.text) {
            if word.text.chars().all(|c| OPENING.contains(c)) {
                pending_open = Some(word);
                continue;
            }
            if let Some(prev) = out.last_mut() {
                prev.text.push_str(&word.text);
                prev.tokens.end = word.tokens.end;
                continue;
            }
        }
        out.push(word);
    }
    if let Some(open) = pending_open {
        if let Some(prev) = out.last_mut() {
            prev.text.push_str(&open.text);
            prev.tokens.end = open.tokens.end;
        }
    }
    // Punctuation with no word to attach to ("...." decoded from a tone) is not speech.
    out.retain(|w| w.text.chars().any(char::is_alphanumeric));
    out
}

const OPENING: &str = "\"'“¿([{-«‘";

fn is_punctuation(text: &str) -> bool {
    !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_punctuation() || "“”‘’«»¿¡…。，、！？：".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vocab() -> Vocabulary {
        let mut tokens: Vec<String> = [
            "ĠHello", ",", "Ġworld", ".", "Ġ\"", "Hi", "\"", "Ġdon", "'t", "Ġcaf", "Ã©",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        for special in [
            "<|endoftext|>",
            "<|startoftranscript|>",
            "<|en|>",
            "<|de|>",
            "<|translate|>",
            "<|transcribe|>",
            "<|notimestamps|>",
            "<|0.00|>",
            "<|0.02|>",
        ] {
            tokens.push(special.into());
        }
        Vocabulary::from_tokens(tokens).unwrap()
    }

    #[test]
    fn finds_special_tokens_and_languages() {
        let v = vocab();
        assert_eq!(v.token(v.eot), "<|endoftext|>");
        assert_eq!(v.token(v.sot), "<|startoftranscript|>");
        assert_eq!(v.languages.len(), 2);
        assert_eq!(v.token(v.languages["de"]), "<|de|>");
        assert_eq!(v.token(v.transcribe.unwrap()), "<|transcribe|>");
        assert!(!v.is_text(v.timestamp_begin + 1));
    }

    #[test]
    fn decodes_byte_level_tokens_including_multibyte_chars() {
        let v = vocab();
        assert_eq!(v.decode(&[0, 1, 2, 3]), " Hello, world.");
        assert_eq!(v.decode(&[9, 10]), " café");
        assert_eq!(v.decode(&[v.eot, v.sot]), "");
    }

    #[test]
    fn lone_punctuation_is_not_a_word() {
        let v = vocab();
        assert!(split_words(&v, &[3, 3]).is_empty());
        assert!(split_words(&v, &[4]).is_empty());
        let words = split_words(&v, &[3, 0]);
        assert_eq!(words.len(), 1);
        assert_eq!(words[0].text, "Hello");
    }

    #[test]
    fn words_carry_their_punctuation() {
        let v = vocab();
        let words = split_words(&v, &[0, 1, 2, 3, 4, 5, 6, 7, 8]);
        let texts: Vec<_> = words.iter().map(|w| w.text.as_str()).collect();
        assert_eq!(texts, vec!["Hello,", "world.", "\"Hi\"", "don't"]);
        assert_eq!(words[0].tokens, 0..2);
        assert_eq!(words[2].tokens, 4..7);
        assert_eq!(words[3].tokens, 7..9);
    }
}
