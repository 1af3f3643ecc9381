//! The jump-cut plan: which source frames to keep, and at which speed.

use clipforge_core::{Transcript, Word};
use serde::{Deserialize, Serialize};

use crate::loudness::Loudness;
use crate::ranges::{normalize, overlaps_any, subtract, Range};
use crate::settings::{Mode, Settings};
use crate::words::{self, WordCuts};
use crate::{FrameRate, JumpcutError};

/// What the caller measured about one media file. Build with [`Input::new`] and add
/// whichever of the envelope, speech ranges and transcript the chosen mode needs.
#[derive(Debug, Clone, Copy)]
pub struct Input<'a> {
    duration: f64,
    frame_rate: FrameRate,
    loudness: Option<&'a Loudness>,
    speech: Option<&'a [(f64, f64)]>,
    transcript: Option<&'a Transcript>,
}

impl<'a> Input<'a> {
    /// A media file of `duration` seconds whose output is cut at `frame_rate`.
    pub fn new(duration: f64, frame_rate: FrameRate) -> Self {
        Self {
            duration,
            frame_rate,
            loudness: None,
            speech: None,
            transcript: None,
        }
    }

    /// The loudness envelope, for [`Mode::Loudness`].
    pub fn loudness(mut self, loudness: &'a Loudness) -> Self {
        self.loudness = Some(loudness);
        self
    }

    /// Speech ranges `(start, end)` in seconds from a voice-activity detector, for
    /// [`Mode::Speech`]. Ranges past the duration are clamped; order does not matter.
    pub fn speech(mut self, ranges: &'a [(f64, f64)]) -> Self {
        self.speech = Some(ranges);
        self
    }

    /// The transcript: required by [`Mode::Words`], and in any mode the source of filler
    /// and false-start cuts.
    pub fn transcript(mut self, transcript: &'a Transcript) -> Self {
        self.transcript = Some(transcript);
        self
    }
}

/// One stretch of the source that goes into the output, in order.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Piece {
    /// Source start in seconds; always `start_frame / fps`.
    pub start: f64,
    /// Source end in seconds (exclusive); always `end_frame / fps`.
    pub end: f64,
    /// Playback speed: 1.0 for kept speech; above 1 for a sped-up silence, where it is
    /// exactly `(end_frame - start_frame) / output_frames`.
    pub speed: f64,
    /// First source frame.
    pub start_frame: u64,
    /// Source frame after the last one.
    pub end_frame: u64,
    /// Whole frames this piece makes in the output.
    pub output_frames: u64,
}

/// How much shorter the output is than the input.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Removed {
    /// `duration_in - duration_out`, seconds.
    pub seconds: f64,
    /// The same as a percentage of `duration_in`.
    pub percent: f64,
}

/// What the plan did, for reports.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Stretches of the source removed entirely (leading and trailing ones included).
    pub cuts: usize,
    /// Silences kept sped up instead of cut.
    pub sped_up: usize,
    /// Filler words removed.
    pub fillers: usize,
    /// False starts removed.
    pub false_starts: usize,
}

/// The decision: pieces of the source in order, on the output frame grid.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// The grid every boundary sits on.
    pub frame_rate: FrameRate,
    /// Sorted, non-overlapping, inside `[0, duration_in]`.
    pub pieces: Vec<Piece>,
    /// The source duration given in [`Input::new`], seconds.
    pub duration_in: f64,
    /// The output duration: the sum of the pieces' whole output frames, in seconds.
    pub duration_out: f64,
    /// How much shorter the output is.
    pub removed: Removed,
    /// What was done.
    pub counts: Counts,
}

impl Plan {
    /// Frames in the output.
    pub fn output_frames(&self) -> u64 {
        self.pieces.iter().map(|p| p.output_frames).sum()
    }

    /// Seconds in the output (whole frames).
    pub fn output_duration(&self) -> f64 {
        self.frame_rate.seconds(self.output_frames())
    }

    /// The output frame each piece starts at, in order.
    pub fn output_start_frames(&self) -> Vec<u64> {
        let mut at = 0;
        self.pieces
            .iter()
            .map(|p| {
                let start = at;
                at += p.output_frames;
                start
            })
            .collect()
    }

    /// Where source time `src` (seconds) lands in the output, or `None` when it was cut.
    /// Piece ends are included, so a word ending where a piece ends still maps.
    pub fn map_time(&self, src: f64) -> Option<f64> {
        if !src.is_finite() {
            return None;
        }
        let mut out = 0;
        for piece in &self.pieces {
            if src < piece.start {
                return None;
            }
            if src <= piece.end {
                return Some(self.frame_rate.seconds(out) + (src - piece.start) / piece.speed);
            }
            out += piece.output_frames;
        }
        None
    }
}

/// Decides what to keep. Errors: invalid settings or inputs (naming the field), an input
/// the mode needs but was not given, an empty transcript in words mode, and
/// [`JumpcutError::NoSpeech`] when nothing would be kept.
pub fn plan(settings: &Settings, input: &Input<'_>) -> Result<Plan, JumpcutError> {
    settings.validate()?;
    let duration = input.duration;
    if !duration.is_finite() || duration <= 0.0 {
        return Err(JumpcutError::input(
            "duration",
            format!("{duration} is not a positive number of seconds"),
        ));
    }
    let rate = input.frame_rate;
    let total_frames = rate.frame_floor(duration);
    if total_frames == 0 {
        return Err(JumpcutError::input(
            "duration",
            format!("{duration} s is shorter than one frame at {rate} fps"),
        ));
    }

    let word_cuts = word_cuts(settings, input)?;
    let forced = normalize(word_cuts.cuts.clone(), duration);
    let speech = subtract(&speech_ranges(settings, input, &word_cuts)?, &forced);
    if speech.is_empty() {
        return Err(JumpcutError::NoSpeech);
    }

    let padded: Vec<Range> = speech
        .iter()
        .map(|&(s, e)| (s - settings.margin_before, e + settings.margin_after))
        .collect();
    let padded = subtract(&normalize(padded, duration), &forced);
    let kept = close_short_gaps(padded, settings.effective_min_silence(), &forced);
    let kept = drop_short_speech(kept, &speech, settings.min_kept);
    let frames = snap(&kept, rate, total_frames);
    if frames.is_empty() {
        return Err(JumpcutError::NoSpeech);
    }

    let mut counts = Counts {
        fillers: word_cuts.fillers,
        false_starts: word_cuts.false_starts,
        ..Counts::default()
    };
    let pieces = lay_out(&frames, total_frames, rate, settings, &forced, &mut counts);
    let out_frames: u64 = pieces.iter().map(|p| p.output_frames).sum();
    let duration_out = rate.seconds(out_frames);
    let removed = (duration - duration_out).max(0.0);
    Ok(Plan {
        frame_rate: rate,
        pieces,
        duration_in: duration,
        duration_out,
        removed: Removed {
            seconds: removed,
            percent: 100.0 * removed / duration,
        },
        counts,
    })
}

fn word_cuts(settings: &Settings, input: &Input<'_>) -> Result<WordCuts, JumpcutError> {
    let wanted =
        settings.mode == Mode::Words || settings.remove_fillers || settings.remove_false_starts;
    match input.transcript {
        Some(t) if wanted => {
            t.validate()?;
            let words: Vec<Word> = t.words().cloned().collect();
            Ok(words::analyze(&words, settings))
        }
        _ => Ok(WordCuts::default()),
    }
}

/// Raw speech per mode, clamped to the media and merged.
fn speech_ranges(
    settings: &Settings,
    input: &Input<'_>,
    word_cuts: &WordCuts,
) -> Result<Vec<Range>, JumpcutError> {
    let mode = settings.mode;
    let ranges = match mode {
        Mode::Loudness => {
            let loudness = input.loudness.ok_or(JumpcutError::MissingInput {
                mode,
                needs: "a loudness envelope",
            })?;
            loudness.speech_ranges(settings)?
        }
        Mode::Speech => {
            let ranges = input.speech.ok_or(JumpcutError::MissingInput {
                mode,
                needs: "speech ranges",
            })?;
            if let Some((i, (s, e))) = ranges
                .iter()
                .enumerate()
                .find(|(_, (s, e))| !(s.is_finite() && e.is_finite()) || e < s)
            {
                return Err(JumpcutError::input(
                    "speech",
                    format!("range {i} ({s}..{e}) is not a time range"),
                ));
            }
            ranges.to_vec()
        }
        Mode::Words => {
            let transcript = input.transcript.ok_or(JumpcutError::MissingInput {
                mode,
                needs: "a transcript",
            })?;
            if transcript.words().next().is_none() {
                return Err(JumpcutError::EmptyTranscript);
            }
            word_cuts.kept.clone()
        }
    };
    Ok(normalize(ranges, input.duration))
}

/// Joins neighbours separated by less than `min_gap`, except across a forced cut.
fn close_short_gaps(padded: Vec<Range>, min_gap: f64, forced: &[Range]) -> Vec<Range> {
    let mut kept: Vec<Range> = Vec::with_capacity(padded.len());
    for r in padded {
        if let Some(last) = kept.last_mut() {
            let gap = (last.1, r.0);
            if gap.1 - gap.0 < min_gap && !overlaps_any(gap, forced) {
                last.1 = r.1;
                continue;
            }
        }
        kept.push(r);
    }
    kept
}

/// Drops pieces whose speech, from its first start to its last end, spans less than
/// `min_kept`: margins make every piece long, so its speech is what tells noise apart.
fn drop_short_speech(kept: Vec<Range>, speech: &[Range], min_kept: f64) -> Vec<Range> {
    kept.into_iter()
        .filter(|&(ks, ke)| {
            let first = speech.partition_point(|s| s.1 <= ks);
            let inside = speech[first..].iter().take_while(|s| s.0 < ke);
            let (lo, hi) = inside.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), s| {
                (lo.min(s.0.max(ks)), hi.max(s.1.min(ke)))
            });
            hi - lo >= min_kept
        })
        .collect()
}

/// Widens each range to whole frames (start down, end up), clamps to the media's last
/// whole frame and merges ranges that now touch.
fn snap(kept: &[Range], rate: FrameRate, total_frames: u64) -> Vec<(u64, u64)> {
    let mut frames: Vec<(u64, u64)> = Vec::with_capacity(kept.len());
    for &(s, e) in kept {
        let a = rate.frame_floor(s).min(total_frames);
        let b = rate.frame_ceil(e).min(total_frames);
        if b <= a {
            continue;
        }
        match frames.last_mut() {
            Some(last) if a <= last.1 => last.1 = last.1.max(b),
            _ => frames.push((a, b)),
        }
    }
    frames
}

/// Turns kept frame ranges into pieces, cutting or speeding up the gaps between them.
fn lay_out(
    frames: &[(u64, u64)],
    total_frames: u64,
    rate: FrameRate,
    settings: &Settings,
    forced: &[Range],
    counts: &mut Counts,
) -> Vec<Piece> {
    let mut pieces: Vec<Piece> = Vec::with_capacity(frames.len() * 2 + 1);
    let mut gap = |a: u64, b: u64, pieces: &mut Vec<Piece>| {
        let span = (rate.seconds(a), rate.seconds(b));
        match settings.silence_speed {
            // A gap holding a removed word is cut: a sped-up "um" is still an "um".
            Some(speed) if !overlaps_any(span, forced) => {
                let n = b - a;
                let out = ((n as f64 / speed).round() as u64).max(1);
                if out < n {
                    counts.sped_up += 1;
                }
                push(pieces, rate, a, b, out.min(n));
            }
            _ => counts.cuts += 1,
        }
    };
    let mut cursor = 0;
    for &(a, b) in frames {
        if a > cursor {
            gap(cursor, a, &mut pieces);
        }
        push(&mut pieces, rate, a, b, b - a);
        cursor = b;
    }
    if cursor < total_frames {
        gap(cursor, total_frames, &mut pieces);
    }
    pieces
}

/// Appends a piece, merging it into the previous one when both play at 1x and touch.
fn push(pieces: &mut Vec<Piece>, rate: FrameRate, a: u64, b: u64, out: u64) {
    let speed = if out == b - a {
        1.0
    } else {
        (b - a) as f64 / out as f64
    };
    if let Some(last) = pieces.last_mut() {
        if speed == 1.0 && last.speed == 1.0 && last.end_frame == a {
            last.end_frame = b;
            last.end = rate.seconds(b);
            last.output_frames += out;
            return;
        }
    }
    pieces.push(Piece {
        start: rate.seconds(a),
        end: rate.seconds(b),
        speed,
        start_frame: a,
        end_frame: b,
        output_frames: out,
    });
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;
