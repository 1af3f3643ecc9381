//! Topic segmentation by TextTiling over sentence embeddings, and how close each part of
//! the video is to its main topics.
//!
//! At every gap between two sentences the blocks of sentences on either side are compared;
//! where the similarity dips deeply below the peaks around it (the depth score), the talk
//! moves to a new topic.

/// Dot product of two vectors of the same length.
pub fn dot(a: &[f32], b: &[f32]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| f64::from(*x) * f64::from(*y))
        .sum()
}

/// Cosine similarity; 0 when either vector is zero.
pub fn cosine(a: &[f32], b: &[f32]) -> f64 {
    let (na, nb) = (dot(a, a).sqrt(), dot(b, b).sqrt());
    if na == 0.0 || nb == 0.0 {
        0.0
    } else {
        dot(a, b) / (na * nb)
    }
}

/// The value at quantile `q` (0–1) of ascending `sorted` values, nearest rank; 0 when
/// there are none.
pub fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

/// Running sums of weighted sentence vectors, so that the mean vector of any run of
/// sentences costs one subtraction per dimension.
#[derive(Debug, Clone)]
pub struct VectorSums {
    dim: usize,
    sums: Vec<f64>,
}

impl VectorSums {
    /// `vectors[i]` weighted by `weights[i]`.
    pub fn new(vectors: &[Vec<f32>], weights: &[f64]) -> Self {
        let dim = vectors.first().map_or(0, Vec::len);
        let mut sums = vec![0.0; dim * (vectors.len() + 1)];
        for (i, (v, w)) in vectors.iter().zip(weights).enumerate() {
            let (done, rest) = sums.split_at_mut(dim * (i + 1));
            let prev = &done[dim * i..];
            for d in 0..dim {
                rest[d] = prev[d] + w * f64::from(v[d]);
            }
        }
        Self { dim, sums }
    }

    /// The (unnormalised) weighted sum of vectors `start..end`.
    pub fn sum(&self, start: usize, end: usize) -> Vec<f32> {
        let (a, b) = (&self.sums[self.dim * start..], &self.sums[self.dim * end..]);
        (0..self.dim).map(|d| (b[d] - a[d]) as f32).collect()
    }
}

/// The topic structure of a video.
#[derive(Debug, Clone, PartialEq)]
pub struct Topics {
    /// For the gap after sentence `i` (one fewer than sentences): how strongly the topic
    /// changes there, 0–1.
    pub strength: Vec<f64>,
    /// Sentences that open a new topic (the first sentence is not listed).
    pub starts: Vec<usize>,
    /// The topic segment each sentence belongs to.
    pub segment_of: Vec<usize>,
    /// The word-weighted mean of all sentence vectors: what the video is mostly about.
    pub centroid: Vec<f32>,
}

/// Sentences per block on each side of a gap.
fn block_size(n: usize) -> usize {
    (n / 25).clamp(3, 6)
}

impl Topics {
    /// Segments `n` sentences given their embeddings and word counts.
    pub fn segment(embeddings: &[Vec<f32>], words: &[usize]) -> Self {
        let n = embeddings.len();
        let weights: Vec<f64> = words.iter().map(|&w| (w.max(1) as f64).sqrt()).collect();
        let sums = VectorSums::new(embeddings, &weights);
        let centroid = sums.sum(0, n);
        if n < 2 {
            return Self {
                strength: Vec::new(),
                starts: Vec::new(),
                segment_of: vec![0; n],
                centroid,
            };
        }
        let k = block_size(n);
        let raw: Vec<f64> = (0..n - 1)
            .map(|g| {
                let left = sums.sum((g + 1).saturating_sub(k), g + 1);
                let right = sums.sum(g + 1, (g + 1 + k).min(n));
                cosine(&left, &right)
            })
            .collect();
        // Light smoothing keeps one odd sentence from looking like a topic change.
        let sim: Vec<f64> = (0..raw.len())
            .map(|g| {
                let lo = g.saturating_sub(1);
                let hi = (g + 2).min(raw.len());
                raw[lo..hi].iter().sum::<f64>() / (hi - lo) as f64
            })
            .collect();
        let depth: Vec<f64> = (0..sim.len()).map(|g| depth_at(&sim, g)).collect();
        let mean = depth.iter().sum::<f64>() / depth.len() as f64;
        let var = depth.iter().map(|d| (d - mean).powi(2)).sum::<f64>() / depth.len() as f64;
        let sd = var.sqrt();
        let cutoff = mean + sd;
        let scale = (mean + 2.0 * sd).max(1e-6);
        // Boundaries: the deepest local dips above the cutoff, at least `k` sentences
        // apart, deepest first.
        let mut order: Vec<usize> = (0..depth.len()).filter(|&g| depth[g] > cutoff).collect();
        order.sort_by(|&a, &b| depth[b].total_cmp(&depth[a]));
        let mut chosen: Vec<usize> = Vec::new();
        for g in order {
            if chosen.iter().all(|&c| c.abs_diff(g) >= k) {
                chosen.push(g);
            }
        }
        chosen.sort_unstable();
        // Blocks that straddle a change make the dip spill onto neighbouring gaps, and
        // short sentences make shallow dips of their own: only the chosen boundaries keep
        // their full strength, so a window that stops a sentence short of a change is not
        // treated as crossing it.
        let strength: Vec<f64> = (0..depth.len())
            .map(|g| {
                let s = (depth[g] / scale).clamp(0.0, 1.0);
                if chosen.binary_search(&g).is_ok() {
                    s
                } else {
                    0.25 * s
                }
            })
            .collect();
        let starts: Vec<usize> = chosen.iter().map(|g| g + 1).collect();
        let mut segment_of = Vec::with_capacity(n);
        let mut segment = 0;
        for i in 0..n {
            if starts.get(segment).is_some_and(|&s| s == i) {
                segment += 1;
            }
            segment_of.push(segment);
        }
        Self {
            strength,
            starts,
            segment_of,
            centroid,
        }
    }

    /// Topic-change strength before sentence `i` (1 before the first sentence).
    pub fn before(&self, i: usize) -> f64 {
        match i.checked_sub(1) {
            Some(g) => self.strength.get(g).copied().unwrap_or(1.0),
            None => 1.0,
        }
    }

    /// Topic-change strength after sentence `i` (1 after the last sentence).
    pub fn after(&self, i: usize) -> f64 {
        self.strength.get(i).copied().unwrap_or(1.0)
    }

    /// The gaps well inside sentences `first..=last`. TextTiling places a change only to
    /// within a sentence or two, so changes that close to the first or the last sentence
    /// do not count: they are more likely the clip's own edges, misplaced. Long windows
    /// keep two sentences clear at each edge, short ones one.
    fn inner_gaps(first: usize, last: usize) -> std::ops::Range<usize> {
        let margin = if last - first >= 6 { 2 } else { 1 };
        (first + margin)..last.saturating_sub(margin).max(first + margin)
    }

    /// The strongest topic change well inside sentences `first..=last`.
    pub fn inside(&self, first: usize, last: usize) -> f64 {
        self.strength
            .get(Self::inner_gaps(first, last))
            .unwrap_or(&[])
            .iter()
            .copied()
            .fold(0.0, f64::max)
    }

    /// Whether a topic boundary falls well inside sentences `first..=last` (see
    /// [`inside`](Self::inside)): a new topic starting after one of the inner gaps.
    pub fn spans_boundary(&self, first: usize, last: usize) -> bool {
        let gaps = Self::inner_gaps(first, last);
        self.starts
            .iter()
            .any(|&s| s >= 1 && gaps.contains(&(s - 1)))
    }
}

/// Hearst's depth score: how far the similarity at gap `g` lies below the highest points
/// reached by climbing uphill to its left and to its right.
fn depth_at(sim: &[f64], g: usize) -> f64 {
    let mut left = sim[g];
    for j in (0..g).rev() {
        if sim[j] < left {
            break;
        }
        left = sim[j];
    }
    let mut right = sim[g];
    for &s in &sim[g + 1..] {
        if s < right {
            break;
        }
        right = s;
    }
    (left - sim[g]) + (right - sim[g])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(axis: usize, noise: f32, dim: usize) -> Vec<f32> {
        let mut v = vec![noise; dim];
        v[axis] = 1.0;
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        v.iter().map(|x| x / norm).collect()
    }

    #[test]
    fn finds_the_change_between_two_topics() {
        // 12 sentences about topic 0, then 12 about topic 1, with a little variation.
        let mut emb = Vec::new();
        for i in 0..24 {
            let axis = if i < 12 { 0 } else { 1 };
            let mut v = unit(axis, 0.1, 8);
            v[2 + i % 5] += 0.2;
            emb.push(v);
        }
        let topics = Topics::segment(&emb, &[10; 24]);
        assert_eq!(topics.starts, vec![12]);
        assert_eq!(topics.segment_of[11], 0);
        assert_eq!(topics.segment_of[12], 1);
        assert!(topics.before(12) > 0.9, "{:?}", topics.strength);
        assert!(topics.inside(0, 11) < 0.5, "{:?}", topics.strength);
        assert!(topics.inside(8, 15) > 0.9);
        assert!(topics.spans_boundary(8, 15));
        assert!(!topics.spans_boundary(12, 20));
        // A change right after the first or before the last sentence is an edge.
        assert!(!topics.spans_boundary(11, 20));
        assert!(!topics.spans_boundary(5, 12));
    }

    #[test]
    fn a_single_topic_has_no_strong_boundary() {
        let emb: Vec<Vec<f32>> = (0..30).map(|_| unit(0, 0.05, 4)).collect();
        let topics = Topics::segment(&emb, &[10; 30]);
        assert!(topics.strength.iter().all(|&s| s < 1e-6));
    }

    #[test]
    fn tiny_inputs_do_not_panic() {
        for n in 0..4 {
            let emb: Vec<Vec<f32>> = (0..n).map(|i| unit(i % 3, 0.0, 3)).collect();
            let topics = Topics::segment(&emb, &vec![5; n]);
            assert_eq!(topics.segment_of.len(), n);
            assert_eq!(topics.strength.len(), n.saturating_sub(1));
        }
    }

    #[test]
    fn vector_sums_give_range_sums() {
        let v = vec![vec![1.0, 0.0], vec![0.0, 2.0], vec![3.0, 3.0]];
        let s = VectorSums::new(&v, &[1.0, 1.0, 2.0]);
        assert_eq!(s.sum(0, 3), vec![7.0, 8.0]);
        assert_eq!(s.sum(1, 2), vec![0.0, 2.0]);
        assert_eq!(s.sum(2, 2), vec![0.0, 0.0]);
    }
}
