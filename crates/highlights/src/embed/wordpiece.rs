//! The BERT WordPiece tokenizer: text cleaning, basic splitting and greedy longest-match
//! subwords, behaving as the tokenizer the sentence-embedding model was trained with.

use std::collections::HashMap;
use std::path::Path;

use unicode_categories::UnicodeCategories;
use unicode_normalization::UnicodeNormalization;

/// Words longer than this many characters become one unknown token, as in BERT.
const MAX_WORD_CHARS: usize = 100;
/// Marks a subword that continues a word rather than starting one.
const CONTINUATION: &str = "##";

/// Token ids of the special tokens the tokenizer emits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Specials {
    pub(crate) cls: u32,
    pub(crate) sep: u32,
    pub(crate) unk: u32,
}

/// Splits text into token ids of a WordPiece vocabulary.
#[derive(Debug, Clone)]
pub(crate) struct WordPiece {
    ids: HashMap<String, u32>,
    /// One more than the largest id.
    size: usize,
    specials: Specials,
    lowercase: bool,
    strip_accents: bool,
}

impl WordPiece {
    /// Builds a tokenizer from tokens in id order. `lowercase` and `strip_accents` follow
    /// the model's tokenizer settings (both on for uncased models).
    pub(crate) fn new(
        tokens: Vec<String>,
        lowercase: bool,
        strip_accents: bool,
    ) -> Result<Self, String> {
        let size = tokens.len();
        let mut ids = HashMap::with_capacity(size);
        for (id, token) in tokens.into_iter().enumerate() {
            let id = u32::try_from(id).map_err(|_| "the vocabulary is too large".to_string())?;
            // A repeated token keeps its last id, as BERT's own vocabulary loader does.
            ids.insert(token, id);
        }
        let special = |name: &str| {
            ids.get(name)
                .copied()
                .ok_or_else(|| format!("the vocabulary has no {name} token"))
        };
        let specials = Specials {
            cls: special("[CLS]")?,
            sep: special("[SEP]")?,
            unk: special("[UNK]")?,
        };
        Ok(Self {
            ids,
            size,
            specials,
            lowercase,
            strip_accents,
        })
    }

    /// Reads `vocab.txt` (one token a line, the line number is the id).
    pub(crate) fn vocab_from_txt(path: &Path) -> Result<Vec<String>, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("vocab.txt: {e}"))?;
        Ok(text
            .lines()
            .map(|line| line.trim_end_matches('\r').to_string())
            .collect())
    }

    /// Reads the vocabulary of a `tokenizer.json` whose model is WordPiece.
    pub(crate) fn vocab_from_tokenizer_json(path: &Path) -> Result<Vec<String>, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("tokenizer.json: {e}"))?;
        let json: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| format!("tokenizer.json is not JSON: {e}"))?;
        let vocab = json
            .pointer("/model/vocab")
            .and_then(|v| v.as_object())
            .ok_or("tokenizer.json has no model.vocab table")?;
        let mut tokens = vec![None; vocab.len()];
        for (token, id) in vocab {
            let slot = id
                .as_u64()
                .and_then(|id| tokens.get_mut(usize::try_from(id).ok()?))
                .ok_or_else(|| format!("tokenizer.json gives {token:?} an id out of range"))?;
            *slot = Some(token.clone());
        }
        tokens
            .into_iter()
            .enumerate()
            .map(|(id, t)| t.ok_or_else(|| format!("tokenizer.json has no token with id {id}")))
            .collect()
    }

    /// One more than the largest token id.
    pub(crate) fn len(&self) -> usize {
        self.size
    }

    /// `[CLS] pieces… [SEP]`, at most `max_len` ids (pieces past the limit are dropped).
    pub(crate) fn encode(&self, text: &str, max_len: usize) -> Vec<u32> {
        let budget = max_len.saturating_sub(2);
        let mut out = Vec::with_capacity(budget.min(64) + 2);
        out.push(self.specials.cls);
        'words: for word in split_words(&self.normalize(text)) {
            for id in self.word_pieces(word) {
                if out.len() > budget {
                    break 'words;
                }
                out.push(id);
            }
        }
        out.push(self.specials.sep);
        out
    }

    /// Cleans the text as the model's tokenizer does: control characters dropped, every
    /// whitespace made a plain space, CJK ideographs set apart, then accents stripped and
    /// lowercased when the model is uncased.
    fn normalize(&self, text: &str) -> String {
        let mut cleaned = String::with_capacity(text.len());
        for c in text.chars() {
            if c == '\0' || c == '\u{fffd}' || is_control(c) {
                continue;
            }
            if is_whitespace(c) {
                cleaned.push(' ');
            } else if is_cjk(c) {
                cleaned.push(' ');
                cleaned.push(c);
                cleaned.push(' ');
            } else {
                cleaned.push(c);
            }
        }
        let stripped = if self.strip_accents {
            cleaned.nfd().filter(|c| !c.is_mark_nonspacing()).collect()
        } else {
            cleaned
        };
        if self.lowercase {
            stripped.chars().flat_map(char::to_lowercase).collect()
        } else {
            stripped
        }
    }

    /// The ids of one word: the longest vocabulary entry from the start, then the longest
    /// `##` entry from where it ended, and so on; a word that cannot be covered (or is
    /// absurdly long) is one unknown token.
    fn word_pieces(&self, word: &str) -> Vec<u32> {
        if word.chars().count() > MAX_WORD_CHARS {
            return vec![self.specials.unk];
        }
        let mut pieces = Vec::new();
        let mut start = 0;
        let mut candidate = String::with_capacity(word.len() + CONTINUATION.len());
        while start < word.len() {
            let mut end = word.len();
            let found = loop {
                candidate.clear();
                if start > 0 {
                    candidate.push_str(CONTINUATION);
                }
                candidate.push_str(&word[start..end]);
                if let Some(&id) = self.ids.get(candidate.as_str()) {
                    break Some(id);
                }
                // Step back one character, not one byte.
                match word[start..end].char_indices().next_back() {
                    Some((0, _)) | None => break None,
                    Some((last, _)) => end = start + last,
                }
            };
            match found {
                Some(id) => pieces.push(id),
                None => return vec![self.specials.unk],
            }
            start = end;
        }
        pieces
    }
}

/// Splits cleaned text into words: runs of non-space characters, with every punctuation
/// character a word of its own.
fn split_words(text: &str) -> impl Iterator<Item = &str> {
    text.split(' ').flat_map(|chunk| {
        let mut words = Vec::new();
        let mut start = 0;
        for (i, c) in chunk.char_indices() {
            if is_punctuation(c) {
                if start < i {
                    words.push(&chunk[start..i]);
                }
                words.push(&chunk[i..i + c.len_utf8()]);
                start = i + c.len_utf8();
            }
        }
        if start < chunk.len() {
            words.push(&chunk[start..]);
        }
        words
    })
}

/// Unicode white space, tab, newline and carriage return included (these three are kept
/// out of [`is_control`], which runs first).
fn is_whitespace(c: char) -> bool {
    c.is_whitespace()
}

/// Control, format and private-use characters, which the tokenizer drops.
fn is_control(c: char) -> bool {
    !matches!(c, '\t' | '\n' | '\r') && c.is_other()
}

/// ASCII symbols such as `$` and `^` count as punctuation too, as in BERT.
fn is_punctuation(c: char) -> bool {
    c.is_ascii_punctuation() || UnicodeCategories::is_punctuation(c)
}

/// CJK ideographs, which BERT treats as words of their own.
fn is_cjk(c: char) -> bool {
    matches!(
        u32::from(c),
        0x4E00..=0x9FFF
            | 0x3400..=0x4DBF
            | 0x2_0000..=0x2_A6DF
            | 0x2_A700..=0x2_B73F
            | 0x2_B740..=0x2_B81F
            | 0x2_B820..=0x2_CEAF
            | 0xF900..=0xFAFF
            | 0x2_F800..=0x2_FA1F
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokenizer(words: &[&str]) -> WordPiece {
        let mut tokens: Vec<String> = ["[PAD]", "[UNK]", "[CLS]", "[SEP]"]
            .iter()
            .map(|t| t.to_string())
            .collect();
        tokens.extend(words.iter().map(|w| w.to_string()));
        WordPiece::new(tokens, true, true).unwrap()
    }

    /// Encodes and maps the ids back to tokens, without `[CLS]` and `[SEP]`.
    fn pieces(wp: &WordPiece, text: &str) -> Vec<String> {
        let by_id: HashMap<u32, &str> = wp.ids.iter().map(|(t, &id)| (id, t.as_str())).collect();
        let ids = wp.encode(text, 512);
        assert_eq!(ids.first(), Some(&wp.specials.cls));
        assert_eq!(ids.last(), Some(&wp.specials.sep));
        ids[1..ids.len() - 1]
            .iter()
            .map(|id| by_id[id].to_string())
            .collect()
    }

    #[test]
    fn punctuation_is_split_off_and_whitespace_collapses() {
        let wp = tokenizer(&[
            "hello", ",", "world", "!", "it", "'", "s", "$", "5", "—", "ok",
        ]);
        assert_eq!(
            pieces(&wp, "Hello,world!  It's\t$5—ok\n"),
            ["hello", ",", "world", "!", "it", "'", "s", "$", "5", "—", "ok"]
        );
    }

    #[test]
    fn accents_are_stripped_and_case_folded() {
        let wp = tokenizer(&["cafe", "naive", "uber"]);
        assert_eq!(pieces(&wp, "Café NAÏVE Über"), ["cafe", "naive", "uber"]);
        // Decomposed input reads the same as precomposed.
        assert_eq!(pieces(&wp, "Cafe\u{301}"), ["cafe"]);
    }

    #[test]
    fn cased_models_keep_case_and_accents() {
        let tokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "Café"]
            .iter()
            .map(|t| t.to_string())
            .collect();
        let wp = WordPiece::new(tokens, false, false).unwrap();
        assert_eq!(pieces(&wp, "Café café"), ["Café", "[UNK]"]);
    }

    #[test]
    fn words_split_into_longest_matching_pieces() {
        let wp = tokenizer(&["un", "unaff", "##aff", "##able", "##a", "##ble"]);
        assert_eq!(pieces(&wp, "unaffable"), ["unaff", "##able"]);
        assert_eq!(pieces(&wp, "unable"), ["un", "##able"]);
    }

    #[test]
    fn uncoverable_and_overlong_words_are_unknown() {
        let wp = tokenizer(&["a", "##a", "b"]);
        // `##x` is not in the vocabulary, so the whole word is unknown, not just its tail.
        assert_eq!(pieces(&wp, "aax b"), ["[UNK]", "b"]);
        let long = "a".repeat(MAX_WORD_CHARS);
        assert_eq!(pieces(&wp, &long).len(), MAX_WORD_CHARS);
        assert_eq!(pieces(&wp, &format!("{long}a")), ["[UNK]"]);
    }

    #[test]
    fn multibyte_characters_are_stepped_by_character() {
        let wp = tokenizer(&["ж", "##ж", "##ы"]);
        assert_eq!(pieces(&wp, "жжы"), ["ж", "##ж", "##ы"]);
        assert_eq!(pieces(&wp, "жыq"), ["[UNK]"]);
    }

    #[test]
    fn control_characters_are_dropped_and_cjk_set_apart() {
        let wp = tokenizer(&["ab", "中", "文"]);
        assert_eq!(pieces(&wp, "a\u{200b}b\u{7}"), ["ab"]);
        assert_eq!(pieces(&wp, "中文"), ["中", "文"]);
    }

    #[test]
    fn empty_and_blank_text_give_only_the_markers() {
        let wp = tokenizer(&[]);
        assert_eq!(wp.encode("", 256), [wp.specials.cls, wp.specials.sep]);
        assert_eq!(wp.encode(" \n\t ", 256), [wp.specials.cls, wp.specials.sep]);
    }

    #[test]
    fn long_text_is_cut_to_the_limit_with_markers_kept() {
        let wp = tokenizer(&["word"]);
        let text = "word ".repeat(1000);
        let ids = wp.encode(&text, 256);
        assert_eq!(ids.len(), 256);
        assert_eq!(ids[0], wp.specials.cls);
        assert_eq!(ids[255], wp.specials.sep);
        assert_eq!(wp.encode("word word word", 4).len(), 4);
    }

    #[test]
    fn a_vocabulary_without_special_tokens_is_refused() {
        let err = WordPiece::new(vec!["[CLS]".into(), "hello".into()], true, true).unwrap_err();
        assert!(err.contains("[SEP]"), "{err}");
    }
}
