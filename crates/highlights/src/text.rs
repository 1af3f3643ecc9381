//! The words that go with a suggestion: an extractive title, an intro hook line and
//! hashtags from keyphrases.

use std::collections::HashMap;

use crate::lexicon::{self, is_stop_word};

/// Longest title in characters.
pub const MAX_TITLE: usize = 70;
/// Longest hook line in characters.
pub const MAX_HOOK: usize = 100;

/// Leading words that make a spoken sentence read badly as a title.
const LEADING_FILLER: &[&str] = &[
    "so",
    "and",
    "but",
    "well",
    "um",
    "uh",
    "okay",
    "ok",
    "yeah",
    "like",
    "right",
    "now",
    "look",
    "listen",
    "oh",
    "basically",
    "honestly",
    "actually",
    "anyway",
];

/// Tidies a spoken sentence for display: drops leading fillers, trims to `max` characters
/// at a word (or clause) boundary, capitalises the first letter.
pub fn tidy(sentence: &str, max: usize, keep_final_punctuation: bool) -> String {
    let mut words: Vec<&str> = sentence.split_whitespace().collect();
    while words.len() > 3 {
        let first = lexicon::normalize(words[0]);
        if LEADING_FILLER.contains(&first.as_str()) || words[0].ends_with(',') && first.len() < 6 {
            words.remove(0);
        } else {
            break;
        }
    }
    let mut out = String::new();
    let mut clause_end = 0;
    for w in &words {
        let extra = usize::from(!out.is_empty()) + w.chars().count();
        if out.chars().count() + extra > max {
            // Cut at the last clause boundary when it keeps most of the text.
            if clause_end * 2 > out.len() {
                out.truncate(clause_end);
            }
            break;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(w);
        if w.ends_with([',', ';', ':', '—']) {
            clause_end = out.len();
        }
    }
    let question = out.ends_with('?');
    let mut trimmed = out
        .trim_end_matches(|c: char| !c.is_alphanumeric() && c != '%')
        .to_string();
    if keep_final_punctuation && question {
        trimmed.push('?');
    } else if keep_final_punctuation && !trimmed.is_empty() {
        let ending = out[trimmed.len()..]
            .chars()
            .find(|c| matches!(c, '.' | '!'));
        if let Some(c) = ending {
            trimmed.push(c);
        }
    } else if question {
        trimmed.push('?');
    }
    capitalise(&trimmed)
}

/// The text with its first letter in upper case.
pub fn capitalise(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Document frequencies of content words and two-word phrases over all sentences, for
/// weighting keyphrases by how specific they are to a clip.
#[derive(Debug, Clone, Default)]
pub struct Vocabulary {
    docs: usize,
    df: HashMap<String, usize>,
}

/// Content words and adjacent content-word pairs of a token list.
fn terms(tokens: &[String]) -> Vec<String> {
    // Adverbs and past forms rarely name a subject.
    let content = |t: &String| {
        t.len() >= 3
            && !is_stop_word(t)
            && !t.ends_with("ly")
            && !t.ends_with("ed")
            && t.chars().all(|c| c.is_alphabetic() || c == '-')
    };
    let mut out: Vec<String> = tokens.iter().filter(|t| content(t)).cloned().collect();
    for pair in tokens.windows(2) {
        if content(&pair[0]) && content(&pair[1]) {
            out.push(format!("{} {}", pair[0], pair[1]));
        }
    }
    out
}

impl Vocabulary {
    pub fn new<'a>(sentences: impl IntoIterator<Item = &'a [String]>) -> Self {
        let mut v = Self::default();
        for tokens in sentences {
            v.docs += 1;
            let mut seen = terms(tokens);
            seen.sort_unstable();
            seen.dedup();
            for t in seen {
                *v.df.entry(t).or_default() += 1;
            }
        }
        v
    }

    /// The `n` best keyphrases of a clip's tokens: frequent in the clip, rare elsewhere.
    /// A phrase absorbs the single words it contains.
    pub fn keyphrases<'a>(
        &self,
        clip: impl IntoIterator<Item = &'a [String]>,
        n: usize,
    ) -> Vec<String> {
        let mut tf: HashMap<String, f64> = HashMap::new();
        for tokens in clip {
            for t in terms(tokens) {
                *tf.entry(t).or_default() += 1.0;
            }
        }
        let mut scored: Vec<(String, f64)> = tf
            .into_iter()
            // Terms said once in a clip are rarely what it is about; a phrase said once
            // counts when the video repeats it elsewhere.
            .filter(|(t, f)| {
                *f >= 2.0 || (t.contains(' ') && self.df.get(t).is_some_and(|&d| d >= 2))
            })
            .map(|(t, f)| {
                let df = self.df.get(&t).copied().unwrap_or(0) as f64;
                let idf = ((self.docs as f64 + 1.0) / (df + 1.0)).ln() + 1.0;
                let phrase = if t.contains(' ') { 1.5 } else { 1.0 };
                (t, f * idf * phrase)
            })
            .collect();
        scored.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        let mut out: Vec<String> = Vec::new();
        for (t, _) in scored {
            if out.len() == n {
                break;
            }
            let overlaps = out
                .iter()
                .any(|o| o.split(' ').any(|w| t.split(' ').any(|x| x == w)));
            if !overlaps {
                out.push(t);
            }
        }
        out
    }
}

/// `#CamelCase` from a keyphrase.
pub fn hashtag(phrase: &str) -> String {
    let mut out = String::from("#");
    for word in phrase.split([' ', '-']) {
        out.push_str(&capitalise(word));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tidy_drops_fillers_and_trims_at_words() {
        assert_eq!(
            tidy("so, um, the truth is nobody reads the manual.", 70, false),
            "The truth is nobody reads the manual"
        );
        assert_eq!(
            tidy("and why do we sleep at all?", 70, false),
            "Why do we sleep at all?"
        );
        let long = tidy(
            "the first thing you learn, when you start investing money for real, is patience",
            40,
            false,
        );
        assert!(long.chars().count() <= 40, "{long}");
        assert!(!long.ends_with(' ') && !long.ends_with(','));
        assert_eq!(tidy("Stop doing this!", 70, true), "Stop doing this!");
    }

    #[test]
    fn keyphrases_prefer_specific_repeated_terms() {
        let doc: Vec<Vec<String>> = [
            "today we talk about many things",
            "compound interest is the engine of wealth",
            "compound interest rewards patience",
            "the weather was nice",
            "index funds are boring but compound interest works",
        ]
        .iter()
        .map(|s| lexicon::tokens(s))
        .collect();
        let vocab = Vocabulary::new(doc.iter().map(Vec::as_slice));
        let keys = vocab.keyphrases(doc[1..3].iter().map(Vec::as_slice), 3);
        assert_eq!(keys[0], "compound interest");
        assert!(!keys.contains(&"compound".to_string()));
        assert_eq!(hashtag(&keys[0]), "#CompoundInterest");
    }
}
