//! Energy-based voice activity detection that packs speech into ≤30 s model windows.
//!
//! Audio arrives in pieces; [`Segmenter`] keeps only about one window of it. For each
//! window it finds speech regions (frames well above the local noise floor, padded and
//! merged), skips silence, and concatenates whole regions into one chunk until the next
//! would overflow 30 s. A region longer than a window is cut at its quietest moment.
//! Each chunk remembers where its pieces came from so word times map back to the source.

use super::mel::{CHUNK_SAMPLES, SAMPLE_RATE};

/// Analysis frame: 20 ms.
const FRAME: usize = 320;
const FRAMES_PER_SEC: f64 = SAMPLE_RATE as f64 / FRAME as f64;
/// Most frames one chunk may hold (30 s).
const MAX_CHUNK: usize = CHUNK_SAMPLES / FRAME;
/// Frames looked at when planning a chunk (2 minutes): enough lookahead to pack sparse
/// speech into full windows while holding only a few megabytes of audio.
const WINDOW: usize = 6_000;
/// Padding kept around each speech region (0.25 s).
const PAD: usize = 12;
/// Regions shorter than this (before padding) are clicks, not speech (0.12 s).
const MIN_REGION: usize = 6;
/// Below this level (dBFS) nothing counts as speech.
const ABSOLUTE_FLOOR_DB: f32 = -55.0;
/// A window whose loud frames are less than this above its quiet ones holds no speech
/// (steady hum or hiss) unless it is loud in absolute terms.
const MIN_DYNAMIC_DB: f32 = 12.0;
const LOUD_DB: f32 = -30.0;
/// Regions at least this long (1 s) must show speech-like loudness changes.
const MIN_JUDGED_REGION: usize = 50;
/// Least spread between a region's loud and quiet frames (90th vs 10th percentile).
const MIN_SPREAD_DB: f32 = 6.0;

/// Where one stretch of a chunk came from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Piece {
    /// Start in the source, seconds.
    pub source_start: f64,
    /// Start inside the chunk, seconds.
    pub chunk_start: f64,
    /// Length, seconds.
    pub len: f64,
}

/// Up to 30 s of speech for one model window.
#[derive(Debug, Clone)]
pub struct Chunk {
    pub samples: Vec<f32>,
    pub pieces: Vec<Piece>,
}

impl Chunk {
    /// Length of the chunk's audio in seconds.
    pub fn duration(&self) -> f64 {
        self.samples.len() as f64 / SAMPLE_RATE as f64
    }

    /// Source time of the first sample.
    #[cfg(test)]
    pub fn source_start(&self) -> f64 {
        self.pieces.first().map_or(0.0, |p| p.source_start)
    }

    /// Source time just after the last sample.
    pub fn source_end(&self) -> f64 {
        self.pieces.last().map_or(0.0, |p| p.source_start + p.len)
    }

    /// Maps a time inside the chunk to the source timeline.
    pub fn to_source(&self, t: f64) -> f64 {
        let t = t.clamp(0.0, self.duration());
        let piece = self
            .pieces
            .iter()
            .rev()
            .find(|p| p.chunk_start <= t)
            .or(self.pieces.first());
        piece.map_or(t, |p| {
            p.source_start + (t - p.chunk_start).clamp(0.0, p.len)
        })
    }
}

/// Streams audio in, chunks of speech out.
#[derive(Debug, Default)]
pub struct Segmenter {
    /// Buffered samples; `samples[0]` is absolute sample `first_frame * FRAME`.
    samples: Vec<f32>,
    /// Energy (dBFS) of each complete buffered frame, from `first_frame` on.
    energies: Vec<f32>,
    first_frame: usize,
    /// First frame not yet planned into a chunk or skipped as silence.
    cursor: usize,
    eof: bool,
}

impl Segmenter {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds decoded audio (16 kHz mono).
    pub fn push(&mut self, samples: &[f32]) {
        self.samples.extend_from_slice(samples);
        self.measure(false);
    }

    /// Marks the end of the audio; the rest is planned by later `next_chunk` calls.
    pub fn finish(&mut self) {
        self.eof = true;
        self.measure(true);
    }

    /// Samples currently held (bounded by about one window plus one pushed piece).
    #[cfg(test)]
    pub fn buffered(&self) -> usize {
        self.samples.len()
    }

    fn measure(&mut self, flush: bool) {
        let measured = self.energies.len() * FRAME;
        let mut start = measured;
        while start + FRAME <= self.samples.len() || (flush && start < self.samples.len()) {
            let end = (start + FRAME).min(self.samples.len());
            self.energies.push(energy_db(&self.samples[start..end]));
            start = end;
        }
    }

    /// The next chunk of speech, or `None` when more audio is needed (or, after
    /// [`finish`](Self::finish), when the audio is used up).
    pub fn next_chunk(&mut self) -> Option<Chunk> {
        loop {
            let offset = self.cursor - self.first_frame;
            let available = self.energies.len().saturating_sub(offset);
            if available == 0 || (!self.eof && available < WINDOW) {
                return None;
            }
            let window = &self.energies[offset..offset + available.min(WINDOW)];
            let reaches_end = self.eof && available <= WINDOW;
            let plan = plan_window(window, reaches_end);
            match plan {
                Plan::Skip(frames) => {
                    self.cursor += frames;
                    self.discard_before_cursor();
                }
                Plan::Take(ranges) => {
                    let chunk = self.cut(&ranges);
                    tracing::debug!(pieces = ?chunk.pieces, "speech window");
                    self.cursor += ranges.last().map_or(0, |r| r.1);
                    self.discard_before_cursor();
                    return Some(chunk);
                }
            }
        }
    }

    fn cut(&self, ranges: &[(usize, usize)]) -> Chunk {
        let offset = self.cursor - self.first_frame;
        let mut samples = Vec::new();
        let mut pieces = Vec::with_capacity(ranges.len());
        for &(start, end) in ranges {
            let from = (offset + start) * FRAME;
            let to = ((offset + end) * FRAME).min(self.samples.len());
            pieces.push(Piece {
                source_start: (self.cursor + start) as f64 / FRAMES_PER_SEC,
                chunk_start: samples.len() as f64 / SAMPLE_RATE as f64,
                len: (to - from) as f64 / SAMPLE_RATE as f64,
            });
            samples.extend_from_slice(&self.samples[from..to]);
        }
        Chunk { samples, pieces }
    }

    fn discard_before_cursor(&mut self) {
        let drop = self.cursor - self.first_frame;
        let drop = drop.min(self.energies.len());
        self.energies.drain(..drop);
        self.samples.drain(..(drop * FRAME).min(self.samples.len()));
        self.first_frame += drop;
    }
}

fn energy_db(samples: &[f32]) -> f32 {
    let power = samples.iter().map(|s| s * s).sum::<f32>() / samples.len().max(1) as f32;
    10.0 * (power + 1e-12).log10()
}

#[derive(Debug, PartialEq)]
enum Plan {
    /// No speech starts in the first `n` frames: skip them.
    Skip(usize),
    /// Cut a chunk from these frame ranges of the window (in order, non-overlapping).
    Take(Vec<(usize, usize)>),
}

/// Decides the next chunk from one window of frame energies. `reaches_end` says the window
/// ends where the audio ends (so speech touching its end is complete).
fn plan_window(window: &[f32], reaches_end: bool) -> Plan {
    let regions = speech_regions(window);
    let mut taken: Vec<(usize, usize)> = Vec::new();
    let mut used = 0;
    for &(start, end) in &regions {
        let complete = reaches_end || end < window.len();
        let len = end - start;
        if taken.is_empty() {
            if !complete && start > 0 {
                // Speech begins here but runs past what we can see: plan from its start.
                return Plan::Skip(start);
            }
            if len > MAX_CHUNK || !complete {
                let cut = quietest_cut(window, start);
                return Plan::Take(vec![(start, cut)]);
            }
        } else if !complete || used + len > MAX_CHUNK {
            break;
        }
        taken.push((start, end));
        used += len;
    }
    if taken.is_empty() {
        // Silence: skip the window, keeping a pad's worth so speech that starts right at its
        // end still gets its lead-in.
        let skip = if reaches_end {
            window.len()
        } else {
            window.len() - PAD
        };
        return Plan::Skip(skip.max(1));
    }
    Plan::Take(taken)
}

/// The frame between 20 s and 30 s after `start` where a long region is best cut: the
/// middle of the quietest 100 ms, later cuts winning near-ties (up to 1 dB) so windows
/// come out as full as possible.
fn quietest_cut(window: &[f32], start: usize) -> usize {
    let lo = start + MAX_CHUNK * 2 / 3;
    let hi = (start + MAX_CHUNK).min(window.len());
    if lo + 5 >= hi {
        return hi;
    }
    let cost = |i: usize| {
        let level: f32 = window[i..i + 5].iter().sum::<f32>() / 5.0;
        level - (i - lo) as f32 / (hi - lo) as f32
    };
    (lo..hi - 5)
        .min_by(|&a, &b| cost(a).total_cmp(&cost(b)))
        .map_or(hi, |i| i + 3)
}

/// Padded, merged frame ranges of speech in a window.
fn speech_regions(window: &[f32]) -> Vec<(usize, usize)> {
    if window.is_empty() {
        return Vec::new();
    }
    let levels = Levels::of(window);
    let (floor, peak) = (levels.at(0.10), levels.at(0.99));
    if peak < ABSOLUTE_FLOOR_DB || (peak - floor < MIN_DYNAMIC_DB && peak < LOUD_DB) {
        return Vec::new();
    }
    // Steady loud sound (speech without pauses, or speech over music) has little dynamic
    // range: then everything within MIN_DYNAMIC_DB of the peak counts.
    let threshold = (floor + (peak - floor) * 0.3)
        .min(peak - MIN_DYNAMIC_DB)
        .max(ABSOLUTE_FLOOR_DB);

    // Hysteresis: speech starts above `threshold` but only ends below a lower level, so
    // quiet syllables under background noise stay inside their sentence.
    let release = (floor + (peak - floor) * 0.1)
        .max(ABSOLUTE_FLOOR_DB)
        .min(threshold);
    let mut raw: Vec<(usize, usize)> = Vec::new();
    let mut start = None;
    for (i, &e) in window.iter().enumerate() {
        let level = if start.is_some() { release } else { threshold };
        match (e >= level, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                raw.push((s, i));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        raw.push((s, window.len()));
    }
    let mut regions: Vec<(usize, usize)> = Vec::new();
    for (s, e) in raw {
        let touches_edge = s == 0 || e == window.len();
        if e - s < MIN_REGION && !touches_edge {
            continue;
        }
        let (s, e) = (s.saturating_sub(PAD), (e + PAD).min(window.len()));
        match regions.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => regions.push((s, e)),
        }
    }
    regions.retain(|&(s, e)| {
        let keep = modulated(&window[s..e]);
        if !keep {
            tracing::debug!(start = s, end = e, "steady sound, not speech");
        }
        keep
    });
    regions
}

/// Speech rises and falls with its syllables several times a second; a steady sound (a
/// tone, a hum, constant noise) does not. Whisper turns such sounds into invented words
/// ("you.", "Thank you."), so they never reach it. Short regions pass: too few frames to tell.
fn modulated(energies: &[f32]) -> bool {
    if energies.len() < MIN_JUDGED_REGION {
        return true;
    }
    let levels = Levels::of(energies);
    levels.at(0.9) - levels.at(0.1) >= MIN_SPREAD_DB
}

/// Frame energies in sorted order, to read percentiles from.
struct Levels(Vec<f32>);

impl Levels {
    /// `energies` must not be empty.
    fn of(energies: &[f32]) -> Self {
        let mut sorted = energies.to_vec();
        sorted.sort_by(f32::total_cmp);
        Self(sorted)
    }

    /// The level below which fraction `q` (0–1) of the frames lie.
    fn at(&self, q: f64) -> f32 {
        self.0[((self.0.len() - 1) as f64 * q) as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Speech stand-in: a 300 Hz tone at about −20 dBFS whose loudness rises and falls four
    /// times a second like syllables; silence is faint noise.
    /// Uniform noise in −amplitude/2..amplitude/2 from a small deterministic generator.
    fn noise(seed: &mut u32, amplitude: f32) -> f32 {
        *seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        ((*seed >> 9) as f32 / (1u32 << 23) as f32 - 0.5) * amplitude
    }

    fn signal(parts: &[(f64, bool)]) -> Vec<f32> {
        let mut out = Vec::new();
        let mut seed = 1u32;
        for &(secs, speech) in parts {
            let n = (secs * SAMPLE_RATE as f64) as usize;
            for i in 0..n {
                let noise = noise(&mut seed, 0.0005);
                let t = i as f32 / SAMPLE_RATE as f32;
                let syllables = 0.55 + 0.45 * (2.0 * std::f32::consts::PI * 4.0 * t).sin();
                let tone = if speech {
                    (2.0 * std::f32::consts::PI * 300.0 * t).sin() * 0.2 * syllables
                } else {
                    0.0
                };
                out.push(tone + noise);
            }
        }
        out
    }

    fn chunks_of(samples: &[f32], piece: usize) -> Vec<Chunk> {
        let mut seg = Segmenter::new();
        let mut out = Vec::new();
        for part in samples.chunks(piece) {
            seg.push(part);
            while let Some(c) = seg.next_chunk() {
                out.push(c);
            }
            assert!(
                seg.buffered() <= (WINDOW + 10) * FRAME + piece,
                "segmenter holds too much audio"
            );
        }
        seg.finish();
        while let Some(c) = seg.next_chunk() {
            out.push(c);
        }
        out
    }

    fn speech_seconds(chunks: &[Chunk]) -> f64 {
        chunks.iter().map(Chunk::duration).sum()
    }

    #[test]
    fn a_steady_tone_is_not_speech() {
        let mut seed = 7u32;
        let hum: Vec<f32> = (0..SAMPLE_RATE * 40)
            .map(|i| {
                (2.0 * std::f32::consts::PI * 440.0 * i as f32 / SAMPLE_RATE as f32).sin() * 0.12
                    + noise(&mut seed, 0.05)
            })
            .collect();
        assert!(chunks_of(&hum, 16_000).is_empty());
    }

    #[test]
    fn silence_gives_no_chunks() {
        let chunks = chunks_of(&signal(&[(60.0, false)]), 16_000);
        assert!(chunks.is_empty());
        let zeros = vec![0.0f32; 16_000 * 10];
        assert!(chunks_of(&zeros, 4_000).is_empty());
    }

    #[test]
    fn bursts_are_packed_without_long_silences() {
        // Five 4 s bursts separated by 10 s of silence: 20 s of speech fits in one chunk.
        let mut parts = vec![(3.0, false)];
        for _ in 0..5 {
            parts.push((4.0, true));
            parts.push((10.0, false));
        }
        let chunks = chunks_of(&signal(&parts), 12_345);
        assert_eq!(
            chunks.len(),
            1,
            "{:?}",
            chunks.iter().map(|c| c.pieces.clone()).collect::<Vec<_>>()
        );
        let c = &chunks[0];
        assert_eq!(c.pieces.len(), 5);
        assert!(
            c.duration() < 24.0 && c.duration() > 20.0,
            "{}",
            c.duration()
        );
        // Each piece starts just before its burst (3 s, 17 s, 31 s, ...).
        for (k, p) in c.pieces.iter().enumerate() {
            let burst = 3.0 + 14.0 * k as f64;
            assert!(
                (p.source_start - (burst - 0.24)).abs() < 0.05,
                "piece {k} at {}",
                p.source_start
            );
        }
        // Times inside the second piece map back into the second burst.
        let inside = c.pieces[1].chunk_start + 1.0;
        assert!((c.to_source(inside) - (17.0 - 0.24 + 1.0)).abs() < 0.05);
    }

    #[test]
    fn chunks_never_exceed_thirty_seconds_and_keep_all_speech() {
        // 100 s of speech in 7 s bursts with 0.8 s pauses, like someone reading.
        let mut parts = Vec::new();
        for _ in 0..14 {
            parts.push((7.0, true));
            parts.push((0.8, false));
        }
        let chunks = chunks_of(&signal(&parts), 7_000);
        assert!(chunks.len() >= 4);
        for c in &chunks {
            assert!(c.duration() <= 30.0 + 1e-9, "{}", c.duration());
        }
        assert!(
            speech_seconds(&chunks) >= 14.0 * 7.0,
            "{}",
            speech_seconds(&chunks)
        );
        // Chunks follow each other in source order without overlapping.
        for pair in chunks.windows(2) {
            assert!(pair[0].source_end() <= pair[1].source_start() + 1e-9);
        }
    }

    #[test]
    fn continuous_speech_is_cut_into_full_windows() {
        let chunks = chunks_of(&signal(&[(75.0, true)]), 16_000);
        assert_eq!(
            chunks.len(),
            3,
            "{:?}",
            chunks.iter().map(Chunk::duration).collect::<Vec<_>>()
        );
        assert!(chunks[0].duration() >= 20.0 && chunks[0].duration() <= 30.0);
        let total = speech_seconds(&chunks);
        assert!((total - 75.0).abs() < 0.05, "{total}");
    }

    #[test]
    fn speech_at_the_very_end_is_kept() {
        let chunks = chunks_of(&signal(&[(40.0, false), (2.0, true)]), 16_000);
        assert_eq!(chunks.len(), 1);
        assert!((chunks[0].source_start() - (40.0 - 0.24)).abs() < 0.05);
        assert!((chunks[0].source_end() - 42.0).abs() < 0.05);
    }
}
