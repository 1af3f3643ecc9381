//! Splits the transcript into overlapping parts the model reads one at a time.

use std::ops::Range;

use super::TranscriptLine;

/// Smallest part size in characters, so a tiny setting cannot turn every sentence into a
/// request of its own.
const MIN_CHARS: usize = 200;

/// One part of the transcript as the model sees it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Chunk {
    /// Indexes of its lines in the transcript.
    pub lines: Range<usize>,
    /// Start of its first line and end of its last, in seconds.
    pub start: f64,
    pub end: f64,
    /// Its lines rendered as `[12.3-17.9] text`, one per line.
    pub text: String,
}

/// One line as the model reads it: times to a tenth of a second, the text on one line.
pub(crate) fn render(line: &TranscriptLine<'_>) -> String {
    let text = line.text.split_whitespace().collect::<Vec<_>>().join(" ");
    format!("[{:.1}-{:.1}] {text}", line.start, line.end)
}

/// Parts of about `chunk_chars` rendered characters each, where each part after the first
/// repeats the last tenth of the one before, so a moment on a boundary is seen whole at
/// least once. A part always holds at least one line. When the transcript would need more
/// than `max_parts`, the parts grow instead.
pub(crate) fn split(
    lines: &[TranscriptLine<'_>],
    chunk_chars: usize,
    max_parts: usize,
) -> Vec<Chunk> {
    let rendered: Vec<String> = lines.iter().map(render).collect();
    let sizes: Vec<usize> = rendered.iter().map(|l| l.chars().count() + 1).collect();
    let total: usize = sizes.iter().sum();
    let max_parts = max_parts.max(1);
    let mut budget = chunk_chars.max(MIN_CHARS);
    let ranges = loop {
        let ranges = ranges(&sizes, budget);
        if ranges.len() <= max_parts || budget >= total {
            break ranges;
        }
        // Each part holds at least budget minus one line, so this ends quickly.
        budget = budget.saturating_mul(2).max(total.div_ceil(max_parts));
    };
    ranges
        .into_iter()
        .map(|range| Chunk {
            start: lines[range.start].start,
            end: lines[range.clone()]
                .iter()
                .map(|l| l.end)
                .fold(lines[range.start].end, f64::max),
            text: rendered[range.clone()].join("\n"),
            lines: range,
        })
        .collect()
}

/// Line ranges of at most `budget` characters (or one longer line), each starting on the
/// last lines of the one before that fit in a tenth of the budget.
fn ranges(sizes: &[usize], budget: usize) -> Vec<Range<usize>> {
    let overlap = budget / 10;
    let mut out = Vec::new();
    let mut start = 0;
    while start < sizes.len() {
        let mut end = start;
        let mut used = 0;
        while end < sizes.len() && (end == start || used + sizes[end] <= budget) {
            used += sizes[end];
            end += 1;
        }
        out.push(start..end);
        if end == sizes.len() {
            break;
        }
        let mut next = end;
        let mut repeated = 0;
        while next - 1 > start && repeated + sizes[next - 1] <= overlap {
            next -= 1;
            repeated += sizes[next];
        }
        start = next;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn transcript(n: usize, words: usize) -> (Vec<String>, Vec<(f64, f64)>) {
        let texts = (0..n)
            .map(|i| format!("Line {i} {}.", "word ".repeat(words).trim_end()))
            .collect();
        let times = (0..n)
            .map(|i| (i as f64 * 5.0, i as f64 * 5.0 + 4.5))
            .collect();
        (texts, times)
    }

    fn lines<'a>(texts: &'a [String], times: &[(f64, f64)]) -> Vec<TranscriptLine<'a>> {
        texts
            .iter()
            .zip(times)
            .map(|(text, &(start, end))| TranscriptLine { start, end, text })
            .collect()
    }

    #[test]
    fn lines_render_with_times_on_one_line() {
        let line = TranscriptLine {
            start: 12.34,
            end: 17.86,
            text: " So,\nwhat  happened? ",
        };
        assert_eq!(render(&line), "[12.3-17.9] So, what happened?");
    }

    #[test]
    fn a_short_transcript_is_one_part() {
        let (texts, times) = transcript(5, 3);
        let parts = split(&lines(&texts, &times), 12_000, 32);
        assert_eq!(parts.len(), 1);
        assert_eq!(parts[0].lines, 0..5);
        assert_eq!((parts[0].start, parts[0].end), (0.0, 24.5));
        assert_eq!(parts[0].text.lines().count(), 5);
        assert!(parts[0]
            .text
            .starts_with("[0.0-4.5] Line 0 word word word."));
    }

    #[test]
    fn parts_overlap_by_about_a_tenth_and_cover_everything() {
        let (texts, times) = transcript(200, 8);
        let lines = lines(&texts, &times);
        let parts = split(&lines, 1_000, 32);
        assert!(parts.len() > 5, "{}", parts.len());
        assert_eq!(parts[0].lines.start, 0);
        assert_eq!(parts.last().unwrap().lines.end, 200);
        for pair in parts.windows(2) {
            let (a, b) = (&pair[0], &pair[1]);
            assert!(b.lines.start > a.lines.start, "progress");
            let shared = a.lines.end - b.lines.start;
            // Each line is about 60 characters: a tenth of 1,000 holds one.
            assert!((1..=2).contains(&shared), "{a:?} / {b:?}");
            assert!(a.text.chars().count() <= 1_000);
        }
    }

    #[test]
    fn a_line_longer_than_a_part_is_a_part_of_its_own() {
        let texts = vec!["x ".repeat(500), "short.".to_owned(), "x ".repeat(500)];
        let times = [(0.0, 1.0), (1.0, 2.0), (2.0, 3.0)];
        let parts = split(&lines(&texts, &times), 300, 32);
        let ranges: Vec<_> = parts.iter().map(|p| p.lines.clone()).collect();
        assert_eq!(ranges, [0..1, 1..2, 2..3]);
    }

    #[test]
    fn too_many_parts_grow_instead() {
        let (texts, times) = transcript(400, 8);
        let parts = split(&lines(&texts, &times), 200, 8);
        assert!(parts.len() <= 8, "{}", parts.len());
        assert_eq!(parts.last().unwrap().lines.end, 400);
    }

    #[test]
    fn no_lines_no_parts() {
        assert!(split(&[], 1_000, 32).is_empty());
    }
}
