//! Puts the model's ratings onto the candidates: ids to candidates, new ranges through the
//! caller's snapping and onto a candidate they repeat, scores blended, order by score.

use clipforge_core::{ClipSuggestion, RankedBy};

use super::chunk::Chunk;
use super::parse::{ModelClip, Target};
use super::prompt::MAX_NEW_PER_PART;
use super::MODEL_WEIGHT;

/// Share of the shorter of two clips that must overlap the other for them to count as the
/// same moment.
const SAME_MOMENT: f64 = 0.5;

/// The candidates and the new ranges, each with the model's rating once it has one.
#[derive(Debug)]
pub(crate) struct Board {
    /// Local candidates in their local order, then accepted new ranges.
    entries: Vec<Entry>,
    /// The first `top` entries are shown to the model, as `c1` to `c{top}`.
    top: usize,
}

#[derive(Debug)]
struct Entry {
    clip: ClipSuggestion,
    rating: Option<Rating>,
}

#[derive(Debug)]
struct Rating {
    clip: ModelClip,
    /// Given by id rather than by a new range that fell onto this entry; such a rating
    /// wins over one by range.
    by_id: bool,
}

impl Board {
    pub fn new(candidates: Vec<ClipSuggestion>, top_candidates: usize) -> Self {
        let top = top_candidates.min(candidates.len());
        let entries = candidates
            .into_iter()
            .map(|clip| Entry { clip, rating: None })
            .collect();
        Self { entries, top }
    }

    /// For each part, the candidates shown with it: each of the top candidates goes with
    /// the part it overlaps most, so the model rates it once.
    pub fn assign(&self, parts: &[Chunk]) -> Vec<Vec<usize>> {
        let mut assigned = vec![Vec::new(); parts.len()];
        for (i, entry) in self.entries[..self.top].iter().enumerate() {
            let (start, end) = (entry.clip.start, entry.clip.end);
            let best = parts
                .iter()
                .map(|p| intersection((start, end), (p.start, p.end)))
                .enumerate()
                .filter(|(_, overlap)| *overlap > 0.0)
                // The first of equal overlaps wins.
                .min_by(|a, b| b.1.total_cmp(&a.1));
            if let Some((k, _)) = best {
                assigned[k].push(i);
            }
        }
        assigned
    }

    /// The candidates at `indexes` with their ids, for the prompt.
    pub fn listed(&self, indexes: &[usize]) -> Vec<(String, &ClipSuggestion)> {
        indexes
            .iter()
            .map(|&i| (id(i), &self.entries[i].clip))
            .collect()
    }

    /// Shortest and longest candidate, to tell the model how long clips run.
    pub fn length_range(&self) -> Option<(f64, f64)> {
        let lengths = self.entries.iter().map(|e| e.clip.end - e.clip.start);
        let shortest = lengths.clone().fold(f64::INFINITY, f64::min);
        let longest = lengths.fold(0.0, f64::max);
        (shortest.is_finite() && shortest > 0.0).then_some((shortest, longest))
    }

    /// Takes one part's answer: ratings of the candidates `sent` with it (other ids are
    /// ignored), and new ranges, kept inside the part and snapped by `resnap`.
    pub fn apply(
        &mut self,
        clips: &[ModelClip],
        part: &Chunk,
        sent: &[usize],
        resnap: &(dyn Fn(f64, f64) -> Option<ClipSuggestion> + Sync),
    ) {
        let mut snapped = 0;
        for clip in clips {
            match &clip.target {
                Target::Candidate(name) => match index(name).filter(|i| sent.contains(i)) {
                    Some(i) => self.rate(i, clip, true),
                    None => tracing::debug!(id = %name, "the model rated an unknown id"),
                },
                &Target::Range(start, end) => {
                    if snapped == MAX_NEW_PER_PART {
                        continue;
                    }
                    // The model saw only this part's lines.
                    let (start, end) = (start.max(part.start), end.min(part.end));
                    if end <= start {
                        continue;
                    }
                    snapped += 1;
                    let Some(new) = resnap(start, end).filter(usable) else {
                        tracing::debug!(start, end, "a new range from the model is unusable");
                        continue;
                    };
                    match self.same_moment(&new) {
                        Some(i) => self.rate(i, clip, false),
                        None => self.entries.push(Entry {
                            clip: new,
                            rating: Some(Rating {
                                clip: clip.clone(),
                                by_id: false,
                            }),
                        }),
                    }
                }
            }
        }
    }

    fn rate(&mut self, i: usize, clip: &ModelClip, by_id: bool) {
        let entry = &mut self.entries[i];
        let keep = entry.rating.as_ref().is_some_and(|old| old.by_id || !by_id);
        if !keep {
            entry.rating = Some(Rating {
                clip: clip.clone(),
                by_id,
            });
        }
    }

    /// The entry that `clip` mostly repeats, the one it overlaps most when several do.
    fn same_moment(&self, clip: &ClipSuggestion) -> Option<usize> {
        let range = (clip.start, clip.end);
        self.entries
            .iter()
            .map(|e| {
                let (start, end) = (e.clip.start, e.clip.end);
                let shorter = (end - start).min(range.1 - range.0);
                intersection(range, (start, end)) / shorter
            })
            .enumerate()
            .filter(|(_, share)| *share > SAME_MOMENT)
            .min_by(|a, b| b.1.total_cmp(&a.1))
            .map(|(i, _)| i)
    }

    /// Every candidate and new range, rated ones blended, best first, at most `max_out`.
    pub fn finish(self, max_out: usize) -> Vec<ClipSuggestion> {
        let mut out: Vec<ClipSuggestion> = self
            .entries
            .into_iter()
            .map(|e| match e.rating {
                Some(rating) => blend(e.clip, rating.clip),
                None => e.clip,
            })
            .collect();
        // Stable: equal scores keep the local order.
        out.sort_by(|a, b| b.score.total_cmp(&a.score));
        out.truncate(max_out);
        out
    }
}

/// The clip with the model's rating: blended score, the model's texts where it gave them.
fn blend(mut clip: ClipSuggestion, rating: ModelClip) -> ClipSuggestion {
    let score = MODEL_WEIGHT * rating.score + (1.0 - MODEL_WEIGHT) * clip.score;
    clip.score = ((score * 10.0).round() / 10.0).clamp(0.0, 100.0);
    if let Some(title) = rating.title {
        clip.title = title;
    }
    if let Some(hook) = rating.hook {
        clip.hook = hook;
    }
    if let Some(reason) = rating.reason {
        clip.reason = reason;
    }
    clip.highlights.push(format!(
        "Rated {:.0}/100 by the language model",
        rating.score
    ));
    clip.ranked_by = RankedBy::Llm;
    clip
}

/// A snapped clip the board can hold.
fn usable(clip: &ClipSuggestion) -> bool {
    clip.start.is_finite()
        && clip.end.is_finite()
        && clip.end > clip.start
        && clip.score.is_finite()
}

fn id(index: usize) -> String {
    format!("c{}", index + 1)
}

/// The index behind an id like `c3` (or `C3`).
fn index(id: &str) -> Option<usize> {
    let n: usize = id.strip_prefix(['c', 'C'])?.parse().ok()?;
    n.checked_sub(1)
}

fn intersection(a: (f64, f64), b: (f64, f64)) -> f64 {
    (a.1.min(b.1) - a.0.max(b.0)).max(0.0)
}

#[cfg(test)]
mod tests {
    use clipforge_core::ScoreBreakdown;

    use super::*;

    fn clip(start: f64, end: f64, score: f64) -> ClipSuggestion {
        ClipSuggestion {
            start,
            end,
            duration: end - start,
            score,
            breakdown: ScoreBreakdown::default(),
            reason: "local reason".into(),
            highlights: vec!["Opens with a question".into()],
            title: format!("local {start}"),
            hook: "local hook".into(),
            platforms: Vec::new(),
            hashtags: Vec::new(),
            transcript: String::new(),
            ranked_by: RankedBy::Local,
        }
    }

    fn part(start: f64, end: f64) -> Chunk {
        Chunk {
            lines: 0..1,
            start,
            end,
            text: String::new(),
        }
    }

    fn rating(target: Target, score: f64, title: Option<&str>) -> ModelClip {
        ModelClip {
            target,
            score,
            title: title.map(str::to_owned),
            hook: None,
            reason: Some("model reason".into()),
        }
    }

    /// Snaps to whole tens of seconds, scores 50, refuses anything under 15 s.
    fn resnap(start: f64, end: f64) -> Option<ClipSuggestion> {
        let (start, end) = ((start / 10.0).floor() * 10.0, (end / 10.0).ceil() * 10.0);
        (end - start >= 15.0).then(|| clip(start, end, 50.0))
    }

    #[test]
    fn candidates_go_with_the_part_they_overlap_most() {
        let board = Board::new(
            vec![
                clip(0.0, 30.0, 90.0),
                clip(80.0, 110.0, 80.0),
                clip(95.0, 125.0, 70.0),
                clip(500.0, 530.0, 60.0),
                clip(10.0, 20.0, 50.0),
            ],
            4,
        );
        let parts = [part(0.0, 100.0), part(90.0, 200.0)];
        assert_eq!(board.assign(&parts), [vec![0, 1], vec![2]]);
        let listed = board.listed(&[2]);
        assert_eq!((listed[0].0.as_str(), listed[0].1.start), ("c3", 95.0));
        assert_eq!(board.length_range(), Some((10.0, 30.0)));
    }

    #[test]
    fn ratings_blend_and_reorder_without_dropping_anyone() {
        let mut board = Board::new(
            vec![
                clip(0.0, 30.0, 80.0),
                clip(40.0, 70.0, 70.0),
                clip(80.0, 110.0, 60.0),
            ],
            3,
        );
        let clips = [
            rating(Target::Candidate("c3".into()), 95.0, Some("Model title")),
            rating(Target::Candidate("c1".into()), 40.0, None),
            rating(
                Target::Candidate("c1".into()),
                99.0,
                Some("second rating ignored"),
            ),
            rating(Target::Candidate("c9".into()), 100.0, None),
        ];
        board.apply(&clips, &part(0.0, 120.0), &[0, 1, 2], &resnap);
        let out = board.finish(10);
        let summary: Vec<_> = out
            .iter()
            .map(|c| (c.start, c.score, c.ranked_by))
            .collect();
        assert_eq!(
            summary,
            [
                (80.0, 81.0, RankedBy::Llm),
                (40.0, 70.0, RankedBy::Local),
                (0.0, 56.0, RankedBy::Llm),
            ]
        );
        assert_eq!(out[0].title, "Model title");
        assert_eq!(out[0].hook, "local hook", "no hook from the model");
        assert_eq!(out[0].reason, "model reason");
        assert_eq!(
            out[0].highlights,
            [
                "Opens with a question",
                "Rated 95/100 by the language model"
            ]
        );
        assert_eq!(out[2].title, "local 0", "no title from the model");
        assert_eq!(out[1].reason, "local reason");
    }

    #[test]
    fn ids_not_sent_with_the_part_are_ignored() {
        let mut board = Board::new(vec![clip(0.0, 30.0, 80.0), clip(40.0, 70.0, 70.0)], 2);
        let clips = [rating(Target::Candidate("c2".into()), 10.0, None)];
        board.apply(&clips, &part(0.0, 35.0), &[0], &resnap);
        assert!(board
            .finish(10)
            .iter()
            .all(|c| c.ranked_by == RankedBy::Local));
    }

    #[test]
    fn new_ranges_are_snapped_kept_in_the_part_and_deduplicated() {
        let mut board = Board::new(vec![clip(0.0, 30.0, 80.0)], 1);
        let clips = [
            // Repeats c1 (26.6 of 30 s once snapped): a rating of c1.
            rating(Target::Range(3.3, 29.9), 90.0, Some("c1 by range")),
            // New: snapped to 40-70.
            rating(Target::Range(41.37, 68.81), 85.0, Some("new")),
            // Repeats the new one.
            rating(Target::Range(42.0, 69.0), 10.0, Some("again")),
        ];
        board.apply(&clips, &part(0.0, 100.0), &[0], &resnap);
        let unusable = [
            // Past the part's end: cut to 95-100, too short once snapped.
            rating(Target::Range(95.0, 140.0), 99.0, None),
            rating(Target::Range(96.0, 99.0), 99.0, None),
            rating(Target::Range(97.0, 98.0), 99.0, None),
            // Over the limit of new ranges per part, unusable ones included.
            rating(Target::Range(70.0, 90.0), 99.0, None),
        ];
        board.apply(&unusable, &part(0.0, 100.0), &[0], &resnap);
        let out = board.finish(10);
        let summary: Vec<_> = out
            .iter()
            .map(|c| (c.start, c.end, c.score, c.title.as_str()))
            .collect();
        assert_eq!(
            summary,
            [(0.0, 30.0, 86.0, "c1 by range"), (40.0, 70.0, 71.0, "new")]
        );
        assert!(out.iter().all(|c| c.ranked_by == RankedBy::Llm));
    }

    #[test]
    fn a_rating_by_id_wins_over_one_by_range() {
        let mut board = Board::new(vec![clip(0.0, 30.0, 80.0)], 1);
        let clips = [
            rating(Target::Range(0.0, 30.0), 10.0, Some("by range")),
            rating(Target::Candidate("c1".into()), 90.0, Some("by id")),
            rating(Target::Range(0.0, 30.0), 20.0, Some("by range again")),
        ];
        board.apply(&clips, &part(0.0, 100.0), &[0], &resnap);
        let out = board.finish(10);
        assert_eq!((out[0].title.as_str(), out[0].score), ("by id", 86.0));
    }

    #[test]
    fn the_output_is_cut_to_max_out() {
        let board = Board::new(vec![clip(0.0, 30.0, 80.0), clip(40.0, 70.0, 70.0)], 2);
        assert_eq!(board.finish(1).len(), 1);
        assert_eq!(index("c12"), Some(11));
        assert_eq!(index("C1"), Some(0));
        assert_eq!(index("c0"), None);
        assert_eq!(index("3"), None);
    }
}
