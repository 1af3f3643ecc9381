//! Writing cues and transcripts in the formats users open in players and editors.

use std::fmt::Write as _;

use clipforge_core::{ends_sentence, Segment, Transcript};

use crate::{build_cues, Cue, CueRules, SubtitleFormat};

/// A silence between segments at least this long (seconds) starts a new paragraph.
const PARAGRAPH_PAUSE: f64 = 2.0;
/// A paragraph this long (characters) ends at the next sentence end.
const PARAGRAPH_CHARS: usize = 600;

/// Writes `transcript` in `format`, with cues built by the default [`CueRules`] for the
/// subtitle formats.
pub fn export(transcript: &Transcript, format: SubtitleFormat) -> String {
    match format {
        SubtitleFormat::Json => to_json(transcript),
        SubtitleFormat::Srt => to_srt(&build_cues(transcript, &CueRules::default())),
        SubtitleFormat::Vtt => to_vtt(&build_cues(transcript, &CueRules::default())),
        SubtitleFormat::Txt => to_txt(transcript),
    }
}

/// `seconds` as `HH:MM:SS<separator>mmm`, rounded to the nearest millisecond (SRT uses `,`,
/// WebVTT `.`). Hours grow past two digits when needed; negative or non-finite times
/// are written as zero.
pub fn format_timestamp(seconds: f64, separator: char) -> String {
    let millis = if seconds.is_finite() && seconds > 0.0 {
        (seconds * 1000.0).round() as u64
    } else {
        0
    };
    let (hours, rest) = (millis / 3_600_000, millis % 3_600_000);
    let (minutes, rest) = (rest / 60_000, rest % 60_000);
    let (secs, ms) = (rest / 1000, rest % 1000);
    format!("{hours:02}:{minutes:02}:{secs:02}{separator}{ms:03}")
}

/// SubRip: numbered cues from 1, `HH:MM:SS,mmm --> HH:MM:SS,mmm`, a blank line after each.
/// No cues give an empty file.
pub fn to_srt(cues: &[Cue]) -> String {
    let mut out = String::new();
    for (index, cue) in cues.iter().enumerate() {
        let _ = writeln!(
            out,
            "{}\n{} --> {}",
            index + 1,
            format_timestamp(cue.start, ','),
            format_timestamp(cue.end, ',')
        );
        for line in &cue.lines {
            out.push_str(line);
            out.push('\n');
        }
        out.push('\n');
    }
    out
}

/// WebVTT: the `WEBVTT` header, then cues `HH:MM:SS.mmm --> HH:MM:SS.mmm` with their text
/// escaped; a diarized cue starts with a `<v Speaker N>` voice tag.
pub fn to_vtt(cues: &[Cue]) -> String {
    let mut out = String::from("WEBVTT\n");
    for cue in cues {
        let _ = writeln!(
            out,
            "\n{} --> {}",
            format_timestamp(cue.start, '.'),
            format_timestamp(cue.end, '.')
        );
        for (i, line) in cue.lines.iter().enumerate() {
            if i == 0 {
                if let Some(speaker) = cue.speaker {
                    let _ = write!(out, "<v Speaker {}>", speaker + 1);
                }
            }
            out.push_str(&escape_vtt(line));
            out.push('\n');
        }
    }
    out
}

/// WebVTT cue text is markup: `&`, `<` and `>` must be escaped (this also keeps a stray
/// `-->` from ending the cue).
fn escape_vtt(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

/// Plain text for reading: one paragraph per group of segments, a blank line between
/// paragraphs. A paragraph ends at a speaker change, a silence of 2 s or more, or the first
/// sentence end after about 600 characters. Diarized transcripts label each paragraph
/// with its speaker. An empty transcript gives an empty file.
pub fn to_txt(transcript: &Transcript) -> String {
    let diarized = transcript.segments.iter().any(|s| s.speaker.is_some());
    let mut paragraphs: Vec<(Option<u32>, String)> = Vec::new();
    let mut previous: Option<&Segment> = None;
    for segment in &transcript.segments {
        let text = segment_text(segment);
        if text.is_empty() {
            continue;
        }
        let continues = match (previous, paragraphs.last()) {
            (Some(prev), Some((speaker, paragraph))) => {
                *speaker == segment.speaker
                    && segment.start - prev.end < PARAGRAPH_PAUSE
                    && !(paragraph.chars().count() >= PARAGRAPH_CHARS && ends_sentence(paragraph))
            }
            _ => false,
        };
        match paragraphs.last_mut() {
            Some((_, paragraph)) if continues => {
                paragraph.push(' ');
                paragraph.push_str(&text);
            }
            _ => paragraphs.push((segment.speaker, text)),
        }
        previous = Some(segment);
    }
    let mut out = String::new();
    for (i, (speaker, paragraph)) in paragraphs.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        match speaker {
            Some(speaker) if diarized => {
                let _ = writeln!(out, "Speaker {}: {paragraph}", speaker + 1);
            }
            _ => {
                let _ = writeln!(out, "{paragraph}");
            }
        }
    }
    out
}

/// A segment's text with spacing normalised; its words when the text is empty.
fn segment_text(segment: &Segment) -> String {
    let words: Vec<&str> = if segment.text.trim().is_empty() {
        segment
            .words
            .iter()
            .flat_map(|w| w.text.split_whitespace())
            .collect()
    } else {
        segment.text.split_whitespace().collect()
    };
    words.join(" ")
}

/// The whole transcript (segments, words, times, confidences, speakers) as pretty JSON,
/// in the shape `clipforge_core::Transcript` reads back.
pub fn to_json(transcript: &Transcript) -> String {
    let mut out = serde_json::to_string_pretty(transcript)
        .expect("a transcript has only string keys and serializes");
    out.push('\n');
    out
}

#[cfg(test)]
#[path = "export_tests.rs"]
mod tests;
