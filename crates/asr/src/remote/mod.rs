//! Engines that send audio to a speech API over HTTP.
//!
//! Both engines share one flow: encode the input's audio to small FLAC parts (split at
//! silences when the API has an upload limit), send each part with retries, place the
//! returned words on the source's timeline (offset, clamp, monotonic order) and validate the
//! transcript before handing it back.

mod align;
pub mod deepgram;
mod http;
mod language;
pub mod openai;

pub use deepgram::{DeepgramConfig, DeepgramEngine};
pub use openai::{OpenAiConfig, OpenAiEngine};

use std::path::Path;

use clipforge_core::{Progress, Segment, Transcript, Word};
use clipforge_media::{RunContext, UploadPart};
use tempfile::TempDir;

use crate::AsrError;

/// A pause (seconds) that ends a segment built from bare words.
const SEGMENT_MAX_PAUSE: f64 = 1.5;
/// Longest segment (seconds) built from bare words.
const SEGMENT_MAX_LEN: f64 = 30.0;

/// The audio of one input, encoded into upload parts inside a temp dir that is removed
/// when this value is dropped, whether the transcription succeeded or not.
#[derive(Debug)]
pub(crate) struct PreparedAudio {
    pub parts: Vec<UploadPart>,
    /// Duration of the encoded audio in seconds.
    pub duration: f64,
    _dir: TempDir,
}

impl PreparedAudio {
    /// Encodes `input`'s audio to FLAC parts of at most `max_bytes` in a new temp dir
    /// inside `work_dir` (the system temp dir when `None`).
    #[tracing::instrument(skip_all, fields(input = %input.display(), max_bytes))]
    pub async fn new(
        input: &Path,
        max_bytes: u64,
        work_dir: Option<&Path>,
        progress: &dyn Progress,
    ) -> Result<Self, AsrError> {
        let parent = work_dir.map_or_else(std::env::temp_dir, Path::to_path_buf);
        let dir = tempfile::Builder::new()
            .prefix("clipforge-asr-")
            .tempdir_in(&parent)
            .map_err(|source| AsrError::Io {
                path: parent,
                source,
            })?;
        let ctx = RunContext::default();
        let parts =
            clipforge_media::prepare_upload_with(input, max_bytes, dir.path(), &ctx, progress)
                .await?;
        // The encoded audio's length, like the local engine's decoded length: a video's
        // container may run longer than its sound.
        let duration = parts
            .iter()
            .map(|p| p.offset + p.duration)
            .fold(0.0, f64::max);
        tracing::debug!(parts = parts.len(), duration, "audio prepared");
        Ok(Self {
            parts,
            duration,
            _dir: dir,
        })
    }
}

/// Places words that an API timed relative to one upload part onto the timeline of the
/// whole input: shifted by the part's offset, clamped into the part and the audio, in
/// non-decreasing start order, empty words dropped.
#[derive(Debug)]
pub(crate) struct Timeline {
    duration: f64,
    last_start: f64,
}

impl Timeline {
    pub fn new(duration: f64) -> Self {
        Self {
            duration,
            last_start: 0.0,
        }
    }

    /// `reported_len` is the part duration the API reported, when it did; the shorter of it
    /// and the part's own duration bounds the words.
    pub fn place(
        &mut self,
        part: &UploadPart,
        reported_len: Option<f64>,
        (start, end): (f64, f64),
        text: &str,
        confidence: f32,
    ) -> Option<Word> {
        let text = text.trim();
        if text.is_empty() || !start.is_finite() || !end.is_finite() {
            return None;
        }
        let mut part_len = if part.duration.is_finite() && part.duration > 0.0 {
            part.duration
        } else {
            self.duration
        };
        if let Some(len) = reported_len.filter(|l| l.is_finite() && *l > 0.0) {
            part_len = part_len.min(len);
        }
        let lo = part.offset.clamp(0.0, self.duration);
        let hi = (part.offset + part_len).clamp(lo, self.duration);
        let start = (part.offset + start).clamp(lo, hi).max(self.last_start);
        let end = (part.offset + end).clamp(lo, hi).max(start);
        self.last_start = start;
        Some(Word {
            start,
            end,
            text: text.to_owned(),
            confidence: if confidence.is_finite() {
                confidence.clamp(0.0, 1.0)
            } else {
                1.0
            },
        })
    }
}

/// Groups time-ordered words into segments by a key (the API's segment they came from);
/// consecutive words with the same key form one segment.
pub(crate) fn group_by_key(words: Vec<(Word, usize)>) -> Vec<Segment> {
    let mut segments: Vec<(usize, Vec<Word>)> = Vec::new();
    for (word, key) in words {
        match segments.last_mut() {
            Some((last, group)) if *last == key => group.push(word),
            _ => segments.push((key, vec![word])),
        }
    }
    segments
        .into_iter()
        .map(|(_, words)| Segment {
            start: words[0].start,
            end: words.iter().map(|w| w.end).fold(words[0].start, f64::max),
            text: words
                .iter()
                .map(|w| w.text.as_str())
                .collect::<Vec<_>>()
                .join(" "),
            speaker: None,
            words,
        })
        .collect()
}

/// Counts words per detected language over all parts; the language with most words wins.
#[derive(Debug, Default)]
pub(crate) struct LanguageVotes(Vec<(String, usize)>);

impl LanguageVotes {
    pub fn add(&mut self, language: Option<String>, words: usize) {
        let Some(language) = language else { return };
        match self.0.iter_mut().find(|(l, _)| *l == language) {
            Some((_, n)) => *n += words,
            None => self.0.push((language, words)),
        }
    }

    /// The requested language when there is one, else the most spoken detected one,
    /// else `und` (undetermined).
    pub fn decide(self, requested: Option<&str>) -> String {
        if let Some(code) = requested.and_then(language::to_code) {
            return code;
        }
        self.0
            .into_iter()
            .enumerate()
            // The earliest language wins a tie.
            .max_by_key(|(i, (_, n))| (*n, std::cmp::Reverse(*i)))
            .map_or_else(|| "und".to_owned(), |(_, (l, _))| l)
    }
}

/// Validates a finished transcript; a failure here is a bug in the normalising above or a
/// response too broken to repair, reported as a bad response of `engine`.
pub(crate) fn finish(engine: &'static str, transcript: Transcript) -> Result<Transcript, AsrError> {
    transcript.validate().map_err(|e| AsrError::BadResponse {
        engine,
        message: format!("the words do not form a valid transcript: {e}"),
    })?;
    Ok(transcript)
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    fn part(offset: f64, duration: f64) -> UploadPart {
        UploadPart {
            path: PathBuf::from("p.flac"),
            offset,
            duration,
            mime: "audio/flac",
        }
    }

    #[test]
    fn words_are_shifted_clamped_and_kept_in_order() {
        let mut t = Timeline::new(20.0);
        let p = part(10.0, 8.0);
        let w = t.place(&p, None, (1.0, 1.5), " hi ", 0.5).unwrap();
        assert_eq!((w.start, w.end, w.text.as_str()), (11.0, 11.5, "hi"));
        // Past the end of the part: clamped to it.
        let w = t.place(&p, None, (7.5, 9.0), "late", 2.0).unwrap();
        assert_eq!((w.start, w.end, w.confidence), (17.5, 18.0, 1.0));
        // Earlier than the previous word: moved up to it.
        let w = t.place(&p, None, (3.0, 3.2), "back", 0.9).unwrap();
        assert_eq!((w.start, w.end), (17.5, 17.5));
        assert!(t.place(&p, None, (4.0, 4.1), "  ", 0.9).is_none());
        assert!(t.place(&p, None, (f64::NAN, 4.1), "x", 0.9).is_none());
        // The API's own shorter duration bounds the part.
        let mut t = Timeline::new(20.0);
        let w = t.place(&p, Some(2.0), (1.0, 3.0), "x", 0.9).unwrap();
        assert_eq!(w.end, 12.0);
    }

    #[test]
    fn words_group_by_key() {
        let mut t = Timeline::new(10.0);
        let p = part(0.0, 10.0);
        let mut w = |s: f64, text: &str| t.place(&p, None, (s, s + 0.5), text, 1.0).unwrap();
        let segs = group_by_key(vec![(w(0.0, "a"), 0), (w(1.0, "b."), 0), (w(2.0, "c"), 1)]);
        assert_eq!(segs.len(), 2);
        assert_eq!(
            (segs[0].text.as_str(), segs[0].start, segs[0].end),
            ("a b.", 0.0, 1.5)
        );
        assert_eq!(segs[1].text, "c");
    }

    #[test]
    fn language_is_requested_then_most_spoken() {
        let mut v = LanguageVotes::default();
        v.add(Some("en".into()), 3);
        v.add(Some("de".into()), 5);
        v.add(Some("en".into()), 1);
        v.add(None, 100);
        assert_eq!(v.decide(Some("fr")), "fr");
        let mut v = LanguageVotes::default();
        v.add(Some("en".into()), 3);
        v.add(Some("de".into()), 5);
        assert_eq!(v.decide(None), "de");
        assert_eq!(LanguageVotes::default().decide(None), "und");
    }
}
