//! Rendering clips with the real ffmpeg: the durations, frame sizes and stream lengths a
//! user would check, from constant-rate, variable-rate and rotated phone inputs; a preview
//! frame equal to the exported one; cancellation that leaves nothing behind.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use clipforge_core::{CropKey, CropPath, Framing};
use clipforge_media::render::{render, render_frame, FrameKind, RenderSpec, TitleCard};
use clipforge_media::{probe, MediaError, RunContext, Runner};
use common::ffmpeg;
use tokio_util::sync::CancellationToken;

const FPS: f64 = 30.0;

/// A 12 s 1280x720 talk stand-in with a tone.
async fn constant_rate(dir: &Path) -> PathBuf {
    let out = dir.join("cfr.mp4");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=1280x720:rate=30:duration=12",
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=300:sample_rate=44100:duration=12",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
        out.to_str().unwrap(),
    ])
    .await;
    out
}

/// Frames at irregular intervals, as phones record them.
async fn variable_rate(dir: &Path) -> PathBuf {
    let out = dir.join("vfr.mp4");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=1280x720:rate=60:duration=12",
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=300:sample_rate=48000:duration=12",
        "-vf",
        "select='not(mod(n\\,3))+eq(mod(n\\,7)\\,1)'",
        "-fps_mode",
        "vfr",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
        out.to_str().unwrap(),
    ])
    .await;
    out
}

/// A landscape-stored picture flagged to be shown turned 90°, as phones save portrait
/// video.
async fn rotated(dir: &Path) -> PathBuf {
    let stored = dir.join("stored.mp4");
    let out = dir.join("rotated.mp4");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=640x360:rate=30:duration=12",
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=300:sample_rate=48000:duration=12",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
        stored.to_str().unwrap(),
    ])
    .await;
    // ffmpeg 5.1 writes the display matrix only when the stream is copied.
    ffmpeg(&[
        "-i",
        stored.to_str().unwrap(),
        "-c",
        "copy",
        "-metadata:s:v:0",
        "rotate=90",
        out.to_str().unwrap(),
    ])
    .await;
    out
}

/// The middle 9:16 window of a `w`x`h` picture.
fn centre_crop(w: u32, h: u32) -> CropPath {
    let cw = ((f64::from(h) * 9.0 / 16.0).floor() as u32).min(w) & !1;
    let ch = ((f64::from(cw) * 16.0 / 9.0).round() as u32).min(h) & !1;
    CropPath::fixed(cw, ch, f64::from(w - cw) / 2.0, f64::from(h - ch) / 2.0)
}

fn spec(input: &Path, source: (u32, u32), start: f64, end: f64) -> RenderSpec {
    RenderSpec {
        input: input.to_path_buf(),
        start,
        end,
        frame: (540, 960),
        fps: FPS,
        crf: 26,
        preset: "veryfast".into(),
        video_bitrate: None,
        framing: Framing::Crop {
            path: centre_crop(source.0, source.1),
        },
        captions: None,
        title: None,
        logo: None,
        music: None,
        loudness: Some(-14.0),
        has_audio: true,
    }
}

/// Stream durations and the video size, from ffprobe.
async fn streams(path: &Path) -> (f64, f64, u32, u32, u64) {
    let out = Runner::new(1)
        .command("ffprobe")
        .args([
            "-v",
            "error",
            "-count_frames",
            "-show_streams",
            "-of",
            "json",
        ])
        .arg(path)
        .timeout(Duration::from_secs(60))
        .run()
        .await
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut v = (0.0, 0, 0, 0);
    let mut a = 0.0;
    for s in json["streams"].as_array().unwrap() {
        let duration: f64 = s["duration"].as_str().unwrap().parse().unwrap();
        match s["codec_type"].as_str() {
            Some("video") => {
                v = (
                    duration,
                    s["width"].as_u64().unwrap() as u32,
                    s["height"].as_u64().unwrap() as u32,
                    s["nb_read_frames"].as_str().unwrap().parse().unwrap(),
                )
            }
            Some("audio") => a = duration,
            _ => {}
        }
    }
    (v.0, a, v.1, v.2, v.3)
}

async fn check_clip(input: &Path, source: (u32, u32), name: &str) {
    let dir = input.parent().unwrap();
    let out = dir.join(format!("{name}-clip.mp4"));
    let (start, end) = (2.5, 8.5);
    render(
        &spec(input, source, start, end),
        &out,
        &RunContext::default(),
        |_| {},
    )
    .await
    .unwrap_or_else(|e| panic!("{name}: {e}"));
    let frame = 1.0 / FPS;
    let (video, audio, w, h, frames) = streams(&out).await;
    assert_eq!((w, h), (540, 960), "{name}: frame size");
    assert!(
        (video - 6.0).abs() <= frame + 1e-6,
        "{name}: video lasts {video}"
    );
    assert!(
        (audio - video).abs() <= frame + 1e-6,
        "{name}: audio {audio} vs video {video}"
    );
    assert!(
        (frames as f64 - 6.0 * FPS).abs() <= 1.0,
        "{name}: {frames} frames"
    );
    let info = probe(&out).await.unwrap();
    let v = info.video.unwrap();
    assert!(
        !v.variable_frame_rate,
        "{name}: output must be constant-rate"
    );
    assert_eq!(v.codec, "h264");
    assert_eq!(info.audio[0].codec, "aac");
}

#[tokio::test]
async fn clips_have_the_planned_length_size_and_matching_streams() {
    let dir = tempfile::tempdir().unwrap();
    let cfr = constant_rate(dir.path()).await;
    check_clip(&cfr, (1280, 720), "constant-rate").await;
    let vfr = variable_rate(dir.path()).await;
    assert!(
        probe(&vfr)
            .await
            .unwrap()
            .video
            .unwrap()
            .variable_frame_rate
    );
    check_clip(&vfr, (1280, 720), "variable-rate").await;
    let turned = rotated(dir.path()).await;
    let display = probe(&turned).await.unwrap().video.unwrap().display_size();
    assert_eq!(display, (360, 640));
    check_clip(&turned, display, "rotated").await;
}

/// The frame at `t` of a video, as raw RGB at its own size.
async fn frame_rgb(path: &Path, t: f64) -> Vec<u8> {
    let out = Runner::new(1)
        .command("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(path)
        .args([
            "-ss",
            &format!("{t:.3}"),
            "-frames:v",
            "1",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "rgb24",
            "pipe:1",
        ])
        .timeout(Duration::from_secs(60))
        .run()
        .await
        .unwrap();
    out.stdout
}

#[tokio::test]
async fn a_preview_frame_shows_what_the_export_shows() {
    let dir = tempfile::tempdir().unwrap();
    let input = constant_rate(dir.path()).await;
    let mut s = spec(&input, (1280, 720), 1.0, 9.0);
    // A crop that pans across the picture and a caption that appears at 4 s: a preview
    // on another clock would show another place or another caption.
    s.framing = Framing::Crop {
        path: CropPath {
            width: 404,
            height: 720,
            keys: vec![
                CropKey {
                    time: 0.0,
                    x: 0.0,
                    y: 0.0,
                },
                CropKey {
                    time: 8.0,
                    x: 876.0,
                    y: 0.0,
                },
            ],
        },
    };
    s.captions = Some(
        "[Script Info]\nScriptType: v4.00+\nPlayResX: 540\nPlayResY: 960\n\n[V4+ Styles]\n\
         Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, Alignment, MarginL, MarginR, MarginV, Encoding\n\
         Style: Default,DejaVu Sans,60,&H00FFFFFF,&H00FFFFFF,&H00000000,&H00000000,1,0,0,0,100,100,0,0,1,3,0,2,20,20,200,1\n\n\
         [Events]\nFormat: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\n\
         Dialogue: 0,0:00:04.00,0:00:06.00,Default,,0,0,0,,HELLO\n"
            .into(),
    );
    // And an intro title over the first 3 s, drawn once and faded in and out.
    s.title = Some(TitleCard {
        ass: "[Script Info]\nScriptType: v4.00+\nPlayResX: 540\nPlayResY: 960\n\n[V4+ Styles]\n\
         Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, Alignment, MarginL, MarginR, MarginV, Encoding\n\
         Style: Title,DejaVu Sans,70,&H00FFFFFF,&H00FFFFFF,&H00000000,&H00000000,1,0,0,0,100,100,0,0,1,4,0,8,20,20,150,1\n\n\
         [Events]\nFormat: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\n\
         Dialogue: 1,0:00:00.00,0:00:03.00,Title,,0,0,0,,WATCH THIS\n"
            .into(),
        duration: 3.0,
        fade: 0.3,
    });
    let export = dir.path().join("export.mp4");
    render(&s, &export, &RunContext::default(), |_| {})
        .await
        .unwrap();
    // The title shows while it lasts and is gone after: previews with and without it
    // differ in its rows at 1 s, and not at 5 s.
    let untitled = RenderSpec {
        title: None,
        ..s.clone()
    };
    let band = |rgb: &[u8]| -> Vec<u8> {
        let row = 540 * 3;
        rgb[row * 100..row * 320].to_vec()
    };
    for (t, differs) in [(1.0, true), (5.0, false)] {
        let with = dir.path().join(format!("titled-{t}.png"));
        let without = dir.path().join(format!("untitled-{t}.png"));
        render_frame(&s, t, FrameKind::Preview, &with, &RunContext::default())
            .await
            .unwrap();
        render_frame(
            &untitled,
            t,
            FrameKind::Preview,
            &without,
            &RunContext::default(),
        )
        .await
        .unwrap();
        let (a, b) = (frame_rgb(&with, 0.0).await, frame_rgb(&without, 0.0).await);
        let changed = band(&a)
            .iter()
            .zip(band(&b))
            .filter(|(x, y)| x.abs_diff(*y) > 60)
            .count();
        assert_eq!(
            changed > 2000,
            differs,
            "t={t}: {changed} title-band values changed by the title"
        );
    }
    for t in [1.0, 2.0, 5.0] {
        let preview = dir.path().join(format!("preview-{t}.png"));
        render_frame(&s, t, FrameKind::Preview, &preview, &RunContext::default())
            .await
            .unwrap();
        let b = frame_rgb(&preview, 0.0).await;
        // Output seeking keeps the first frame at or after the time: just before it.
        let a = frame_rgb(&export, t - 0.005).await;
        assert_eq!(a.len(), b.len());
        let diff = a
            .iter()
            .zip(&b)
            .map(|(x, y)| x.abs_diff(*y) as f64)
            .sum::<f64>()
            / a.len() as f64;
        assert!(
            diff < 4.0,
            "t={t}: mean difference {diff:.2} between preview and export"
        );
    }
    // And a frame from elsewhere in the clip differs, so the comparison can fail.
    let a = frame_rgb(&export, 1.995).await;
    let b = frame_rgb(&dir.path().join("preview-5.png"), 0.0).await;
    let diff = a
        .iter()
        .zip(&b)
        .map(|(x, y)| x.abs_diff(*y) as f64)
        .sum::<f64>()
        / a.len() as f64;
    assert!(diff > 10.0, "frames 3 s apart differ by only {diff:.2}");
}

#[tokio::test]
async fn cancelling_stops_ffmpeg_and_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let input = constant_rate(dir.path()).await;
    let out_dir = dir.path().join("out");
    let out = out_dir.join("clip.mp4");
    let mut s = spec(&input, (1280, 720), 0.0, 12.0);
    s.frame = (1080, 1920);
    s.preset = "medium".into();
    let cancel = CancellationToken::new();
    let ctx = RunContext::new(Runner::new(1), cancel.clone());
    let stopper = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(700)).await;
        cancel.cancel();
    });
    let result = render(&s, &out, &ctx, |_| {}).await;
    stopper.await.unwrap();
    assert!(
        matches!(result, Err(MediaError::Cancelled { .. })),
        "{result:?}"
    );
    let left: Vec<_> = std::fs::read_dir(&out_dir).unwrap().collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[tokio::test]
async fn impossible_ranges_are_refused_with_reasons() {
    let input = PathBuf::from("/nonexistent.mp4");
    let out = std::env::temp_dir().join("never.mp4");
    let s = spec(&input, (1280, 720), 5.0, 5.0);
    let e = render(&s, &out, &RunContext::default(), |_| {})
        .await
        .unwrap_err();
    assert!(
        e.to_string().contains("end must come after the start"),
        "{e}"
    );
    let s = spec(&input, (1280, 720), 0.0, 5.0);
    let e = render_frame(&s, 7.0, FrameKind::Preview, &out, &RunContext::default())
        .await
        .unwrap_err();
    assert!(e.to_string().contains("outside the clip"), "{e}");
}

/// Integrated loudness of a file in LUFS, from ffmpeg's EBU R128 meter.
async fn loudness(path: &Path) -> f64 {
    let out = Runner::new(1)
        .command("ffmpeg")
        .args(["-hide_banner", "-nostats", "-i"])
        .arg(path)
        .args(["-af", "ebur128", "-f", "null", "-"])
        .stderr_tail_lines(30)
        .timeout(Duration::from_secs(60))
        .run()
        .await
        .unwrap();
    let line = out
        .stderr_tail
        .lines()
        .rev()
        .find(|l| l.trim_start().starts_with("I:"))
        .unwrap()
        .to_string();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[tokio::test]
async fn every_layout_and_overlay_renders() {
    use clipforge_media::render::{Corner, Logo, Music};
    let dir = tempfile::tempdir().unwrap();
    let input = constant_rate(dir.path()).await;
    let logo = dir.path().join("logo.png");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "color=c=red:s=200x100",
        "-frames:v",
        "1",
        logo.to_str().unwrap(),
    ])
    .await;
    let music = common::sine_wav(dir.path(), "music.wav", 2.0, 44100).await;
    let silent = common::video_without_audio(dir.path(), "silent.mp4").await;
    let half = CropPath::fixed(640, 360, 0.0, 0.0);
    let cases = [
        ("fit-blur", Framing::FitBlur, &input, true),
        ("fit-black", Framing::FitBlack, &input, true),
        (
            "stack",
            Framing::Stack {
                top: half.clone(),
                bottom: CropPath::fixed(640, 360, 640.0, 360.0),
            },
            &input,
            true,
        ),
        ("no-audio", Framing::FitBlack, &silent, false),
    ];
    for (name, framing, source, has_audio) in cases {
        let mut s = spec(source, (1280, 720), 0.5, 1.8);
        s.framing = framing;
        s.has_audio = has_audio;
        if has_audio {
            s.logo = Some(Logo {
                path: logo.clone(),
                corner: Corner::TopRight,
                scale: 0.2,
                opacity: 0.7,
            });
            s.music = Some(Music {
                path: music.clone(),
                volume_db: -12.0,
                duck: name != "stack",
            });
        }
        let out = dir.path().join(format!("{name}.mp4"));
        render(&s, &out, &RunContext::default(), |_| {})
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let (video, audio, w, h, _) = streams(&out).await;
        assert_eq!((w, h), (540, 960), "{name}");
        assert!((video - 1.3).abs() <= 1.0 / FPS + 1e-6, "{name}: {video}");
        assert!(
            (audio - video).abs() <= 1.0 / FPS + 1e-6,
            "{name}: {audio} vs {video}"
        );
    }
}

#[tokio::test]
async fn speech_is_normalised_to_the_platform_loudness() {
    let dir = tempfile::tempdir().unwrap();
    let input = constant_rate(dir.path()).await;
    let quiet = dir.path().join("quiet.mp4");
    ffmpeg(&[
        "-i",
        input.to_str().unwrap(),
        "-c:v",
        "copy",
        "-af",
        "volume=-20dB",
        "-c:a",
        "aac",
        quiet.to_str().unwrap(),
    ])
    .await;
    let out = dir.path().join("loud.mp4");
    render(
        &spec(&quiet, (1280, 720), 0.0, 10.0),
        &out,
        &RunContext::default(),
        |_| {},
    )
    .await
    .unwrap();
    let before = loudness(&quiet).await;
    let after = loudness(&out).await;
    assert!(before < -25.0, "the input is quiet: {before}");
    assert!((after + 14.0).abs() <= 1.5, "normalised to {after} LUFS");
}
