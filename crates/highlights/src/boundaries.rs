//! How good a place is to cut: a clip should start where a new thought starts and end
//! where one ends. Three cues, each measured against the rest of the same video so that
//! fast and slow speakers are judged alike: the pause at the cut, the topic change
//! there (TextTiling), and how different the clip's edge sounds from its neighbours.

use crate::sentences::Sentences;
use crate::topics::{cosine, percentile, Topics, VectorSums};
use crate::voice::{self, VoiceProfile, BANDS};

/// Share of a known speaker change in the cut cue at a clip's start and at its end.
const START_TURN_WEIGHT: f64 = 0.4;
const END_TURN_WEIGHT: f64 = 0.6;

/// Sentences on each side compared at a cut.
const EDGE: usize = 2;

/// Scales for the cut cues of one video.
#[derive(Debug, Clone)]
pub struct Boundaries {
    /// Median and 90th percentile of the pauses between sentences.
    pause: (f64, f64),
    /// 10th and 90th percentile of the similarity across sentence gaps.
    similarity: (f64, f64),
    /// For the gap after each sentence: how likely the voice changes there, 0–1 (empty
    /// without audio).
    voice_change: Vec<f64>,
}

/// Similarity between sentences `a` (ending at the gap) and `b` (starting after it).
fn across(sums: &VectorSums, a: std::ops::Range<usize>, b: std::ops::Range<usize>) -> f64 {
    cosine(&sums.sum(a.start, a.end), &sums.sum(b.start, b.end))
}

impl Boundaries {
    pub fn new(sentences: &Sentences, sums: &VectorSums, voice: Option<&VoiceProfile>) -> Self {
        let n = sentences.len();
        let mut pauses: Vec<f64> = sentences
            .sentences
            .iter()
            .take(n.saturating_sub(1))
            .map(|s| s.pause_after)
            .collect();
        pauses.sort_by(f64::total_cmp);
        let mut sims: Vec<f64> = (1..n)
            .map(|g| across(sums, g.saturating_sub(EDGE)..g, g..(g + EDGE).min(n)))
            .collect();
        sims.sort_by(f64::total_cmp);
        Self {
            pause: (percentile(&pauses, 0.5), percentile(&pauses, 0.9)),
            similarity: (percentile(&sims, 0.1), percentile(&sims, 0.9)),
            voice_change: voice
                .map(|v| voice_changes(sentences, v))
                .unwrap_or_default(),
        }
    }

    /// Folds the speaker change after sentence `i` into a cut cue, with `weight` for the
    /// turn when turns are known.
    fn with_turn(&self, cue: f64, s: &Sentences, i: usize, weight: f64) -> f64 {
        let labelled = s.sentences.iter().any(|x| x.speaker.is_some());
        if labelled || !self.voice_change.is_empty() {
            weight * self.turn_after(s, i) + (1.0 - weight) * cue
        } else {
            cue
        }
    }

    /// Whether the speaker changes after sentence `i`: from the transcript's labels when
    /// it has them, else from the voice.
    pub fn turn_after(&self, s: &Sentences, i: usize) -> f64 {
        let (a, b) = (&s.sentences[i], &s.sentences[i + 1]);
        if a.speaker.is_some() || b.speaker.is_some() {
            return if a.speaker != b.speaker { 1.0 } else { 0.0 };
        }
        self.voice_change.get(i).copied().unwrap_or(0.0)
    }

    /// 0 for a pause no longer than usual between sentences, 1 for one as long as the
    /// longest tenth.
    pub fn pause_score(&self, pause: f64) -> f64 {
        let (median, p90) = self.pause;
        ((pause - median) / (p90 - median).max(0.05)).clamp(0.0, 1.0)
    }

    fn contrast(&self, similarity: f64) -> f64 {
        let (lo, hi) = self.similarity;
        ((hi - similarity) / (hi - lo).max(1e-6)).clamp(0.0, 1.0)
    }

    /// How cleanly a clip of sentences `first..=last` starts: 1 at the start of the
    /// video or at a clear change, 0 in the middle of a thought.
    pub fn start(
        &self,
        s: &Sentences,
        sums: &VectorSums,
        topics: &Topics,
        first: usize,
        last: usize,
    ) -> f64 {
        if first == 0 {
            return 1.0;
        }
        let pause = self.pause_score(s.sentences[first].pause_before);
        let inside = first..(first + EDGE + 1).min(last + 1);
        let contrast = self.contrast(across(sums, first.saturating_sub(EDGE)..first, inside));
        let cue = (0.45 * pause + 0.55 * contrast).max(topics.before(first));
        // A speaker may open a new thought mid-turn ("Here is a number..."), so a turn
        // weighs less at the start than at the end.
        self.with_turn(cue, s, first - 1, START_TURN_WEIGHT)
    }

    /// How cleanly a clip of sentences `first..=last` ends.
    pub fn end(
        &self,
        s: &Sentences,
        sums: &VectorSums,
        topics: &Topics,
        first: usize,
        last: usize,
    ) -> f64 {
        let n = s.len();
        if last + 1 >= n {
            return 1.0;
        }
        let pause = self.pause_score(s.sentences[last].pause_after);
        let inside = (last + 1).saturating_sub(EDGE + 1).max(first)..last + 1;
        let contrast = self.contrast(across(sums, inside, last + 1..(last + 1 + EDGE).min(n)));
        let cue = (0.45 * pause + 0.55 * contrast).max(topics.after(last));
        // A clip that stops while its speaker is mid-flow sounds cut off, whatever the
        // words say: at the end, a turn dominates.
        self.with_turn(cue, s, last, END_TURN_WEIGHT)
    }
}

/// For each gap between sentences, how different the voices on either side are, scaled
/// so that the gaps that look like turns come out near 1 and the rest near 0.
fn voice_changes(s: &Sentences, v: &VoiceProfile) -> Vec<f64> {
    let shapes: Vec<Option<[f32; BANDS]>> = s
        .sentences
        .iter()
        .map(|x| v.shape(x.start, x.end))
        .collect();
    let known: Vec<&[f32; BANDS]> = shapes.iter().flatten().collect();
    if known.len() < 4 {
        return Vec::new();
    }
    let mut mean = [0.0f32; BANDS];
    for shape in &known {
        for (m, x) in mean.iter_mut().zip(shape.iter()) {
            *m += x / known.len() as f32;
        }
    }
    let raw: Vec<Option<f64>> = shapes
        .windows(2)
        .map(|p| match (&p[0], &p[1]) {
            (Some(a), Some(b)) => Some(voice::distance(a, b, &mean)),
            _ => None,
        })
        .collect();
    let mut sorted: Vec<f64> = raw.iter().flatten().copied().collect();
    sorted.sort_by(f64::total_cmp);
    let Some((same, other)) = two_means(&sorted) else {
        return Vec::new();
    };
    // One voice throughout (or voices too alike to tell): no cue rather than noise.
    if other - same < MIN_VOICE_SEPARATION {
        return Vec::new();
    }
    raw.iter()
        .map(|r| r.map_or(0.0, |d| ((d - same) / (other - same)).clamp(0.0, 1.0)))
        .collect()
}

/// Gaps whose voice distances form two groups at least this far apart (in 1 − cosine)
/// are read as turns between different speakers.
const MIN_VOICE_SEPARATION: f64 = 0.4;

/// Splits sorted values into two groups with the largest variance between them (Otsu's
/// threshold) and returns the groups' means.
fn two_means(sorted: &[f64]) -> Option<(f64, f64)> {
    if sorted.len() < 4 {
        return None;
    }
    let total: f64 = sorted.iter().sum();
    let n = sorted.len() as f64;
    let mut below = 0.0;
    let mut best: Option<(f64, f64, f64)> = None;
    for (i, x) in sorted.iter().enumerate().take(sorted.len() - 1) {
        below += x;
        let k = (i + 1) as f64;
        let (m0, m1) = (below / k, (total - below) / (n - k));
        let between = k * (n - k) * (m1 - m0).powi(2);
        if best.is_none_or(|b| between > b.0) {
            best = Some((between, m0, m1));
        }
    }
    best.map(|(_, a, b)| (a, b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sentences::TimedWord;

    #[test]
    fn two_means_splits_turns_from_continuations() {
        let d = [0.05, 0.1, 0.12, 0.2, 1.1, 1.3, 1.5];
        let (same, other) = two_means(&d).unwrap();
        assert!((same - 0.1175).abs() < 1e-9);
        assert!((other - 1.3).abs() < 1e-9);
        assert!(two_means(&d[..3]).is_none());
    }

    /// Sentences of one word each; `axis` picks the topic vector, `pause` the silence
    /// after each.
    fn setup(spec: &[(usize, f64)]) -> (Sentences, VectorSums, Topics) {
        let mut t = 0.0;
        let mut words = Vec::new();
        for (i, &(_, pause)) in spec.iter().enumerate() {
            words.push(TimedWord {
                start: t,
                end: t + 2.0,
                text: format!("s{i}."),
                speaker: None,
            });
            t += 2.0 + pause;
        }
        let sentences = Sentences::from_words(words, t);
        let vectors: Vec<Vec<f32>> = spec
            .iter()
            .map(|&(axis, _)| {
                let mut v = vec![0.1f32; 4];
                v[axis] = 1.0;
                v
            })
            .collect();
        let weights = vec![1.0; spec.len()];
        let sums = VectorSums::new(&vectors, &weights);
        let topics = Topics::segment(&vectors, &vec![1; spec.len()]);
        (sentences, sums, topics)
    }

    #[test]
    fn a_long_pause_and_a_new_subject_make_a_clean_cut() {
        let mut spec: Vec<(usize, f64)> = (0..10).map(|_| (0, 0.3)).collect();
        spec[9].1 = 1.5;
        spec.extend((0..10).map(|_| (1, 0.3)));
        let (s, sums, topics) = setup(&spec);
        let b = Boundaries::new(&s, &sums, None);
        let clean = b.start(&s, &sums, &topics, 10, 14);
        let middle = b.start(&s, &sums, &topics, 5, 9);
        assert!(clean > 0.9, "{clean}");
        assert!(middle < 0.3, "{middle}");
        assert!(b.end(&s, &sums, &topics, 5, 9) > 0.9);
        assert!(b.end(&s, &sums, &topics, 5, 7) < 0.3);
        assert_eq!(b.start(&s, &sums, &topics, 0, 3), 1.0);
        assert_eq!(b.end(&s, &sums, &topics, 15, 19), 1.0);
    }
}
