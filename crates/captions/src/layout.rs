//! Breaking the words of one cue into balanced lines.

/// How strongly a line break after punctuation is preferred, in characters of imbalance
/// it may cost: viewers read a line that ends at a clause boundary faster than a perfectly
/// even split that cuts a clause apart.
const SENTENCE_BREAK_BONUS: i64 = 12;
const CLAUSE_BREAK_BONUS: i64 = 8;
/// What ending a line on a word that leans on the next one ("the", "of", "and") costs:
/// subtitle guidelines keep an article with its noun and a preposition with its object.
const LEANING_WORD_PENALTY: i64 = 6;

/// Display length of `text` in characters.
pub(crate) fn char_len(text: &str) -> usize {
    text.chars().count()
}

/// Length of `words` joined by single spaces.
fn joined_len(lens: &[usize]) -> usize {
    lens.iter().sum::<usize>() + lens.len().saturating_sub(1)
}

/// Whether `words` fit in at most `max_lines` lines of at most `max_chars` characters.
/// A word longer than `max_chars` fits only on a line of its own.
pub(crate) fn fits(lens: &[usize], max_chars: usize, max_lines: usize) -> bool {
    min_lines(lens, max_chars) <= max_lines
}

/// The fewest lines `words` can be laid out in (greedy filling is optimal for this).
fn min_lines(lens: &[usize], max_chars: usize) -> usize {
    let mut lines = 0;
    let mut current: Option<usize> = None;
    for &len in lens {
        current = match current {
            Some(cur) if cur + 1 + len <= max_chars => Some(cur + 1 + len),
            Some(_) | None => {
                lines += 1;
                Some(len)
            }
        };
    }
    lines
}

/// Lays `words` out in as few lines as the limits allow (one when it fits), breaking where
/// the line lengths come out closest, preferring breaks after punctuation. Returns `None`
/// when the words need more than `max_lines` lines.
pub(crate) fn layout(words: &[&str], max_chars: usize, max_lines: usize) -> Option<Vec<String>> {
    let lens: Vec<usize> = words.iter().map(|w| char_len(w)).collect();
    let lines = min_lines(&lens, max_chars);
    if lines > max_lines {
        return None;
    }
    if lines <= 1 {
        return Some(if words.is_empty() {
            Vec::new()
        } else {
            vec![words.join(" ")]
        });
    }
    let breaks = balanced_breaks(words, &lens, max_chars, lines);
    let mut out = Vec::with_capacity(lines);
    let mut start = 0;
    for end in breaks.into_iter().chain([words.len()]) {
        out.push(words[start..end].join(" "));
        start = end;
    }
    Some(out)
}

/// Word indices where lines 2..=`lines` start, minimising the summed distance of each line
/// length from the mean (for two lines: the difference of the two lengths), less a bonus
/// for every line that ends on punctuation, plus a penalty for every line that ends on a
/// word leaning on the next. Ties go to the earlier break, which keeps the top line the
/// shorter one.
fn balanced_breaks(words: &[&str], lens: &[usize], max_chars: usize, lines: usize) -> Vec<usize> {
    let n = words.len();
    // Lengths are scaled by the line count so the mean is an integer and all costs stay
    // exact: the scaled mean is the sum of the line lengths.
    let mean_scaled = joined_len(lens) + 1 - lines;
    let line_cost = |from: usize, to: usize| -> Option<i64> {
        let len = joined_len(&lens[from..to]);
        if to - from > 1 && len > max_chars {
            return None;
        }
        Some(((len * lines) as i64 - mean_scaled as i64).abs())
    };
    let bonus = |end: usize| -> i64 {
        let scale = lines as i64;
        let word = words[end - 1];
        scale
            * match punctuation_after(word) {
                Punctuation::Sentence => SENTENCE_BREAK_BONUS,
                Punctuation::Clause => CLAUSE_BREAK_BONUS,
                Punctuation::None if leans_on_next(word) => -LEANING_WORD_PENALTY,
                Punctuation::None => 0,
            }
    };
    // best[l][j]: cheapest layout of words[..j] in l lines, with the start of its last line.
    let mut best: Vec<Vec<Option<(i64, usize)>>> = vec![vec![None; n + 1]; lines + 1];
    best[0][0] = Some((0, 0));
    for l in 1..=lines {
        let (done, todo) = best.split_at_mut(l);
        let (previous, row) = (&done[l - 1], &mut todo[0]);
        for (j, cell) in row.iter_mut().enumerate().skip(1) {
            let brk = if j < n { bonus(j) } else { 0 };
            // Ties go to the smaller start index.
            *cell = (l - 1..j)
                .filter_map(|i| {
                    let (prev, _) = previous[i]?;
                    Some((prev + line_cost(i, j)? - brk, i))
                })
                .min();
        }
    }
    let mut starts = Vec::with_capacity(lines - 1);
    let mut j = n;
    for l in (2..=lines).rev() {
        let (_, i) = best[l][j].expect("a layout in `lines` lines exists");
        starts.push(i);
        j = i;
    }
    starts.reverse();
    starts
}

/// What kind of boundary the punctuation at the end of a word marks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Punctuation {
    None,
    /// `,` `;` `:` or a dash: a clause boundary.
    Clause,
    /// `.` `?` `!` `…`: a sentence boundary.
    Sentence,
}

/// Classifies the punctuation a word ends with, looking through closing quotes and brackets.
/// Titles and initials ("Mr.", "Dr.", "J.") do not end sentences.
pub(crate) fn punctuation_after(word: &str) -> Punctuation {
    let trimmed = word.trim_end_matches(['"', '\'', ')', ']', '”', '’', '»']);
    if clipforge_core::ends_sentence(word) && !is_abbreviation(trimmed) {
        Punctuation::Sentence
    } else if trimmed.ends_with([',', ';', ':', '–', '—', '，', '、', '；', '：']) {
        Punctuation::Clause
    } else {
        Punctuation::None
    }
}

/// Whether a word belongs with the word after it (articles, common prepositions and
/// conjunctions, possessives), so a line or cue should not end on it.
pub(crate) fn leans_on_next(word: &str) -> bool {
    const LEANING: &[&str] = &[
        "a", "an", "the", "to", "of", "in", "on", "at", "for", "with", "by", "from", "into", "and",
        "or", "but", "my", "your", "his", "her", "its", "our", "their",
    ];
    word.chars().all(char::is_alphabetic) && LEANING.contains(&word.to_lowercase().as_str())
}

/// Words with a full stop that rarely end a sentence: titles, Latin short forms, initials.
fn is_abbreviation(word: &str) -> bool {
    const ABBREVIATIONS: &[&str] = &[
        "mr.", "mrs.", "ms.", "dr.", "prof.", "st.", "jr.", "sr.", "vs.", "e.g.", "i.e.", "cf.",
    ];
    let bare = word.trim_start_matches(['"', '\'', '(', '[', '“', '‘', '«']);
    let lower = bare.to_lowercase();
    let initial = {
        let mut chars = bare.chars();
        matches!((chars.next(), chars.next(), chars.next()), (Some(c), Some('.'), None) if c.is_uppercase())
    };
    initial || ABBREVIATIONS.contains(&lower.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(text: &str) -> Vec<&str> {
        text.split_whitespace().collect()
    }

    #[test]
    fn short_text_stays_on_one_line() {
        assert_eq!(
            layout(&split("Hello there."), 42, 2).unwrap(),
            vec!["Hello there."]
        );
        let exactly_42 = "aaaaaaaaa bbbbbbbbb ccccccccc ddddddddd ee";
        assert_eq!(char_len(exactly_42), 42);
        assert_eq!(layout(&split(exactly_42), 42, 2).unwrap(), vec![exactly_42]);
    }

    #[test]
    fn two_lines_come_out_balanced() {
        let text = "and mister john dashwood had then leisure to consider how much there might be";
        let lines = layout(&split(text), 42, 2).unwrap();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines.join(" "), text);
        let (a, b) = (char_len(&lines[0]) as i64, char_len(&lines[1]) as i64);
        assert!(a <= 42 && b <= 42);
        // 41 | 35 is the most even split: 33 | 43 would overflow the second line.
        assert_eq!((a, b), (41, 35), "{lines:?}");
    }

    #[test]
    fn breaks_after_punctuation_when_it_costs_little_balance() {
        // 18 | 33 characters after the comma beats 22 | 29 without punctuation ...
        let text = "When we got there, the museum was closed for the day";
        let lines = layout(&split(text), 42, 2).unwrap();
        assert_eq!(
            lines,
            vec!["When we got there,", "the museum was closed for the day"]
        );
        // ... but 18 | 41 does not beat an even 29 | 30.
        let text = "When we got there, the museum had already closed for the day";
        let lines = layout(&split(text), 42, 2).unwrap();
        assert_eq!(
            lines,
            vec![
                "When we got there, the museum",
                "had already closed for the day"
            ]
        );
    }

    #[test]
    fn lines_do_not_end_on_a_word_that_leans_on_the_next() {
        // Evenest would be 31 | 35 after "at", or after "the"; a line ends on neither.
        let text = "She said that we should meet at the station before the train leaves";
        let lines = layout(&split(text), 42, 2).unwrap();
        assert_eq!(
            lines,
            vec![
                "She said that we should meet",
                "at the station before the train leaves"
            ]
        );
        assert!(leans_on_next("The") && leans_on_next("of") && !leans_on_next("dog"));
        assert!(!leans_on_next("a.") && !leans_on_next("and,"));
    }

    #[test]
    fn too_much_text_does_not_fit() {
        let text = "word ".repeat(20);
        assert!(layout(&split(&text), 42, 2).is_none());
        // Eight four-letter words make a 39-character line; nine would need 44.
        assert!(!fits(&[4; 17], 42, 2));
        assert!(fits(&[4; 16], 42, 2));
    }

    #[test]
    fn overlong_word_gets_a_line_of_its_own() {
        let long = "Pneumonoultramicroscopicsilicovolcanoconiosis-like";
        assert!(char_len(long) > 42);
        assert_eq!(layout(&[long], 42, 2).unwrap(), vec![long]);
        let lines = layout(&["a", long], 42, 2).unwrap();
        assert_eq!(lines, vec!["a".to_string(), long.to_string()]);
        assert!(layout(&["a", long, "b"], 42, 2).is_none());
        assert!(layout(&["a", long, "b"], 42, 3).is_some());
    }

    #[test]
    fn three_lines_are_balanced_too() {
        let text = "one two three four five six seven eight nine ten eleven twelve";
        let lines = layout(&split(text), 22, 3).unwrap();
        assert_eq!(lines.len(), 3);
        assert_eq!(lines.join(" "), text);
        let lens: Vec<_> = lines.iter().map(|l| char_len(l)).collect();
        assert!(lens.iter().all(|&l| l <= 22), "{lines:?}");
        assert!(
            lens.iter().max().unwrap() - lens.iter().min().unwrap() <= 6,
            "{lines:?}"
        );
    }

    #[test]
    fn counts_characters_not_bytes() {
        let text = "über straße café naïve résumé déjà vu jalapeño piñata señor";
        assert!(text.len() > 60 && char_len(text) == 59);
        assert_eq!(layout(&split(text), 59, 1).unwrap(), vec![text]);
    }

    #[test]
    fn classifies_punctuation() {
        assert_eq!(punctuation_after("end."), Punctuation::Sentence);
        assert_eq!(punctuation_after("really?\""), Punctuation::Sentence);
        assert_eq!(punctuation_after("well,"), Punctuation::Clause);
        assert_eq!(punctuation_after("(aside);"), Punctuation::Clause);
        assert_eq!(punctuation_after("word"), Punctuation::None);
        assert_eq!(punctuation_after("Mr."), Punctuation::None);
        assert_eq!(punctuation_after("(e.g."), Punctuation::None);
        assert_eq!(punctuation_after("J."), Punctuation::None);
        assert_eq!(punctuation_after("I."), Punctuation::None);
        assert_eq!(punctuation_after("me."), Punctuation::Sentence);
    }
}
