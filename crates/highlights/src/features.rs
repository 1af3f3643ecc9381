//! Scoring features: each reads a window of sentences and returns 0–1 with the facts
//! behind it, so a score can always be explained.

use crate::analysis::Analysis;
use crate::boundaries::Boundaries;
use crate::candidates::Window;
use crate::lexicon::{self, contains_phrase, starts_with_phrase};
use crate::sentences::{Sentence, SentenceEnd, Sentences};
use crate::topics::{Topics, VectorSums};

/// Kinds of hook an opening sentence can carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HookKind {
    Question,
    BoldClaim,
    Number,
    Contrarian,
    Story,
}

impl HookKind {
    pub fn describe(self) -> &'static str {
        match self {
            HookKind::Question => "Opens with a question",
            HookKind::BoldClaim => "Opens with a bold claim",
            HookKind::Number => "Opens with a number or statistic",
            HookKind::Contrarian => "Opens by challenging a common belief",
            HookKind::Story => "Opens a story",
        }
    }

    /// The same fact as a clause of a reason.
    pub fn reason(self) -> &'static str {
        match self {
            HookKind::Question => "opens with a question",
            HookKind::BoldClaim => "opens with a bold claim",
            HookKind::Number => "opens with a striking number",
            HookKind::Contrarian => "challenges a common belief",
            HookKind::Story => "opens a story",
        }
    }
}

/// What the text features need to know about one sentence, computed once.
#[derive(Debug, Clone)]
pub struct SentenceInfo {
    pub tokens: Vec<String>,
    pub hook: f64,
    pub hooks: Vec<HookKind>,
    /// Cosine to the nearest example hook (0 until measured).
    pub hook_closeness: f64,
    /// Sum of emotion-word weights plus exclamations.
    pub emotion: f64,
    pub laughter: bool,
    pub dangling_start: bool,
    /// Starts with a word that carries on the previous sentence ("and", "but", "so").
    pub continues: bool,
    pub back_reference: bool,
    pub conclusive: bool,
    pub question: bool,
    /// Filler words and phrases.
    pub fillers: usize,
    pub housekeeping: bool,
    /// Silence between this sentence's words, total and longest.
    pub inner_gaps: f64,
    pub longest_gap: f64,
}

impl SentenceInfo {
    pub fn new(sentences: &Sentences, sentence: &Sentence) -> Self {
        let tokens = lexicon::tokens(&sentence.text);
        let text = sentence.text.trim_end();
        let question = text.ends_with('?');
        let (hook, hooks) = hook_of(&tokens, question);
        let mut emotion: f64 = tokens
            .iter()
            .filter_map(|t| {
                lexicon::EMOTION_WORDS
                    .iter()
                    .find(|(w, _)| w == t)
                    .map(|(_, weight)| *weight)
            })
            .sum();
        emotion += 0.5 * text.matches('!').count() as f64;
        let lower = sentence.text.to_lowercase();
        let laughter = lexicon::LAUGHTER.iter().any(|l| lower.contains(l));
        let opens = |list: &[&str]| list.iter().any(|p| starts_with_phrase(&tokens, p));
        let continues = opens(lexicon::CONTINUATIONS);
        // "When he finally slept": a pronoun right after a linking word leans on an
        // earlier sentence just as a leading pronoun does.
        let linked_pronoun = tokens.len() > 2
            && lexicon::LINKS.contains(&tokens[0].as_str())
            && tokens[1..3]
                .iter()
                .any(|t| lexicon::PRONOUNS.contains(&t.as_str()));
        // "Everyone says that, and...": a pronoun closing a clause points back at
        // something said before.
        let closing_pronoun = sentence.text.split_whitespace().take(8).any(|w| {
            w.ends_with([',', '.', ';', '!', '?'])
                && matches!(
                    lexicon::normalize(w).as_str(),
                    "that" | "this" | "it" | "them" | "those"
                )
        });
        // "By the end, he could not...": a person named only by a pronoun right after a
        // short opening phrase was introduced earlier.
        // A clause with a subject of its own ("When researchers measured it, they...")
        // introduces its pronoun, so only a short phrase without a linking word counts.
        let fronted_pronoun = {
            let words: Vec<&str> = sentence.text.split_whitespace().take(5).collect();
            let opens_clause = tokens
                .first()
                .is_some_and(|t| lexicon::LINKS.contains(&t.as_str()));
            words
                .iter()
                .take(3)
                .position(|w| w.ends_with(','))
                .filter(|_| !opens_clause)
                .and_then(|comma| words.get(comma + 1))
                .is_some_and(|w| {
                    matches!(
                        lexicon::normalize(w).as_str(),
                        "he" | "she" | "they" | "him" | "her" | "them" | "his" | "their"
                    )
                })
        };
        let dangling_start = continues
            || opens(lexicon::REFERENCES)
            || linked_pronoun
            || closing_pronoun
            || fronted_pronoun;
        let back_reference = lexicon::BACK_REFERENCES
            .iter()
            .any(|p| contains_phrase(&tokens, p));
        let conclusive = !question
            && lexicon::CONCLUSIONS
                .iter()
                .any(|p| contains_phrase(&tokens, p));
        let fillers = tokens
            .iter()
            .filter(|t| lexicon::FILLERS.contains(&t.as_str()))
            .count()
            + lexicon::FILLER_PHRASES
                .iter()
                .filter(|p| contains_phrase(&tokens, p))
                .count();
        let housekeeping = lexicon::HOUSEKEEPING
            .iter()
            .any(|p| contains_phrase(&tokens, p));
        let words = &sentences.words[sentence.words.clone()];
        let gaps = words.windows(2).map(|p| (p[1].start - p[0].end).max(0.0));
        let (inner_gaps, longest_gap) = gaps.fold((0.0, 0.0), |(sum, max): (f64, f64), g| {
            (sum + g, max.max(g))
        });
        Self {
            tokens,
            hook,
            hooks,
            hook_closeness: 0.0,
            emotion,
            laughter,
            dangling_start,
            continues,
            back_reference,
            conclusive,
            question,
            fillers,
            housekeeping,
            inner_gaps,
            longest_gap,
        }
    }
}

impl SentenceInfo {
    /// Folds in how close the sentence's meaning is (cosine) to the nearest example hook:
    /// catches hooks phrased in words no list holds.
    pub fn add_semantic_hook(&mut self, closeness: f64) {
        self.hook_closeness = closeness;
        // Short sentences and replies match examples on a word or two; only full
        // sentences that stand on their own qualify.
        if self.tokens.len() < 7 || self.dangling_start || self.question {
            return;
        }
        let semantic =
            0.6 * ((closeness - SEMANTIC_HOOK_FLOOR) / SEMANTIC_HOOK_SPAN).clamp(0.0, 1.0);
        if semantic > self.hook {
            self.hook = semantic;
        }
        if semantic >= 0.3 && self.hooks.is_empty() {
            self.hooks.push(HookKind::BoldClaim);
        }
    }
}

/// Closeness to the example hooks below which a sentence gets no semantic hook credit,
/// and the span above it that earns full credit.
const SEMANTIC_HOOK_FLOOR: f64 = 0.42;
const SEMANTIC_HOOK_SPAN: f64 = 0.2;

/// A short flat denial about a thing, not about the speaker: "Open offices do not make
/// people talk more." "Your coffee is not why you are broke."
fn denies_a_belief(tokens: &[String]) -> bool {
    const NEGATIONS: &[&str] = &[
        "not", "don't", "doesn't", "isn't", "aren't", "won't", "can't", "never",
    ];
    const PERSONAL: &[&str] = &[
        "i", "we", "you", "it", "that", "this", "there", "he", "she", "they", "i'm", "it's",
        "that's", "well", "so", "and", "but", "no", "yeah",
    ];
    let short = (5..=14).contains(&tokens.len());
    let about_a_thing = tokens
        .first()
        .is_some_and(|t| !PERSONAL.contains(&t.as_str()));
    // The negation comes early, and nobody is its subject: "By the end, he could not
    // finish" tells a story, it denies no belief.
    let negation = tokens
        .iter()
        .take(6)
        .skip(1)
        .position(|t| NEGATIONS.contains(&t.as_str()));
    let denies = negation.is_some_and(|n| {
        !tokens[..=n]
            .iter()
            .any(|t| PERSONAL.contains(&t.as_str()) || lexicon::PRONOUNS.contains(&t.as_str()))
    });
    short && about_a_thing && denies
}

/// Whether a story opener ("one day", "years ago") occurs in `head` as a time, not as
/// a rate ("one day a week").
fn opens_a_story(head: &[String]) -> bool {
    lexicon::STORY_OPENERS.iter().any(|phrase| {
        let n = phrase.split(' ').count();
        (0..head.len()).any(|i| starts_with_phrase(&head[i..], phrase) && !is_rate(&head[i + n..]))
    })
}

/// Whether words following a time make it a rate: "(one day) a week", "(one day) per
/// month".
fn is_rate(rest: &[String]) -> bool {
    const UNITS: &[&str] = &["day", "week", "month", "year", "night", "morning", "time"];
    match rest.first().map(String::as_str) {
        Some("per" | "each" | "every") => true,
        Some("a" | "an") => rest.get(1).is_some_and(|u| UNITS.contains(&u.as_str())),
        _ => false,
    }
}

/// Whether a word is a year ("1964") or a decade ("1990s").
fn is_year(word: &str) -> bool {
    let digits = word.strip_suffix('s').unwrap_or(word);
    digits.len() == 4
        && digits.chars().all(|c| c.is_ascii_digit())
        && (1500..2100).contains(&digits.parse::<u32>().unwrap_or(0))
}

/// A story set at a date: "In 1964, a student...", "Back in 2008 we...".
fn opens_at_a_date(tokens: &[String]) -> bool {
    let lead = matches!(
        tokens.first().map(String::as_str),
        Some("in" | "back" | "during" | "around")
    );
    (lead && tokens.iter().skip(1).take(4).any(|t| is_year(t)))
        || tokens.first().is_some_and(|t| is_year(t))
}

/// A short sweeping statement about a whole class of things: "Most meetings should be
/// documents." "Every diet fails the same way."
fn quantified_claim(tokens: &[String], question: bool) -> bool {
    const QUANTIFIERS: &[&str] = &["most", "every", "all", "no", "almost", "nearly"];
    let Some(first) = tokens.first() else {
        return false;
    };
    let subject = tokens
        .iter()
        .skip(1)
        .find(|t| !matches!(t.as_str(), "every" | "all" | "of" | "the"));
    !question
        && (4..=14).contains(&tokens.len())
        && QUANTIFIERS.contains(&first.as_str())
        && subject
            .is_some_and(|t| !lexicon::is_stop_word(t) && !lexicon::PRONOUNS.contains(&t.as_str()))
}

/// How strongly a sentence hooks a listener, and why.
fn hook_of(tokens: &[String], question: bool) -> (f64, Vec<HookKind>) {
    let mut kinds = Vec::new();
    let mut score: f64 = 0.0;
    let any = |list: &[&str]| list.iter().any(|p| contains_phrase(tokens, p));
    // Openers count in the first few words only.
    let head = &tokens[..tokens.len().min(8)];
    let opens = |list: &[&str]| list.iter().any(|p| contains_phrase(head, p));
    // A short question is usually a reply in conversation ("And how did it go?"), not
    // a hook.
    if question || opens(lexicon::QUESTION_OPENERS) {
        kinds.push(HookKind::Question);
        score += if question && tokens.len() >= 6 {
            0.55
        } else if question {
            0.2
        } else {
            0.35
        };
    }
    if any(lexicon::BOLD_CLAIMS)
        || starts_with_phrase(tokens, "here's")
        || starts_with_phrase(tokens, "here is")
        || quantified_claim(tokens, question)
    {
        kinds.push(HookKind::BoldClaim);
        score += 0.35;
    }
    if tokens.iter().any(|t| lexicon::is_number(t)) || any(lexicon::STATISTICS) {
        kinds.push(HookKind::Number);
        score += 0.3;
    }
    if any(lexicon::CONTRARIAN) || denies_a_belief(tokens) {
        kinds.push(HookKind::Contrarian);
        score += 0.3;
    }
    if opens_a_story(head) || opens_at_a_date(tokens) {
        kinds.push(HookKind::Story);
        score += 0.35;
    }
    if !kinds.is_empty() {
        // Talking to the listener and keeping it short both sharpen a hook.
        if tokens.iter().any(|t| t == "you" || t == "your") {
            score += 0.1;
        }
        if tokens.len() <= 14 {
            score += 0.1;
        }
    }
    (score.min(1.0), kinds)
}

/// The features of one window, each 0–1, and the facts a reason can cite.
#[derive(Debug, Clone, Default)]
pub struct WindowFeatures {
    pub hook: f64,
    pub emotion: f64,
    pub topic_similarity: f64,
    pub completeness: f64,
    pub pacing: f64,
    pub visual: f64,
    pub hooks: Vec<HookKind>,
    pub loud: bool,
    pub laughter: bool,
    pub conclusive_end: bool,
    pub clean_start: bool,
    pub starts_topic: bool,
    pub spans_topic_change: bool,
    pub back_reference: bool,
    pub housekeeping: bool,
    pub words_per_minute: f64,
    pub longest_pause: f64,
    pub speakers: usize,
}

/// Everything the window features read, prepared once per video.
#[derive(Debug)]
pub struct Context<'a> {
    pub sentences: &'a Sentences,
    pub info: &'a [SentenceInfo],
    pub topics: &'a Topics,
    pub sums: &'a VectorSums,
    pub boundaries: &'a Boundaries,
    pub analysis: &'a Analysis,
    /// Typical speech level of the video, when the audio was analysed.
    pub speech_db: Option<f64>,
}

impl Context<'_> {
    pub fn features(&self, w: &Window) -> WindowFeatures {
        let s = &self.sentences.sentences;
        let info = &self.info[w.first..=w.last];
        let first = &self.info[w.first];
        let duration = w.duration().max(1e-6);
        let mut f = WindowFeatures::default();

        // Hook: the first sentence; a very short opener that is itself a hook ("Here's
        // the thing.") lends the second sentence most of its weight. A fragment ("Maybe
        // steps.") lends little: it is the tail of an earlier thought.
        let second = self.info.get(w.first + 1).filter(|_| w.last > w.first);
        let lend = match (first.tokens.len() < 8, first.hook > 0.0) {
            (true, true) => 0.8,
            (true, false) => 0.3,
            (false, _) => 0.4,
        };
        f.hook = first.hook.max(second.map_or(0.0, |i| lend * i.hook));
        f.hooks.clone_from(&first.hooks);
        if first.dangling_start {
            f.hook *= 0.6;
        }
        if self.opens_with_prompt(w) {
            f.hook *= 0.6;
        }

        // Emotion: emotion words per 100 words, plus loud delivery and laughter.
        let words: usize = info.iter().map(|i| i.tokens.len()).sum();
        let emotion_sum: f64 = info.iter().map(|i| i.emotion).sum();
        let density = emotion_sum / words.max(1) as f64 * 100.0;
        let lexical = 1.0 - (-density / 3.0).exp();
        f.laughter = info.iter().any(|i| i.laughter);
        let audio = self.loudness(w);
        f.loud = audio.is_some_and(|a| a > 0.7);
        f.emotion = match audio {
            Some(a) => 0.65 * lexical + 0.35 * a,
            None => lexical,
        };
        if f.laughter {
            f.emotion = (f.emotion + 0.15).min(1.0);
        }

        // Completeness: a clean start and a conclusive end, each judged by its words and
        // by the cut itself (pause, change of subject); one topic; no back references.
        f.starts_topic = w.first == 0 || self.topics.starts.contains(&w.first);
        let prev = w.first.checked_sub(1).map(|p| &s[p]);
        let start_words: f64 = if first.dangling_start {
            0.3
        } else if prev.is_some_and(|p| p.ends_by == SentenceEnd::Forced) {
            0.4
        } else {
            0.9
        };
        let b = self.boundaries;
        let sums = self.sums;
        let start_cut = b.start(self.sentences, sums, self.topics, w.first, w.last);
        // A hook is itself the opening of a new thought.
        let start = 0.5 * start_words + 0.5 * start_cut.max(first.hook);
        f.clean_start = start >= 0.75;

        let last = &self.info[w.last];
        let mut end_words: f64 = match s[w.last].ends_by {
            SentenceEnd::Forced => 0.2,
            _ if last.conclusive => 1.0,
            _ if last.question => 0.35,
            SentenceEnd::Punctuation | SentenceEnd::Last => 0.7,
            SentenceEnd::Pause | SentenceEnd::SpeakerTurn => 0.6,
        };
        // A thought that carries on in the next sentence is not finished.
        if let Some(next) = self.info.get(w.last + 1) {
            let same_speaker = self.boundaries.turn_after(self.sentences, w.last) < 0.5;
            if next.continues && same_speaker && s[w.last].pause_after < 1.0 {
                end_words *= 0.6;
            }
        }
        if last.tokens.len() <= 2 {
            end_words *= 0.7;
        }
        let end_cut = b.end(self.sentences, sums, self.topics, w.first, w.last);
        let mut end = 0.5 * end_words + 0.5 * end_cut;
        // The point was made before a reply that the clip trails into.
        if self.trails_into_reply(w) {
            end *= 0.85;
        }
        f.conclusive_end = last.conclusive;

        let inside = self.topics.inside(w.first, w.last);
        f.spans_topic_change = self.topics.spans_boundary(w.first, w.last);
        f.back_reference = info.iter().any(|i| i.back_reference);
        f.housekeeping = info.iter().any(|i| i.housekeeping);
        let mut completeness = (0.5 * start + 0.5 * end) * (1.0 - 0.4 * inside);
        if f.back_reference {
            completeness *= 0.5;
        }
        f.completeness = completeness.clamp(0.0, 1.0);

        // Pacing: a lively rate, little dead air, few fillers.
        let gaps_between: f64 = (w.first..w.last).map(|i| s[i].pause_after).sum::<f64>();
        let gaps_inside: f64 = info.iter().map(|i| i.inner_gaps).sum();
        let longest = (w.first..w.last)
            .map(|i| s[i].pause_after)
            .chain(info.iter().map(|i| i.longest_gap))
            .fold(0.0, f64::max);
        f.longest_pause = longest;
        f.words_per_minute = words as f64 / duration * 60.0;
        let rate = rate_score(f.words_per_minute);
        let pause_ratio = (gaps_between + gaps_inside) / duration;
        let fillers: usize = info.iter().map(|i| i.fillers).sum();
        let fillers_per_100 = fillers as f64 / words.max(1) as f64 * 100.0;
        f.pacing = (rate
            - 0.8 * (pause_ratio - 0.15).max(0.0)
            - 0.25 * (longest - 1.5).max(0.0)
            - 0.04 * fillers_per_100)
            .clamp(0.0, 1.0);

        f.visual = self
            .analysis
            .visual
            .as_ref()
            .map_or(0.5, |v| v.score(w.start, w.end));

        let mut speakers: Vec<Option<u32>> =
            s[w.first..=w.last].iter().map(|x| x.speaker).collect();
        speakers.sort_unstable();
        speakers.dedup();
        f.speakers = speakers.len();
        f
    }

    /// Whether the window opens with a question that another speaker answers and that
    /// only prompts the moment: an interviewer's prompt sets up the moment but is not
    /// the hook a rhetorical question is, and the answer usually opens the clip better.
    /// A question and one whole answer is the exception when the question stands on its
    /// own ("What is the one question a couple should ask before moving in?"): that is
    /// the classic interview clip, and the question is its hook.
    fn opens_with_prompt(&self, w: &Window) -> bool {
        let s = &self.sentences.sentences;
        let turns = |range: std::ops::Range<usize>| {
            range
                .into_iter()
                .filter(|&i| self.boundaries.turn_after(self.sentences, i) > 0.5)
        };
        let limit = (w.first + 2).min(w.last.saturating_sub(1));
        let Some(turn) = turns(w.first..limit + 1).find(|&i| i < w.last) else {
            return false;
        };
        let asking = &self.info[w.first..=turn];
        if !asking.iter().any(|i| i.question)
            || s[turn].end - s[w.first].start >= 0.3 * w.duration()
        {
            return false;
        }
        let one_answer = turns(turn + 1..w.last).next().is_none();
        let stands_alone = asking.iter().all(|i| {
            !i.dangling_start
                && !i
                    .tokens
                    .iter()
                    .any(|t| lexicon::PRONOUNS.contains(&t.as_str()))
        }) && asking.iter().map(|i| i.tokens.len()).sum::<usize>()
            >= PROMPT_WORDS;
        !(one_answer && stands_alone)
    }

    /// Whether the speaker changes in the last 40 % of the window: the clip runs on
    /// past the end of one speaker's point into the other's reaction.
    fn trails_into_reply(&self, w: &Window) -> bool {
        let s = &self.sentences.sentences;
        let late = w.start + 0.6 * w.duration();
        (w.first..w.last)
            .any(|i| s[i].end >= late && self.boundaries.turn_after(self.sentences, i) > 0.5)
    }

    /// How much louder than the video's typical speech the window is, 0–1 (0.5 = as
    /// loud as usual), or `None` without an audio profile.
    fn loudness(&self, w: &Window) -> Option<f64> {
        let audio = self.analysis.audio.as_ref()?;
        let typical = self.speech_db?;
        let peak = audio.level_exceeded_by(w.start, w.end, 0.1)?;
        let mean = audio.mean_db(w.start, w.end)?;
        let lift = 0.5 * (peak - typical) + 0.5 * (mean - typical);
        Some((0.5 + lift / 12.0).clamp(0.0, 1.0))
    }
}

/// A question shorter than this that another voice answers is a prompt, however it is
/// answered.
const PROMPT_WORDS: usize = 9;

/// 1 for a lively but followable rate (130–190 words a minute), falling to 0 at 70 and
/// at 260.
fn rate_score(wpm: f64) -> f64 {
    if wpm < 130.0 {
        ((wpm - 70.0) / 60.0).clamp(0.0, 1.0)
    } else if wpm <= 190.0 {
        1.0
    } else {
        (1.0 - (wpm - 190.0) / 70.0).clamp(0.0, 1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hook(text: &str) -> (f64, Vec<HookKind>) {
        let tokens = lexicon::tokens(text);
        hook_of(&tokens, text.ends_with('?'))
    }

    #[test]
    fn hooks_are_recognised_by_kind() {
        assert!(hook("Why do most diets fail?")
            .1
            .contains(&HookKind::Question));
        assert!(hook("Here's the thing about sleep.")
            .1
            .contains(&HookKind::BoldClaim));
        assert!(hook("Ninety percent of startups fail.")
            .1
            .contains(&HookKind::Number));
        assert!(hook("Most people get this completely wrong.")
            .1
            .contains(&HookKind::Contrarian));
        assert!(hook("I remember the day I quit my job.")
            .1
            .contains(&HookKind::Story));
        assert!(hook("Open offices do not make people talk more.")
            .1
            .contains(&HookKind::Contrarian));
        assert!(!hook("I do not know what to say here.")
            .1
            .contains(&HookKind::Contrarian));
        assert!(
            hook("In 1964, a 17-year-old student decided to stay awake.")
                .1
                .contains(&HookKind::Story)
        );
        assert!(!hook("We picked one day a week and kept it free.")
            .1
            .contains(&HookKind::Story));
        assert!(hook("One day a stranger knocked on my door.")
            .1
            .contains(&HookKind::Story));
        assert!(hook("Back in the 1990s we had no phones.")
            .1
            .contains(&HookKind::Story));
        assert!(hook("Most meetings should be documents.")
            .1
            .contains(&HookKind::BoldClaim));
        assert!(!hook("Most of it helped for about a week.")
            .1
            .contains(&HookKind::BoldClaim));
        assert!(!hook("By the end, he could not finish a simple sentence.")
            .1
            .contains(&HookKind::Contrarian));
        let (plain, kinds) = hook("We had lunch and then we went to the office.");
        assert_eq!(plain, 0.0);
        assert!(kinds.is_empty());
    }

    fn info(text: &str) -> SentenceInfo {
        let words = text
            .split_whitespace()
            .enumerate()
            .map(|(i, w)| crate::sentences::TimedWord {
                start: i as f64 * 0.4,
                end: i as f64 * 0.4 + 0.3,
                text: w.into(),
                speaker: None,
            })
            .collect();
        let s = Sentences::from_words(words, 60.0);
        SentenceInfo::new(&s, &s.sentences[0])
    }

    #[test]
    fn openers_that_lean_on_earlier_talk_dangle() {
        assert!(info("When he finally slept, he slept for forty hours.").dangling_start);
        assert!(info("And then we left.").continues);
        assert!(info("That is a great image.").dangling_start);
        assert!(!info("That is a great image.").continues);
        assert!(!info("When researchers measured sleep, they found a pattern.").dangling_start);
        assert!(!info("Sleep is the night shift of cleaning crews.").dangling_start);
        assert!(
            info("I feel like everyone says that, and nobody changes anything.").dangling_start
        );
        assert!(!info("I feel that sleep matters more than food.").dangling_start);
        assert!(info("By the end, he could not finish a simple sentence.").dangling_start);
        assert!(!info("By the end, most people had left the room.").dangling_start);
    }

    #[test]
    fn stronger_hooks_score_higher() {
        let question = hook("Have you ever wondered why you wake up tired?").0;
        let weak = hook("The weather was fine on the way in today as usual.").0;
        assert!(question > 0.5, "{question}");
        assert!(weak < 0.1);
    }

    #[test]
    fn rate_score_peaks_in_the_lively_band() {
        assert_eq!(rate_score(160.0), 1.0);
        assert!(rate_score(100.0) < 1.0 && rate_score(100.0) > 0.0);
        assert_eq!(rate_score(40.0), 0.0);
        assert_eq!(rate_score(300.0), 0.0);
    }
}
