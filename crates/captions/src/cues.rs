//! Grouping the words of a transcript into subtitle cues the way broadcasters do.

use clipforge_core::Transcript;
use serde::{Deserialize, Serialize};

use crate::layout::{self, Punctuation};

/// One subtitle on screen: up to [`CueRules::max_lines`] lines shown from `start` to `end`
/// (seconds from the start of the media).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cue {
    /// When the cue appears: the start of its first word.
    pub start: f64,
    /// When it disappears: the end of its last word, or later to stay readable.
    pub end: f64,
    /// The text, one entry per line on screen.
    pub lines: Vec<String>,
    /// The speaker of every word in the cue, when the engine diarized the audio.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speaker: Option<u32>,
}

impl Cue {
    /// The cue's text on one line.
    pub fn text(&self) -> String {
        self.lines.join(" ")
    }
}

/// How words are grouped into cues. The default follows common broadcast practice
/// (BBC, Netflix): two lines of 42 characters, at most 7 s, at least 0.7 s where the
/// following silence allows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CueRules {
    /// Lines per cue (at least 1).
    pub max_lines: usize,
    /// Characters per line (at least 1). A single longer word gets a line of its own.
    pub max_chars: usize,
    /// Longest time a cue stays on screen, in seconds. Only a single word spoken for longer
    /// than this makes a longer cue.
    pub max_duration: f64,
    /// Shortest time a cue stays on screen; a shorter cue is held into the silence after
    /// it, never over the next cue.
    pub min_duration: f64,
    /// A silence between words at least this long (seconds) is a good place to split.
    pub pause: f64,
    /// A silence at least this long always ends the cue, so text never shows long before
    /// it is spoken.
    pub hard_pause: f64,
}

impl Default for CueRules {
    fn default() -> Self {
        Self {
            max_lines: 2,
            max_chars: 42,
            max_duration: 7.0,
            min_duration: 0.7,
            pause: 0.5,
            hard_pause: 1.5,
        }
    }
}

/// Costs the cue splitter weighs. Every cue costs 1, so a split point is worth an extra
/// cue when its penalty saves more than that.
mod cost {
    /// Breaking between two sentences that had to share a run (one was too short to show
    /// alone).
    pub const AT_SENTENCE: f64 = 0.0;
    pub const AT_PAUSE: f64 = 0.25;
    pub const AT_CLAUSE: f64 = 0.75;
    /// Breaking between two words with nothing between them.
    pub const PLAIN: f64 = 2.0;
    /// Added when the cue would end on a word that leans on the next ("the", "of").
    pub const LEANING: f64 = 0.5;
    /// Weight of the squared share of unused space; keeps the cues of a long sentence
    /// even instead of full, full, nearly empty.
    pub const UNDERFILL: f64 = 0.5;
}

/// One word as the cue builder sees it.
#[derive(Debug, Clone)]
pub(crate) struct Token {
    pub(crate) text: String,
    pub(crate) start: f64,
    pub(crate) end: f64,
    pub(crate) speaker: Option<u32>,
}

/// Splits `transcript` into cues that follow `rules`: every word lands in exactly one cue,
/// in order (a hyphenated word the engine timed in two parts, "ill" + "-disposed", is
/// shown whole); a sentence end, a speaker change or a long silence starts a new cue; longer
/// runs are split preferably at pauses, then at commas, never inside a word. Cue times are
/// the times of their words, held up to `min_duration` only into silence; cues never
/// overlap.
pub fn build_cues(transcript: &Transcript, rules: &CueRules) -> Vec<Cue> {
    let rules = CueRules {
        max_lines: rules.max_lines.max(1),
        max_chars: rules.max_chars.max(1),
        ..rules.clone()
    };
    let tokens = tokens(transcript);
    let mut cues = Vec::new();
    let mut run_start = 0;
    for k in 1..=tokens.len() {
        if k == tokens.len() || starts_new_run(&tokens[run_start..k], &tokens[k], &rules) {
            split_run(&tokens[run_start..k], &rules, &mut cues);
            run_start = k;
        }
    }
    settle_times(&mut cues, &rules, transcript.duration);
    cues
}

/// The transcript's words with clean text and usable times. A segment without words
/// contributes the words of its text, timed by spreading the segment's span over them in
/// proportion to their length.
pub(crate) fn tokens(transcript: &Transcript) -> Vec<Token> {
    let mut out: Vec<Token> = Vec::new();
    // Where a word with a broken (non-finite) time is put: right after the previous one.
    let floor = |out: &[Token]| out.last().map_or(0.0, |t| t.end);
    for segment in &transcript.segments {
        if segment.words.iter().any(|w| !w.text.trim().is_empty()) {
            for word in &segment.words {
                let text = word.text.trim();
                if text.is_empty() {
                    continue;
                }
                let start = finite_or(word.start, floor(&out));
                let end = finite_or(word.end, start).max(start);
                if let Some(previous) = out
                    .last_mut()
                    .filter(|p| p.speaker == segment.speaker && continues_previous_word(text))
                {
                    previous.text.push_str(text);
                    previous.end = previous.end.max(end);
                    continue;
                }
                out.push(Token {
                    text: text.to_string(),
                    start,
                    end,
                    speaker: segment.speaker,
                });
            }
        } else {
            let words: Vec<&str> = segment.text.split_whitespace().collect();
            let start = finite_or(segment.start, floor(&out));
            let span = (finite_or(segment.end, start) - start).max(0.0);
            // Characters including the spaces between words, so the last word ends with
            // the segment.
            let total = words
                .iter()
                .map(|w| layout::char_len(w) + 1)
                .sum::<usize>()
                .saturating_sub(1);
            let mut done = 0;
            for word in words {
                let len = layout::char_len(word);
                let at = |chars: usize| start + span * chars as f64 / total as f64;
                out.push(Token {
                    text: word.to_string(),
                    start: at(done),
                    end: at(done + len),
                    speaker: segment.speaker,
                });
                done += len + 1;
            }
        }
    }
    out
}

/// Whether a word is the second half of a hyphenated word that the engine timed on its
/// own: Whisper gives "ill-disposed" as "ill" and "-disposed". Shown apart, it would read
/// "ill -disposed" and could even be split across cues.
fn continues_previous_word(text: &str) -> bool {
    let mut chars = text.chars();
    matches!(chars.next(), Some('-' | '‐' | '‑')) && chars.next().is_some_and(char::is_alphanumeric)
}

fn finite_or(value: f64, fallback: f64) -> f64 {
    if value.is_finite() {
        value
    } else {
        fallback
    }
}

/// Whether `next` must begin a new cue after the words of `run`: at a speaker change, a
/// long silence, or a sentence end. A sentence too short to stay on screen for
/// `min_duration` before `next` begins keeps the next one company instead of flashing by.
fn starts_new_run(run: &[Token], next: &Token, rules: &CueRules) -> bool {
    let (first, last) = (&run[0], &run[run.len() - 1]);
    next.speaker != last.speaker
        || next.start - last.end >= rules.hard_pause
        || (layout::punctuation_after(&last.text) == Punctuation::Sentence
            && next.start - first.start >= rules.min_duration)
}

/// Splits one run of words (no forced break inside) into the cheapest sequence of cues
/// that each fit the line and duration limits, and appends them to `cues`.
fn split_run(run: &[Token], rules: &CueRules, cues: &mut Vec<Cue>) {
    let n = run.len();
    if n == 0 {
        return;
    }
    let lens: Vec<usize> = run.iter().map(|t| layout::char_len(&t.text)).collect();
    let capacity = (rules.max_chars * rules.max_lines) as f64;
    let break_cost = |j: usize| -> f64 {
        if j == n {
            return 0.0;
        }
        let (before, after) = (&run[j - 1], &run[j]);
        let punctuation = layout::punctuation_after(&before.text);
        if punctuation == Punctuation::Sentence {
            cost::AT_SENTENCE
        } else if after.start - before.end >= rules.pause {
            cost::AT_PAUSE
        } else if punctuation == Punctuation::Clause {
            cost::AT_CLAUSE
        } else if layout::leans_on_next(&before.text) {
            cost::PLAIN + cost::LEANING
        } else {
            cost::PLAIN
        }
    };
    // best[j]: cheapest split of run[..j], with where its last cue starts.
    let mut best: Vec<(f64, usize)> = vec![(f64::INFINITY, 0); n + 1];
    best[0] = (0.0, 0);
    for i in 0..n {
        let base = best[i].0;
        if !base.is_finite() {
            continue;
        }
        for j in i + 1..=n {
            let single = j == i + 1;
            let fits = layout::fits(&lens[i..j], rules.max_chars, rules.max_lines)
                && run[j - 1].end - run[i].start <= rules.max_duration + 1e-9;
            if !single && !fits {
                // Adding words never makes a cue fit again.
                break;
            }
            let chars = (lens[i..j].iter().sum::<usize>() + (j - i - 1)) as f64;
            let unused = (1.0 - chars / capacity).max(0.0);
            let total = base + 1.0 + break_cost(j) + cost::UNDERFILL * unused * unused;
            if total < best[j].0 {
                best[j] = (total, i);
            }
        }
    }
    let mut bounds = Vec::new();
    let mut j = n;
    while j > 0 {
        let i = best[j].1;
        bounds.push((i, j));
        j = i;
    }
    for (i, j) in bounds.into_iter().rev() {
        let words: Vec<&str> = run[i..j].iter().map(|t| t.text.as_str()).collect();
        let lines = layout::layout(&words, rules.max_chars, rules.max_lines)
            .unwrap_or_else(|| vec![words.join(" ")]);
        cues.push(Cue {
            start: run[i].start,
            end: run[i..j].iter().map(|t| t.end).fold(run[i].start, f64::max),
            lines,
            speaker: run[i].speaker,
        });
    }
}

/// Makes cue times safe to show: no cue overlaps the next (engines sometimes let word
/// times overlap), and a cue shorter than `min_duration` is held into the silence after
/// it, up to the next cue and the end of the audio.
fn settle_times(cues: &mut [Cue], rules: &CueRules, duration: f64) {
    for k in 0..cues.len().saturating_sub(1) {
        let next_start = cues[k + 1].start;
        if cues[k].end > next_start {
            if next_start > cues[k].start {
                cues[k].end = next_start;
            } else {
                // Both start together: the later cue waits for this one.
                let end = cues[k].end;
                let next = &mut cues[k + 1];
                next.start = end;
                next.end = next.end.max(end);
            }
        }
    }
    let min = rules.min_duration.min(rules.max_duration);
    // A zero duration means the engine did not say how long the audio is.
    let audio_end = if duration.is_finite() && duration > 0.0 {
        duration
    } else {
        f64::INFINITY
    };
    for k in 0..cues.len() {
        let next_start = cues.get(k + 1).map_or(f64::INFINITY, |next| next.start);
        let cue = &mut cues[k];
        if cue.end - cue.start < min {
            cue.end = (cue.start + min)
                .min(next_start)
                .min(audio_end)
                .max(cue.end);
        }
    }
}

#[cfg(test)]
#[path = "cues_tests.rs"]
mod tests;
