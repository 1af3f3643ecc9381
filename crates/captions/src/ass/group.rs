//! Grouping the words of a clip into the short captions burned into it.

use clipforge_core::Word;

use crate::layout::{self, Punctuation};

/// A gap between words at least this long (seconds) ends a caption.
pub(super) const PAUSE: f64 = 0.35;
/// How long a caption may stay up into the silence after its last word.
pub(super) const HOLD: f64 = 0.6;

/// One caption on screen: its lines of words (indexes into the clip's words), shown from
/// `start` to `end` (seconds on the clip's clock).
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Page {
    pub(super) lines: Vec<Vec<usize>>,
    pub(super) start: f64,
    pub(super) end: f64,
}

impl Page {
    /// The page's words in reading order.
    pub(super) fn words(&self) -> Vec<usize> {
        self.lines.iter().flatten().copied().collect()
    }
}

/// Limits a caption must keep.
pub(super) struct Limits<'a> {
    pub(super) max_words: usize,
    pub(super) max_lines: usize,
    /// Whether a line of these words fits the frame's width.
    pub(super) fits: &'a dyn Fn(&[usize]) -> bool,
}

/// Groups words into captions. A sentence end or a pause of [`PAUSE`] always ends a
/// caption; longer runs are cut into lines as even as the word limit and the width allow,
/// and the lines into captions of at most `max_lines`. A caption shows from its first
/// word's start until its words end, held up to [`HOLD`] into the silence after, never
/// into the next caption.
pub(super) fn pages(words: &[Word], limits: &Limits<'_>) -> Vec<Page> {
    let max_lines = limits.max_lines.max(1);
    let mut pages: Vec<Page> = Vec::new();
    let mut run_start = 0;
    for i in 0..words.len() {
        let ends_run = words.get(i + 1).is_none_or(|next| {
            next.start - words[i].end >= PAUSE
                || layout::punctuation_after(&words[i].text) == Punctuation::Sentence
        });
        if !ends_run {
            continue;
        }
        let lines = split_lines(run_start..i + 1, limits);
        for chunk in lines.chunks(max_lines) {
            let ids: Vec<usize> = chunk.iter().flatten().copied().collect();
            pages.push(Page {
                start: words[ids[0]].start,
                end: ids
                    .iter()
                    .map(|&k| words[k].end)
                    .fold(words[ids[0]].start, f64::max),
                lines: chunk.to_vec(),
            });
        }
        run_start = i + 1;
    }
    for k in 0..pages.len() {
        let limit = pages.get(k + 1).map_or(f64::INFINITY, |p| p.start);
        let page = &mut pages[k];
        page.end = (page.end + HOLD).min(limit);
    }
    pages.retain(|p| p.end > p.start);
    pages
}

/// The fewest lines for the words `run`, each at most `max_words` words that fit (a word
/// too wide on its own gets a line alone), with word counts as even as possible and longer
/// lines first, so that a run of four with a limit of three reads 2 + 2, not 3 + 1. One
/// pair that does not fit only breaks that pair: the rest of the run keeps full lines.
fn split_lines(run: std::ops::Range<usize>, limits: &Limits<'_>) -> Vec<Vec<usize>> {
    let ids: Vec<usize> = run.collect();
    let n = ids.len();
    let max_words = limits.max_words.max(1);
    // best[j]: (lines, sum of squared line lengths, start of the last line) for the
    // cheapest split of the first j words. Fewer lines first; then evener lines (the
    // squares are smallest when the counts are equal).
    let mut best: Vec<(usize, usize, usize)> = vec![(usize::MAX, usize::MAX, 0); n + 1];
    best[0] = (0, 0, 0);
    for j in 1..=n {
        for i in (j.saturating_sub(max_words)..j).rev() {
            let (lines, squares, _) = best[i];
            if lines == usize::MAX {
                continue;
            }
            let len = j - i;
            if len > 1 && !(limits.fits)(&ids[i..j]) {
                // Starting earlier only adds width.
                break;
            }
            let cost = (lines + 1, squares + len * len, i);
            // Ties go to the shorter last line, which keeps the longer lines first.
            if (cost.0, cost.1) < (best[j].0, best[j].1) {
                best[j] = cost;
            }
        }
    }
    let mut lines = Vec::new();
    let mut j = n;
    while j > 0 {
        let i = best[j].2;
        lines.push(ids[i..j].to_vec());
        j = i;
    }
    lines.reverse();
    lines
}
