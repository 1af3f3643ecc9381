//! Silence detection and upload preparation for remote speech APIs, against real ffmpeg.

mod common;

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use clipforge_core::Progress;
use clipforge_media::{
    detect_silences, prepare_upload, prepare_upload_with, probe, MediaError, RunContext, Runner,
    UPLOAD_MIME,
};
use common::ffmpeg;

/// Tone with silence at 3.0–4.5 s and 7.0–8.0 s, 10 s long.
async fn tone_with_gaps(dir: &Path) -> PathBuf {
    let out = dir.join("gaps.wav");
    let expr = "aevalsrc=exprs='0.5*sin(2*PI*440*t)*not(between(t\\,3\\,4.5))\
                *not(between(t\\,7\\,8))':s=44100:d=10";
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        expr,
        "-c:a",
        "pcm_s16le",
        out.to_str().unwrap(),
    ])
    .await;
    out
}

/// 60 s of noisy tone (FLAC cannot squeeze noise, so the size is predictable) that is silent
/// for the last 2 s of every 10: silences at 8–10, 18–20, ... 58–60.
async fn speechlike_60s(dir: &Path) -> PathBuf {
    let out = dir.join("talk.wav");
    let expr = "aevalsrc=exprs='(0.5*sin(2*PI*440*t)+0.3*(random(0)-0.5))\
                *lt(mod(t\\,10)\\,8)':s=48000:d=60";
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        expr,
        "-c:a",
        "pcm_s16le",
        out.to_str().unwrap(),
    ])
    .await;
    out
}

#[tokio::test]
async fn finds_inserted_silences_within_a_tenth_of_a_second() {
    let dir = tempfile::tempdir().unwrap();
    let path = tone_with_gaps(dir.path()).await;
    let silences = detect_silences(&path, -40.0, 0.5).await.unwrap();
    assert_eq!(silences.len(), 2, "{silences:?}");
    for ((start, end), (want_start, want_end)) in silences.iter().zip([(3.0, 4.5), (7.0, 8.0)]) {
        assert!((start - want_start).abs() < 0.1, "{silences:?}");
        assert!((end - want_end).abs() < 0.1, "{silences:?}");
    }
}

#[tokio::test]
async fn finds_a_pause_between_spoken_sentences() {
    let dir = tempfile::tempdir().unwrap();
    let speech = dir.path().join("speech.wav");
    let espeak = Runner::new(1)
        .command("espeak-ng")
        .args([
            "-w",
            speech.to_str().unwrap(),
            "The quick brown fox jumps over the lazy dog",
        ])
        .run()
        .await;
    if let Err(MediaError::ToolMissing { .. }) = espeak {
        eprintln!("espeak-ng is not installed; skipping");
        return;
    }
    espeak.unwrap();
    let speech_secs = probe(&speech).await.unwrap().duration;

    // speech, 2 s of digital silence, speech again
    let joined = dir.path().join("joined.wav");
    let s = speech.to_str().unwrap();
    ffmpeg(&[
        "-i",
        s,
        "-f",
        "lavfi",
        "-i",
        "anullsrc=r=22050:cl=mono:d=2",
        "-i",
        s,
        "-filter_complex",
        "[0:a][1:a][2:a]concat=n=3:v=0:a=1",
        joined.to_str().unwrap(),
    ])
    .await;
    let silences = detect_silences(&joined, -40.0, 1.0).await.unwrap();
    eprintln!("speech {speech_secs} s, silences {silences:?}");
    // espeak leaves a little quiet at both ends of its speech, so the detected pause may be
    // wider than the inserted one, but it must cover it.
    let gap = (speech_secs, speech_secs + 2.0);
    assert!(
        silences
            .iter()
            .any(|(s, e)| *s <= gap.0 + 0.1 && *e >= gap.1 - 0.1),
        "no silence covers {gap:?}: {silences:?}"
    );
}

#[tokio::test]
async fn small_input_uploads_as_one_flac() {
    let dir = tempfile::tempdir().unwrap();
    let path = tone_with_gaps(dir.path()).await;
    let work = dir.path().join("work");
    let parts = prepare_upload(&path, 25 * 1024 * 1024, &work)
        .await
        .unwrap();
    assert_eq!(parts.len(), 1);
    let part = &parts[0];
    assert_eq!(part.offset, 0.0);
    assert!((part.duration - 10.0).abs() < 0.01, "{part:?}");
    assert_eq!(part.mime, "audio/flac");
    assert_eq!(part.path.extension().unwrap(), "flac");
    assert!(part.path.starts_with(&work));
    let info = probe(&part.path).await.unwrap();
    assert_eq!(info.audio[0].codec, "flac");
    assert_eq!(info.audio[0].sample_rate, 16_000);
    assert_eq!(info.audio[0].channels, 1);
}

#[derive(Default)]
struct Recorder {
    stages: Mutex<Vec<String>>,
    last: Mutex<Option<(f64, f64)>>,
}

impl Progress for Recorder {
    fn stage(&self, name: &str) {
        self.stages.lock().unwrap().push(name.to_owned());
    }
    fn update(&self, done: f64, total: f64) {
        assert!(done <= total + 1e-6, "{done} > {total}");
        *self.last.lock().unwrap() = Some((done, total));
    }
}

#[tokio::test]
async fn large_input_is_split_inside_pauses_into_parts_under_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let path = speechlike_60s(dir.path()).await;
    let work = dir.path().join("work");
    let max_bytes = 600_000;
    let progress = Recorder::default();
    let parts = prepare_upload_with(&path, max_bytes, &work, &RunContext::default(), &progress)
        .await
        .unwrap();

    eprintln!("{parts:#?}");
    assert!(parts.len() >= 3, "{parts:#?}");
    assert_eq!(parts[0].offset, 0.0);
    for pair in parts.windows(2) {
        let end = pair[0].offset + pair[0].duration;
        assert!(
            (end - pair[1].offset).abs() < 1e-9,
            "gap or overlap: {pair:#?}"
        );
    }
    let last = parts.last().unwrap();
    assert!(
        (last.offset + last.duration - 60.0).abs() < 0.05,
        "{last:?}"
    );

    for part in &parts {
        assert_eq!(part.mime, UPLOAD_MIME);
        let size = std::fs::metadata(&part.path).unwrap().len();
        assert!(size <= max_bytes, "{} is {size} bytes", part.path.display());
        // The file holds exactly the planned stretch, so timestamps shift back correctly.
        let info = probe(&part.path).await.unwrap();
        assert!(
            (info.duration - part.duration).abs() < 0.02,
            "{part:?}: {}",
            info.duration
        );
    }
    // Every cut falls in a pause (the last 2 s of each 10 s).
    for part in &parts[1..] {
        let in_cycle = part.offset % 10.0;
        assert!(
            (8.0..=10.0).contains(&in_cycle),
            "cut at {} s is not in a pause",
            part.offset
        );
    }
    assert!(
        !work.join("audio.flac").exists(),
        "the unsplit encode is cleaned up"
    );

    let stages = progress.stages.lock().unwrap().clone();
    assert_eq!(
        stages.first().map(String::as_str),
        Some("encoding audio for upload")
    );
    assert!(
        stages.iter().any(|s| s == "splitting audio for upload"),
        "{stages:?}"
    );
    let (done, total) = progress.last.lock().unwrap().unwrap();
    assert!(
        (done - total).abs() < 1e-9 && total > 59.0,
        "{done} of {total}"
    );
}

#[tokio::test]
async fn rejects_unusable_limits_and_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let path = tone_with_gaps(dir.path()).await;
    let err = prepare_upload(&path, 1_000, dir.path()).await.unwrap_err();
    assert!(
        matches!(
            err,
            MediaError::InvalidArgument {
                name: "max_bytes",
                ..
            }
        ),
        "{err}"
    );

    let silent = common::video_without_audio(dir.path(), "silent.mp4").await;
    let err = prepare_upload(&silent, 1 << 20, dir.path())
        .await
        .unwrap_err();
    assert!(matches!(err, MediaError::NoAudio { .. }), "{err}");
    let err = detect_silences(&silent, -30.0, 0.5).await.unwrap_err();
    assert!(matches!(err, MediaError::NoAudio { .. }), "{err}");
    let err = detect_silences(&path, -30.0, 0.0).await.unwrap_err();
    assert!(matches!(err, MediaError::InvalidArgument { .. }), "{err}");
}
