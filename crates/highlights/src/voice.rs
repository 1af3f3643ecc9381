//! Who is speaking, roughly: the average spectrum shape of each stretch of speech. Two
//! voices differ in pitch and timbre, so where the shape changes between two sentences
//! the speaker probably changed. Used only as a cue for clean cuts when the transcript
//! carries no speaker labels; not a diarizer.

use std::sync::Arc;

use realfft::{RealFftPlanner, RealToComplex};

/// Frequency bands of the spectrum shape.
pub const BANDS: usize = 24;
const FFT: usize = 512;

/// Spectrum shapes of the audio in fixed steps.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct VoiceProfile {
    /// Seconds per frame.
    pub step: f64,
    /// Log band energies per frame, and the frame's level in dB.
    pub frames: Vec<([f32; BANDS], f32)>,
}

impl VoiceProfile {
    /// The mean spectrum shape of the loud frames in `start..end` (within 12 dB of the
    /// loudest tenth there), or `None` when there are too few.
    pub fn shape(&self, start: f64, end: f64) -> Option<[f32; BANDS]> {
        if self.frames.is_empty()
            || end.partial_cmp(&start) != Some(std::cmp::Ordering::Greater)
            || self.step <= 0.0
        {
            return None;
        }
        let a = ((start / self.step).floor().max(0.0) as usize).min(self.frames.len());
        let b = ((end / self.step).ceil() as usize).min(self.frames.len());
        let frames = &self.frames[a..b];
        let mut levels: Vec<f32> = frames.iter().map(|f| f.1).collect();
        if levels.len() < 5 {
            return None;
        }
        levels.sort_by(f32::total_cmp);
        let loud = levels[levels.len() * 9 / 10] - 12.0;
        let mut sum = [0.0f32; BANDS];
        let mut n = 0usize;
        for (bands, level) in frames {
            if *level >= loud {
                for (s, b) in sum.iter_mut().zip(bands) {
                    *s += b;
                }
                n += 1;
            }
        }
        (n >= 3).then(|| sum.map(|s| s / n as f32))
    }
}

/// Builds a [`VoiceProfile`] from 16 kHz mono samples fed in chunks.
pub struct VoiceBuilder {
    hop: usize,
    sample_rate: u32,
    window: Vec<f32>,
    /// For each band: first FFT bin and the weights from there on.
    filters: Vec<(usize, Vec<f32>)>,
    fft: Arc<dyn RealToComplex<f32>>,
    pending: Vec<f32>,
    frames: Vec<([f32; BANDS], f32)>,
}

impl std::fmt::Debug for VoiceBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VoiceBuilder")
            .field("frames", &self.frames.len())
            .finish()
    }
}

fn mel(hz: f64) -> f64 {
    2595.0 * (1.0 + hz / 700.0).log10()
}

fn hz(mel: f64) -> f64 {
    700.0 * (10f64.powf(mel / 2595.0) - 1.0)
}

impl VoiceBuilder {
    /// Frames every 20 ms of 32 ms windows; bands on the mel scale from 80 Hz to 5 kHz.
    pub fn new(sample_rate: u32) -> Self {
        let rate = f64::from(sample_rate.max(1));
        let hop = ((rate * 0.02).round() as usize).max(1);
        let window = (0..FFT)
            .map(|i| {
                let x = std::f64::consts::TAU * i as f64 / FFT as f64;
                (0.5 - 0.5 * x.cos()) as f32
            })
            .collect();
        let (lo, hi) = (mel(80.0), mel(5000.0_f64.min(rate / 2.0 - 1.0)));
        let edges: Vec<f64> = (0..BANDS + 2)
            .map(|i| hz(lo + (hi - lo) * i as f64 / (BANDS + 1) as f64))
            .collect();
        let bin_hz = rate / FFT as f64;
        let filters = (0..BANDS)
            .map(|b| {
                let (l, c, r) = (edges[b], edges[b + 1], edges[b + 2]);
                let first = (l / bin_hz).ceil() as usize;
                let last = ((r / bin_hz).floor() as usize).min(FFT / 2);
                let weights = (first..=last)
                    .map(|k| {
                        let f = k as f64 * bin_hz;
                        let w = if f <= c {
                            (f - l) / (c - l)
                        } else {
                            (r - f) / (r - c)
                        };
                        w.max(0.0) as f32
                    })
                    .collect();
                (first, weights)
            })
            .collect();
        Self {
            hop,
            sample_rate,
            window,
            filters,
            fft: RealFftPlanner::<f32>::new().plan_fft_forward(FFT),
            pending: Vec::new(),
            frames: Vec::new(),
        }
    }

    pub fn push(&mut self, samples: &[f32]) {
        self.pending.extend_from_slice(samples);
        let mut input = vec![0.0f32; FFT];
        let mut spectrum = self.fft.make_output_vec();
        let mut used = 0;
        while self.pending.len() - used >= FFT {
            let frame = &self.pending[used..used + FFT];
            let energy: f32 = frame.iter().map(|x| x * x).sum::<f32>() / FFT as f32;
            for ((o, x), w) in input.iter_mut().zip(frame).zip(&self.window) {
                *o = x * w;
            }
            // The planner's own input length always matches; an error cannot happen here.
            if self.fft.process(&mut input, &mut spectrum).is_ok() {
                let mut bands = [0.0f32; BANDS];
                for (band, (first, weights)) in bands.iter_mut().zip(&self.filters) {
                    let e: f32 = weights
                        .iter()
                        .zip(&spectrum[*first..])
                        .map(|(w, c)| w * c.norm_sqr())
                        .sum();
                    *band = (e + 1e-10).log10();
                }
                let level = 10.0 * (energy + 1e-10).log10();
                self.frames.push((bands, level));
            }
            used += self.hop;
        }
        self.pending.drain(..used);
    }

    pub fn finish(self) -> VoiceProfile {
        VoiceProfile {
            step: self.hop as f64 / f64::from(self.sample_rate.max(1)),
            frames: self.frames,
        }
    }
}

/// How different two spectrum shapes are: 1 − cosine of their deviations from `mean`.
pub fn distance(a: &[f32; BANDS], b: &[f32; BANDS], mean: &[f32; BANDS]) -> f64 {
    let (mut ab, mut aa, mut bb) = (0.0f64, 0.0f64, 0.0f64);
    for i in 0..BANDS {
        let (x, y) = (f64::from(a[i] - mean[i]), f64::from(b[i] - mean[i]));
        ab += x * y;
        aa += x * x;
        bb += y * y;
    }
    if aa == 0.0 || bb == 0.0 {
        return 0.0;
    }
    1.0 - ab / (aa.sqrt() * bb.sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(hz: f64, seconds: f64) -> Vec<f32> {
        (0..(16_000.0 * seconds) as usize)
            .map(|i| {
                let t = i as f64 / 16_000.0;
                // A buzz with harmonics, like a voiced sound.
                (1..8)
                    .map(|h| (std::f64::consts::TAU * hz * h as f64 * t).sin() / h as f64)
                    .sum::<f64>() as f32
                    * 0.1
            })
            .collect()
    }

    #[test]
    fn different_voices_have_different_shapes() {
        let mut b = VoiceBuilder::new(16_000);
        b.push(&tone(110.0, 1.0));
        b.push(&tone(115.0, 1.0));
        b.push(&tone(220.0, 1.0));
        let p = b.finish();
        assert!((p.step - 0.02).abs() < 1e-9);
        let (x, y, z) = (
            p.shape(0.1, 0.9).unwrap(),
            p.shape(1.1, 1.9).unwrap(),
            p.shape(2.1, 2.9).unwrap(),
        );
        let mut mean = [0.0f32; BANDS];
        for i in 0..BANDS {
            mean[i] = (x[i] + y[i] + z[i]) / 3.0;
        }
        let same = distance(&x, &y, &mean);
        let other = distance(&x, &z, &mean);
        assert!(other > same + 0.5, "same {same}, other {other}");
        assert!(p.shape(5.0, 6.0).is_none());
    }
}
