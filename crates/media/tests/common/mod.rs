//! Test inputs made with real ffmpeg at test time (through the runner: nothing else may spawn).
#![allow(dead_code)] // each test binary uses a different subset

use std::path::{Path, PathBuf};
use std::time::Duration;

use clipforge_media::{MediaError, Runner};

/// Runs ffmpeg with `args` after `-nostdin -v error -y`, panicking with stderr on failure.
pub async fn ffmpeg(args: &[&str]) {
    Runner::new(2)
        .command("ffmpeg")
        .args(["-nostdin", "-hide_banner", "-v", "error", "-y"])
        .args(args)
        .timeout(Duration::from_secs(120))
        .run()
        .await
        .unwrap_or_else(|e| panic!("making a test input failed: {e}"));
}

/// `secs` of a 440 Hz sine at `rate` Hz in a WAV file.
pub async fn sine_wav(dir: &Path, name: &str, secs: f64, rate: u32) -> PathBuf {
    let out = dir.join(name);
    let src = format!("sine=frequency=440:sample_rate={rate}:duration={secs}");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        &src,
        "-c:a",
        "pcm_s16le",
        out.to_str().unwrap(),
    ])
    .await;
    out
}

/// A small H.264 + AAC MP4 of `secs` seconds (640x360, 30 fps, 440 Hz tone).
pub async fn video_with_audio(dir: &Path, name: &str, secs: u32, faststart: bool) -> PathBuf {
    let out = dir.join(name);
    let video = format!("testsrc2=size=640x360:rate=30:duration={secs}");
    let audio = format!("sine=frequency=440:sample_rate=44100:duration={secs}");
    let mut args = vec![
        "-f",
        "lavfi",
        "-i",
        &video,
        "-f",
        "lavfi",
        "-i",
        &audio,
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
    ];
    if faststart {
        args.extend(["-movflags", "+faststart"]);
    }
    args.push(out.to_str().unwrap());
    ffmpeg(&args).await;
    out
}

/// A video with no audio stream.
pub async fn video_without_audio(dir: &Path, name: &str) -> PathBuf {
    let out = dir.join(name);
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=320x240:rate=25:duration=2",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-pix_fmt",
        "yuv420p",
        out.to_str().unwrap(),
    ])
    .await;
    out
}

/// Copies the first `fraction` of `src` to `dst`, like a download that stopped.
pub fn truncate_copy(src: &Path, dst: &Path, fraction: f64) -> PathBuf {
    let bytes = std::fs::read(src).unwrap();
    let keep = (bytes.len() as f64 * fraction) as usize;
    std::fs::write(dst, &bytes[..keep]).unwrap();
    dst.to_owned()
}

/// Number of sign changes, to tell what frequency decoded samples carry.
pub fn zero_crossings(samples: &[f32]) -> usize {
    samples
        .windows(2)
        .filter(|w| (w[0] < 0.0) != (w[1] < 0.0))
        .count()
}

/// Asserts an error renders as a single line, as users see it in a terminal or a job row.
pub fn assert_one_line(err: &MediaError) {
    let msg = err.to_string();
    assert!(!msg.contains('\n'), "message is not one line: {msg}");
}
