//! Sentences, pauses and speaker turns from a word-level transcript.
//!
//! Punctuated transcripts split at sentence-ending punctuation; transcripts without any
//! (some engines, some languages) split at pauses instead. Either way a long silence or a
//! change of speaker always ends a sentence, and an overlong sentence is cut at its widest
//! pause so that every part of the video can start or end a clip.

use std::ops::Range;

use clipforge_core::{ends_sentence, Transcript};

/// One word with its speaker, in transcript order.
#[derive(Debug, Clone, PartialEq)]
pub struct TimedWord {
    pub start: f64,
    pub end: f64,
    pub text: String,
    pub speaker: Option<u32>,
}

/// Why a sentence ends where it does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SentenceEnd {
    /// Sentence-ending punctuation.
    Punctuation,
    /// A pause long enough to end a thought.
    Pause,
    /// The next word belongs to another speaker.
    SpeakerTurn,
    /// Cut to keep sentences short enough to combine into clips.
    Forced,
    /// The last word of the transcript.
    Last,
}

/// A sentence: a run of words with its timing and the silence around it.
#[derive(Debug, Clone, PartialEq)]
pub struct Sentence {
    pub start: f64,
    pub end: f64,
    /// Indices into [`Sentences::words`].
    pub words: Range<usize>,
    pub text: String,
    /// The speaker of the first word.
    pub speaker: Option<u32>,
    /// Silence before the first word (from the previous word's end, or from 0).
    pub pause_before: f64,
    /// Silence after the last word (to the next word's start, or to the end of the audio).
    pub pause_after: f64,
    pub ends_by: SentenceEnd,
}

impl Sentence {
    pub fn duration(&self) -> f64 {
        self.end - self.start
    }

    pub fn word_count(&self) -> usize {
        self.words.len()
    }
}

/// A transcript split into sentences.
#[derive(Debug, Clone, PartialEq)]
pub struct Sentences {
    pub words: Vec<TimedWord>,
    pub sentences: Vec<Sentence>,
    /// Duration of the audio in seconds.
    pub duration: f64,
    /// Whether sentence ends came from punctuation (false: from pauses).
    pub punctuated: bool,
}

/// A pause at least this long ends a sentence even in a punctuated transcript.
const LONG_PAUSE: f64 = 2.0;
/// Shortest pause that ends a sentence in an unpunctuated transcript.
const MIN_SPLIT_PAUSE: f64 = 0.45;
/// Sentences longer than this are cut at their widest pause.
const MAX_SENTENCE: f64 = 30.0;
/// Unpunctuated sentences with more words than this are cut at their widest pause.
const MAX_UNPUNCTUATED_WORDS: usize = 40;

/// Words that end with a full stop without ending a sentence.
const ABBREVIATIONS: &[&str] = &[
    "mr.", "mrs.", "ms.", "dr.", "prof.", "st.", "vs.", "etc.", "e.g.", "i.e.", "jr.", "sr.",
    "no.", "approx.", "inc.", "ltd.", "co.", "mt.", "u.s.", "u.k.",
];

fn ends_with_abbreviation(text: &str) -> bool {
    let lower = text.to_lowercase();
    ABBREVIATIONS.contains(&lower.as_str())
}

impl Sentences {
    /// Splits a transcript into sentences. Words with empty text are skipped.
    pub fn from_transcript(transcript: &Transcript) -> Self {
        let words: Vec<TimedWord> = transcript
            .segments
            .iter()
            .flat_map(|segment| {
                segment.words.iter().map(move |w| TimedWord {
                    start: w.start,
                    end: w.end.max(w.start),
                    text: w.text.trim().to_string(),
                    speaker: segment.speaker,
                })
            })
            .filter(|w| !w.text.is_empty())
            .collect();
        let duration = transcript.duration.max(words.last().map_or(0.0, |w| w.end));
        Self::from_words(words, duration)
    }

    /// Splits time-ordered words into sentences.
    pub fn from_words(words: Vec<TimedWord>, duration: f64) -> Self {
        let punctuated = is_punctuated(&words);
        let split_pause = if punctuated {
            LONG_PAUSE
        } else {
            pause_threshold(&words)
        };
        let mut ends = Vec::new();
        for (i, word) in words.iter().enumerate() {
            let Some(next) = words.get(i + 1) else {
                ends.push((i, SentenceEnd::Last));
                break;
            };
            let gap = next.start - word.end;
            let end = if next.speaker != word.speaker {
                Some(SentenceEnd::SpeakerTurn)
            } else if punctuated && ends_sentence(&word.text) && !ends_with_abbreviation(&word.text)
            {
                Some(SentenceEnd::Punctuation)
            } else if gap >= split_pause {
                Some(SentenceEnd::Pause)
            } else {
                None
            };
            if let Some(end) = end {
                ends.push((i, end));
            }
        }
        let mut ranges = Vec::new();
        let mut first = 0;
        for (last, end) in ends {
            split_long(&words, first..last + 1, end, punctuated, &mut ranges);
            first = last + 1;
        }
        let sentences = ranges
            .into_iter()
            .map(|(range, ends_by)| make_sentence(&words, range, ends_by, duration))
            .collect();
        Self {
            words,
            sentences,
            duration,
            punctuated,
        }
    }

    pub fn len(&self) -> usize {
        self.sentences.len()
    }

    pub fn is_empty(&self) -> bool {
        self.sentences.is_empty()
    }

    /// The text of sentences `range`, joined by spaces.
    pub fn text(&self, range: Range<usize>) -> String {
        let mut out = String::new();
        for s in &self.sentences[range] {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(&s.text);
        }
        out
    }

    /// Whether time `t` falls strictly inside a word (more than `tolerance` from its edges).
    pub fn inside_word(&self, t: f64, tolerance: f64) -> bool {
        let i = self.words.partition_point(|w| w.end <= t);
        self.words[i..]
            .iter()
            .take_while(|w| w.start < t)
            .any(|w| t > w.start + tolerance && t < w.end - tolerance)
    }
}

/// A transcript counts as punctuated when sentence ends are common enough to rely on:
/// at least one per 60 words on average.
fn is_punctuated(words: &[TimedWord]) -> bool {
    let ends = words.iter().filter(|w| ends_sentence(&w.text)).count();
    ends > 0 && words.len() / ends <= 60
}

/// The pause that ends a sentence in unpunctuated speech: the 85th percentile of the
/// gaps between words, but never below [`MIN_SPLIT_PAUSE`] nor above [`LONG_PAUSE`].
fn pause_threshold(words: &[TimedWord]) -> f64 {
    let mut gaps: Vec<f64> = words
        .windows(2)
        .map(|p| (p[1].start - p[0].end).max(0.0))
        .collect();
    if gaps.is_empty() {
        return LONG_PAUSE;
    }
    gaps.sort_by(f64::total_cmp);
    let p85 = gaps[(gaps.len() - 1) * 85 / 100];
    p85.clamp(MIN_SPLIT_PAUSE, LONG_PAUSE)
}

/// Pushes `range` as one sentence, or cut at its widest pauses (after a comma when
/// there is one nearby) until every part is short enough.
fn split_long(
    words: &[TimedWord],
    range: Range<usize>,
    end: SentenceEnd,
    punctuated: bool,
    out: &mut Vec<(Range<usize>, SentenceEnd)>,
) {
    let too_long = |r: &Range<usize>| {
        let span = words[r.end - 1].end - words[r.start].start;
        r.len() > 1 && (span > MAX_SENTENCE || (!punctuated && r.len() > MAX_UNPUNCTUATED_WORDS))
    };
    if !too_long(&range) {
        out.push((range, end));
        return;
    }
    // Cut after the word followed by the widest pause, preferring a comma; never leave
    // a part of fewer than three words when it can be avoided.
    let inner = range.start..range.end - 1;
    let margin = if range.len() > 6 { 2 } else { 0 };
    let cut = inner
        .clone()
        .filter(|&i| i >= range.start + margin && i + 1 + margin < range.end)
        .max_by(|&a, &b| {
            let weight = |i: usize| {
                let gap = (words[i + 1].start - words[i].end).max(0.0);
                let comma = if words[i].text.ends_with([',', ';', ':']) {
                    0.25
                } else {
                    0.0
                };
                gap + comma
            };
            weight(a).total_cmp(&weight(b))
        })
        .unwrap_or(range.start + range.len() / 2 - 1);
    split_long(
        words,
        range.start..cut + 1,
        SentenceEnd::Forced,
        punctuated,
        out,
    );
    split_long(words, cut + 1..range.end, end, punctuated, out);
}

fn make_sentence(
    words: &[TimedWord],
    range: Range<usize>,
    ends_by: SentenceEnd,
    duration: f64,
) -> Sentence {
    let first = &words[range.start];
    let last = &words[range.end - 1];
    let pause_before = match range.start.checked_sub(1) {
        Some(prev) => first.start - words[prev].end,
        None => first.start,
    };
    let pause_after = match words.get(range.end) {
        Some(next) => next.start - last.end,
        None => duration - last.end,
    };
    let mut text = String::new();
    for w in &words[range.clone()] {
        if !text.is_empty() {
            text.push(' ');
        }
        text.push_str(&w.text);
    }
    Sentence {
        start: first.start,
        end: last.end,
        words: range,
        text,
        speaker: first.speaker,
        pause_before: pause_before.max(0.0),
        pause_after: pause_after.max(0.0),
        ends_by,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Words at a steady pace: each 0.3 s long with 0.1 s gaps, `pause` extra seconds of
    /// silence after words whose text ends with `|` (the bar is removed).
    pub(crate) fn words(text: &str, pause: f64) -> Vec<TimedWord> {
        let mut t = 0.0;
        let mut out = Vec::new();
        for token in text.split_whitespace() {
            let (token, paused) = match token.strip_suffix('|') {
                Some(t) => (t, true),
                None => (token, false),
            };
            let (speaker, token) = match token.split_once(':') {
                Some((s, w)) if s.len() == 1 && !w.is_empty() => {
                    (Some(u32::from(s.as_bytes()[0] - b'A')), w)
                }
                _ => (out.last().and_then(|w: &TimedWord| w.speaker), token),
            };
            out.push(TimedWord {
                start: t,
                end: t + 0.3,
                text: token.to_string(),
                speaker,
            });
            t += 0.4 + if paused { pause } else { 0.0 };
        }
        out
    }

    fn texts(s: &Sentences) -> Vec<&str> {
        s.sentences.iter().map(|s| s.text.as_str()).collect()
    }

    #[test]
    fn splits_at_punctuation_but_not_abbreviations() {
        let s = Sentences::from_words(
            words("I met Dr. Smith today. He said hi! Did you? Yes.", 0.0),
            20.0,
        );
        assert!(s.punctuated);
        assert_eq!(
            texts(&s),
            ["I met Dr. Smith today.", "He said hi!", "Did you?", "Yes."]
        );
        assert_eq!(s.sentences[0].ends_by, SentenceEnd::Punctuation);
        assert_eq!(s.sentences[3].ends_by, SentenceEnd::Last);
    }

    #[test]
    fn long_silence_and_speaker_turns_end_sentences() {
        let s = Sentences::from_words(
            words("A:So that is the| thing. B:Right and then we left.", 2.5),
            20.0,
        );
        assert_eq!(
            texts(&s),
            ["So that is the", "thing.", "Right and then we left."]
        );
        assert_eq!(s.sentences[0].ends_by, SentenceEnd::Pause);
        assert_eq!(s.sentences[1].ends_by, SentenceEnd::SpeakerTurn);
        assert_eq!(s.sentences[2].speaker, Some(1));
        assert!((s.sentences[0].pause_after - 2.6).abs() < 1e-9);
    }

    #[test]
    fn unpunctuated_speech_splits_at_pauses() {
        let s = Sentences::from_words(
            words(
                "so we went to the lake| and it was cold| then we came home",
                0.8,
            ),
            20.0,
        );
        assert!(!s.punctuated);
        assert_eq!(
            texts(&s),
            [
                "so we went to the lake",
                "and it was cold",
                "then we came home"
            ]
        );
    }

    #[test]
    fn overlong_sentences_are_cut_at_the_widest_pause() {
        let mut text = String::new();
        for i in 0..120 {
            text.push_str(if i == 70 { "word,| " } else { "word " });
        }
        text.push_str("end.");
        let s = Sentences::from_words(words(&text, 0.3), 100.0);
        assert!(s.len() >= 2, "{:?}", texts(&s));
        assert!(s.sentences.iter().all(|s| s.duration() <= MAX_SENTENCE));
        assert!(s.sentences.iter().any(|s| s.text.ends_with("word,")));
        assert_eq!(s.sentences.last().unwrap().ends_by, SentenceEnd::Last);
        let covered: usize = s.sentences.iter().map(Sentence::word_count).sum();
        assert_eq!(covered, 121);
    }

    #[test]
    fn inside_word_respects_tolerance() {
        let s = Sentences::from_words(words("one two", 0.0), 2.0);
        assert!(s.inside_word(0.15, 0.01));
        assert!(!s.inside_word(0.35, 0.01));
        assert!(!s.inside_word(0.305, 0.01));
        assert!(s.inside_word(0.5, 0.01));
    }

    #[test]
    fn empty_transcript_has_no_sentences() {
        let s = Sentences::from_transcript(&Transcript::empty("en", 10.0));
        assert!(s.is_empty());
    }
}
