//! The moment finder on conversations with speaker labels: where a demanding editor would
//! cut, and what the finder says when there is nothing to cut.

use clipforge_core::{Segment, SuggestParams, Transcript, Word};
use clipforge_highlights::{Analysis, LexicalEmbedder, Moments};

/// A conversation: each turn is (speaker, text), spoken at 0.4 s a word with `gap`
/// seconds between turns.
fn conversation(turns: &[(u32, &str)], gap: f64) -> Transcript {
    let mut t = 0.3;
    let mut segments = Vec::new();
    for &(speaker, text) in turns {
        let mut words = Vec::new();
        for w in text.split_whitespace() {
            words.push(Word {
                start: t,
                end: t + 0.32,
                text: w.into(),
                confidence: 0.9,
            });
            t += 0.4;
        }
        segments.push(Segment {
            start: words[0].start,
            end: words.last().unwrap().end,
            text: text.into(),
            speaker: Some(speaker),
            words,
        });
        t += gap;
    }
    Transcript {
        language: "en".into(),
        duration: t + 0.5,
        segments,
    }
}

const ANSWER: &str = "My first manager gave me the best advice I ever got. \
    She said that the calendar shows what you care about, not the plans you write down. \
    So every Monday I block two mornings for deep work before anything else goes in. \
    Meetings fit around those mornings, and never the other way round. \
    It felt selfish for a month, and then my team started doing the same. \
    That is why I still protect those mornings today.";

#[test]
fn cuts_the_answer_without_the_prompt_or_the_reaction() {
    let transcript = conversation(
        &[
            (
                0,
                "We had a long week of planning and the office was cold again.",
            ),
            (
                1,
                "Yes, the heating broke on Tuesday and nobody came to fix it.",
            ),
            (
                0,
                "Did you get any advice about this early on in your career?",
            ),
            (1, ANSWER),
            (0, "Wow. That is a lot of discipline for a Monday."),
            (1, "It gets easier after a while, honestly."),
            (
                0,
                "Anyway, we should talk about the heating again next week.",
            ),
        ],
        0.6,
    );
    let params = SuggestParams {
        min_duration: 15.0,
        max_duration: 60.0,
        ..SuggestParams::default()
    };
    let moments =
        Moments::prepare(&transcript, &params, Analysis::default(), &LexicalEmbedder).unwrap();
    let outcome = moments.suggest();
    let top = &outcome.suggestions[0];
    assert!(top.transcript.starts_with("My first manager"), "{top:#?}");
    assert!(
        top.transcript.ends_with("protect those mornings today."),
        "{top:#?}"
    );
    let answer = &transcript.segments[3];
    assert!(top.start <= answer.start && answer.start - top.start <= 0.351);
    assert!(top.end >= answer.end && top.end - answer.end <= 0.451);
}

#[test]
fn a_question_that_stands_alone_opens_its_answer() {
    let transcript = conversation(
        &[
            (0, "Okay, one more topic before we go. Couples and money."),
            (1, "The hardest topic there is."),
            (
                0,
                "What is the one money question a couple should ask before moving in together?",
            ),
            (
                1,
                "Not how much you earn, and not how much you owe. \
                 Ask what money felt like in your house growing up. \
                 If one of you grew up with money always being tight, spending can feel dangerous. \
                 If the other never thought about it, saving can feel like punishment. \
                 Most money fights are not about the numbers at all. \
                 Have that conversation first, and the budget becomes easy.",
            ),
            (
                0,
                "That is a good one. I am going to ask my partner tonight.",
            ),
            (1, "Let us know how it goes."),
        ],
        0.6,
    );
    let params = SuggestParams {
        min_duration: 15.0,
        max_duration: 60.0,
        ..SuggestParams::default()
    };
    let moments =
        Moments::prepare(&transcript, &params, Analysis::default(), &LexicalEmbedder).unwrap();
    let top = &moments.suggest().suggestions[0];
    assert!(
        top.transcript.starts_with("What is the one money question"),
        "{top:#?}"
    );
    assert!(top.transcript.ends_with("becomes easy."), "{top:#?}");
}

#[test]
fn a_story_starts_at_its_opener_not_at_the_next_sentence() {
    let transcript = conversation(
        &[
            (
                0,
                "Our meetings eat every day, and meetings about meetings are worse.",
            ),
            (1, "Did cancelling meetings work?"),
            (0, "It did, until the meetings came back a week later."),
            (
                1,
                "Three years ago our team tried something small. \
                 We picked one day a week, Wednesday, and said no meetings at all. \
                 People were nervous about meetings, and managers were sure meetings would pile up. \
                 What actually happened surprised all of us. \
                 Wednesday without meetings became the day the hard work got done. \
                 We never went back, and that empty day is worth more than any tool.",
            ),
            (0, "I love that, and a lot of teams could try it tomorrow."),
        ],
        0.6,
    );
    let params = SuggestParams {
        min_duration: 15.0,
        max_duration: 60.0,
        ..SuggestParams::default()
    };
    let moments =
        Moments::prepare(&transcript, &params, Analysis::default(), &LexicalEmbedder).unwrap();
    let top = &moments.suggest().suggestions[0];
    assert!(top.transcript.starts_with("Three years ago"), "{top:#?}");
    assert!(top.transcript.ends_with("than any tool."), "{top:#?}");
}

#[test]
fn resnap_turns_any_range_into_whole_sentences() {
    let transcript = conversation(&[(0, ANSWER)], 0.5);
    let params = SuggestParams {
        min_duration: 5.0,
        ..SuggestParams::default()
    };
    let moments =
        Moments::prepare(&transcript, &params, Analysis::default(), &LexicalEmbedder).unwrap();
    // From the middle of the first sentence to the middle of the fourth.
    let clip = moments.resnap(2.1, 16.0).unwrap();
    let words: Vec<&Word> = transcript.words().collect();
    assert!(words
        .iter()
        .any(|w| (w.start - clip.start).abs() < 0.36 && w.start >= clip.start));
    assert!(!clip.transcript.is_empty());
    assert!(clip.transcript.ends_with('.'), "{}", clip.transcript);
    assert!(moments.resnap(500.0, 600.0).is_none());
    assert!(moments.resnap(10.0, 5.0).is_none());
}

#[test]
fn bad_parameters_and_bad_transcripts_are_refused_with_reasons() {
    let params = SuggestParams {
        min_duration: 90.0,
        ..SuggestParams::default()
    };
    let err = Moments::prepare(
        &conversation(&[(0, ANSWER)], 0.5),
        &params,
        Analysis::default(),
        &LexicalEmbedder,
    )
    .unwrap_err();
    assert!(err.to_string().contains("min_duration"), "{err}");

    let mut broken = conversation(&[(0, ANSWER)], 0.5);
    broken.segments[0].words[3].start = -1.0;
    let err = Moments::prepare(
        &broken,
        &SuggestParams::default(),
        Analysis::default(),
        &LexicalEmbedder,
    )
    .unwrap_err();
    assert!(err.to_string().contains("not usable"), "{err}");
}
