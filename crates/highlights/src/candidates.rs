//! Candidate windows: runs of whole sentences within the duration limits, and the final
//! cut times snapped into the silence around them.

use crate::sentences::Sentences;

/// Longest lead-in before the first word of a clip.
pub const MAX_LEAD_IN: f64 = 0.35;
/// Longest tail after the last word of a clip.
pub const MAX_TAIL: f64 = 0.45;
/// Share of the silence before (after) a clip that the lead-in (tail) may take; the rest
/// keeps the cut clear of the neighbouring word, whose end (start) time an engine may
/// place a little early (late).
const SILENCE_SHARE: f64 = 0.6;

/// A window of sentences `first..=last`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Window {
    pub first: usize,
    pub last: usize,
    /// Cut times, snapped into the silence around the words.
    pub start: f64,
    pub end: f64,
}

impl Window {
    pub fn duration(&self) -> f64 {
        self.end - self.start
    }
}

/// The cut times for sentences `first..=last`: a short lead-in and tail that stay inside
/// the silence before the first word and after the last, so a cut never lands in a word.
pub fn cut(sentences: &Sentences, first: usize, last: usize) -> Window {
    let (a, b) = (&sentences.sentences[first], &sentences.sentences[last]);
    let lead = (a.pause_before * SILENCE_SHARE).min(MAX_LEAD_IN);
    let tail = (b.pause_after * SILENCE_SHARE).min(MAX_TAIL);
    Window {
        first,
        last,
        start: (a.start - lead).max(0.0),
        end: (b.end + tail).min(sentences.duration.max(b.end)),
    }
}

/// Every window of whole sentences lasting `min..=max` seconds (cut times included).
pub fn windows(sentences: &Sentences, min: f64, max: f64) -> Vec<Window> {
    let n = sentences.len();
    let mut out = Vec::new();
    for first in 0..n {
        for last in first..n {
            let w = cut(sentences, first, last);
            if w.duration() > max {
                break;
            }
            if w.duration() >= min {
                out.push(w);
            }
        }
    }
    out
}

/// Snaps an arbitrary range (from a user or a language model) to whole sentences: the
/// sentence containing or following `start` through the sentence containing or
/// preceding `end`; `None` when no sentence lies in the range.
pub fn snap(sentences: &Sentences, start: f64, end: f64) -> Option<Window> {
    if !(start.is_finite() && end.is_finite()) || end <= start {
        return None;
    }
    let s = &sentences.sentences;
    // A sentence is in the range when most of it is.
    let first = s.iter().position(|x| (x.start + x.end) / 2.0 >= start)?;
    let last = s.iter().rposition(|x| (x.start + x.end) / 2.0 <= end)?;
    (first <= last).then(|| cut(sentences, first, last))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sentences::TimedWord;
    use proptest::prelude::*;

    fn sentences_from(spec: &[(f64, f64, &str)], duration: f64) -> Sentences {
        let words = spec
            .iter()
            .map(|&(start, end, text)| TimedWord {
                start,
                end,
                text: text.into(),
                speaker: None,
            })
            .collect();
        Sentences::from_words(words, duration)
    }

    #[test]
    fn cuts_stay_inside_the_surrounding_silence() {
        let s = sentences_from(
            &[
                (0.2, 0.5, "Hi."),
                (0.6, 1.0, "Good."),
                (2.0, 2.5, "Yes."),
                (2.55, 3.0, "End."),
            ],
            3.2,
        );
        let w = cut(&s, 1, 2);
        assert!((w.start - 0.54).abs() < 1e-9, "60% of a 0.1 s gap");
        assert!((w.end - 2.53).abs() < 1e-9);
        let whole = cut(&s, 0, 3);
        assert!((whole.start - 0.08).abs() < 1e-9);
        assert!((whole.end - 3.12).abs() < 1e-9);
        let long = sentences_from(&[(5.0, 6.0, "Alone.")], 10.0);
        let w = cut(&long, 0, 0);
        assert_eq!((w.start, w.end), (5.0 - MAX_LEAD_IN, 6.0 + MAX_TAIL));
    }

    #[test]
    fn windows_respect_duration_limits() {
        let spec: Vec<(f64, f64, String)> = (0..40)
            .map(|i| {
                let t = f64::from(i) * 5.0;
                (t, t + 4.5, format!("s{i}."))
            })
            .collect();
        let words: Vec<(f64, f64, &str)> =
            spec.iter().map(|(a, b, t)| (*a, *b, t.as_str())).collect();
        let s = sentences_from(&words, 200.0);
        let ws = windows(&s, 20.0, 30.0);
        assert!(!ws.is_empty());
        assert!(ws.iter().all(|w| (20.0..=30.0).contains(&w.duration())));
    }

    #[test]
    fn snap_takes_the_sentences_mostly_inside_the_range() {
        let s = sentences_from(
            &[(0.0, 2.0, "One."), (3.0, 5.0, "Two."), (6.0, 8.0, "Three.")],
            9.0,
        );
        let w = snap(&s, 1.2, 7.5).unwrap();
        assert_eq!((w.first, w.last), (1, 2));
        assert!(snap(&s, 8.5, 9.0).is_none());
        assert!(snap(&s, 5.0, 4.0).is_none());
        assert!(snap(&s, f64::NAN, 4.0).is_none());
    }

    proptest! {
        #[test]
        fn no_window_cut_lands_inside_a_word(
            gaps in proptest::collection::vec((0.0f64..1.5, 0.05f64..0.8, any::<bool>()), 2..80)
        ) {
            let mut t = 0.0;
            let mut spec = Vec::new();
            let texts: Vec<String> = (0..gaps.len()).map(|i| format!("w{i}")).collect();
            for (i, (gap, len, stop)) in gaps.iter().enumerate() {
                t += gap;
                let text = if *stop { format!("{}.", texts[i]) } else { texts[i].clone() };
                spec.push((t, t + len, text));
                t += len;
            }
            let words: Vec<(f64, f64, &str)> =
                spec.iter().map(|(a, b, x)| (*a, *b, x.as_str())).collect();
            let s = sentences_from(&words, t + 0.5);
            for w in windows(&s, 0.5, 30.0) {
                prop_assert!(!s.inside_word(w.start, 0.0), "start {} inside a word", w.start);
                prop_assert!(!s.inside_word(w.end, 0.0), "end {} inside a word", w.end);
                prop_assert!(w.start <= s.sentences[w.first].start);
                prop_assert!(w.end >= s.sentences[w.last].end);
                prop_assert!(s.sentences[w.first].start - w.start <= MAX_LEAD_IN + 1e-9);
                prop_assert!(w.end - s.sentences[w.last].end <= MAX_TAIL + 1e-9);
            }
        }
    }
}
