//! Word-level cuts from a transcript: filler words and false starts.

use clipforge_core::{ends_sentence, Word};

use crate::ranges::Range;
use crate::settings::Settings;

/// Longest phrase, in words, a false start may repeat.
const MAX_RESTART_WORDS: usize = 3;
/// Longest pause, in seconds, between a false start and its restart.
const MAX_RESTART_GAP: f64 = 1.0;
/// Words people double on purpose ("no no", "very very", "had had", "that that").
const DOUBLED_ON_PURPOSE: &[&str] = &[
    "no", "yes", "yeah", "yep", "very", "really", "so", "bye", "ha", "haha", "had", "that", "is",
    "go", "well", "now", "oh", "ok", "okay", "right", "hey", "please", "more", "far", "long",
    "again", "over", "knock", "tick", "chop", "ding", "la", "blah", "bla", "na",
];

/// The comparable form of a word: lowercase, without leading and trailing punctuation.
pub fn normalize_word(text: &str) -> String {
    text.trim_matches(|c: char| !c.is_alphanumeric())
        .to_lowercase()
}

/// Collapses stretched letters ("ummm" → "um") so elongated fillers still match.
fn squeeze(word: &str) -> String {
    let mut out = String::with_capacity(word.len());
    for c in word.chars() {
        if !out.ends_with(c) {
            out.push(c);
        }
    }
    out
}

/// Whether `text` is one of `fillers`, ignoring case, surrounding punctuation and
/// stretched letters ("Ummm," is "um"). A single letter only matches exactly, so the
/// initial "M." is not the filler "mm".
pub fn is_filler(text: &str, fillers: &[String]) -> bool {
    let word = normalize_word(text);
    if word.is_empty() {
        return false;
    }
    let squeezed = squeeze(&word);
    let stretchable = word.chars().count() >= 2;
    fillers.iter().any(|f| {
        let f = normalize_word(f);
        f == word || (stretchable && squeeze(&f) == squeezed)
    })
}

/// What the transcript contributes to a plan.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct WordCuts {
    /// Time ranges of the words that stay, in order.
    pub kept: Vec<Range>,
    /// Ranges that must be cut whatever the margins and gaps say (sorted, disjoint).
    pub cuts: Vec<Range>,
    /// Filler words removed.
    pub fillers: usize,
    /// False starts removed (each one a word or phrase).
    pub false_starts: usize,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Fate {
    Keep,
    Filler,
    FalseStart,
}

/// Marks fillers and false starts and turns each run of removed words into a cut that
/// reaches into the pauses around it, but stops `margin_after` past the previous kept
/// word and `margin_before` ahead of the next, and never enters a kept word.
pub(crate) fn analyze(words: &[Word], settings: &Settings) -> WordCuts {
    let mut fate = vec![Fate::Keep; words.len()];
    let mut result = WordCuts::default();
    if settings.remove_fillers {
        for (i, w) in words.iter().enumerate() {
            if is_filler(&w.text, &settings.fillers) {
                fate[i] = Fate::Filler;
                result.fillers += 1;
            }
        }
    }
    if settings.remove_false_starts {
        result.false_starts = mark_false_starts(words, &mut fate);
    }
    let mut i = 0;
    while i < words.len() {
        if fate[i] == Fate::Keep {
            result.kept.push((words[i].start, words[i].end));
            i += 1;
            continue;
        }
        let first = i;
        while i < words.len() && fate[i] != Fate::Keep {
            i += 1;
        }
        let last = i - 1;
        let mut start = words[first].start;
        if let Some(prev) = first.checked_sub(1).map(|p| &words[p]) {
            start = start.min(prev.end + settings.margin_after).max(prev.end);
        }
        let mut end = words[last].end;
        if let Some(next) = words.get(i) {
            end = end.max(next.start - settings.margin_before).min(next.start);
        }
        if end > start {
            result.cuts.push((start, end));
        }
    }
    result
}

/// Marks the first take of each immediately repeated word or phrase (up to
/// [`MAX_RESTART_WORDS`] words) among the kept words; returns how many it marked.
fn mark_false_starts(words: &[Word], fate: &mut [Fate]) -> usize {
    let idx: Vec<usize> = (0..words.len())
        .filter(|&i| fate[i] == Fate::Keep)
        .collect();
    let norm: Vec<String> = idx
        .iter()
        .map(|&i| normalize_word(&words[i].text))
        .collect();
    let mut count = 0;
    let mut k = 0;
    while k < idx.len() {
        let found = (1..=MAX_RESTART_WORDS)
            .rev()
            .find(|&n| is_restart(words, &idx, &norm, k, n));
        match found {
            Some(n) => {
                for &i in &idx[k..k + n] {
                    fate[i] = Fate::FalseStart;
                }
                count += 1;
                k += n;
            }
            None => k += 1,
        }
    }
    count
}

/// Whether the `n` kept words from position `k` are restarted right after them.
fn is_restart(words: &[Word], idx: &[usize], norm: &[String], k: usize, n: usize) -> bool {
    if k + n >= idx.len() {
        return false;
    }
    let first_last = &words[idx[k + n - 1]];
    let next = &words[idx[k + n]];
    // A sentence end between the takes means a deliberate repetition ("Why? Why?").
    if ends_sentence(&first_last.text) || next.start - first_last.end > MAX_RESTART_GAP {
        return false;
    }
    if norm[k..k + n].iter().any(|w| w.is_empty()) {
        return false;
    }
    // A word cut off mid-way ("wen- went") restarts the word it begins.
    if n == 1 && first_last.text.trim_end().ends_with(['-', '—', '–']) {
        let cut = &norm[k];
        if norm[k + 1].starts_with(cut.as_str()) && cut.chars().count() >= 2 {
            return true;
        }
    }
    if k + 2 * n > norm.len() || norm[k..k + n] != norm[k + n..k + 2 * n] {
        return false;
    }
    n > 1 || !DOUBLED_ON_PURPOSE.contains(&norm[k].as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Words from `(text, start, end)`.
    fn words(spec: &[(&str, f64, f64)]) -> Vec<Word> {
        spec.iter()
            .map(|&(text, start, end)| Word {
                start,
                end,
                text: text.into(),
                confidence: 0.9,
            })
            .collect()
    }

    fn assert_close(got: &[Range], want: &[Range]) {
        assert_eq!(got.len(), want.len(), "{got:?} vs {want:?}");
        for (g, w) in got.iter().zip(want) {
            assert!(
                (g.0 - w.0).abs() < 1e-9 && (g.1 - w.1).abs() < 1e-9,
                "{got:?} vs {want:?}"
            );
        }
    }

    fn texts(ws: &[Word], cuts: &WordCuts) -> Vec<String> {
        ws.iter()
            .filter(|w| cuts.kept.contains(&(w.start, w.end)))
            .map(|w| w.text.clone())
            .collect()
    }

    fn settings(false_starts: bool) -> Settings {
        Settings {
            remove_false_starts: false_starts,
            ..Settings::default()
        }
    }

    #[test]
    fn fillers_match_case_punctuation_and_stretching() {
        let f = Settings::default().fillers;
        for yes in [
            "um", "Um,", "UMMM...", "uh", "\"Uh?\"", "hmmm", "hm", "Erm", "ah!", "mm", "Mmm.",
        ] {
            assert!(is_filler(yes, &f), "{yes}");
        }
        for no in [
            "umbrella", "hum", "I", "the", "", "...", "aha", "uh-huh", "M.", "m",
        ] {
            assert!(!is_filler(no, &f), "{no}");
        }
    }

    #[test]
    fn filler_cut_reaches_into_pauses_but_not_words() {
        let ws = words(&[
            ("So", 0.0, 0.3),
            ("um,", 0.35, 0.7),
            ("I", 0.75, 0.9),
            ("think", 0.9, 1.2),
            ("uh", 3.0, 3.3),
            ("yes.", 3.4, 3.8),
        ]);
        let cuts = analyze(&ws, &settings(false));
        assert_eq!(cuts.fillers, 2);
        assert_eq!(texts(&ws, &cuts), vec!["So", "I", "think", "yes."]);
        // um: the pauses on both sides are shorter than the margins, so exactly the word.
        assert_eq!(cuts.cuts[0], (0.35, 0.7));
        // uh: 1.8 s of pause before it: cut from margin_after past "think".
        assert_eq!(cuts.cuts[1], (1.2 + 0.25, 3.3));
    }

    #[test]
    fn consecutive_fillers_make_one_cut() {
        let ws = words(&[
            ("well", 0.0, 0.3),
            ("um", 0.4, 0.6),
            ("uh", 0.65, 0.9),
            ("ok", 1.0, 1.2),
        ]);
        let cuts = analyze(&ws, &settings(false));
        assert_eq!(cuts.fillers, 2);
        assert_eq!(cuts.cuts, vec![(0.4, 0.9)]);
    }

    #[test]
    fn fillers_can_be_kept() {
        let ws = words(&[("um", 0.0, 0.3), ("hi", 0.4, 0.6)]);
        let s = Settings {
            remove_fillers: false,
            ..Settings::default()
        };
        let cuts = analyze(&ws, &s);
        assert_eq!(cuts.fillers, 0);
        assert!(cuts.cuts.is_empty());
        assert_eq!(cuts.kept.len(), 2);
    }

    #[test]
    fn false_starts_cut_the_first_take() {
        let ws = words(&[
            ("I", 0.0, 0.1),
            ("went-", 0.15, 0.4),
            ("I", 0.6, 0.7),
            ("went", 0.75, 1.0),
            ("to", 1.05, 1.15),
            ("the", 1.2, 1.3),
            ("the", 1.4, 1.5),
            ("shop.", 1.55, 2.0),
        ]);
        let cuts = analyze(&ws, &settings(true));
        assert_eq!(cuts.false_starts, 2);
        assert_eq!(texts(&ws, &cuts), vec!["I", "went", "to", "the", "shop."]);
        assert_eq!(cuts.kept[0], (0.6, 0.7));
        // The cut stops margin_before ahead of the restart, and the second "the" is kept.
        assert_close(&cuts.cuts, &[(0.0, 0.45), (1.2, 1.3)]);
    }

    #[test]
    fn false_starts_are_conservative() {
        let s = settings(true);
        for spec in [
            // Deliberate doubling.
            vec![("no", 0.0, 0.2), ("no", 0.3, 0.5), ("no.", 0.6, 0.8)],
            // A sentence end between the takes.
            vec![("Why?", 0.0, 0.3), ("Why", 0.5, 0.8), ("not?", 0.9, 1.2)],
            // A long pause between the takes.
            vec![("the", 0.0, 0.2), ("the", 2.0, 2.2), ("end", 2.3, 2.6)],
            // Different words.
            vec![("I", 0.0, 0.1), ("went", 0.2, 0.4), ("home", 0.5, 0.8)],
        ] {
            let ws = words(&spec);
            let cuts = analyze(&ws, &s);
            assert_eq!(cuts.false_starts, 0, "{spec:?}");
            assert_eq!(cuts.kept.len(), ws.len());
        }
        // Off unless asked for.
        let ws = words(&[("the", 0.0, 0.2), ("the", 0.3, 0.5), ("end", 0.6, 0.9)]);
        assert_eq!(analyze(&ws, &settings(false)).false_starts, 0);
        assert_eq!(analyze(&ws, &s).false_starts, 1);
    }

    #[test]
    fn truncated_word_restarts_and_fillers_between_takes() {
        let ws = words(&[
            ("wen-", 0.0, 0.2),
            ("went", 0.3, 0.6),
            ("home", 0.7, 1.0),
            ("and", 1.1, 1.3),
            ("uh", 1.4, 1.6),
            ("and", 1.7, 1.9),
            ("slept.", 2.0, 2.5),
        ]);
        let cuts = analyze(&ws, &settings(true));
        assert_eq!(cuts.false_starts, 2);
        assert_eq!(cuts.fillers, 1);
        assert_eq!(texts(&ws, &cuts), vec!["went", "home", "and", "slept."]);
        // "and uh" is one removed run.
        assert_close(&cuts.cuts, &[(0.0, 0.2), (1.1, 1.6)]);
    }
}
