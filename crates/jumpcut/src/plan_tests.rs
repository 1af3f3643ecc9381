//! Tests of the plan: synthetic speech with known silences gives known frames.

use clipforge_core::{Segment, Transcript, Word};
use proptest::prelude::*;

use super::*;

const FPS25: FrameRate = FrameRate::FPS_25;

fn speech_plan(settings: &Settings, duration: f64, rate: FrameRate, speech: &[(f64, f64)]) -> Plan {
    let settings = Settings {
        mode: Mode::Speech,
        ..settings.clone()
    };
    plan(&settings, &Input::new(duration, rate).speech(speech)).unwrap()
}

/// `(start_frame, end_frame)` of each piece, checking the 1x pieces make as many output
/// frames as source frames.
fn frames(plan: &Plan) -> Vec<(u64, u64)> {
    plan.pieces
        .iter()
        .map(|p| {
            if p.speed == 1.0 {
                assert_eq!(p.output_frames, p.end_frame - p.start_frame);
            }
            (p.start_frame, p.end_frame)
        })
        .collect()
}

fn transcript(spec: &[(&str, f64, f64)], duration: f64) -> Transcript {
    let words = spec
        .iter()
        .map(|&(text, start, end)| Word {
            start,
            end,
            text: text.into(),
            confidence: 0.9,
        })
        .collect();
    Transcript {
        language: "en".into(),
        duration,
        segments: vec![Segment {
            start: spec.first().map_or(0.0, |w| w.1),
            end: spec.last().map_or(0.0, |w| w.2),
            text: String::new(),
            speaker: None,
            words,
        }],
    }
}

#[test]
fn margins_pad_speech_and_silences_are_cut() {
    let p = speech_plan(&Settings::default(), 10.0, FPS25, &[(1.0, 2.0), (5.0, 6.0)]);
    // 0.85 s = frame 21.25 → 21 (down); 2.25 s = 56.25 → 57 (up).
    assert_eq!(frames(&p), vec![(21, 57), (121, 157)]);
    assert_eq!(p.output_frames(), 72);
    assert!((p.duration_out - 2.88).abs() < 1e-9);
    assert!((p.output_duration() - 2.88).abs() < 1e-9);
    assert!((p.removed.seconds - 7.12).abs() < 1e-9);
    assert!((p.removed.percent - 71.2).abs() < 1e-9);
    assert_eq!(p.counts.cuts, 3);
    assert_eq!(p.counts.sped_up, 0);
    assert_eq!(p.pieces[0].start, 21.0 / 25.0);
    assert_eq!(p.pieces[1].end, 157.0 / 25.0);
}

#[test]
fn gaps_shorter_than_min_silence_are_kept() {
    // After margins the gap is 0.1 s: one piece.
    let p = speech_plan(&Settings::default(), 10.0, FPS25, &[(1.0, 2.0), (2.5, 3.0)]);
    assert_eq!(frames(&p), vec![(21, 82)]);
    // After margins the gap is 0.55 s: cut.
    let p = speech_plan(
        &Settings::default(),
        10.0,
        FPS25,
        &[(1.0, 2.0), (2.95, 3.5)],
    );
    assert_eq!(frames(&p), vec![(21, 57), (70, 94)]);
    // A longer min_silence keeps it.
    let s = Settings {
        min_silence: 1.0,
        ..Settings::default()
    };
    let p = speech_plan(&s, 10.0, FPS25, &[(1.0, 2.0), (2.95, 3.5)]);
    assert_eq!(frames(&p), vec![(21, 94)]);
}

#[test]
fn short_isolated_sounds_are_dropped_but_short_words_near_speech_stay() {
    let p = speech_plan(
        &Settings::default(),
        10.0,
        FPS25,
        &[(1.0, 2.0), (5.0, 5.1), (8.0, 9.0)],
    );
    assert_eq!(frames(&p), vec![(21, 57), (196, 232)]);
    assert_eq!(p.counts.cuts, 3);
    let p = speech_plan(
        &Settings::default(),
        10.0,
        FPS25,
        &[(1.0, 2.0), (2.3, 2.35)],
    );
    assert_eq!(frames(&p), vec![(21, 65)]);
    let s = Settings {
        min_kept: 0.0,
        ..Settings::default()
    };
    let p = speech_plan(&s, 10.0, FPS25, &[(1.0, 2.0), (5.0, 5.1), (8.0, 9.0)]);
    assert_eq!(frames(&p), vec![(21, 57), (121, 134), (196, 232)]);
}

#[test]
fn ranges_past_the_media_are_clamped() {
    let p = speech_plan(
        &Settings::default(),
        10.0,
        FPS25,
        &[(-1.0, 0.5), (9.7, 12.0)],
    );
    assert_eq!(frames(&p), vec![(0, 19), (238, 250)]);
    assert_eq!(p.counts.cuts, 1);
    // A duration between frames keeps only whole frames.
    let p = speech_plan(&Settings::default(), 10.03, FPS25, &[(9.0, 11.0)]);
    assert_eq!(frames(&p), vec![(221, 250)]);
    assert!(p.pieces[0].end <= 10.03);
}

#[test]
fn boundaries_snap_to_the_ntsc_grid() {
    let rate = FrameRate::FPS_29_97;
    let p = speech_plan(&Settings::default(), 10.0, rate, &[(1.0, 2.0)]);
    // 0.85 s × 29.97 = 25.47 → 25; 2.25 s × 29.97 = 67.43 → 68.
    assert_eq!(frames(&p), vec![(25, 68)]);
    assert_eq!(p.pieces[0].start, 25.0 * 1001.0 / 30000.0);
    assert_eq!(p.output_frames(), 43);
    assert_eq!(p.duration_out, 43.0 * 1001.0 / 30000.0);
}

#[test]
fn silences_can_be_sped_up_instead_of_cut() {
    let s = Settings {
        silence_speed: Some(4.0),
        ..Settings::default()
    };
    let p = speech_plan(&s, 10.0, FPS25, &[(1.0, 2.0), (5.0, 6.0)]);
    assert_eq!(
        frames(&p),
        vec![(0, 21), (21, 57), (57, 121), (121, 157), (157, 250)]
    );
    let out: Vec<u64> = p.pieces.iter().map(|p| p.output_frames).collect();
    // 21 / 4 = 5.25 → 5 frames, so that piece plays at 21 / 5 = 4.2x.
    assert_eq!(out, vec![5, 36, 16, 36, 23]);
    assert_eq!(p.pieces[0].speed, 4.2);
    assert_eq!(p.pieces[1].speed, 1.0);
    assert_eq!(p.pieces[2].speed, 4.0);
    assert_eq!(p.output_frames(), 116);
    assert_eq!(p.counts.sped_up, 3);
    assert_eq!(p.counts.cuts, 0);
    // Time inside a sped-up silence maps at its speed.
    let at = p.map_time(3.0).unwrap();
    assert!((at - (41.0 + (3.0 - 57.0 / 25.0) * 25.0 / 4.0) / 25.0).abs() < 1e-9);
}

#[test]
fn words_mode_cuts_fillers_and_pauses() {
    let t = transcript(
        &[
            ("So", 1.0, 1.3),
            ("um,", 1.35, 1.7),
            ("I", 1.75, 1.9),
            ("think", 1.9, 2.2),
            ("uh", 4.0, 4.3),
            ("yes.", 4.4, 4.8),
        ],
        6.0,
    );
    let s = Settings {
        mode: Mode::Words,
        ..Settings::default()
    };
    let p = plan(&s, &Input::new(6.0, FPS25).transcript(&t)).unwrap();
    // um is cut exactly (the pauses around it are shorter than the margins); uh takes the
    // pause before it along; the margins never reach back into a removed word.
    assert_eq!(frames(&p), vec![(21, 34), (42, 62), (107, 127)]);
    assert_eq!(p.counts.fillers, 2);
    assert_eq!(p.counts.cuts, 4);
    assert_eq!(p.map_time(1.5), None);
    let i_at = p.map_time(1.75).unwrap();
    assert!((i_at - (13.0 / 25.0 + 1.75 - 42.0 / 25.0)).abs() < 1e-9);
    assert_eq!(p.map_time(0.5), None);
    assert_eq!(p.map_time(5.5), None);

    // The same without filler removal keeps "So um, I think" in one piece.
    let s = Settings {
        remove_fillers: false,
        ..s
    };
    let p = plan(&s, &Input::new(6.0, FPS25).transcript(&t)).unwrap();
    assert_eq!(frames(&p), vec![(21, 62), (96, 127)]);
    assert_eq!(p.counts.fillers, 0);
}

#[test]
fn a_transcript_removes_fillers_in_other_modes_too() {
    let t = transcript(
        &[("Hello", 1.0, 1.5), ("um", 2.0, 2.4), ("world", 2.5, 3.0)],
        5.0,
    );
    let s = Settings {
        mode: Mode::Speech,
        ..Settings::default()
    };
    let speech = [(1.0, 3.0)];
    let p = plan(&s, &Input::new(5.0, FPS25).speech(&speech).transcript(&t)).unwrap();
    // The cut runs from margin_after past "Hello" (1.75) to "um"'s end (2.4).
    assert_eq!(frames(&p), vec![(21, 44), (60, 82)]);
    assert_eq!(p.counts.fillers, 1);
    // Sped-up silences never speed up a filler: its gap is cut.
    let s = Settings {
        silence_speed: Some(4.0),
        ..s
    };
    let p = plan(&s, &Input::new(5.0, FPS25).speech(&speech).transcript(&t)).unwrap();
    assert_eq!(p.counts.cuts, 1);
    assert_eq!(p.counts.sped_up, 2);
    assert!(p
        .pieces
        .iter()
        .all(|q| q.end_frame <= 44 || q.start_frame >= 60));
}

#[test]
fn false_starts_are_cut_in_words_mode() {
    let t = transcript(
        &[
            ("I", 1.0, 1.1),
            ("went-", 1.15, 1.4),
            ("I", 1.6, 1.7),
            ("went", 1.75, 2.0),
            ("home.", 2.05, 2.5),
        ],
        4.0,
    );
    let s = Settings {
        mode: Mode::Words,
        remove_false_starts: true,
        ..Settings::default()
    };
    let p = plan(&s, &Input::new(4.0, FPS25).transcript(&t)).unwrap();
    assert_eq!(p.counts.false_starts, 1);
    // The cut is [1.0, 1.45): the kept piece starts margin_before ahead of the restart.
    assert_eq!(frames(&p), vec![(36, 69)]);
}

#[test]
fn keep_breaths_keeps_breathing_pauses() {
    let speech = [(1.0, 2.0), (3.0, 4.0)];
    let p = speech_plan(&Settings::default(), 10.0, FPS25, &speech);
    assert_eq!(p.pieces.len(), 2);
    let s = Settings {
        keep_breaths: true,
        ..Settings::default()
    };
    let p = speech_plan(&s, 10.0, FPS25, &speech);
    assert_eq!(frames(&p), vec![(21, 107)]);
}

#[test]
fn loudness_mode_finds_tone_bursts() {
    let mut samples = Vec::new();
    for (seconds, loud) in [
        (1.0, false),
        (1.0, true),
        (1.0, false),
        (1.0, true),
        (1.0, false),
    ] {
        let n = (seconds * 16_000.0) as usize;
        samples.extend((0..n).map(|i| {
            if loud {
                0.3 * (i as f32 * 0.2).sin()
            } else {
                0.0
            }
        }));
    }
    let l = Loudness::from_samples(&samples, 16_000, 0.01).unwrap();
    let p = plan(&Settings::default(), &Input::new(5.0, FPS25).loudness(&l)).unwrap();
    assert_eq!(frames(&p), vec![(21, 57), (71, 107)]);
}

#[test]
fn silent_or_missing_input_is_a_typed_error() {
    let silent = Loudness {
        hop: 0.01,
        db: vec![crate::FLOOR_DB; 1000],
    };
    let input = Input::new(10.0, FPS25).loudness(&silent);
    let err = plan(&Settings::default(), &input).unwrap_err();
    assert_eq!(err, JumpcutError::NoSpeech);
    assert_eq!(err.to_string(), "nothing to keep: the input is silent");

    let speech = Settings {
        mode: Mode::Speech,
        ..Settings::default()
    };
    assert_eq!(
        plan(&speech, &Input::new(10.0, FPS25).speech(&[])),
        Err(JumpcutError::NoSpeech)
    );
    assert!(matches!(
        plan(&speech, &Input::new(10.0, FPS25)),
        Err(JumpcutError::MissingInput {
            mode: Mode::Speech,
            ..
        })
    ));
    // Speech entirely past the end of the media.
    assert_eq!(
        plan(&speech, &Input::new(10.0, FPS25).speech(&[(11.0, 12.0)])),
        Err(JumpcutError::NoSpeech)
    );

    let words = Settings {
        mode: Mode::Words,
        ..Settings::default()
    };
    let empty = Transcript::empty("en", 10.0);
    assert_eq!(
        plan(&words, &Input::new(10.0, FPS25).transcript(&empty)),
        Err(JumpcutError::EmptyTranscript)
    );
    let only_fillers = transcript(&[("um", 1.0, 1.5), ("uh", 2.0, 2.5)], 10.0);
    assert_eq!(
        plan(&words, &Input::new(10.0, FPS25).transcript(&only_fillers)),
        Err(JumpcutError::NoSpeech)
    );
    assert!(matches!(
        plan(&words, &Input::new(10.0, FPS25)),
        Err(JumpcutError::MissingInput {
            mode: Mode::Words,
            ..
        })
    ));
    assert!(matches!(
        plan(&Settings::default(), &Input::new(10.0, FPS25)),
        Err(JumpcutError::MissingInput {
            mode: Mode::Loudness,
            ..
        })
    ));
}

#[test]
fn bad_inputs_and_settings_name_the_field() {
    let speech = Settings {
        mode: Mode::Speech,
        ..Settings::default()
    };
    let field = |r: Result<Plan, JumpcutError>| match r {
        Err(
            JumpcutError::InvalidInput { field, .. } | JumpcutError::InvalidSetting { field, .. },
        ) => field,
        other => panic!("expected a field error, got {other:?}"),
    };
    let ok = [(1.0, 2.0)];
    assert_eq!(
        field(plan(&speech, &Input::new(f64::NAN, FPS25).speech(&ok))),
        "duration"
    );
    assert_eq!(
        field(plan(&speech, &Input::new(-1.0, FPS25).speech(&ok))),
        "duration"
    );
    assert_eq!(
        field(plan(&speech, &Input::new(0.01, FPS25).speech(&ok))),
        "duration"
    );
    let nan = [(1.0, f64::NAN)];
    assert_eq!(
        field(plan(&speech, &Input::new(10.0, FPS25).speech(&nan))),
        "speech"
    );
    let backwards = [(2.0, 1.0)];
    assert_eq!(
        field(plan(&speech, &Input::new(10.0, FPS25).speech(&backwards))),
        "speech"
    );
    let bad = Settings {
        margin_after: -0.5,
        ..speech.clone()
    };
    assert_eq!(
        field(plan(&bad, &Input::new(10.0, FPS25).speech(&ok))),
        "margin_after"
    );
    // A transcript that breaks the core invariants is refused, not guessed at.
    let t = transcript(&[("b", 2.0, 2.5), ("a", 1.0, 1.5)], 10.0);
    assert!(matches!(
        plan(&speech, &Input::new(10.0, FPS25).speech(&ok).transcript(&t)),
        Err(JumpcutError::Transcript(_))
    ));
}

#[test]
fn plan_round_trips_through_json() {
    let p = speech_plan(
        &Settings::default(),
        10.0,
        FrameRate::FPS_29_97,
        &[(1.0, 2.0)],
    );
    let json = serde_json::to_string(&p).unwrap();
    assert!(json.contains("\"frame_rate\":\"30000/1001\""), "{json}");
    let back: Plan = serde_json::from_str(&json).unwrap();
    assert_eq!(back, p);
}

fn arb_rate() -> impl Strategy<Value = FrameRate> {
    prop_oneof![
        Just(FrameRate::FPS_23_976),
        Just(FrameRate::FPS_25),
        Just(FrameRate::FPS_29_97),
        Just(FrameRate::FPS_30),
        Just(FrameRate::FPS_59_94),
    ]
}

proptest! {
    #[test]
    fn pieces_are_sorted_disjoint_on_grid_and_keep_all_speech(
        duration in 1.0f64..120.0,
        rate in arb_rate(),
        raw in prop::collection::vec((-5.0f64..130.0, 0.0f64..5.0), 0..30),
        margin_before in 0.0f64..0.5,
        margin_after in 0.0f64..0.5,
        min_silence in 0.0f64..2.0,
        speed in prop::option::of(1.5f64..8.0),
        keep_breaths in any::<bool>(),
    ) {
        let speech: Vec<(f64, f64)> = raw.iter().map(|&(s, len)| (s, s + len)).collect();
        let settings = Settings {
            mode: Mode::Speech,
            margin_before,
            margin_after,
            min_silence,
            min_kept: 0.0,
            silence_speed: speed,
            keep_breaths,
            ..Settings::default()
        };
        let result = plan(&settings, &Input::new(duration, rate).speech(&speech));
        let p = match result {
            Err(JumpcutError::NoSpeech) => {
                // Only when no speech lies inside the media's whole frames.
                let end = rate.seconds(rate.frame_floor(duration));
                prop_assert!(speech.iter().all(|&(s, e)| e <= 0.0 || s >= end || e - s <= 0.0));
                return Ok(());
            }
            other => other.unwrap(),
        };
        let total = rate.frame_floor(duration);
        prop_assert!(!p.pieces.is_empty());
        let mut out_sum = 0;
        for (i, piece) in p.pieces.iter().enumerate() {
            prop_assert!(piece.start_frame < piece.end_frame);
            prop_assert!(piece.end_frame <= total);
            prop_assert!(piece.end <= duration + 1e-9);
            prop_assert_eq!(piece.start, rate.seconds(piece.start_frame));
            prop_assert_eq!(piece.end, rate.seconds(piece.end_frame));
            prop_assert!(piece.output_frames >= 1);
            let n = (piece.end_frame - piece.start_frame) as f64;
            prop_assert!((piece.output_frames as f64 * piece.speed - n).abs() < 1e-6);
            if let Some(next) = p.pieces.get(i + 1) {
                prop_assert!(piece.end_frame <= next.start_frame);
            }
            if speed.is_none() {
                prop_assert_eq!(piece.speed, 1.0);
            }
            out_sum += piece.output_frames;
        }
        prop_assert_eq!(out_sum, p.output_frames());
        prop_assert_eq!(p.duration_out, rate.seconds(out_sum));
        prop_assert!(p.duration_out <= duration + 1e-9);
        // With min_kept = 0 every instant of speech inside the media plays at 1x.
        let end = rate.seconds(total);
        for &(s, e) in &speech {
            let (s, e) = (s.max(0.0), e.min(end));
            if e <= s {
                continue;
            }
            let mid = (s + e) / 2.0;
            let holder = p.pieces.iter().find(|q| q.start <= s + 1e-9 && e <= q.end + 1e-9);
            prop_assert!(holder.is_some(), "speech {s}..{e} not kept: {:?}", p.pieces);
            prop_assert_eq!(holder.unwrap().speed, 1.0);
            prop_assert!(p.map_time(mid).is_some());
        }
        // map_time never goes backwards.
        let mut last = -1.0;
        for piece in &p.pieces {
            let at = p.map_time(piece.start).unwrap();
            prop_assert!(at >= last);
            last = at;
        }
    }
}

#[test]
fn map_time_follows_the_output_timeline() {
    let p = speech_plan(&Settings::default(), 10.0, FPS25, &[(1.0, 2.0), (5.0, 6.0)]);
    assert_eq!(p.output_start_frames(), vec![0, 36]);
    assert_eq!(p.map_time(21.0 / 25.0), Some(0.0));
    // A piece's end is included, and meets the next piece's start in the output.
    assert_eq!(p.map_time(57.0 / 25.0), Some(36.0 / 25.0));
    assert_eq!(p.map_time(121.0 / 25.0), Some(36.0 / 25.0));
    assert!((p.map_time(157.0 / 25.0).unwrap() - p.duration_out).abs() < 1e-9);
    assert_eq!(p.map_time(3.0), None);
    assert_eq!(p.map_time(9.9), None);
    assert_eq!(p.map_time(f64::NAN), None);
}
