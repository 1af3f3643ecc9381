use clipforge_core::{Segment, Transcript, Word};

use super::*;

const EPS: f64 = 1e-9;

fn word(text: &str, start: f64, end: f64) -> Word {
    Word {
        start,
        end,
        text: text.into(),
        confidence: 0.9,
    }
}

/// Words of `text` spoken from `start`, each taking 0.06 s per character plus 0.1 s, with
/// `gap` seconds between words.
fn speak(text: &str, start: f64, gap: f64) -> Vec<Word> {
    let mut at = start;
    text.split_whitespace()
        .map(|w| {
            let end = at + 0.1 + 0.06 * w.chars().count() as f64;
            let out = word(w, at, end);
            at = end + gap;
            out
        })
        .collect()
}

fn transcript_of(segments: Vec<(Option<u32>, Vec<Word>)>) -> Transcript {
    let segments: Vec<Segment> = segments
        .into_iter()
        .map(|(speaker, words)| Segment {
            start: words.first().map_or(0.0, |w| w.start),
            end: words.last().map_or(0.0, |w| w.end),
            text: words
                .iter()
                .map(|w| w.text.as_str())
                .collect::<Vec<_>>()
                .join(" "),
            speaker,
            words,
        })
        .collect();
    let duration = segments.last().map_or(0.0, |s| s.end + 1.0);
    Transcript {
        language: "en".into(),
        duration,
        segments,
    }
}

fn cues_of(words: Vec<Word>) -> Vec<Cue> {
    build_cues(&transcript_of(vec![(None, words)]), &CueRules::default())
}

fn texts(cues: &[Cue]) -> Vec<String> {
    cues.iter().map(Cue::text).collect()
}

/// The checks every cue list must pass whatever the input.
fn assert_well_formed(cues: &[Cue], words: &[&str]) {
    let rules = CueRules::default();
    for cue in cues {
        assert!(
            !cue.lines.is_empty() && cue.lines.len() <= rules.max_lines,
            "{cue:?}"
        );
        for line in &cue.lines {
            let single_word = !line.contains(' ');
            assert!(
                single_word || line.chars().count() <= rules.max_chars,
                "{cue:?}"
            );
        }
        assert!(cue.end >= cue.start, "{cue:?}");
    }
    for pair in cues.windows(2) {
        assert!(pair[0].end <= pair[1].start + EPS, "overlap: {pair:?}");
    }
    let shown: Vec<String> = cues
        .iter()
        .flat_map(|c| {
            c.lines
                .iter()
                .flat_map(|l| l.split_whitespace().map(str::to_string))
        })
        .collect();
    assert_eq!(shown, words);
}

const LIBRIVOX: &str =
    "And Mister John Dashwood had then leisure to consider how much there might be \
    prudently in his power to do for them. He was not an ill disposed young man, unless to be \
    rather cold hearted and rather selfish is to be ill disposed. Had he married a more amiable \
    woman, he might have been made still more respectable than he was. He might even have been \
    made amiable himself.";

#[test]
fn a_read_passage_makes_tidy_cues() {
    let words = speak(LIBRIVOX, 0.5, 0.12);
    let cues = cues_of(words.clone());
    let expected: Vec<&str> = LIBRIVOX.split_whitespace().collect();
    assert_well_formed(&cues, &expected);
    for cue in &cues {
        assert!(cue.end - cue.start <= 7.0 + EPS, "{cue:?}");
    }
    // Cues carry the times of their words.
    assert_eq!(cues[0].start, words[0].start);
    assert_eq!(cues.last().unwrap().end, words.last().unwrap().end);
}

#[test]
fn every_sentence_starts_a_new_cue() {
    let cues = cues_of(speak(LIBRIVOX, 0.0, 0.12));
    let firsts: Vec<String> = cues
        .iter()
        .map(|c| c.lines[0].split(' ').next().unwrap().to_string())
        .collect();
    for sentence_start in ["He", "Had", "He"] {
        assert!(
            firsts.iter().any(|f| f == sentence_start),
            "{:#?}",
            texts(&cues)
        );
    }
    // ... and no cue holds the end of one sentence and the start of the next.
    for cue in &cues {
        let text = cue.text();
        let inner_end = text.find(". ").or_else(|| text.find("? "));
        assert!(inner_end.is_none(), "{text:?}");
    }
}

#[test]
fn a_short_sentence_gets_its_own_cue_when_there_is_time_to_read_it() {
    let mut words = speak("Yes.", 0.0, 0.1);
    words.extend(speak("We will go there tomorrow.", 1.0, 0.1));
    let cues = cues_of(words);
    assert_eq!(texts(&cues), vec!["Yes.", "We will go there tomorrow."]);
    // Held for the minimum display time, into the silence.
    assert!((cues[0].end - 0.7).abs() < EPS, "{cues:?}");
}

#[test]
fn a_sentence_too_short_to_read_joins_the_next_one() {
    let mut words = speak("Yes.", 0.0, 0.1);
    words.extend(speak("We will go there tomorrow.", 0.4, 0.1));
    let cues = cues_of(words);
    assert_eq!(texts(&cues), vec!["Yes. We will go there tomorrow."]);
}

#[test]
fn titles_do_not_end_sentences() {
    let cues = cues_of(speak("We met Mr. Smith at noon.", 0.0, 0.5));
    assert_eq!(texts(&cues), vec!["We met Mr. Smith at noon."]);
}

#[test]
fn long_runs_split_at_pauses_before_commas_before_anything_else() {
    // 96 characters: too many for one cue of two 42-character lines.
    let first = "one two three four five six seven eight nine ten eleven";
    let second = "twelve thirteen fourteen, fifteen sixteen";
    let mut words = speak(first, 0.0, 0.05);
    let resume = words.last().unwrap().end + 0.6;
    words.extend(speak(second, resume, 0.05));
    let cues = cues_of(words.clone());
    assert_eq!(texts(&cues), vec![first, second], "split at the pause");

    let text = format!("{first} {second}");
    let cues = cues_of(speak(&text, 0.0, 0.05));
    assert_eq!(
        texts(&cues),
        vec![
            "one two three four five six seven eight nine ten eleven twelve thirteen fourteen,",
            "fifteen sixteen"
        ],
        "split at the comma"
    );
}

#[test]
fn long_runs_without_punctuation_are_split_evenly() {
    let text = "word ".repeat(60);
    let cues = cues_of(speak(&text, 0.0, 0.02));
    let expected: Vec<&str> = text.split_whitespace().collect();
    assert_well_formed(&cues, &expected);
    let counts: Vec<usize> = cues.iter().map(|c| c.text().split(' ').count()).collect();
    let (min, max) = (counts.iter().min().unwrap(), counts.iter().max().unwrap());
    assert!(max - min <= 2, "{counts:?}");
}

#[test]
fn slow_speech_never_stays_up_more_than_seven_seconds() {
    // Six short words a second apart: few characters, a lot of time.
    let words: Vec<Word> = (0..20)
        .map(|i| word("so", i as f64, i as f64 + 0.4))
        .collect();
    let cues = cues_of(words);
    assert!(cues.len() >= 3);
    for cue in &cues {
        assert!(cue.end - cue.start <= 7.0 + EPS, "{cue:?}");
    }
    assert_eq!(
        cues.iter()
            .map(|c| c.text().split(' ').count())
            .sum::<usize>(),
        20
    );
}

#[test]
fn a_long_silence_ends_the_cue() {
    let mut words = speak("So", 0.0, 0.1);
    words.extend(speak("what now", 3.0, 0.1));
    let cues = cues_of(words);
    assert_eq!(texts(&cues), vec!["So", "what now"]);
    assert!(cues[0].end <= 0.7 + EPS && cues[1].start == 3.0);
}

#[test]
fn speaker_changes_start_new_cues() {
    let t = transcript_of(vec![
        (Some(0), speak("I think we should", 0.0, 0.1)),
        (Some(1), speak("go now", 1.2, 0.1)),
    ]);
    let cues = build_cues(&t, &CueRules::default());
    assert_eq!(texts(&cues), vec!["I think we should", "go now"]);
    assert_eq!(cues[0].speaker, Some(0));
    assert_eq!(cues[1].speaker, Some(1));
}

#[test]
fn short_cues_are_held_only_into_silence() {
    let words = vec![
        word("Hi.", 1.0, 1.2),
        word("Go.", 1.5, 1.7),
        word("Now.", 5.0, 5.1),
    ];
    let t = Transcript {
        language: "en".into(),
        duration: 5.3,
        segments: vec![Segment {
            start: 1.0,
            end: 5.1,
            text: "Hi. Go. Now.".into(),
            speaker: None,
            words,
        }],
    };
    let cues = build_cues(&t, &CueRules::default());
    // "Hi." is too short to stand alone before "Go." starts, so they share a cue, held to
    // 0.7 s as the silence after allows; "Now." may only be held to the end of the audio.
    assert_eq!(texts(&cues), vec!["Hi. Go.", "Now."]);
    assert!(
        (cues[0].start - 1.0).abs() < EPS && (cues[0].end - 1.7).abs() < EPS,
        "{cues:?}"
    );
    assert!(
        (cues[1].start - 5.0).abs() < EPS && (cues[1].end - 5.3).abs() < EPS,
        "{cues:?}"
    );

    let words = vec![word("Yes.", 0.0, 0.3), word("Right", 0.9, 1.2)];
    let cues = cues_of(words);
    assert_eq!(texts(&cues), vec!["Yes.", "Right"]);
    assert!((cues[0].end - 0.7).abs() < EPS);
    assert!((cues[1].end - 1.6).abs() < EPS);
}

#[test]
fn overlapping_word_times_never_make_overlapping_cues() {
    let words = vec![
        word("First.", 0.0, 1.5),
        word("Second", 1.0, 2.0),
        word("one.", 2.0, 2.4),
        word("Third.", 2.4, 3.0),
        word("Fourth.", 2.4, 3.5),
    ];
    let cues = cues_of(words);
    assert_well_formed(&cues, &["First.", "Second", "one.", "Third.", "Fourth."]);
}

#[test]
fn an_overlong_word_gets_a_line_of_its_own() {
    let long = "https://example.com/a/very/long/path/that/nobody/reads";
    let cues = cues_of(speak(&format!("Visit {long} today"), 0.0, 0.1));
    assert_well_formed(&cues, &["Visit", long, "today"]);
    assert!(
        cues.iter().any(|c| c.lines.iter().any(|l| l == long)),
        "{cues:?}"
    );
}

#[test]
fn hyphenated_words_timed_in_two_parts_are_shown_whole() {
    let words = vec![
        word("an", 0.0, 0.2),
        word("ill", 0.2, 0.4),
        word("-disposed", 0.4, 0.9),
        word("man", 1.0, 1.2),
        word("-", 1.3, 1.4),
        word("really.", 1.5, 1.9),
    ];
    let cues = cues_of(words);
    assert_eq!(texts(&cues), vec!["an ill-disposed man - really."]);
}

#[test]
fn a_word_spoken_longer_than_the_limit_is_a_cue_alone() {
    let words = vec![
        word("Well", 0.0, 0.3),
        word("sooooo", 0.5, 9.0),
        word("yes", 9.1, 9.4),
    ];
    let cues = cues_of(words);
    assert_eq!(texts(&cues), vec!["Well", "sooooo", "yes"]);
}

#[test]
fn segments_without_words_fall_back_to_their_text() {
    let t = Transcript {
        language: "en".into(),
        duration: 20.0,
        segments: vec![
            Segment {
                start: 1.0,
                end: 3.0,
                text: " Hello there. ".into(),
                speaker: None,
                words: Vec::new(),
            },
            Segment {
                start: 4.0,
                end: 16.0,
                text:
                    "This segment has text but no word times so its words are spread evenly across \
                       the twelve seconds it lasts."
                        .into(),
                speaker: None,
                words: Vec::new(),
            },
        ],
    };
    let cues = build_cues(&t, &CueRules::default());
    assert_eq!(cues[0].text(), "Hello there.");
    assert_eq!((cues[0].start, cues[0].end), (1.0, 3.0));
    assert!(cues.len() >= 3, "a 12 s segment needs two cues: {cues:?}");
    assert_eq!(cues[1].start, 4.0);
    assert!((cues.last().unwrap().end - 16.0).abs() < EPS);
    for cue in &cues {
        assert!(cue.end - cue.start <= 7.0 + EPS, "{cue:?}");
    }
    let all: Vec<String> = cues.iter().map(Cue::text).collect();
    assert_eq!(all.join(" "), t.text());
}

#[test]
fn empty_and_blank_transcripts_have_no_cues() {
    assert!(build_cues(&Transcript::empty("en", 12.0), &CueRules::default()).is_empty());
    let t = transcript_of(vec![(None, vec![word(" ", 0.0, 0.5)])]);
    assert!(build_cues(&t, &CueRules::default()).is_empty());
}

#[test]
fn rules_can_ask_for_one_short_line() {
    let rules = CueRules {
        max_lines: 1,
        max_chars: 16,
        ..CueRules::default()
    };
    let t = transcript_of(vec![(
        None,
        speak("the quick brown fox jumps over the lazy dog", 0.0, 0.05),
    )]);
    let cues = build_cues(&t, &rules);
    for cue in &cues {
        assert_eq!(cue.lines.len(), 1);
        assert!(cue.lines[0].chars().count() <= 16, "{cue:?}");
    }
    assert_eq!(
        texts(&cues).join(" "),
        "the quick brown fox jumps over the lazy dog"
    );
}
