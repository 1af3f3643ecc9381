//! Probing and audio decoding against real ffmpeg, on inputs made at test time: good files,
//! and the broken ones users actually upload.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use clipforge_media::{
    decode_all, probe, probe_with, AudioDecoder, MediaError, RunContext, Runner, SAMPLE_RATE,
};
use common::{assert_one_line, ffmpeg, zero_crossings};
use tokio_util::sync::CancellationToken;

#[tokio::test]
async fn probes_a_rotated_phone_video() {
    let dir = tempfile::tempdir().unwrap();
    let landscape = common::video_with_audio(dir.path(), "landscape.mp4", 2, false).await;
    let rotated = dir.path().join("portrait.mp4");
    ffmpeg(&[
        "-i",
        landscape.to_str().unwrap(),
        "-c",
        "copy",
        "-metadata:s:v:0",
        "rotate=270",
        rotated.to_str().unwrap(),
    ])
    .await;
    let info = probe(&rotated).await.unwrap();
    assert!((info.duration - 2.0).abs() < 0.1, "{}", info.duration);
    assert_eq!(info.size, std::fs::metadata(&rotated).unwrap().len());
    let video = info.video.as_ref().unwrap();
    assert_eq!((video.width, video.height), (640, 360));
    assert_eq!(video.rotation, 90);
    assert_eq!(video.display_size(), (360, 640));
    assert_eq!(info.audio.len(), 1);
    assert_eq!(info.audio[0].sample_rate, 44_100);
}

#[tokio::test]
async fn missing_file_is_file_missing() {
    let path = Path::new("/nonexistent/clipforge/talk.mp4");
    let err = probe(path).await.unwrap_err();
    assert!(matches!(err, MediaError::FileMissing { .. }), "{err}");
    let err = AudioDecoder::open(path).await.unwrap_err();
    assert!(matches!(err, MediaError::FileMissing { .. }), "{err}");
    assert_one_line(&err);
}

#[tokio::test]
async fn text_files_are_not_media() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["notes.mp4", "notes.bin", "notes.txt"] {
        let path = dir.path().join(name);
        std::fs::write(&path, "hello, this is not a video\n").unwrap();
        let err = AudioDecoder::open(&path).await.unwrap_err();
        eprintln!("{err}");
        assert!(matches!(err, MediaError::NotMedia { .. }), "{name}: {err}");
        assert!(
            err.to_string()
                .contains("is not a media file ffmpeg can read"),
            "{err}"
        );
        assert_one_line(&err);
    }
}

#[tokio::test]
async fn empty_file_and_directory_are_not_media() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.mp4");
    std::fs::write(&empty, b"").unwrap();
    let err = probe(&empty).await.unwrap_err();
    assert!(err.to_string().contains("the file is empty"), "{err}");
    let err = probe(dir.path()).await.unwrap_err();
    assert!(matches!(err, MediaError::NotMedia { .. }), "{err}");
}

#[tokio::test]
async fn video_without_audio_is_no_audio() {
    let dir = tempfile::tempdir().unwrap();
    let path = common::video_without_audio(dir.path(), "silent.mp4").await;
    let err = AudioDecoder::open(&path).await.unwrap_err();
    assert!(matches!(err, MediaError::NoAudio { .. }), "{err}");
    assert!(err
        .to_string()
        .ends_with("has no audio stream; use a file with sound"));
}

#[tokio::test]
async fn mp4_cut_in_half_is_corrupt() {
    // Without +faststart the index is written last, so half a file has none.
    let dir = tempfile::tempdir().unwrap();
    let whole = common::video_with_audio(dir.path(), "whole.mp4", 4, false).await;
    let cut = common::truncate_copy(&whole, &dir.path().join("cut.mp4"), 0.5);
    let err = AudioDecoder::open(&cut).await.unwrap_err();
    eprintln!("{err}");
    assert!(matches!(err, MediaError::Corrupt { .. }), "{err}");
    assert!(err.to_string().contains("moov atom"), "{err}");
    assert_one_line(&err);
}

#[tokio::test]
async fn faststart_mp4_cut_at_60_percent_is_corrupt_after_decoding() {
    // With the index up front ffprobe reads it fine; only decoding finds the data missing.
    let dir = tempfile::tempdir().unwrap();
    let whole = common::video_with_audio(dir.path(), "whole.mp4", 10, true).await;
    let cut = common::truncate_copy(&whole, &dir.path().join("cut.mp4"), 0.6);
    let mut decoder = AudioDecoder::open(&cut)
        .await
        .expect("the header is intact");
    assert!((decoder.duration() - 10.0).abs() < 0.1);
    let err = loop {
        match decoder.next_chunk(16_000).await {
            Ok(Some(_)) => continue,
            Ok(None) => panic!("a truncated file decoded cleanly"),
            Err(err) => break err,
        }
    };
    eprintln!("{err}");
    assert!(matches!(err, MediaError::Corrupt { .. }), "{err}");
    let msg = err.to_string();
    assert!(msg.contains("truncated: decoded "), "{msg}");
    assert!(msg.contains(" s of 10.0 s"), "{msg}");
    assert_one_line(&err);
}

#[tokio::test]
async fn decodes_a_sine_to_the_right_number_of_16khz_samples() {
    let dir = tempfile::tempdir().unwrap();
    let wav = common::sine_wav(dir.path(), "sine.wav", 3.5, 44_100).await;
    let samples = decode_all(&wav).await.unwrap();
    let expected = (3.5 * f64::from(SAMPLE_RATE)) as i64;
    assert!(
        (samples.len() as i64 - expected).abs() <= 16,
        "{} samples, expected {expected}",
        samples.len()
    );
    // It is the tone, not noise or silence: 440 Hz crosses zero 880 times a second.
    let crossings = zero_crossings(&samples) as f64 / 3.5;
    assert!((crossings - 880.0).abs() < 5.0, "{crossings} crossings/s");
    let peak = samples.iter().fold(0f32, |m, s| m.max(s.abs()));
    assert!(
        (peak - 0.125).abs() < 0.01,
        "lavfi sine peaks at 1/8, got {peak}"
    );
}

#[tokio::test]
async fn decodes_aac_in_mp4_within_one_frame() {
    let dir = tempfile::tempdir().unwrap();
    let mp4 = common::video_with_audio(dir.path(), "talk.mp4", 3, false).await;
    let samples = decode_all(&mp4).await.unwrap();
    // One AAC frame is 1024 samples at 44.1 kHz: 372 at 16 kHz.
    let expected = 3 * SAMPLE_RATE as i64;
    assert!(
        (samples.len() as i64 - expected).abs() <= 372,
        "{} samples, expected {expected}",
        samples.len()
    );
}

#[tokio::test]
async fn chunks_never_exceed_max_samples() {
    let dir = tempfile::tempdir().unwrap();
    let wav = common::sine_wav(dir.path(), "sine.wav", 2.0, 48_000).await;
    let mut decoder = AudioDecoder::open(&wav).await.unwrap();
    assert_eq!(decoder.info().audio[0].sample_rate, 48_000);
    let max = 4_999;
    let mut sizes = Vec::new();
    while let Some(chunk) = decoder.next_chunk(max).await.unwrap() {
        sizes.push(chunk.len());
    }
    assert!(sizes.iter().all(|n| *n <= max && *n > 0), "{sizes:?}");
    // Every chunk but the last is full: callers can rely on fixed windows.
    assert!(
        sizes[..sizes.len() - 1].iter().all(|n| *n == max),
        "{sizes:?}"
    );
    let total: usize = sizes.iter().sum();
    assert_eq!(total, 32_000);
    assert_eq!(decoder.decoded_seconds(), 2.0);
    assert!(
        decoder.next_chunk(max).await.unwrap().is_none(),
        "stays finished"
    );
}

#[tokio::test]
async fn decodes_the_chosen_audio_stream() {
    let dir = tempfile::tempdir().unwrap();
    let mkv = dir.path().join("two.mkv");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:duration=2",
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=1000:duration=2",
        "-map",
        "0",
        "-map",
        "1",
        "-c:a",
        "flac",
        "-metadata:s:a:0",
        "language=eng",
        "-metadata:s:a:1",
        "language=spa",
        mkv.to_str().unwrap(),
    ])
    .await;
    let mut decoder = AudioDecoder::open_with(&mkv, &RunContext::default(), 1)
        .await
        .unwrap();
    assert_eq!(decoder.stream().language.as_deref(), Some("spa"));
    let mut samples = Vec::new();
    while let Some(chunk) = decoder.next_chunk(8_000).await.unwrap() {
        samples.extend(chunk);
    }
    let crossings = zero_crossings(&samples) as f64 / 2.0;
    assert!((crossings - 2000.0).abs() < 10.0, "{crossings} crossings/s");

    let err = AudioDecoder::open_with(&mkv, &RunContext::default(), 2)
        .await
        .unwrap_err();
    assert!(matches!(err, MediaError::InvalidArgument { .. }), "{err}");
}

#[tokio::test]
async fn cancelling_stops_a_decode() {
    let dir = tempfile::tempdir().unwrap();
    let wav = common::sine_wav(dir.path(), "long.wav", 60.0, 16_000).await;
    let token = CancellationToken::new();
    let ctx = RunContext::new(Runner::new(1), token.clone());
    let mut decoder = AudioDecoder::open_with(&wav, &ctx, 0).await.unwrap();
    decoder.next_chunk(16_000).await.unwrap().unwrap();
    token.cancel();
    let err = loop {
        match decoder.next_chunk(16_000).await {
            Ok(Some(_)) => continue,
            Ok(None) => panic!("a cancelled decode finished cleanly"),
            Err(err) => break err,
        }
    };
    assert!(matches!(err, MediaError::Cancelled { .. }), "{err}");
}

#[tokio::test]
async fn dropping_a_decoder_kills_ffmpeg_and_frees_the_runner() {
    let dir = tempfile::tempdir().unwrap();
    let wav = common::sine_wav(dir.path(), "long.wav", 60.0, 16_000).await;
    let ctx = RunContext::new(Runner::new(1), CancellationToken::new());
    let mut decoder = AudioDecoder::open_with(&wav, &ctx, 0).await.unwrap();
    decoder.next_chunk(1_000).await.unwrap().unwrap();
    // ffmpeg is now blocked on a full pipe, holding the only permit.
    drop(decoder);
    let started = Instant::now();
    let info = probe_with(&wav, &ctx).await.unwrap();
    assert_eq!(info.duration, 60.0);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}
