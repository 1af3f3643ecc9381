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

/// The fewest lines for the words `run`, each at most `max_words` words that fit, with
/// word counts as even as possible (longer lines first) so that a run of four with a
/// limit of three reads 2 + 2, not 3 + 1. A word too wide on its own gets a line alone.
fn split_lines(run: std::ops::Range<usize>, limits: &Limits<'_>) -> Vec<Vec<usize>> {
    let ids: Vec<usize> = run.collect();
    let n = ids.len();
    let max_words = limits.max_words.max(1);
    for count in n.div_ceil(max_words)..=n {
        let (base, extra) = (n / count, n % count);
        let mut lines = Vec::with_capacity(count);
        let mut at = 0;
        for l in 0..count {
            let len = base + usize::from(l < extra);
            lines.push(ids[at..at + len].to_vec());
            at += len;
        }
        if lines.iter().all(|l| l.len() == 1 || (limits.fits)(l)) {
            return lines;
        }
    }
    ids.into_iter().map(|i| vec![i]).collect()
}
