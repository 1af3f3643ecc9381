//! Whisper's log-mel spectrogram: 25 ms Hann windows every 10 ms, a Slaney-scale mel filter
//! bank, log10, clamped to 8 decades below the loudest bin and scaled to about −1..1.

use std::sync::Arc;

use realfft::{RealFftPlanner, RealToComplex};

/// Samples per second Whisper expects.
pub const SAMPLE_RATE: usize = 16_000;
/// FFT window length in samples (25 ms).
pub const N_FFT: usize = 400;
/// Hop between frames in samples (10 ms).
pub const HOP: usize = 160;
/// Samples in one 30 s input window.
pub const CHUNK_SAMPLES: usize = 30 * SAMPLE_RATE;
/// Mel frames in one 30 s input window.
pub const CHUNK_FRAMES: usize = CHUNK_SAMPLES / HOP;

/// Computes log-mel features for 30 s windows. Build once per model; reuse for every chunk.
pub struct MelExtractor {
    n_mels: usize,
    window: Vec<f32>,
    /// For each mel band: the first FFT bin it covers and its weights from there on.
    filters: Vec<(usize, Vec<f32>)>,
    fft: Arc<dyn RealToComplex<f32>>,
}

impl std::fmt::Debug for MelExtractor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MelExtractor")
            .field("n_mels", &self.n_mels)
            .finish()
    }
}

impl MelExtractor {
    /// A feature extractor producing `n_mels` bands (80, or 128 for large-v3 models).
    pub fn new(n_mels: usize) -> Self {
        let window = (0..N_FFT)
            .map(|i| {
                let x = 2.0 * std::f64::consts::PI * i as f64 / N_FFT as f64;
                (0.5 - 0.5 * x.cos()) as f32
            })
            .collect();
        let fft = RealFftPlanner::<f32>::new().plan_fft_forward(N_FFT);
        Self {
            n_mels,
            window,
            filters: mel_filters(n_mels),
            fft,
        }
    }

    /// Number of mel bands per frame.
    pub fn n_mels(&self) -> usize {
        self.n_mels
    }

    /// Features of up to 30 s of audio, zero-padded to a full window, appended to `out`
    /// in `[n_mels][CHUNK_FRAMES]` order (the layout the encoder takes).
    pub fn extract_into(&self, samples: &[f32], out: &mut Vec<f32>) {
        let samples = &samples[..samples.len().min(CHUNK_SAMPLES)];
        // Reflect-pad by half a window on both sides of the zero-padded 30 s window, as the
        // model's training features were computed with a centred STFT.
        let pad = N_FFT / 2;
        let mut padded = vec![0.0f32; CHUNK_SAMPLES + 2 * pad];
        padded[pad..pad + samples.len()].copy_from_slice(samples);
        for i in 0..pad {
            padded[pad - 1 - i] = padded[pad + 1 + i];
            padded[pad + CHUNK_SAMPLES + i] = padded[pad + CHUNK_SAMPLES - 2 - i];
        }

        let bins = N_FFT / 2 + 1;
        let mut power = vec![0.0f32; bins];
        let mut frame = self.fft.make_input_vec();
        let mut spectrum = self.fft.make_output_vec();
        let mut scratch = self.fft.make_scratch_vec();
        let base = out.len();
        out.resize(base + self.n_mels * CHUNK_FRAMES, 0.0);
        let mut max = f32::NEG_INFINITY;
        for t in 0..CHUNK_FRAMES {
            let start = t * HOP;
            for ((dst, &x), &w) in frame
                .iter_mut()
                .zip(&padded[start..start + N_FFT])
                .zip(&self.window)
            {
                *dst = x * w;
            }
            self.fft
                .process_with_scratch(&mut frame, &mut spectrum, &mut scratch)
                .expect("FFT buffers have the planned sizes");
            for (p, c) in power.iter_mut().zip(&spectrum) {
                *p = c.norm_sqr();
            }
            for (m, (first, weights)) in self.filters.iter().enumerate() {
                let energy: f32 = weights
                    .iter()
                    .zip(&power[*first..])
                    .map(|(w, p)| w * p)
                    .sum();
                let value = energy.max(1e-10).log10();
                max = max.max(value);
                out[base + m * CHUNK_FRAMES + t] = value;
            }
        }
        let floor = max - 8.0;
        for v in &mut out[base..] {
            *v = (v.max(floor) + 4.0) / 4.0;
        }
    }
}

fn hz_to_mel(hz: f64) -> f64 {
    // Slaney's scale: linear below 1 kHz, logarithmic above.
    const F_SP: f64 = 200.0 / 3.0;
    const MIN_LOG_HZ: f64 = 1000.0;
    let logstep = 6.4f64.ln() / 27.0;
    if hz >= MIN_LOG_HZ {
        MIN_LOG_HZ / F_SP + (hz / MIN_LOG_HZ).ln() / logstep
    } else {
        hz / F_SP
    }
}

fn mel_to_hz(mel: f64) -> f64 {
    const F_SP: f64 = 200.0 / 3.0;
    const MIN_LOG_HZ: f64 = 1000.0;
    let min_log_mel = MIN_LOG_HZ / F_SP;
    let logstep = 6.4f64.ln() / 27.0;
    if mel >= min_log_mel {
        MIN_LOG_HZ * (logstep * (mel - min_log_mel)).exp()
    } else {
        mel * F_SP
    }
}

/// Slaney-normalised triangular filters from 0 Hz to Nyquist, stored sparsely.
fn mel_filters(n_mels: usize) -> Vec<(usize, Vec<f32>)> {
    let bins = N_FFT / 2 + 1;
    let nyquist = SAMPLE_RATE as f64 / 2.0;
    let fft_freqs: Vec<f64> = (0..bins)
        .map(|k| k as f64 * SAMPLE_RATE as f64 / N_FFT as f64)
        .collect();
    let (lo, hi) = (hz_to_mel(0.0), hz_to_mel(nyquist));
    let points: Vec<f64> = (0..n_mels + 2)
        .map(|i| mel_to_hz(lo + (hi - lo) * i as f64 / (n_mels + 1) as f64))
        .collect();
    (0..n_mels)
        .map(|m| {
            let (left, centre, right) = (points[m], points[m + 1], points[m + 2]);
            let norm = 2.0 / (right - left);
            let weights: Vec<(usize, f32)> = fft_freqs
                .iter()
                .enumerate()
                .filter_map(|(k, &f)| {
                    let rising = (f - left) / (centre - left);
                    let falling = (right - f) / (right - centre);
                    let w = rising.min(falling).max(0.0) * norm;
                    (w > 0.0).then_some((k, w as f32))
                })
                .collect();
            let first = weights.first().map_or(0, |&(k, _)| k);
            let last = weights.last().map_or(0, |&(k, _)| k);
            let mut dense = vec![0.0f32; last + 1 - first];
            for (k, w) in weights {
                dense[k - first] = w;
            }
            (first, dense)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slaney_scale_round_trips() {
        for hz in [0.0, 500.0, 1000.0, 4000.0, 8000.0] {
            assert!((mel_to_hz(hz_to_mel(hz)) - hz).abs() < 1e-6);
        }
        assert!((hz_to_mel(1000.0) - 15.0).abs() < 1e-9);
    }

    #[test]
    fn filters_cover_the_spectrum_in_order() {
        let filters = mel_filters(80);
        assert_eq!(filters.len(), 80);
        let firsts: Vec<usize> = filters.iter().map(|(f, _)| *f).collect();
        assert!(firsts.windows(2).all(|w| w[0] <= w[1]));
        assert!(filters.iter().all(|(_, w)| w.iter().any(|&x| x > 0.0)));
    }

    #[test]
    fn a_tone_lights_up_the_matching_band_and_silence_is_flat() {
        let mel = MelExtractor::new(80);
        let tone: Vec<f32> = (0..SAMPLE_RATE)
            .map(|i| {
                (2.0 * std::f32::consts::PI * 1000.0 * i as f32 / SAMPLE_RATE as f32).sin() * 0.5
            })
            .collect();
        let mut out = Vec::new();
        mel.extract_into(&tone, &mut out);
        assert_eq!(out.len(), 80 * CHUNK_FRAMES);
        // Frame 50 (0.5 s) lies inside the tone: the loudest band is the one around 1 kHz.
        let column: Vec<f32> = (0..80).map(|m| out[m * CHUNK_FRAMES + 50]).collect();
        let loudest = column
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .map(|(m, _)| m)
            .unwrap();
        let centre = mel_to_hz(
            hz_to_mel(0.0) + (hz_to_mel(8000.0) - hz_to_mel(0.0)) * (loudest + 1) as f64 / 81.0,
        );
        assert!(
            (centre - 1000.0).abs() < 120.0,
            "loudest band centred at {centre} Hz"
        );
        // Frames after the tone (silence padding) sit at the clamped floor.
        let floor = out[loudest * CHUNK_FRAMES + 2000];
        assert!(out.iter().all(|&v| v >= floor - 1e-6));
        assert!(out.iter().all(|v| v.is_finite() && *v <= 2.5));
    }

    #[test]
    fn matches_the_reference_whisper_features() {
        // Reference values from faster-whisper 1.2.1's FeatureExtractor on the same signal:
        // 3 s of 440 Hz + 2.5 kHz, then silence to 30 s.
        let signal: Vec<f32> = (0..3 * SAMPLE_RATE)
            .map(|i| {
                let t = i as f64 / SAMPLE_RATE as f64;
                (0.3 * (2.0 * std::f64::consts::PI * 440.0 * t).sin()
                    + 0.1 * (2.0 * std::f64::consts::PI * 2500.0 * t).sin()) as f32
            })
            .collect();
        let mut out = Vec::new();
        MelExtractor::new(80).extract_into(&signal, &mut out);
        let at = |band: usize, frame: usize| out[band * CHUNK_FRAMES + frame];
        let expected = [
            (11, 100, 1.327_279_6),
            (10, 100, 1.237_813_5),
            (50, 100, 1.007_788_3),
            (49, 100, 0.919_848_1),
            (10, 0, 1.227_419_9),
            (33, 0, 0.237_382_23),
            (46, 0, 0.513_177),
            (33, 299, -0.393_104_43),
            (46, 300, 0.362_672_27),
            (5, 2000, -0.672_720_4),
        ];
        for (band, frame, want) in expected {
            let got = at(band, frame);
            assert!(
                (got - want).abs() < 2e-3,
                "band {band} frame {frame}: {got} vs {want}"
            );
        }
    }
}
