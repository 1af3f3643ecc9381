use clipforge_core::{Segment, Transcript, Word};

use super::*;

fn segment(start: f64, end: f64, speaker: Option<u32>, words: &[(&str, f64, f64)]) -> Segment {
    let words: Vec<Word> = words
        .iter()
        .map(|&(text, start, end)| Word {
            start,
            end,
            text: text.into(),
            confidence: 0.8,
        })
        .collect();
    Segment {
        start,
        end,
        text: words
            .iter()
            .map(|w| w.text.as_str())
            .collect::<Vec<_>>()
            .join(" "),
        speaker,
        words,
    }
}

fn sample() -> Transcript {
    Transcript {
        language: "en".into(),
        duration: 3700.0,
        segments: vec![
            segment(
                0.5,
                1.62,
                None,
                &[("He", 0.5, 0.62), ("was", 0.7, 0.9), ("kind.", 1.0, 1.62)],
            ),
            segment(
                3.0,
                3.4,
                None,
                &[("Fish", 3.0, 3.2), ("&", 3.2, 3.25), ("<chips>", 3.25, 3.4)],
            ),
            segment(3661.0, 3661.5, None, &[("Late.", 3661.0, 3661.5)]),
        ],
    }
}

#[test]
fn timestamps_round_to_the_millisecond_and_grow_past_an_hour() {
    assert_eq!(format_timestamp(0.0, ','), "00:00:00,000");
    assert_eq!(format_timestamp(1.2344, ','), "00:00:01,234");
    assert_eq!(format_timestamp(1.2346, ','), "00:00:01,235");
    assert_eq!(format_timestamp(59.9996, ','), "00:01:00,000");
    assert_eq!(format_timestamp(3599.9999, '.'), "01:00:00.000");
    assert_eq!(format_timestamp(3661.5, '.'), "01:01:01.500");
    assert_eq!(format_timestamp(36_000.25, ','), "10:00:00,250");
    assert_eq!(format_timestamp(360_000.0, ','), "100:00:00,000");
    assert_eq!(format_timestamp(-0.2, ','), "00:00:00,000");
    assert_eq!(format_timestamp(f64::NAN, ','), "00:00:00,000");
}

#[test]
fn srt_is_numbered_and_blank_line_separated() {
    let srt = export(&sample(), SubtitleFormat::Srt);
    assert_eq!(
        srt,
        "1\n00:00:00,500 --> 00:00:01,620\nHe was kind.\n\n\
         2\n00:00:03,000 --> 00:00:03,700\nFish & <chips>\n\n\
         3\n01:01:01,000 --> 01:01:01,700\nLate.\n\n"
    );
}

#[test]
fn vtt_has_its_header_dots_and_escaped_text() {
    let vtt = export(&sample(), SubtitleFormat::Vtt);
    assert_eq!(
        vtt,
        "WEBVTT\n\
         \n00:00:00.500 --> 00:00:01.620\nHe was kind.\n\
         \n00:00:03.000 --> 00:00:03.700\nFish &amp; &lt;chips&gt;\n\
         \n01:01:01.000 --> 01:01:01.700\nLate.\n"
    );
}

#[test]
fn two_line_cues_keep_both_lines() {
    let cue = Cue {
        start: 1.0,
        end: 2.5,
        lines: vec!["first line".into(), "second line".into()],
        speaker: Some(1),
    };
    assert_eq!(
        to_srt(std::slice::from_ref(&cue)),
        "1\n00:00:01,000 --> 00:00:02,500\nfirst line\nsecond line\n\n"
    );
    assert_eq!(
        to_vtt(&[cue]),
        "WEBVTT\n\n00:00:01.000 --> 00:00:02.500\n<v Speaker 2>first line\nsecond line\n"
    );
}

#[test]
fn empty_transcripts_give_valid_empty_files() {
    let t = Transcript::empty("en", 30.0);
    assert_eq!(export(&t, SubtitleFormat::Srt), "");
    assert_eq!(export(&t, SubtitleFormat::Vtt), "WEBVTT\n");
    assert_eq!(export(&t, SubtitleFormat::Txt), "");
    let json = export(&t, SubtitleFormat::Json);
    let back: Transcript = serde_json::from_str(&json).unwrap();
    assert_eq!(back, t);
}

#[test]
fn json_is_the_whole_transcript_and_reads_back() {
    let t = sample();
    let json = export(&t, SubtitleFormat::Json);
    assert!(json.starts_with("{\n  \"language\": \"en\",\n"), "{json}");
    assert!(json.ends_with("}\n"));
    let back: Transcript = serde_json::from_str(&json).unwrap();
    assert_eq!(back, t);
    assert_eq!(back.segments[0].words[2].confidence, 0.8);
}

#[test]
fn txt_groups_segments_into_paragraphs() {
    assert_eq!(
        export(&sample(), SubtitleFormat::Txt),
        "He was kind. Fish & <chips>\n\nLate.\n"
    );

    let t = Transcript {
        language: "en".into(),
        duration: 10.0,
        segments: vec![
            segment(
                0.0,
                1.0,
                Some(0),
                &[("Hello", 0.0, 0.4), ("there.", 0.5, 1.0)],
            ),
            segment(
                1.2,
                2.0,
                Some(0),
                &[("How", 1.2, 1.4), ("are", 1.5, 1.6), ("you?", 1.7, 2.0)],
            ),
            segment(
                2.3,
                3.0,
                Some(1),
                &[("Fine,", 2.3, 2.6), ("thanks.", 2.7, 3.0)],
            ),
        ],
    };
    assert_eq!(
        to_txt(&t),
        "Speaker 1: Hello there. How are you?\n\nSpeaker 2: Fine, thanks.\n"
    );
}

#[test]
fn txt_breaks_long_monologues_at_a_sentence_end() {
    let sentence = "This sentence is about fifty characters long, roughly.";
    let segments: Vec<Segment> = (0..30)
        .map(|i| {
            let start = i as f64 * 3.0;
            Segment {
                start,
                end: start + 2.9,
                text: sentence.into(),
                speaker: None,
                words: Vec::new(),
            }
        })
        .collect();
    let t = Transcript {
        language: "en".into(),
        duration: 90.0,
        segments,
    };
    let txt = to_txt(&t);
    let paragraphs: Vec<&str> = txt.trim_end().split("\n\n").collect();
    assert!(paragraphs.len() >= 2, "{txt}");
    for p in &paragraphs {
        assert!(p.ends_with('.'), "{p}");
        assert!(p.chars().count() < 600 + sentence.len() + 1, "{p}");
    }
    assert_eq!(paragraphs.join(" "), t.text());
}
