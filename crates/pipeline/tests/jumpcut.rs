//! Jump cuts end to end with real ffmpeg on synthetic talks whose speech, silences and
//! sync markers are known: the output lasts exactly the planned frames, sound and picture
//! have the same length and stay in sync to the frame after every cut (constant- and
//! variable-rate input), cuts do not click, and bad inputs fail cleanly leaving nothing.

mod jumpcut_support;

use std::path::Path;

use clipforge_core::{NoProgress, Quality, Segment, Transcript, Word};
use clipforge_jumpcut::{Mode, Settings};
use clipforge_media::RunContext;
use clipforge_pipeline::{jumpcut, ExportFormat, JumpcutJob, JumpcutOutcome, PipelineError};
use jumpcut_support::*;

const FRAME: f64 = 1.0 / FPS;

/// A piece of the plan as the JSON export lists it.
#[derive(Debug, serde::Deserialize)]
struct Piece {
    start: f64,
    end: f64,
    speed: f64,
    output_start: f64,
}

#[derive(Debug, serde::Deserialize)]
struct PlanDoc {
    pieces: Vec<Piece>,
    output_frames: u64,
}

async fn run(
    input: &Path,
    output: &Path,
    settings: &Settings,
    transcript: Option<&Transcript>,
) -> Result<JumpcutOutcome, PipelineError> {
    let job = JumpcutJob {
        input,
        output,
        settings,
        transcript,
        quality: Quality::Draft,
        exports: &[ExportFormat::Json, ExportFormat::Edl, ExportFormat::Fcpxml],
    };
    jumpcut(&job, &RunContext::default(), &NoProgress).await
}

fn plan_doc(outcome: &JumpcutOutcome) -> PlanDoc {
    let json = outcome
        .exports
        .iter()
        .find(|p| p.extension().is_some_and(|e| e == "json"))
        .expect("a JSON export");
    serde_json::from_str(&std::fs::read_to_string(json).unwrap()).unwrap()
}

/// Where source time `t` lands in the output, per the plan.
fn map_time(plan: &PlanDoc, t: f64) -> Option<f64> {
    plan.pieces
        .iter()
        .find(|p| p.start <= t && t < p.end)
        .map(|p| p.output_start + (t - p.start) / p.speed)
}

/// Checks lengths, sync at every marker and the cuts' smoothness; returns
/// (max marker drift in frames, max step at a cut).
async fn check_output(outcome: &JumpcutOutcome, label: &str) -> (f64, f32) {
    let plan = plan_doc(outcome);
    assert_eq!(plan.output_frames, outcome.frames_out);
    let out = &outcome.output;
    let video = stream(out, "v").await.expect("a video stream");
    let audio = stream(out, "a").await.expect("an audio stream");
    let expected = outcome.frames_out as f64 * FRAME;
    eprintln!(
        "{label}: planned {} frames ({expected:.3} s); video {} packets {:.4} s; audio {:.4} s",
        outcome.frames_out, video.packets, video.duration, audio.duration
    );
    assert!(
        video.packets.abs_diff(outcome.frames_out) <= 1,
        "{label}: {} video frames, {} planned",
        video.packets,
        outcome.frames_out
    );
    assert!((video.duration - expected).abs() <= FRAME + 1e-6, "{label}");
    assert!(
        (audio.duration - video.duration).abs() <= FRAME,
        "{label}: audio {:.4} s vs video {:.4} s",
        audio.duration,
        video.duration
    );

    // Sync: each marker's flash and beep land where the plan maps the source time, and
    // together.
    let lumas = frame_lumas(out).await;
    let flashes = onsets(&lumas, 220.0, 3);
    let pcm = samples(out).await;
    let peak = pcm.iter().fold(0.0f32, |m, x| m.max(x.abs()));
    let beeps = onsets(&pcm, f64::from(peak) * 0.6, 4800);
    assert_eq!(
        flashes.len(),
        MARKERS.len(),
        "{label}: flashes at frames {flashes:?}"
    );
    assert_eq!(
        beeps.len(),
        MARKERS.len(),
        "{label}: beeps at samples {beeps:?}"
    );
    let mut drift: f64 = 0.0;
    for ((&marker, &flash), &beep) in MARKERS.iter().zip(&flashes).zip(&beeps) {
        let want = map_time(&plan, marker).expect("markers are in speech");
        let flash_t = flash as f64 * FRAME;
        let beep_t = beep as f64 / 48_000.0;
        eprintln!(
            "{label}: marker {marker} s -> planned {want:.4} s, flash {flash_t:.4} s, \
             beep {beep_t:.4} s"
        );
        assert!((flash_t - want).abs() <= FRAME + 1e-6, "{label}: flash");
        assert!((beep_t - want).abs() <= FRAME, "{label}: beep");
        drift = drift.max((beep_t - flash_t).abs() / FRAME);
    }
    assert!(
        drift <= 1.0,
        "{label}: beep and flash {drift:.2} frames apart"
    );

    // No clicks: around every cut the largest sample step is that of the hum, not the step
    // between two unrelated waveforms.
    let mut worst: f32 = 0.0;
    for piece in plan.pieces.iter().skip(1) {
        let at = (piece.output_start * 48_000.0).round() as usize;
        let step = largest_step(&pcm, at, 480);
        if step > 0.005 {
            let i0 = (at.saturating_sub(480).max(3)..(at + 480).min(pcm.len() - 3))
                .max_by(|&a, &b| {
                    (pcm[a] - pcm[a - 1])
                        .abs()
                        .total_cmp(&(pcm[b] - pcm[b - 1]).abs())
                })
                .unwrap();
            eprintln!(
                "{label}: step {step} near the cut at output sample {at} ({:.4} s, speed {}), at {i0}: {:?}",
                piece.output_start,
                piece.speed,
                &pcm[i0 - 3..i0 + 3]
            );
        }
        worst = worst.max(step);
    }
    eprintln!(
        "{label}: {} cuts, largest step at a cut {worst:.5} (hum amplitude {HUM})",
        plan.pieces.len().saturating_sub(1)
    );
    assert!(worst < 0.01, "{label}: a cut clicks (step {worst})");
    (drift, worst)
}

#[tokio::test]
async fn constant_rate_talk_is_cut_in_sync() {
    let dir = tempfile::tempdir().unwrap();
    let input = talk_cfr(dir.path()).await;
    let output = dir.path().join("out").join("cut.mp4");
    let outcome = run(&input, &output, &Settings::default(), None)
        .await
        .unwrap();
    assert!(outcome.has_audio);
    assert_eq!(outcome.frame_rate, "30");
    assert_eq!(outcome.pieces, SPEECH.len());
    // Speech plus the default margins (0.15 s before, 0.25 s after each range).
    let kept: f64 = SPEECH.iter().map(|(a, b)| b - a + 0.4).sum();
    assert!(
        (outcome.duration_out - kept).abs() < 0.2,
        "kept {:.3} s, expected about {kept:.3}",
        outcome.duration_out
    );
    assert!((outcome.duration_in - DURATION).abs() < 0.1);
    check_output(&outcome, "cfr").await;
    for ext in ["json", "edl", "fcpxml"] {
        assert!(output.with_extension(ext).is_file(), "{ext} export");
    }
    // Nothing but the results is left next to them.
    assert_eq!(
        listing(output.parent().unwrap()),
        ["cut.edl", "cut.fcpxml", "cut.json", "cut.mp4"]
    );
}

#[tokio::test]
async fn variable_rate_talk_is_cut_in_sync() {
    let dir = tempfile::tempdir().unwrap();
    let input = talk_vfr(dir.path()).await;
    let output = dir.path().join("cut.mp4");
    let settings = Settings {
        mode: Mode::Speech,
        ..Settings::default()
    };
    let outcome = run(&input, &output, &settings, None).await.unwrap();
    assert_eq!(
        outcome.frame_rate, "30",
        "the nominal rate of the phone video"
    );
    check_output(&outcome, "vfr").await;
}

#[tokio::test]
async fn sped_up_silences_keep_sync() {
    let dir = tempfile::tempdir().unwrap();
    let input = talk_cfr(dir.path()).await;
    let output = dir.path().join("cut.mp4");
    let settings = Settings {
        silence_speed: Some(4.0),
        ..Settings::default()
    };
    let outcome = run(&input, &output, &settings, None).await.unwrap();
    assert!(outcome.sped_up >= 3, "{outcome:?}");
    // The silences play at 4x: about a quarter of their length remains.
    let speech: f64 = SPEECH.iter().map(|(a, b)| b - a + 0.4).sum();
    let expected = speech + (DURATION - speech) / 4.0;
    assert!(
        (outcome.duration_out - expected).abs() < 0.3,
        "{} vs {expected}",
        outcome.duration_out
    );
    check_output(&outcome, "sped-up").await;
}

fn transcript(words: &[(&str, f64, f64)]) -> Transcript {
    Transcript {
        language: "en".into(),
        duration: 10.0,
        segments: vec![Segment {
            start: words[0].1,
            end: words[words.len() - 1].2,
            text: words.iter().map(|w| w.0).collect::<Vec<_>>().join(" "),
            speaker: None,
            words: words
                .iter()
                .map(|&(text, start, end)| Word {
                    start,
                    end,
                    text: text.into(),
                    confidence: 0.9,
                })
                .collect(),
        }],
    }
}

#[tokio::test]
async fn fillers_are_cut_mid_sound_without_clicks() {
    let dir = tempfile::tempdir().unwrap();
    let input = continuous_tone(dir.path()).await;
    let output = dir.path().join("cut.mp4");
    let words = transcript(&[
        ("So", 1.1, 1.4),
        ("today", 1.5, 2.0),
        ("um,", 2.4, 3.3),
        ("we", 3.6, 3.9),
        ("talk", 4.0, 4.6),
        ("uh", 5.0, 6.0),
        ("about", 6.3, 6.8),
        ("cuts.", 6.9, 7.6),
    ]);
    let settings = Settings {
        mode: Mode::Words,
        ..Settings::default()
    };
    let outcome = run(&input, &output, &settings, Some(&words)).await.unwrap();
    assert_eq!(outcome.fillers, 2);
    let plan = plan_doc(&outcome);
    assert!(plan.pieces.len() >= 3, "{plan:?}");
    let pcm = samples(&output).await;
    // The tone's own largest step (0.3 at 440 Hz is about 0.017 per sample, times the
    // codec's ringing) versus the steps at the cuts, which land mid-tone.
    let natural = natural_step(&pcm, 4_800, 24_000);
    let mut worst: f32 = 0.0;
    for piece in plan.pieces.iter().skip(1) {
        let at = (piece.output_start * 48_000.0).round() as usize;
        worst = worst.max(largest_step(&pcm, at, 480));
    }
    eprintln!("fillers: tone step {natural:.4}, largest step at a cut {worst:.4}");
    assert!(worst <= natural * 1.5, "a cut clicks: {worst} vs {natural}");
    let video = stream(&output, "v").await.unwrap();
    let audio = stream(&output, "a").await.unwrap();
    assert!(video.packets.abs_diff(outcome.frames_out) <= 1);
    assert!((audio.duration - video.duration).abs() <= FRAME);
}

#[tokio::test]
async fn words_mode_cuts_a_video_without_sound() {
    let dir = tempfile::tempdir().unwrap();
    let input = no_audio(dir.path()).await;
    let output = dir.path().join("cut.mp4");
    let words = transcript(&[("hello", 1.0, 1.5), ("again", 4.0, 4.5)]);
    let settings = Settings {
        mode: Mode::Words,
        ..Settings::default()
    };
    let outcome = run(&input, &output, &settings, Some(&words)).await.unwrap();
    assert!(!outcome.has_audio);
    assert!(stream(&output, "a").await.is_none(), "video only");
    let video = stream(&output, "v").await.unwrap();
    assert!(video.packets.abs_diff(outcome.frames_out) <= 1);
}

#[tokio::test]
async fn bad_inputs_fail_clearly_and_leave_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let silent = silent(dir.path()).await;
    let noaudio = no_audio(dir.path()).await;
    let corrupt = dir.path().join("corrupt.mp4");
    std::fs::write(&corrupt, b"this is not a video at all, just some bytes").unwrap();
    let out_dir = dir.path().join("out");
    std::fs::create_dir(&out_dir).unwrap();
    let output = out_dir.join("cut.mp4");

    let err = run(&silent, &output, &Settings::default(), None)
        .await
        .unwrap_err();
    eprintln!("silent: {err}");
    assert!(err.to_string().contains("nothing to keep"), "{err}");

    let speech = Settings {
        mode: Mode::Speech,
        ..Settings::default()
    };
    let err = run(&silent, &output, &speech, None).await.unwrap_err();
    assert!(err.to_string().contains("silent"), "{err}");

    let err = run(&noaudio, &output, &Settings::default(), None)
        .await
        .unwrap_err();
    eprintln!("no audio: {err}");
    assert!(matches!(err, PipelineError::NeedsSound { .. }), "{err:?}");
    assert!(err.to_string().contains("needs sound"), "{err}");

    let err = run(&corrupt, &output, &Settings::default(), None)
        .await
        .unwrap_err();
    eprintln!("corrupt: {err}");
    assert!(matches!(err, PipelineError::Media(_)), "{err:?}");

    let words = Settings {
        mode: Mode::Words,
        ..Settings::default()
    };
    let err = run(&silent, &output, &words, None).await.unwrap_err();
    assert!(err.to_string().contains("transcript"), "{err}");

    assert!(
        listing(&out_dir).is_empty(),
        "left behind: {:?}",
        listing(&out_dir)
    );
}

#[tokio::test]
async fn cancelling_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let input = talk_cfr(dir.path()).await;
    let out_dir = dir.path().join("out");
    let output = out_dir.join("cut.mp4");
    let ctx = RunContext::default();
    let settings = Settings::default();
    let job = JumpcutJob {
        input: &input,
        output: &output,
        settings: &settings,
        transcript: None,
        quality: Quality::High,
        exports: &[ExportFormat::Json],
    };
    let cancel = ctx.cancel.clone();
    let run = jumpcut(&job, &ctx, &NoProgress);
    let stop = async {
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        cancel.cancel();
    };
    let (result, ()) = tokio::join!(run, stop);
    assert!(result.is_err(), "{result:?}");
    let left = if out_dir.exists() {
        listing(&out_dir)
    } else {
        vec![]
    };
    assert!(left.is_empty(), "left behind: {left:?}");
}

/// Times a jump cut of a real file: `JUMPCUT_BENCH_INPUT=talk.mp4 cargo test --release -p
/// clipforge-pipeline --test jumpcut bench -- --ignored --nocapture` (under
/// `/usr/bin/time -v` for peak memory). Quality from `JUMPCUT_BENCH_QUALITY`.
#[tokio::test]
#[ignore = "needs JUMPCUT_BENCH_INPUT, a long real recording"]
async fn bench_real_file() {
    let input = std::path::PathBuf::from(std::env::var("JUMPCUT_BENCH_INPUT").unwrap());
    let quality: Quality = std::env::var("JUMPCUT_BENCH_QUALITY")
        .map_or(Ok(Quality::Standard), |q| q.parse())
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("bench.mp4");
    let settings = Settings::default();
    let job = JumpcutJob {
        input: &input,
        output: &output,
        settings: &settings,
        transcript: None,
        quality,
        exports: &[ExportFormat::Json],
    };
    let started = std::time::Instant::now();
    let outcome = jumpcut(&job, &RunContext::default(), &NoProgress)
        .await
        .unwrap();
    let wall = started.elapsed().as_secs_f64();
    let video = stream(&output, "v").await.unwrap();
    let audio = stream(&output, "a").await.unwrap();
    eprintln!(
        "bench: {:.1} s in -> {:.1} s out ({:.1}% removed, {} pieces) in {wall:.1} s wall; \
         video {} frames {:.4} s (planned {}), audio {:.4} s",
        outcome.duration_in,
        outcome.duration_out,
        outcome.removed_percent,
        outcome.pieces,
        video.packets,
        video.duration,
        outcome.frames_out,
        audio.duration
    );
}
