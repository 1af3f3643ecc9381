//! Caption sync in rendered clips: the highlight moves to each word within one frame of
//! the word's start, and nothing is drawn before the first word. Measured on the pixels
//! of a real render (the clip starts mid-video, so the clip's clock is checked too).

use std::path::Path;
use std::time::Duration;

use clipforge_core::{ReframeMode, Segment, Transcript, Word};
use clipforge_media::{probe, RunContext, Runner};
use clipforge_pipeline::{fingerprint, render_clip, ClipJob, RenderSettings};

const FPS: f64 = 30.0;
const SIZE: (usize, usize) = (540, 960);

async fn ffmpeg(args: &[&str]) {
    Runner::new(1)
        .command("ffmpeg")
        .args(["-nostdin", "-v", "error", "-y"])
        .args(args)
        .timeout(Duration::from_secs(120))
        .run()
        .await
        .unwrap();
}

/// Every frame of a video as RGB.
async fn frames(path: &Path) -> Vec<Vec<u8>> {
    let out = Runner::new(1)
        .command("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(path)
        .args(["-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"])
        .timeout(Duration::from_secs(120))
        .run()
        .await
        .unwrap();
    out.stdout
        .chunks(SIZE.0 * SIZE.1 * 3)
        .map(<[u8]>::to_vec)
        .collect()
}

/// The highlight-coloured (yellow) pixels of a frame, and how many caption-coloured
/// (white or yellow) pixels there are.
fn measure(frame: &[u8]) -> (Vec<bool>, usize) {
    let mut any = 0;
    let yellow: Vec<bool> = frame
        .chunks(3)
        .map(|p| {
            let (r, g, b) = (p[0], p[1], p[2]);
            let yellow = r > 200 && g > 150 && b < 90;
            if yellow || (r > 200 && g > 200 && b > 200) {
                any += 1;
            }
            yellow
        })
        .collect();
    (yellow, any)
}

/// Whether the highlight appeared or moved between two frames: most of its pixels are
/// new.
fn moved(before: &[bool], after: &[bool]) -> bool {
    let now = after.iter().filter(|&&y| y).count();
    let fresh = before.iter().zip(after).filter(|(&b, &a)| a && !b).count();
    now > 30 && fresh * 2 > now
}

#[tokio::test(flavor = "multi_thread")]
async fn highlights_follow_the_words_within_a_frame() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("black.mp4");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "color=c=black:s=1280x720:r=30:d=8",
        "-f",
        "lavfi",
        "-i",
        "anullsrc=r=48000:cl=stereo",
        "-t",
        "8",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
        input.to_str().unwrap(),
    ])
    .await;
    // Times on the video's clock; the clip starts at 0.5 s.
    let spec = [
        ("alpha", 1.013, 1.4),
        ("beta", 1.52, 1.9),
        ("gamma.", 2.345, 2.8),
        ("delta", 3.61, 3.9),
        ("omega", 4.05, 4.5),
    ];
    let words: Vec<Word> = spec
        .iter()
        .map(|&(t, s, e)| Word {
            start: s,
            end: e,
            text: t.into(),
            confidence: 1.0,
        })
        .collect();
    let transcript = Transcript {
        language: "en".into(),
        duration: 8.0,
        segments: vec![Segment {
            start: 1.013,
            end: 4.5,
            text: "alpha beta gamma. delta omega".into(),
            speaker: None,
            words,
        }],
    };
    let settings = RenderSettings {
        quality: clipforge_core::Quality::Draft,
        reframe: ReframeMode::Center,
        intro_title: false,
        loudness: None,
        fps: Some(FPS),
        ..RenderSettings::default()
    };
    let info = probe(&input).await.unwrap();
    let fp = fingerprint(&input).unwrap();
    let out = dir.path().join("clip.mp4");
    let clip_start = 0.5;
    render_clip(
        &ClipJob {
            input: &input,
            fingerprint: &fp,
            info: &info,
            transcript: Some(&transcript),
            start: clip_start,
            end: 5.5,
            title: None,
            settings: &settings,
            output: &out,
            thumbnail: None,
            cache: &dir.path().join("cache"),
        },
        &RunContext::default(),
        &clipforge_core::NoProgress,
    )
    .await
    .unwrap();

    let measured: Vec<(Vec<bool>, usize)> = frames(&out).await.iter().map(|f| measure(f)).collect();
    let first_word = spec[0].1 - clip_start;
    for (i, (_, pixels)) in measured.iter().enumerate() {
        if (i as f64) / FPS < first_word {
            assert_eq!(
                *pixels, 0,
                "caption pixels in frame {i}, before the first word at {first_word:.3} s"
            );
        }
    }
    // Frames where the highlight appears or moves; the pop animation reshapes it for a
    // few frames after, so a change within 0.2 s of the last one is the same change.
    let mut changes: Vec<usize> = Vec::new();
    for i in 1..measured.len() {
        let recent = changes.last().is_some_and(|&c| (i - c) as f64 / FPS < 0.2);
        if !recent && moved(&measured[i - 1].0, &measured[i].0) {
            changes.push(i);
        }
    }
    let mut delays = Vec::new();
    for &(text, start, _) in &spec {
        let t = start - clip_start;
        let change = changes
            .iter()
            .map(|&i| i as f64 / FPS)
            .find(|&at| at >= t - 1e-9)
            .unwrap_or_else(|| panic!("the highlight never moved to {text:?} ({changes:?})"));
        let delay = change - t;
        delays.push((text, delay));
        assert!(
            delay <= 1.0 / FPS + 1e-9,
            "{text:?} highlighted {delay:.3} s after it starts"
        );
    }
    eprintln!("highlight delay after each word's start (s): {delays:?}");
    assert_eq!(
        changes.len(),
        spec.len(),
        "one highlight change per word: {changes:?}"
    );
}
