//! Where the synthetic test videos put the face, shared by the eval example and the tests.
//! `scripts/reframe_eval.py` draws the same paths.
#![allow(dead_code)]

use clipforge_core::CropPath;
use clipforge_reframe::SpeakerTurn;

/// Face centre x in the "moving" video of width `w`: a 10 s sine sweep across the middle.
pub fn moving_at(t: f64, w: f64) -> Option<f64> {
    Some(w / 2.0 + 0.3125 * w * (2.0 * std::f64::consts::PI * t / 10.0).sin())
}

/// Face centre x in the "turns" video of width `w`: A at left for [0,5) and [10,13), B at
/// right for [5,10), then a scene change at 13 s to B at 0.68 w.
pub fn turns_at(t: f64, w: f64) -> Option<f64> {
    let frac = if t < 5.0 || (10.0..13.0).contains(&t) {
        0.208
    } else if t < 10.0 {
        0.781
    } else {
        0.677
    };
    Some(frac * w)
}

pub fn moving(t: f64) -> Option<f64> {
    moving_at(t, 1920.0)
}

pub fn turns(t: f64) -> Option<f64> {
    turns_at(t, 1920.0)
}

/// Speaker turns matching the "turns" video.
pub fn turns_speakers() -> Vec<SpeakerTurn> {
    vec![
        SpeakerTurn {
            start: 0.0,
            end: 5.0,
            speaker: 0,
        },
        SpeakerTurn {
            start: 5.0,
            end: 10.0,
            speaker: 1,
        },
        SpeakerTurn {
            start: 10.0,
            end: 13.0,
            speaker: 0,
        },
        SpeakerTurn {
            start: 13.0,
            end: 20.0,
            speaker: 1,
        },
    ]
}

pub struct Score {
    pub frames: usize,
    /// Share of frames whose true face centre lies in the middle 60 % of the crop width.
    pub inside: f64,
    /// Mean |crop x change| per output frame, source pixels.
    pub mean_dx: f64,
}

/// Scores `path` at `fps` output frames over `duration` seconds.
pub fn score(
    path: &CropPath,
    duration: f64,
    fps: f64,
    truth: impl Fn(f64) -> Option<f64>,
) -> Score {
    let n = (duration * fps) as usize;
    let w = f64::from(path.width);
    let (mut inside, mut counted, mut dx, mut prev) = (0, 0, 0.0, None::<f64>);
    for i in 0..n {
        let t = i as f64 / fps;
        let x = path.at(t).0;
        if let Some(p) = prev {
            dx += (x - p).abs();
        }
        prev = Some(x);
        if let Some(cx) = truth(t) {
            counted += 1;
            if cx >= x + 0.2 * w && cx <= x + 0.8 * w {
                inside += 1;
            }
        }
    }
    Score {
        frames: counted,
        inside: inside as f64 / counted.max(1) as f64,
        mean_dx: dx / (n.max(2) - 1) as f64,
    }
}
