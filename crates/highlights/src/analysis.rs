//! What the scorer may know about the media beyond the words: loudness over time and
//! what the picture does. Both are optional; without them the audio part of `emotion`
//! is left out and `visual` is neutral.

pub use crate::voice::{VoiceBuilder, VoiceProfile};

/// Loudness of the audio in fixed steps.
#[derive(Debug, Clone, PartialEq)]
pub struct AudioProfile {
    /// Seconds per value.
    pub step: f64,
    /// RMS level of each step in dBFS (silence is clamped to -90).
    pub db: Vec<f32>,
}

impl AudioProfile {
    /// Seconds per loudness value.
    pub const STEP: f64 = 0.1;

    /// Builds a profile from mono samples at `sample_rate`, fed in chunks of any size.
    pub fn builder(sample_rate: u32) -> AudioProfileBuilder {
        let per_step = ((f64::from(sample_rate) * Self::STEP).round() as usize).max(1);
        AudioProfileBuilder {
            per_step,
            sum: 0.0,
            count: 0,
            db: Vec::new(),
            step: per_step as f64 / f64::from(sample_rate.max(1)),
        }
    }

    /// Mean level in dB over `start..end` seconds, or `None` outside the profile.
    pub fn mean_db(&self, start: f64, end: f64) -> Option<f64> {
        let (a, b) = self.index_range(start, end)?;
        let slice = &self.db[a..b];
        Some(slice.iter().map(|&x| f64::from(x)).sum::<f64>() / slice.len() as f64)
    }

    /// The level exceeded by `share` of the steps in `start..end` (0.1 → a peak level).
    pub fn level_exceeded_by(&self, start: f64, end: f64, share: f64) -> Option<f64> {
        let (a, b) = self.index_range(start, end)?;
        let mut slice: Vec<f32> = self.db[a..b].to_vec();
        slice.sort_by(f32::total_cmp);
        let idx =
            (((1.0 - share) * (slice.len() - 1) as f64).round() as usize).min(slice.len() - 1);
        Some(f64::from(slice[idx]))
    }

    /// Median level of the steps louder than -60 dB: the typical level of speech.
    pub fn speech_median_db(&self) -> Option<f64> {
        let mut loud: Vec<f32> = self.db.iter().copied().filter(|&x| x > -60.0).collect();
        if loud.is_empty() {
            return None;
        }
        loud.sort_by(f32::total_cmp);
        Some(f64::from(loud[loud.len() / 2]))
    }

    fn index_range(&self, start: f64, end: f64) -> Option<(usize, usize)> {
        if self.db.is_empty() || end.partial_cmp(&start) != Some(std::cmp::Ordering::Greater) {
            return None;
        }
        let a = ((start / self.step).floor().max(0.0) as usize).min(self.db.len() - 1);
        let b = ((end / self.step).ceil() as usize).clamp(a + 1, self.db.len());
        Some((a, b))
    }
}

/// Accumulates samples into an [`AudioProfile`].
#[derive(Debug)]
pub struct AudioProfileBuilder {
    per_step: usize,
    sum: f64,
    count: usize,
    db: Vec<f32>,
    step: f64,
}

impl AudioProfileBuilder {
    pub fn push(&mut self, samples: &[f32]) {
        for &s in samples {
            self.sum += f64::from(s) * f64::from(s);
            self.count += 1;
            if self.count == self.per_step {
                self.flush();
            }
        }
    }

    fn flush(&mut self) {
        if self.count == 0 {
            return;
        }
        let rms = (self.sum / self.count as f64).sqrt();
        let db = if rms > 0.0 { 20.0 * rms.log10() } else { -90.0 };
        self.db.push(db.max(-90.0) as f32);
        self.sum = 0.0;
        self.count = 0;
    }

    pub fn finish(mut self) -> AudioProfile {
        self.flush();
        AudioProfile {
            step: self.step,
            db: self.db,
        }
    }
}

/// What the picture does over time.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VisualProfile {
    /// Times of scene cuts in seconds, ascending.
    pub scene_cuts: Vec<f64>,
    /// Samples of (time, share of the frame's attention on a visible face 0–1), ascending
    /// by time; empty when faces were not analysed.
    pub faces: Vec<(f64, f32)>,
}

/// The optional media analysis handed to the scorer.
#[derive(Debug, Clone, Default)]
pub struct Analysis {
    pub audio: Option<AudioProfile>,
    /// Spectrum shapes, for spotting speaker changes the transcript does not label.
    pub voice: Option<VoiceProfile>,
    pub visual: Option<VisualProfile>,
}

impl VisualProfile {
    /// Visual interest of `start..end`, 0–1: a cut every 3–15 seconds keeps a vertical
    /// clip lively; none at all or a cut every second both score lower. Face presence,
    /// when known, counts for half.
    pub fn score(&self, start: f64, end: f64) -> f64 {
        let duration = (end - start).max(1e-6);
        let cuts = self
            .scene_cuts
            .iter()
            .filter(|&&t| t > start && t < end)
            .count() as f64;
        let per_minute = cuts / duration * 60.0;
        let rhythm = if per_minute < 4.0 {
            0.4 + 0.15 * per_minute
        } else if per_minute <= 20.0 {
            1.0
        } else {
            (1.0 - (per_minute - 20.0) / 40.0).max(0.3)
        };
        let faces: Vec<f64> = self
            .faces
            .iter()
            .filter(|(t, _)| *t >= start && *t <= end)
            .map(|(_, f)| f64::from(*f))
            .collect();
        if faces.is_empty() {
            return rhythm;
        }
        let presence = faces.iter().sum::<f64>() / faces.len() as f64;
        0.5 * rhythm + 0.5 * presence.clamp(0.0, 1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profile_measures_levels_per_step() {
        let mut b = AudioProfile::builder(1000);
        // 0.2 s of silence, then 0.2 s of a full-scale square wave.
        b.push(&[0.0; 150]);
        b.push(&[0.0; 50]);
        b.push(&[1.0, -1.0].repeat(100));
        let p = b.finish();
        assert_eq!(p.db.len(), 4);
        assert_eq!(p.db[0], -90.0);
        assert!(p.db[3].abs() < 1e-3);
        assert!((p.mean_db(0.2, 0.4).unwrap()).abs() < 1e-3);
        assert_eq!(p.speech_median_db(), Some(0.0));
        assert_eq!(p.level_exceeded_by(0.0, 0.4, 0.1), Some(0.0));
        assert_eq!(p.mean_db(5.0, 4.0), None);
    }

    #[test]
    fn visual_score_prefers_a_steady_rhythm() {
        let steady = VisualProfile {
            scene_cuts: (1..10).map(|i| f64::from(i) * 6.0).collect(),
            faces: Vec::new(),
        };
        let none = VisualProfile::default();
        assert!(steady.score(0.0, 60.0) > none.score(0.0, 60.0));
        assert!((0.0..=1.0).contains(&none.score(0.0, 60.0)));
    }
}
