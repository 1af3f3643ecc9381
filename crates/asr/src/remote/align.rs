//! Puts the punctuation and casing of a transcript's text back onto bare word tokens.
//!
//! OpenAI-compatible APIs time words without punctuation (`Hello`, `world`) while the
//! segment text has it (`Hello, world.`). Sentence detection downstream needs the
//! punctuation, so each word is found in the text (comparing letters and digits only,
//! case-insensitively) and takes the text's spelling with the punctuation around it.

/// One word after alignment.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Aligned {
    /// The word as the text spells it, with its punctuation; the bare word when not found.
    pub text: String,
    /// Index of the text the word was found in.
    pub source: Option<usize>,
}

/// How many letters of text may be skipped to find a word when the text holds words the
/// word list lacks; beyond that the word is left bare rather than matched far away.
const MAX_SKIP: usize = 48;

/// One letter or digit of the texts, lowercased, with where it came from.
#[derive(Debug)]
struct Letter {
    ch: char,
    source: usize,
    /// Byte range of the original character in its text.
    start: usize,
    end: usize,
    /// Whether a word of the text starts here.
    word_start: bool,
}

/// Aligns `words` (in spoken order) with `texts` (the same speech as running text, in
/// order, e.g. one per segment).
pub(crate) fn align(words: &[&str], texts: &[&str]) -> Vec<Aligned> {
    let letters = letters(texts);
    let mut cursor = 0;
    // (text, byte) up to which the text was already given to a word, so punctuation between
    // two words is not attached to both.
    let mut taken = (0, 0);
    words
        .iter()
        .map(|word| {
            let bare = word.trim();
            let needle: Vec<char> = normalise(bare);
            let found = if needle.is_empty() {
                None
            } else {
                find(&letters, cursor, &needle)
            };
            let Some(at) = found else {
                return Aligned {
                    text: bare.to_owned(),
                    source: None,
                };
            };
            cursor = at + needle.len();
            let (first, last) = (&letters[at], &letters[cursor - 1]);
            if first.source != last.source {
                return Aligned {
                    text: bare.to_owned(),
                    source: None,
                };
            }
            let text = texts[first.source];
            let floor = if taken.0 == first.source { taken.1 } else { 0 };
            let start = extend_back(text, first.start, floor);
            let end = extend_forward(text, last.end);
            taken = (first.source, end);
            Aligned {
                text: text[start..end].to_owned(),
                source: Some(first.source),
            }
        })
        .collect()
}

fn normalise(word: &str) -> Vec<char> {
    word.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

fn letters(texts: &[&str]) -> Vec<Letter> {
    let mut letters = Vec::new();
    for (source, text) in texts.iter().enumerate() {
        let mut in_word = false;
        for (start, c) in text.char_indices() {
            if !c.is_alphanumeric() {
                in_word = false;
                continue;
            }
            for (k, ch) in c.to_lowercase().enumerate() {
                letters.push(Letter {
                    ch,
                    source,
                    start,
                    end: start + c.len_utf8(),
                    word_start: k == 0 && !in_word,
                });
            }
            in_word = true;
        }
    }
    letters
}

/// Where `needle` matches: right at the cursor, or else at the start of a text word a
/// little further on (the text had words the word list lacks).
fn find(letters: &[Letter], cursor: usize, needle: &[char]) -> Option<usize> {
    let fits = |at: usize| {
        letters
            .get(at..at + needle.len())
            .is_some_and(|run| run.iter().zip(needle).all(|(l, c)| l.ch == *c))
    };
    if fits(cursor) {
        return Some(cursor);
    }
    (cursor + 1..=cursor + MAX_SKIP)
        .find(|&at| letters.get(at).is_some_and(|l| l.word_start) && fits(at))
}

/// Takes opening punctuation (quotes, brackets, `¿`) right before the word.
fn extend_back(text: &str, start: usize, floor: usize) -> usize {
    let floor = floor.min(start);
    let mut from = start;
    for (i, c) in text[floor..start].char_indices().rev() {
        if c.is_whitespace() || c.is_alphanumeric() {
            break;
        }
        from = floor + i;
    }
    from
}

/// Takes closing punctuation (`,` `.` `?` quotes) right after the word.
fn extend_forward(text: &str, end: usize) -> usize {
    let mut to = end;
    for (i, c) in text[end..].char_indices() {
        if c.is_whitespace() || c.is_alphanumeric() {
            break;
        }
        to = end + i + c.len_utf8();
    }
    to
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(words: &[&str], texts: &[&str]) -> Vec<String> {
        align(words, texts).into_iter().map(|a| a.text).collect()
    }

    #[test]
    fn punctuation_and_case_come_from_the_text() {
        let got = align(
            &["hello", "world", "How", "are", "you"],
            &[" Hello, world.", " \"How are you?\""],
        );
        let words: Vec<_> = got.iter().map(|a| a.text.as_str()).collect();
        assert_eq!(words, ["Hello,", "world.", "\"How", "are", "you?\""]);
        let sources: Vec<_> = got.iter().map(|a| a.source).collect();
        assert_eq!(sources, [Some(0), Some(0), Some(1), Some(1), Some(1)]);
    }

    #[test]
    fn numbers_contractions_and_symbols_keep_their_spelling() {
        assert_eq!(
            texts(
                &["It", "costs", "5000", "dont", "worry"],
                &["It costs $5,000. Don't worry!"]
            ),
            ["It", "costs", "$5,000.", "Don't", "worry!"]
        );
        assert_eq!(
            texts(&["well", "known"], &["A well-known fact."])[1],
            "known"
        );
        assert_eq!(
            texts(&["你好", "世界"], &["你好，世界。"]),
            ["你好，", "世界。"]
        );
    }

    #[test]
    fn words_missing_from_the_text_stay_bare_and_do_not_derail_the_rest() {
        assert_eq!(
            texts(&["so", "um", "we", "start"], &["So we start."]),
            ["So", "um", "we", "start."]
        );
        // The text has a word the list lacks: skipped.
        assert_eq!(
            texts(&["we", "start"], &["We really start."]),
            ["We", "start."]
        );
        // Nothing to align with at all.
        assert_eq!(texts(&["a", "b"], &[]), ["a", "b"]);
        assert_eq!(texts(&["  ", "-"], &["- x"]), ["", "-"]);
    }

    #[test]
    fn a_short_word_is_not_matched_far_away() {
        let long = format!("{} a", "x".repeat(MAX_SKIP + 5));
        let got = align(&["a"], &[&long]);
        assert_eq!(got[0].source, None);
    }
}
