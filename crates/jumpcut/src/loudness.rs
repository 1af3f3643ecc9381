//! The loudness envelope and speech found in it.

use serde::{Deserialize, Serialize};

use crate::ranges::Range;
use crate::settings::{Settings, BREATH_DB};
use crate::JumpcutError;

/// The level digital silence and anything quieter is reported at, in dBFS.
pub const FLOOR_DB: f32 = -100.0;

/// Which percentile of the envelope is the file's own level (its loud speech).
pub const REFERENCE_PERCENTILE: f64 = 0.95;

/// A per-frame level envelope: `db[i]` is the RMS level in dBFS of the audio from
/// `i * hop` to `(i + 1) * hop` seconds, floored at [`FLOOR_DB`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Loudness {
    /// Seconds per envelope frame.
    pub hop: f64,
    /// Level of each frame in dBFS.
    pub db: Vec<f32>,
}

impl Loudness {
    /// RMS per hop of mono `samples` in dBFS (full scale = 1.0), floored at [`FLOOR_DB`];
    /// a last partial hop gets its own frame. The hop is rounded to whole samples, and
    /// `hop` holds the rounded value. Non-finite samples count as silence.
    pub fn from_samples(
        samples: &[f32],
        sample_rate: u32,
        hop_seconds: f64,
    ) -> Result<Self, JumpcutError> {
        if sample_rate == 0 {
            return Err(JumpcutError::input("sample_rate", "must be positive"));
        }
        if !hop_seconds.is_finite() || hop_seconds <= 0.0 {
            return Err(JumpcutError::input(
                "hop_seconds",
                format!("{hop_seconds} is not a positive duration"),
            ));
        }
        let hop_samples = (hop_seconds * f64::from(sample_rate)).round().max(1.0) as usize;
        let db = samples
            .chunks(hop_samples)
            .map(|chunk| {
                let energy: f64 = chunk
                    .iter()
                    .map(|&x| {
                        if x.is_finite() {
                            f64::from(x).powi(2)
                        } else {
                            0.0
                        }
                    })
                    .sum();
                let rms = (energy / chunk.len() as f64).sqrt();
                if rms > 0.0 {
                    ((20.0 * rms.log10()) as f32).max(FLOOR_DB)
                } else {
                    FLOOR_DB
                }
            })
            .collect();
        Ok(Self {
            hop: hop_samples as f64 / f64::from(sample_rate),
            db,
        })
    }

    /// Seconds the envelope covers.
    pub fn duration(&self) -> f64 {
        self.hop * self.db.len() as f64
    }

    /// The file's own level: the [`REFERENCE_PERCENTILE`] of the envelope, in dBFS
    /// (`None` for an empty envelope). A percentile rather than the peak so a single
    /// bang does not set it; high so it tracks speech, not the pauses between.
    pub fn reference_level(&self) -> Option<f32> {
        let mut levels: Vec<f32> = self.db.iter().copied().filter(|d| !d.is_nan()).collect();
        if levels.is_empty() {
            return None;
        }
        levels.sort_by(f32::total_cmp);
        let idx = ((levels.len() - 1) as f64 * REFERENCE_PERCENTILE).round() as usize;
        Some(levels[idx])
    }

    /// Speech ranges: runs of frames at or above the threshold (relative to
    /// [`Self::reference_level`], never below `min_level_db`). Errors with
    /// [`JumpcutError::NoSpeech`] when no frame qualifies.
    pub(crate) fn speech_ranges(&self, settings: &Settings) -> Result<Vec<Range>, JumpcutError> {
        if !self.hop.is_finite() || self.hop <= 0.0 {
            return Err(JumpcutError::input(
                "loudness.hop",
                format!("{} is not a positive duration", self.hop),
            ));
        }
        let reference = self.reference_level().ok_or(JumpcutError::NoSpeech)?;
        if f64::from(reference) < settings.min_level_db {
            return Err(JumpcutError::NoSpeech);
        }
        let threshold = (f64::from(reference) + settings.threshold_db).max(settings.min_level_db);
        let loud: Vec<bool> = self.db.iter().map(|&d| f64::from(d) >= threshold).collect();
        let speech = if settings.keep_breaths {
            let low_threshold = (threshold - BREATH_DB).max(settings.min_level_db);
            let quiet: Vec<bool> = self
                .db
                .iter()
                .map(|&d| f64::from(d) >= low_threshold)
                .collect();
            // A run of not-silent frames is speech when any of it is loud: this keeps the
            // quiet tails of words and the breaths that touch them.
            let mut speech = vec![false; loud.len()];
            for (start, end) in runs(&quiet) {
                if loud[start..end].iter().any(|&l| l) {
                    speech[start..end].fill(true);
                }
            }
            speech
        } else {
            loud
        };
        let ranges: Vec<Range> = runs(&speech)
            .into_iter()
            .map(|(s, e)| (s as f64 * self.hop, e as f64 * self.hop))
            .collect();
        if ranges.is_empty() {
            return Err(JumpcutError::NoSpeech);
        }
        Ok(ranges)
    }
}

/// Index ranges `[start, end)` of the runs of `true`.
fn runs(mask: &[bool]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, &on) in mask.iter().enumerate() {
        match (on, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                out.push((s, i));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push((s, mask.len()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(seconds: f64, amplitude: f32) -> Vec<f32> {
        let n = (seconds * 16_000.0) as usize;
        (0..n)
            .map(|i| // 400 Hz: whole cycles in every 10 ms hop.
            amplitude * (i as f32 * 400.0 * std::f32::consts::TAU / 16_000.0).sin())
            .collect()
    }

    #[test]
    fn from_samples_measures_rms_in_dbfs() {
        // A full-scale sine has an RMS of 1/sqrt(2): -3.01 dBFS.
        let mut samples = tone(1.0, 1.0);
        samples.extend(vec![0.0; 8_000]);
        samples.extend(tone(0.5, 0.1));
        let l = Loudness::from_samples(&samples, 16_000, 0.01).unwrap();
        assert_eq!(l.hop, 0.01);
        assert_eq!(l.db.len(), 200);
        assert!((l.db[10] + 3.01).abs() < 0.05, "{}", l.db[10]);
        assert_eq!(l.db[120], FLOOR_DB);
        assert!((l.db[170] + 23.01).abs() < 0.05, "{}", l.db[170]);
        assert!((l.duration() - 2.0).abs() < 1e-9);
    }

    #[test]
    fn from_samples_keeps_a_partial_last_hop_and_rejects_bad_args() {
        let l = Loudness::from_samples(&[0.5; 250], 1_000, 0.1).unwrap();
        assert_eq!(l.db.len(), 3);
        assert!(Loudness::from_samples(&[0.0; 10], 0, 0.1).is_err());
        assert!(Loudness::from_samples(&[0.0; 10], 16_000, f64::NAN).is_err());
        assert!(Loudness::from_samples(&[0.0; 10], 16_000, -0.1).is_err());
    }

    #[test]
    fn threshold_is_relative_to_the_file_level() {
        // The same shape at -10 dBFS and at -40 dBFS finds the same speech.
        for offset in [0.0f32, -30.0] {
            let mut db = vec![-90.0 + offset; 100];
            db[20..50].fill(-10.0 + offset);
            db[70..90].fill(-14.0 + offset);
            db[60] = -45.0 + offset; // 35 dB below the speech level: not speech
            let l = Loudness { hop: 0.1, db };
            let settings = Settings {
                min_level_db: -80.0,
                ..Settings::default()
            };
            let got = l.speech_ranges(&settings).unwrap();
            assert_eq!(got.len(), 2);
            assert!((got[0].0 - 2.0).abs() < 1e-9 && (got[0].1 - 5.0).abs() < 1e-9);
            assert!((got[1].0 - 7.0).abs() < 1e-9 && (got[1].1 - 9.0).abs() < 1e-9);
        }
    }

    #[test]
    fn silence_and_hum_below_the_floor_are_no_speech() {
        let silent = Loudness {
            hop: 0.01,
            db: vec![FLOOR_DB; 500],
        };
        assert_eq!(
            silent.speech_ranges(&Settings::default()),
            Err(JumpcutError::NoSpeech)
        );
        let hum = Loudness {
            hop: 0.01,
            db: vec![-75.0; 500],
        };
        assert_eq!(
            hum.speech_ranges(&Settings::default()),
            Err(JumpcutError::NoSpeech)
        );
        let empty = Loudness {
            hop: 0.01,
            db: vec![],
        };
        assert_eq!(
            empty.speech_ranges(&Settings::default()),
            Err(JumpcutError::NoSpeech)
        );
    }

    #[test]
    fn keep_breaths_extends_speech_over_quiet_frames_that_touch_it() {
        let mut db = vec![-90.0f32; 50];
        db[10..20].fill(-10.0);
        db[20..25].fill(-35.0); // 25 dB down: below the threshold, above threshold - 10
        db[30..35].fill(-35.0); // as quiet, but touching no speech
        let l = Loudness { hop: 0.1, db };
        let plain = l.speech_ranges(&Settings::default()).unwrap();
        assert_eq!(plain.len(), 1);
        assert!((plain[0].1 - 2.0).abs() < 1e-9);
        let breathy = l
            .speech_ranges(&Settings {
                keep_breaths: true,
                ..Settings::default()
            })
            .unwrap();
        assert_eq!(breathy.len(), 1);
        assert!((breathy[0].1 - 2.5).abs() < 1e-9, "{breathy:?}");
    }
}
