//! What the model is told: one fixed system prompt, and per part the transcript lines and
//! the candidates in them.

use std::fmt::Write;

use clipforge_core::ClipSuggestion;

use super::chunk::Chunk;

/// Most new ranges taken from one answer; the prompt asks for no more.
pub(crate) const MAX_NEW_PER_PART: usize = 3;
/// Words of a candidate quoted so the model can find it in the transcript.
const FIRST_WORDS: usize = 12;

/// The task, the rubric and the exact answer shape. OpenAI's JSON mode requires the word
/// "JSON" in the messages.
pub(crate) const SYSTEM: &str = r#"You are a video editor who picks the moments of a long recording that work as short vertical clips (TikTok, YouTube Shorts, Instagram Reels).

You get one part of a transcript, one sentence per line as "[start-end] text" with times in seconds, and candidate clips that a local scorer found in it, each with an id like "c3".

Judge each candidate as a clip watched on its own:
- Does it open with a hook in its first seconds: a question, a bold claim, a surprising number, the start of a story?
- Does it hold one complete thought that makes sense without the rest of the recording?
- Is it funny, emotional, surprising or useful?
- Does it end on a conclusive sentence rather than mid-thought?

Score each candidate from 0 to 100: 90 or more is exceptional, 70 good, 50 usable, below 30 weak. Give each a title of at most 80 characters in the language of the transcript (no hashtags, no promise the clip does not keep), a hook line of at most 120 characters for the on-screen intro, and a one-sentence reason.

If the part holds a clearly better moment that no candidate covers, add it as a new clip with "id": null and start and end times taken from the line times. Add at most 3 new clips. For a candidate, its times are kept as they are.

Answer with one JSON object and nothing else, in exactly this shape:
{"clips":[{"id":"c3","start":12.3,"end":45.0,"score":85,"title":"...","hook":"...","reason":"..."},{"id":null,"start":80.1,"end":121.4,"score":78,"title":"...","hook":"...","reason":"..."}]}"#;

/// The message for part `index` of `parts`: its lines, its candidates (`(id, clip)`), and
/// the usual clip length when there are candidates to take it from.
pub(crate) fn user(
    part: &Chunk,
    index: usize,
    parts: usize,
    candidates: &[(String, &ClipSuggestion)],
    lengths: Option<(f64, f64)>,
) -> String {
    let mut out = format!("Transcript, part {} of {parts}:\n", index + 1);
    out.push_str(&part.text);
    out.push_str("\n\n");
    if candidates.is_empty() {
        out.push_str("No candidates were found in this part.\n");
    } else {
        out.push_str(
            "Candidates in this part (id [start-end] length, local score 0-100: first words):\n",
        );
        for (id, clip) in candidates {
            let _ = writeln!(
                out,
                "{id} [{:.1}-{:.1}] {:.0} s, score {:.0}: \"{}\"",
                clip.start,
                clip.end,
                clip.end - clip.start,
                clip.score,
                first_words(&clip.transcript)
            );
        }
    }
    if let Some((shortest, longest)) = lengths {
        let _ = writeln!(
            out,
            "\nClips run from about {shortest:.0} to {longest:.0} seconds."
        );
    }
    out.push_str("\nAnswer with the JSON object only.");
    out
}

fn first_words(text: &str) -> String {
    let words: Vec<&str> = text.split_whitespace().collect();
    let mut quoted = words[..words.len().min(FIRST_WORDS)]
        .join(" ")
        .replace('"', "'");
    if words.len() > FIRST_WORDS {
        quoted.push('…');
    }
    quoted
}

#[cfg(test)]
mod tests {
    use clipforge_core::{RankedBy, ScoreBreakdown};

    use super::*;

    fn clip(start: f64, end: f64, score: f64, transcript: &str) -> ClipSuggestion {
        ClipSuggestion {
            start,
            end,
            duration: end - start,
            score,
            breakdown: ScoreBreakdown::default(),
            reason: String::new(),
            highlights: Vec::new(),
            title: String::new(),
            hook: String::new(),
            platforms: Vec::new(),
            hashtags: Vec::new(),
            transcript: transcript.to_owned(),
            ranked_by: RankedBy::Local,
        }
    }

    #[test]
    fn the_message_lists_lines_candidates_and_lengths() {
        let part = Chunk {
            lines: 0..2,
            start: 0.0,
            end: 9.0,
            text: "[0.0-4.0] Hello there.\n[4.5-9.0] Why do \"rivers\" bend?".to_owned(),
        };
        let long = "one two three four five six seven eight nine ten eleven twelve thirteen";
        let a = clip(0.0, 24.96, 71.6, "Why do \"rivers\" bend?");
        let b = clip(30.0, 60.0, 40.0, long);
        let candidates = vec![("c1".to_owned(), &a), ("c4".to_owned(), &b)];
        let text = user(&part, 1, 3, &candidates, Some((20.0, 60.0)));
        let expected = "Transcript, part 2 of 3:\n\
            [0.0-4.0] Hello there.\n[4.5-9.0] Why do \"rivers\" bend?\n\n\
            Candidates in this part (id [start-end] length, local score 0-100: first words):\n\
            c1 [0.0-25.0] 25 s, score 72: \"Why do 'rivers' bend?\"\n\
            c4 [30.0-60.0] 30 s, score 40: \"one two three four five six seven eight nine ten eleven twelve…\"\n\
            \nClips run from about 20 to 60 seconds.\n\
            \nAnswer with the JSON object only.";
        assert_eq!(text, expected);
    }

    #[test]
    fn a_part_without_candidates_says_so() {
        let part = Chunk {
            lines: 0..1,
            start: 0.0,
            end: 1.0,
            text: "[0.0-1.0] Hi.".to_owned(),
        };
        let text = user(&part, 0, 1, &[], None);
        assert!(text.contains("No candidates"), "{text}");
        assert!(!text.contains("Clips run"));
        assert!(SYSTEM.contains("JSON"));
        assert!(SYSTEM.contains(&format!("at most {MAX_NEW_PER_PART} new clips")));
    }
}
