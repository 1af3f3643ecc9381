//! The one transcript shape every speech engine produces and every later stage consumes.

use serde::{Deserialize, Serialize};

/// A timed transcript of one media file. Times are seconds from the start of the media.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Transcript {
    /// ISO 639-1 code of the spoken language (e.g. `en`).
    pub language: String,
    /// Duration of the transcribed audio in seconds.
    pub duration: f64,
    /// Segments in time order; each holds the words spoken in it.
    pub segments: Vec<Segment>,
}

/// A run of speech (usually a sentence or a speaker turn).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Segment {
    pub start: f64,
    pub end: f64,
    pub text: String,
    /// Speaker index when the engine diarized the audio.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speaker: Option<u32>,
    pub words: Vec<Word>,
}

/// One spoken word with its timing and the engine's confidence in it (0–1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Word {
    pub start: f64,
    pub end: f64,
    /// The word as written, with attached punctuation, without surrounding spaces.
    pub text: String,
    pub confidence: f32,
}

/// Why a transcript breaks the invariants later stages rely on.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TranscriptError {
    #[error("word {index} ({text:?}) has an empty or non-finite time range {start}..{end}")]
    BadWordTime {
        index: usize,
        text: String,
        start: f64,
        end: f64,
    },
    #[error(
        "word {index} ({text:?}) starts at {start} before the previous word starts at {previous}"
    )]
    NotMonotonic {
        index: usize,
        text: String,
        start: f64,
        previous: f64,
    },
    #[error("word {index} ends at {end}, after the end of the audio at {duration}")]
    PastEnd {
        index: usize,
        end: f64,
        duration: f64,
    },
    #[error("word {index} is empty")]
    EmptyWord { index: usize },
    #[error("confidence {confidence} of word {index} is outside 0..=1")]
    BadConfidence { index: usize, confidence: f32 },
}

impl Transcript {
    /// An empty transcript (no speech found) for audio of `duration` seconds.
    pub fn empty(language: impl Into<String>, duration: f64) -> Self {
        Self {
            language: language.into(),
            duration,
            segments: Vec::new(),
        }
    }

    /// All words in time order.
    pub fn words(&self) -> impl Iterator<Item = &Word> {
        self.segments.iter().flat_map(|s| s.words.iter())
    }

    /// The whole text, segments joined by single spaces.
    pub fn text(&self) -> String {
        let mut out = String::new();
        for segment in &self.segments {
            let text = segment.text.trim();
            if text.is_empty() {
                continue;
            }
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(text);
        }
        out
    }

    /// Checks the invariants every engine must uphold: words are non-empty, have a
    /// non-negative time range inside the audio, and start in non-decreasing order.
    pub fn validate(&self) -> Result<(), TranscriptError> {
        // Engines round to milliseconds; allow that much slack at the end of the audio.
        const END_SLACK: f64 = 0.001;
        let mut previous = f64::NEG_INFINITY;
        for (index, word) in self.words().enumerate() {
            if word.text.trim().is_empty() {
                return Err(TranscriptError::EmptyWord { index });
            }
            if !(word.start.is_finite() && word.end.is_finite())
                || word.start < 0.0
                || word.end < word.start
            {
                return Err(TranscriptError::BadWordTime {
                    index,
                    text: word.text.clone(),
                    start: word.start,
                    end: word.end,
                });
            }
            if word.start < previous {
                return Err(TranscriptError::NotMonotonic {
                    index,
                    text: word.text.clone(),
                    start: word.start,
                    previous,
                });
            }
            if word.end > self.duration + END_SLACK {
                return Err(TranscriptError::PastEnd {
                    index,
                    end: word.end,
                    duration: self.duration,
                });
            }
            if !(0.0..=1.0).contains(&word.confidence) {
                return Err(TranscriptError::BadConfidence {
                    index,
                    confidence: word.confidence,
                });
            }
            previous = word.start;
        }
        Ok(())
    }

    /// Groups time-ordered words into segments: a new segment starts after a sentence end
    /// (`.`, `?`, `!`), at a pause of at least `max_pause` seconds, at a speaker change, or
    /// when the current one reaches `max_len` seconds. Used by engines that return bare words.
    pub fn segment_words(
        words: Vec<(Word, Option<u32>)>,
        max_pause: f64,
        max_len: f64,
    ) -> Vec<Segment> {
        let mut segments: Vec<Segment> = Vec::new();
        let mut current: Option<Segment> = None;
        for (word, speaker) in words {
            if let Some(seg) = current.as_mut() {
                let last = seg.words.last().map(|w| (w.end, ends_sentence(&w.text)));
                let (last_end, sentence_done) = last.unwrap_or((seg.start, false));
                let split = sentence_done
                    || word.start - last_end >= max_pause
                    || speaker != seg.speaker
                    || word.end - seg.start > max_len;
                if split {
                    segments.push(finish_segment(current.take().expect("segment is open")));
                }
            }
            let seg = current.get_or_insert_with(|| Segment {
                start: word.start,
                end: word.end,
                text: String::new(),
                speaker,
                words: Vec::new(),
            });
            seg.words.push(word);
        }
        if let Some(seg) = current {
            segments.push(finish_segment(seg));
        }
        segments
    }
}

fn finish_segment(mut seg: Segment) -> Segment {
    seg.start = seg.words.first().map_or(seg.start, |w| w.start);
    seg.end = seg.words.iter().map(|w| w.end).fold(seg.start, f64::max);
    seg.text = seg
        .words
        .iter()
        .map(|w| w.text.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    seg
}

/// Whether a word closes a sentence (ends with `.`, `?`, `!` or `…`, before closing quotes).
pub fn ends_sentence(text: &str) -> bool {
    let trimmed = text.trim_end_matches(['"', '\'', ')', ']', '”', '’']);
    trimmed.ends_with(['.', '?', '!', '…', '。', '？', '！'])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(start: f64, end: f64, text: &str) -> Word {
        Word {
            start,
            end,
            text: text.into(),
            confidence: 0.9,
        }
    }

    fn transcript(words: Vec<Word>, duration: f64) -> Transcript {
        Transcript {
            language: "en".into(),
            duration,
            segments: Transcript::segment_words(
                words.into_iter().map(|w| (w, None)).collect(),
                1.0,
                30.0,
            ),
        }
    }

    #[test]
    fn valid_transcript_passes() {
        let t = transcript(vec![w(0.0, 0.4, "Hello"), w(0.5, 0.9, "world.")], 1.0);
        assert_eq!(t.validate(), Ok(()));
        assert_eq!(t.text(), "Hello world.");
    }

    #[test]
    fn rejects_words_out_of_order_empty_or_past_the_end() {
        let t = transcript(vec![w(0.5, 0.9, "b"), w(0.1, 0.3, "a")], 1.0);
        assert!(matches!(
            t.validate(),
            Err(TranscriptError::NotMonotonic { index: 1, .. })
        ));
        let t = transcript(vec![w(0.5, 0.9, " ")], 1.0);
        assert!(matches!(
            t.validate(),
            Err(TranscriptError::EmptyWord { index: 0 })
        ));
        let t = transcript(vec![w(0.5, 1.9, "late")], 1.0);
        assert!(matches!(t.validate(), Err(TranscriptError::PastEnd { .. })));
        let t = transcript(vec![w(0.5, 0.4, "backwards")], 1.0);
        assert!(matches!(
            t.validate(),
            Err(TranscriptError::BadWordTime { .. })
        ));
    }

    #[test]
    fn segments_split_at_sentence_ends_pauses_and_speakers() {
        let words = vec![
            (w(0.0, 0.3, "One."), Some(0)),
            (w(0.4, 0.6, "Two"), Some(0)),
            (w(2.0, 2.3, "three"), Some(0)),
            (w(2.4, 2.6, "four"), Some(1)),
        ];
        let segs = Transcript::segment_words(words, 1.0, 30.0);
        let texts: Vec<_> = segs.iter().map(|s| (s.text.as_str(), s.speaker)).collect();
        assert_eq!(
            texts,
            vec![
                ("One.", Some(0)),
                ("Two", Some(0)),
                ("three", Some(0)),
                ("four", Some(1))
            ]
        );
        assert_eq!(segs[1].start, 0.4);
        assert_eq!(segs[1].end, 0.6);
    }

    #[test]
    fn sentence_end_sees_through_closing_quotes() {
        assert!(ends_sentence("said.\""));
        assert!(ends_sentence("why?"));
        assert!(!ends_sentence("Mr"));
        assert!(!ends_sentence("and,"));
    }

    #[test]
    fn json_shape_matches_the_documented_one() {
        let t = transcript(vec![w(0.0, 0.5, "Hi.")], 1.0);
        let v = serde_json::to_value(&t).unwrap();
        assert_eq!(v["language"], "en");
        assert_eq!(v["segments"][0]["words"][0]["text"], "Hi.");
        assert!(v["segments"][0].get("speaker").is_none());
        let back: Transcript = serde_json::from_value(v).unwrap();
        assert_eq!(back, t);
    }
}
