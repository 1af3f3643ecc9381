//! Synthetic talking-head inputs with known speech, silence and sync markers, and the
//! measurements the jump-cut tests make on outputs. Everything runs real ffmpeg through
//! the media runner.
#![allow(dead_code)] // each test binary uses a different subset

use std::path::{Path, PathBuf};
use std::time::Duration;

use clipforge_media::Runner;

/// Frames per second of the synthetic picture.
pub const FPS: f64 = 30.0;
/// Picture size (small: the tests measure time, not pixels).
pub const SIZE: (usize, usize) = (320, 180);
/// Length of every synthetic input, seconds.
pub const DURATION: f64 = 20.0;
/// Where the "speech" (a 440 Hz tone at 0.3) is, seconds.
pub const SPEECH: [(f64, f64); 4] = [(1.0, 3.0), (5.0, 7.0), (9.5, 10.5), (13.0, 16.0)];
/// Sync markers: a white frame and a 30 ms 1 kHz beep at 0.9, both starting here.
pub const MARKERS: [f64; 3] = [2.0, 6.0, 14.5];
/// Amplitude of the 150 Hz hum under everything, so every cut lands in non-silent
/// audio and a missing fade would show as a step.
pub const HUM: f64 = 0.02;

/// Runs ffmpeg with `args`, panicking with its stderr on failure.
pub async fn ffmpeg(args: &[&str]) -> Vec<u8> {
    Runner::new(2)
        .command("ffmpeg")
        .args(["-nostdin", "-hide_banner", "-v", "error", "-y"])
        .args(args)
        .timeout(Duration::from_secs(300))
        .run()
        .await
        .unwrap_or_else(|e| panic!("ffmpeg failed: {e}"))
        .stdout
}

fn any_of(ranges: &[(f64, f64)]) -> String {
    ranges
        .iter()
        .map(|(a, b)| format!("between(t,{a},{b})"))
        .collect::<Vec<_>>()
        .join("+")
}

/// The audio expression: hum everywhere, tone in `speech`, beeps at the markers.
fn audio_expr(speech: &[(f64, f64)], hum: f64) -> String {
    let beeps: Vec<(f64, f64)> = MARKERS.iter().map(|&m| (m, m + 0.03)).collect();
    let (gate, beep) = (any_of(speech), any_of(&beeps));
    format!(
        "{hum}*sin(2*PI*150*t)+({gate})*(0.3*sin(2*PI*440*t)*(1-({beep}))+0.9*sin(2*PI*1000*t)*({beep}))"
    )
}

/// The flash: the whole frame white from each marker for `len` seconds.
fn flash(len: f64) -> String {
    let on: Vec<(f64, f64)> = MARKERS.iter().map(|&m| (m, m + len)).collect();
    let on = on
        .iter()
        .map(|(a, b)| format!("gte(t,{a})*lt(t,{b})"))
        .collect::<Vec<_>>()
        .join("+");
    format!("drawbox=x=0:y=0:w=iw:h=ih:color=white:t=fill:enable='{on}'")
}

/// Encodes the lavfi source `video`, with `audio` when given, to `out` (H.264 ultrafast,
/// AAC 192k), with the output options `extra`.
async fn encode(out: &Path, video: &str, audio: Option<&str>, extra: &[&str]) {
    let mut args = vec!["-f", "lavfi", "-i", video];
    if let Some(audio) = audio {
        args.extend(["-f", "lavfi", "-i", audio]);
    }
    args.extend(extra);
    args.extend([
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-pix_fmt",
        "yuv420p",
    ]);
    if audio.is_some() {
        args.extend(["-c:a", "aac", "-b:a", "192k"]);
    }
    args.push(out.to_str().unwrap());
    ffmpeg(&args).await;
}

/// 20 s, 30 fps constant rate, 44.1 kHz AAC (so the render resamples).
pub async fn talk_cfr(dir: &Path) -> PathBuf {
    let out = dir.join("talk-cfr.mp4");
    let video = format!(
        "testsrc2=size={}x{}:rate=30:duration={DURATION}",
        SIZE.0, SIZE.1
    );
    let audio = format!(
        "aevalsrc='{}':s=44100:d={DURATION}",
        audio_expr(&SPEECH, HUM)
    );
    // Half a frame, so exactly one 30 fps frame flashes.
    let flash = flash(0.5 / FPS);
    encode(&out, &video, Some(&audio), &["-vf", &flash, "-g", "60"]).await;
    out
}

/// The same talk recorded at a variable rate, as phones do: 60 fps thinned irregularly
/// (gaps of 1 to 3 frames, about 27 fps on average), 48 kHz audio.
pub async fn talk_vfr(dir: &Path) -> PathBuf {
    let out = dir.join("talk-vfr.mp4");
    let video = format!(
        "testsrc2=size={}x{}:rate=60:duration={DURATION}",
        SIZE.0, SIZE.1
    );
    let audio = format!(
        "aevalsrc='{}':s=48000:d={DURATION}",
        audio_expr(&SPEECH, HUM)
    );
    // The flash lasts one 30 fps frame; the thinning never drops two source frames in a
    // row at a marker (markers sit on n = 0 mod 60, which is kept).
    let vf = format!(
        "{},select='not(mod(n\\,60))+not(mod(n\\,2))*lt(mod(n\\,7)\\,4)+eq(mod(n\\,5)\\,1)'",
        flash(1.0 / FPS)
    );
    encode(
        &out,
        &video,
        Some(&audio),
        &["-vf", &vf, "-fps_mode", "vfr"],
    )
    .await;
    out
}

/// Continuous tone from 1 s to 9 s (no pauses at all) with the hum, 30 fps, for cuts that
/// must land mid-sound (filler words).
pub async fn continuous_tone(dir: &Path) -> PathBuf {
    let out = dir.join("tone.mp4");
    let video = format!("testsrc2=size={}x{}:rate=30:duration=10", SIZE.0, SIZE.1);
    let audio = format!("aevalsrc='{}':s=48000:d=10", audio_expr(&[(1.0, 9.0)], HUM));
    encode(&out, &video, Some(&audio), &[]).await;
    out
}

/// 6 s of picture with digital silence.
pub async fn silent(dir: &Path) -> PathBuf {
    let out = dir.join("silent.mp4");
    let video = format!("testsrc2=size={}x{}:rate=30:duration=6", SIZE.0, SIZE.1);
    encode(&out, &video, Some("anullsrc=r=48000:cl=mono"), &["-t", "6"]).await;
    out
}

/// 6 s of picture, no audio stream.
pub async fn no_audio(dir: &Path) -> PathBuf {
    let out = dir.join("noaudio.mp4");
    let video = format!("testsrc2=size={}x{}:rate=30:duration=6", SIZE.0, SIZE.1);
    encode(&out, &video, None, &[]).await;
    out
}

/// What ffprobe says about one stream of a file.
#[derive(Debug, Clone, Copy)]
pub struct StreamFacts {
    pub duration: f64,
    pub packets: u64,
}

/// Duration and packet count of the first stream of `kind` ("v" or "a").
pub async fn stream(path: &Path, kind: &str) -> Option<StreamFacts> {
    let out = Runner::new(1)
        .command("ffprobe")
        .args(["-v", "error", "-count_packets", "-select_streams"])
        .arg(format!("{kind}:0"))
        .args([
            "-show_entries",
            "stream=duration,nb_read_packets",
            "-of",
            "csv=p=0",
        ])
        .arg(path)
        .timeout(Duration::from_secs(60))
        .run()
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().next()?.trim().to_owned();
    let mut parts = line.split(',');
    let duration = parts.next()?.parse().ok()?;
    let packets = parts.next()?.parse().ok()?;
    Some(StreamFacts { duration, packets })
}

/// Mean luma of every frame, decoded at a tiny size.
pub async fn frame_lumas(path: &Path) -> Vec<f64> {
    let bytes = ffmpeg(&[
        "-i",
        path.to_str().unwrap(),
        "-vf",
        "scale=32:18",
        "-fps_mode",
        "passthrough",
        "-f",
        "rawvideo",
        "-pix_fmt",
        "gray",
        "pipe:1",
    ])
    .await;
    bytes
        .chunks_exact(32 * 18)
        .map(|f| f.iter().map(|&p| f64::from(p)).sum::<f64>() / f.len() as f64)
        .collect()
}

/// The first audio stream as 48 kHz mono `f32`.
pub async fn samples(path: &Path) -> Vec<f32> {
    let bytes = ffmpeg(&[
        "-i",
        path.to_str().unwrap(),
        "-map",
        "0:a:0",
        "-ac",
        "1",
        "-ar",
        "48000",
        "-f",
        "f32le",
        "pipe:1",
    ])
    .await;
    bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

/// Indices where a run of values above `threshold` starts, runs closer than `gap` merged.
pub fn onsets<T: Copy + Into<f64>>(values: &[T], threshold: f64, gap: usize) -> Vec<usize> {
    let mut out: Vec<usize> = Vec::new();
    let mut last_high: Option<usize> = None;
    for (i, &v) in values.iter().enumerate() {
        if v.into().abs() > threshold {
            if last_high.is_none_or(|l| i - l > gap) {
                out.push(i);
            }
            last_high = Some(i);
        }
    }
    out
}

/// Largest sample-to-sample step within `radius` samples of `at`.
pub fn largest_step(samples: &[f32], at: usize, radius: usize) -> f32 {
    let lo = at.saturating_sub(radius).max(1);
    let hi = (at + radius).min(samples.len());
    (lo..hi)
        .map(|i| (samples[i] - samples[i - 1]).abs())
        .fold(0.0, f32::max)
}

/// Largest sample-to-sample step anywhere in `samples[lo..hi]` (the signal's own).
pub fn natural_step(samples: &[f32], lo: usize, hi: usize) -> f32 {
    largest_step(samples, (lo + hi) / 2, (hi - lo) / 2)
}

/// Names in `dir`, sorted.
pub fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}
