//! Random word streams through the cue builder and the writers: whatever the speech, the
//! subtitles a viewer gets keep the broadcast limits and show every word once, in order.

use clipforge_captions::{build_cues, to_srt, to_vtt, Cue, CueRules};
use clipforge_core::{ends_sentence, Transcript, Word};
use proptest::prelude::*;

const EPS: f64 = 1e-9;

const VOCABULARY: &[&str] = &[
    "a",
    "you",
    "the",
    "and",
    "was",
    "speech",
    "clipping",
    "tomorrow",
    "extraordinary",
    "transcription",
    "we",
    "go",
    "can't",
    "well",
    "über",
    "café",
    "it's",
    "twenty-one",
    "internationalisation",
    "supercalifragilisticexpialidocious-and-then-some-more",
];

/// One generated word: vocabulary index, trailing punctuation, silence before it, how long
/// it is spoken, and whether the speaker changes before it.
type RawWord = (usize, u8, u8, f64, bool);

fn raw_word() -> impl Strategy<Value = RawWord> {
    (
        0..VOCABULARY.len(),
        0u8..12,
        0u8..20,
        0.05f64..1.2,
        proptest::bool::weighted(0.03),
    )
}

fn transcript(raw: &[RawWord], diarized: bool) -> Transcript {
    let mut at = 0.2;
    let mut speaker = 0u32;
    let words: Vec<(Word, Option<u32>)> = raw
        .iter()
        .map(|&(index, punct, gap, spoken, switch)| {
            let mut text = VOCABULARY[index].to_string();
            text.push_str(match punct {
                0 => ".",
                1 => ",",
                2 => "?",
                _ => "",
            });
            at += match gap {
                0..=11 => 0.0,
                12..=15 => 0.2,
                16..=17 => 0.6,
                18 => 1.6,
                _ => 4.0,
            };
            if switch && diarized {
                speaker = 1 - speaker;
            }
            let word = Word {
                start: at,
                end: at + spoken,
                text,
                confidence: 0.9,
            };
            at += spoken;
            (word, diarized.then_some(speaker))
        })
        .collect();
    Transcript {
        language: "en".into(),
        duration: at + 0.3,
        segments: Transcript::segment_words(words, 1.0, 30.0),
    }
}

/// For each cue, the indices of the transcript words it shows (checking that the cues show
/// exactly the words, in order).
fn words_per_cue(cues: &[Cue], words: &[&Word]) -> Vec<std::ops::Range<usize>> {
    let mut next = 0;
    let mut out = Vec::new();
    for cue in cues {
        let start = next;
        for shown in cue.lines.iter().flat_map(|l| l.split(' ')) {
            assert!(
                next < words.len(),
                "cue {cue:?} shows {shown:?} after the last word"
            );
            assert_eq!(shown, words[next].text, "word {next} in cue {cue:?}");
            next += 1;
        }
        out.push(start..next);
    }
    assert_eq!(next, words.len(), "the cues dropped words");
    out
}

fn check(raw: &[RawWord], diarized: bool) {
    let t = transcript(raw, diarized);
    let rules = CueRules::default();
    let cues = build_cues(&t, &rules);
    let words: Vec<&Word> = t.words().collect();
    let speakers: Vec<Option<u32>> = t
        .segments
        .iter()
        .flat_map(|s| s.words.iter().map(|_| s.speaker))
        .collect();
    let ranges = words_per_cue(&cues, &words);

    for (cue, range) in cues.iter().zip(&ranges) {
        assert!(!range.is_empty(), "empty cue {cue:?}");
        assert!((1..=2).contains(&cue.lines.len()), "{cue:?}");
        for line in &cue.lines {
            assert!(
                line.chars().count() <= 42 || !line.contains(' '),
                "line too long: {cue:?}"
            );
        }
        let (first, last) = (words[range.start], words[range.end - 1]);
        assert_eq!(cue.start, first.start, "cue starts with its first word");
        assert!(
            cue.end >= last.end - EPS,
            "cue ends before its last word: {cue:?}"
        );
        if range.len() > 1 {
            assert!(
                cue.end - cue.start <= rules.max_duration + EPS,
                "cue too long: {cue:?}"
            );
            assert!(last.end - first.start <= rules.max_duration + EPS);
        }
        assert!(
            speakers[range.clone()].iter().all(|&s| s == cue.speaker),
            "mixed speakers"
        );
        assert!(
            cue.end <= t.duration + EPS,
            "held past the end of the audio"
        );
    }
    for pair in cues.windows(2) {
        let (cue, next) = (&pair[0], &pair[1]);
        assert!(
            cue.start <= cue.end && cue.end <= next.start + EPS,
            "overlap: {pair:?}"
        );
        // A short cue is held as long as the silence after it allows.
        if cue.end - cue.start < rules.min_duration - EPS {
            assert!(
                (cue.end - next.start).abs() < EPS,
                "short cue not held: {pair:?}"
            );
        }
    }
    for i in 1..words.len() {
        let (before, after) = (words[i - 1], words[i]);
        let starts_cue = ranges.iter().any(|r| r.start == i);
        if speakers[i] != speakers[i - 1] || after.start - before.end >= rules.hard_pause {
            assert!(
                starts_cue,
                "word {i} {:?} after a speaker change or long silence",
                after.text
            );
        }
        // A sentence end is followed by a new cue whenever the sentence can be read alone.
        if ends_sentence(&before.text) && after.start - before.start >= rules.min_duration {
            assert!(
                starts_cue,
                "word {i} {:?} starts a sentence mid-cue",
                after.text
            );
        }
    }

    let srt = to_srt(&cues);
    assert_eq!(srt.matches(" --> ").count(), cues.len());
    assert!(srt.is_empty() || srt.ends_with("\n\n"));
    let vtt = to_vtt(&cues);
    assert!(vtt.starts_with("WEBVTT\n"));
    assert!(!vtt.contains("\n\n\n"), "no empty cue text");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn cues_keep_the_limits_and_every_word(raw in proptest::collection::vec(raw_word(), 0..250)) {
        check(&raw, false);
    }

    #[test]
    fn diarized_cues_never_mix_speakers(raw in proptest::collection::vec(raw_word(), 0..120)) {
        check(&raw, true);
    }
}
