//! Half-open time ranges `(start, end)` in seconds, kept sorted and disjoint.

/// A time range in seconds, `start < end` once normalized.
pub(crate) type Range = (f64, f64);

/// Clamps to `[0, duration]`, drops empty ranges, sorts, and merges overlapping or
/// touching ones.
pub(crate) fn normalize(mut ranges: Vec<Range>, duration: f64) -> Vec<Range> {
    for r in &mut ranges {
        r.0 = r.0.clamp(0.0, duration);
        r.1 = r.1.clamp(0.0, duration);
    }
    ranges.retain(|r| r.1 > r.0);
    ranges.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut out: Vec<Range> = Vec::with_capacity(ranges.len());
    for r in ranges {
        match out.last_mut() {
            Some(last) if r.0 <= last.1 => last.1 = last.1.max(r.1),
            _ => out.push(r),
        }
    }
    out
}

/// `ranges` minus every range in `cuts` (both sorted and disjoint).
pub(crate) fn subtract(ranges: &[Range], cuts: &[Range]) -> Vec<Range> {
    let mut out = Vec::with_capacity(ranges.len());
    for &(start, end) in ranges {
        let mut cur = start;
        for &(cs, ce) in cuts.iter().filter(|c| c.1 > start && c.0 < end) {
            if cs > cur {
                out.push((cur, cs.min(end)));
            }
            cur = cur.max(ce);
            if cur >= end {
                break;
            }
        }
        if cur < end {
            out.push((cur, end));
        }
    }
    out
}

/// Whether `range` overlaps any of `cuts` for a positive length.
pub(crate) fn overlaps_any(range: Range, cuts: &[Range]) -> bool {
    cuts.iter().any(|c| c.0.max(range.0) < c.1.min(range.1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_clamps_sorts_and_merges() {
        let got = normalize(
            vec![
                (5.0, 6.0),
                (-1.0, 1.0),
                (0.5, 2.0),
                (2.0, 3.0),
                (9.0, 12.0),
                (4.0, 4.0),
            ],
            10.0,
        );
        assert_eq!(got, vec![(0.0, 3.0), (5.0, 6.0), (9.0, 10.0)]);
    }

    #[test]
    fn subtract_splits_and_trims() {
        let got = subtract(&[(0.0, 10.0), (12.0, 14.0)], &[(1.0, 2.0), (9.0, 12.5)]);
        assert_eq!(got, vec![(0.0, 1.0), (2.0, 9.0), (12.5, 14.0)]);
        assert_eq!(subtract(&[(1.0, 2.0)], &[(0.0, 3.0)]), vec![]);
        assert_eq!(subtract(&[(1.0, 2.0)], &[]), vec![(1.0, 2.0)]);
    }

    #[test]
    fn overlap_needs_positive_length() {
        assert!(overlaps_any((1.0, 2.0), &[(1.5, 3.0)]));
        assert!(!overlaps_any((1.0, 2.0), &[(2.0, 3.0)]));
    }
}
