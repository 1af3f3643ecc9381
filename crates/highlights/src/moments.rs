//! The moment finder: prepares a transcript once (sentences, embeddings, topics), then
//! scores every candidate window, keeps a diverse best few, and dresses them as
//! suggestions.

use clipforge_core::{
    ClipSuggestion, RankedBy, ScoreBreakdown, ScoreWeights, SuggestParams, Transcript,
};

use crate::analysis::Analysis;
use crate::boundaries::Boundaries;
use crate::candidates::{self, Window};
use crate::features::{Context, SentenceInfo, WindowFeatures};
use crate::lexicon::{self, contains_phrase};
use crate::score::{self, LONG_PAUSE_LIMIT};
use crate::sentences::Sentences;
use crate::text::{self, Vocabulary};
use crate::topics::{cosine, percentile, Topics, VectorSums};
use crate::{Embedder, HighlightsError};

/// Two suggestions may share at most this share of the shorter one.
const MAX_OVERLAP: f64 = 0.3;
/// Points a candidate loses, while picking, for each clip already taken from its topic
/// segment: spreads suggestions across the video without hiding a strong second clip.
const SAME_TOPIC_PENALTY: f64 = 6.0;
/// How many sentences a picked clip's start may move while it is trimmed, and by how
/// many points a new start must beat the picked one.
const START_SHIFT: usize = 2;
const START_MARGIN: f64 = 0.5;

/// The result of one suggestion run.
#[derive(Debug, Clone)]
pub struct SuggestOutcome {
    /// Best first.
    pub suggestions: Vec<ClipSuggestion>,
    /// Why there are no (or fewer) suggestions, in words a user can act on.
    pub message: Option<String>,
    /// Windows scored.
    pub candidates: usize,
    /// Topic segments found.
    pub topics: usize,
}

/// A transcript prepared for scoring.
#[derive(Debug)]
pub struct Moments {
    params: SuggestParams,
    weights: ScoreWeights,
    sentences: Sentences,
    info: Vec<SentenceInfo>,
    embeddings: Vec<Vec<f32>>,
    sums: VectorSums,
    topics: Topics,
    boundaries: Boundaries,
    vocabulary: Vocabulary,
    analysis: Analysis,
    speech_db: Option<f64>,
    keyword_tokens: Vec<Vec<String>>,
    keyword_vectors: Vec<Vec<f32>>,
    /// Running sums of word-weighted sentence closeness to the video, and of words.
    relevance: Vec<f64>,
    words_before: Vec<f64>,
    /// Every candidate window, in order of first then last sentence.
    windows: Vec<Window>,
    /// Window topic similarity mapped to 0 and 1.
    topic_scale: (f64, f64),
}

impl Moments {
    /// Splits, embeds and segments the transcript.
    pub fn prepare(
        transcript: &Transcript,
        params: &SuggestParams,
        analysis: Analysis,
        embedder: &dyn Embedder,
    ) -> Result<Self, HighlightsError> {
        params.validate().map_err(HighlightsError::Params)?;
        transcript
            .validate()
            .map_err(|e| HighlightsError::Transcript(e.to_string()))?;
        let sentences = Sentences::from_transcript(transcript);
        let info: Vec<SentenceInfo> = sentences
            .sentences
            .iter()
            .map(|s| SentenceInfo::new(&sentences, s))
            .collect();
        let texts: Vec<&str> = sentences
            .sentences
            .iter()
            .map(|s| s.text.as_str())
            .collect();
        let embeddings = embedder.embed(&texts)?;
        if embeddings.len() != texts.len() {
            return Err(HighlightsError::Embed(format!(
                "{} returned {} vectors for {} sentences",
                embedder.name(),
                embeddings.len(),
                texts.len()
            )));
        }
        let word_counts: Vec<usize> = sentences.sentences.iter().map(|s| s.word_count()).collect();
        let weights: Vec<f64> = word_counts.iter().map(|&w| w as f64).collect();
        let sums = VectorSums::new(&embeddings, &weights);
        let topics = Topics::segment(&embeddings, &word_counts);
        let boundaries = Boundaries::new(&sentences, &sums, analysis.voice.as_ref());
        let vocabulary = Vocabulary::new(info.iter().map(|i| i.tokens.as_slice()));
        let keywords: Vec<&str> = params
            .keywords
            .iter()
            .map(|k| k.trim())
            .filter(|k| !k.is_empty())
            .collect();
        let keyword_vectors = embedder.embed(&keywords)?;
        let keyword_tokens = keywords.iter().map(|k| lexicon::tokens(k)).collect();
        let speech_db = analysis.audio.as_ref().and_then(|a| a.speech_median_db());
        let (mut relevance, mut words_before) = (vec![0.0], vec![0.0]);
        for (e, &n) in embeddings.iter().zip(&word_counts) {
            let n = n as f64;
            relevance
                .push(relevance.last().copied().unwrap_or(0.0) + n * cosine(e, &topics.centroid));
            words_before.push(words_before.last().copied().unwrap_or(0.0) + n);
        }
        let examples = embedder.embed(lexicon::HOOK_EXAMPLES)?;
        let mut info = info;
        for (i, e) in info.iter_mut().zip(&embeddings) {
            let closeness = examples.iter().map(|x| cosine(e, x)).fold(0.0, f64::max);
            i.add_semantic_hook(closeness);
        }
        let windows = candidates::windows(&sentences, params.min_duration, params.max_duration);
        let mut moments = Self {
            params: params.clone(),
            weights: score::effective_weights(params),
            sentences,
            info,
            embeddings,
            sums,
            topics,
            boundaries,
            vocabulary,
            analysis,
            speech_db,
            keyword_tokens,
            keyword_vectors,
            relevance,
            words_before,
            windows,
            topic_scale: (0.0, 1.0),
        };
        moments.topic_scale = moments.topic_scale();
        Ok(moments)
    }

    pub fn sentences(&self) -> &Sentences {
        &self.sentences
    }

    pub fn topics(&self) -> &Topics {
        &self.topics
    }

    fn context(&self) -> Context<'_> {
        Context {
            sentences: &self.sentences,
            info: &self.info,
            topics: &self.topics,
            sums: &self.sums,
            boundaries: &self.boundaries,
            analysis: &self.analysis,
            speech_db: self.speech_db,
        }
    }

    /// Mean closeness of a window's sentences to the whole video, weighted by words (the
    /// mean of cosines, not the cosine of the mean, which would favour long windows).
    fn topic_similarity(&self, w: &Window) -> f64 {
        let (r, n) = (&self.relevance, &self.words_before);
        (r[w.last + 1] - r[w.first]) / (n[w.last + 1] - n[w.first]).max(1.0)
    }

    /// The 10th and 90th percentile of the windows' similarity to the video: windows are
    /// rescaled between them, so topic 1 means as central as the most central tenth.
    fn topic_scale(&self) -> (f64, f64) {
        let mut sims: Vec<f64> = self
            .windows
            .iter()
            .map(|w| self.topic_similarity(w))
            .collect();
        if sims.len() < 2 {
            return (0.0, 1.0);
        }
        sims.sort_by(f64::total_cmp);
        let (lo, hi) = (percentile(&sims, 0.1), percentile(&sims, 0.9));
        if hi - lo < 1e-6 {
            (lo - 1.0, hi)
        } else {
            (lo, hi)
        }
    }

    /// Topic score 0–1 and the keywords the window mentions.
    fn topic(&self, w: &Window) -> (f64, Vec<String>) {
        let (lo, hi) = self.topic_scale;
        let base = ((self.topic_similarity(w) - lo) / (hi - lo)).clamp(0.0, 1.0);
        if self.keyword_tokens.is_empty() {
            return (base, Vec::new());
        }
        let tokens: Vec<String> = self.info[w.first..=w.last]
            .iter()
            .flat_map(|i| i.tokens.iter().cloned())
            .collect();
        let mentioned: Vec<String> = self
            .keyword_tokens
            .iter()
            .zip(&self.params.keywords)
            .filter(|(k, _)| !k.is_empty() && contains_phrase(&tokens, &k.join(" ")))
            .map(|(_, name)| name.trim().to_string())
            .collect();
        let v = self.sums.sum(w.first, w.last + 1);
        let closeness = self
            .keyword_vectors
            .iter()
            .map(|k| cosine(&v, k))
            .fold(0.0, f64::max);
        let keyword = if mentioned.is_empty() {
            (closeness / 0.6).clamp(0.0, 0.8)
        } else {
            1.0
        };
        (0.5 * base + 0.5 * keyword, mentioned)
    }

    fn breakdown(&self, w: &Window) -> (ScoreBreakdown, WindowFeatures, Vec<String>) {
        let f = self.context().features(w);
        let (topic, mentioned) = self.topic(w);
        let b = ScoreBreakdown {
            hook: round3(f.hook),
            emotion: round3(f.emotion),
            topic: round3(topic),
            completeness: round3(f.completeness),
            pacing: round3(f.pacing),
            visual: round3(f.visual),
        };
        (b, f, mentioned)
    }

    /// Scores a window and dresses it as a suggestion.
    pub fn suggestion(&self, w: &Window) -> ClipSuggestion {
        let (b, f, mentioned) = self.breakdown(w);
        let score = score::score(&b, &f, &self.weights);
        self.dress(w, b, &f, &mentioned, score)
    }

    /// Snaps an arbitrary range to whole sentences and scores it; `None` when no sentence
    /// lies in it or the snapped clip breaks the duration limits.
    pub fn resnap(&self, start: f64, end: f64) -> Option<ClipSuggestion> {
        let w = candidates::snap(&self.sentences, start, end)?;
        let d = w.duration();
        (d >= self.params.min_duration && d <= self.params.max_duration)
            .then(|| self.suggestion(&w))
    }

    /// Finds, scores and picks the best moments.
    pub fn suggest(&self) -> SuggestOutcome {
        self.suggest_up_to(self.params.max_suggestions)
    }

    /// Like [`suggest`](Self::suggest) with another limit on the number of suggestions
    /// (for a re-ranker that wants a wider choice than the user will see).
    pub fn suggest_up_to(&self, max: usize) -> SuggestOutcome {
        let p = &self.params;
        let none = |message: String| SuggestOutcome {
            suggestions: Vec::new(),
            message: Some(message),
            candidates: 0,
            topics: self.topics.starts.len() + usize::from(!self.sentences.is_empty()),
        };
        let Some(last) = self.sentences.sentences.last() else {
            return none("the transcript has no words, so there is nothing to clip".into());
        };
        let speech = last.end - self.sentences.sentences[0].start;
        if speech < p.min_duration {
            return none(format!(
                "the speech lasts {speech:.1} s, shorter than the minimum clip length of {} s; lower --min-duration to clip it",
                p.min_duration
            ));
        }
        let windows = &self.windows;
        if windows.is_empty() {
            return none(format!(
                "no run of whole sentences lasts between {} and {} s; widen the duration range",
                p.min_duration, p.max_duration
            ));
        }
        let mut scored: Vec<Scored> = Vec::with_capacity(windows.len());
        for w in windows {
            let (b, f, mentioned) = self.breakdown(w);
            if p.preferences.avoid_long_pauses && f.longest_pause > LONG_PAUSE_LIMIT {
                continue;
            }
            let s = score::score(&b, &f, &self.weights);
            scored.push((*w, s, b, f, mentioned));
        }
        let candidates = windows.len();
        let mut scored = best_end_per_start(scored);
        if scored.is_empty() {
            return SuggestOutcome {
                candidates,
                ..none(format!(
                    "every {}–{} s window holds a pause longer than {LONG_PAUSE_LIMIT} s; turn off avoid_long_pauses to allow them",
                    p.min_duration, p.max_duration
                ))
            };
        }
        let best = scored.iter().map(|c| c.1).fold(0.0, f64::max);
        scored.retain(|c| c.1 >= p.min_score);
        if scored.is_empty() {
            return SuggestOutcome {
                candidates,
                ..none(format!(
                    "no window scores {} or more (the best scores {best:.0}); lower --min-score",
                    p.min_score
                ))
            };
        }
        let mut picked = pick(&mut scored, &self.topics, max.max(1));
        for i in 0..picked.len() {
            if let Some(better) = self.refine_start(&picked, i) {
                picked[i] = better;
            }
        }
        let mut suggestions: Vec<ClipSuggestion> = picked
            .into_iter()
            .map(|(w, s, b, f, mentioned)| self.dress(&w, b, &f, &mentioned, s))
            .collect();
        suggestions.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then(a.start.total_cmp(&b.start))
        });
        SuggestOutcome {
            suggestions,
            message: None,
            candidates,
            topics: self.topics.starts.len() + 1,
        }
    }

    /// An editor who has found a moment then trims where it starts: the windows that
    /// end with the picked one and start up to [`START_SHIFT`] sentences earlier or later
    /// are compared on what the start changes (the hook and a clean cut), with the
    /// content features held at the picked window's values, so that adding or dropping
    /// a sentence cannot win on a wobble of topic or emotion. `None` when the picked
    /// start is best.
    fn refine_start(&self, picked: &[Scored], i: usize) -> Option<Scored> {
        let (w, _, b, _, _) = &picked[i];
        let p = &self.params;
        let same_content = |x: &ScoreBreakdown| ScoreBreakdown {
            emotion: b.emotion,
            topic: b.topic,
            pacing: b.pacing,
            visual: b.visual,
            ..*x
        };
        let judge = |c: &Scored| score::score(&same_content(&c.2), &c.3, &self.weights);
        let own = judge(&picked[i]);
        let lo = w.first.saturating_sub(START_SHIFT);
        let hi = (w.first + START_SHIFT).min(w.last);
        let mut best: Option<(f64, Scored)> = None;
        for first in (lo..=hi).filter(|&f| f != w.first) {
            let Some(alt) = self.window(first, w.last) else {
                continue;
            };
            let clashes = picked
                .iter()
                .enumerate()
                .any(|(j, o)| j != i && overlap(&o.0, &alt) > MAX_OVERLAP);
            if clashes {
                continue;
            }
            let (b, f, mentioned) = self.breakdown(&alt);
            if p.preferences.avoid_long_pauses && f.longest_pause > LONG_PAUSE_LIMIT {
                continue;
            }
            let s = score::score(&b, &f, &self.weights);
            if s < p.min_score {
                continue;
            }
            let c = (alt, s, b, f, mentioned);
            let value = judge(&c);
            if value > own + START_MARGIN && best.as_ref().is_none_or(|(v, _)| value > *v) {
                best = Some((value, c));
            }
        }
        best.map(|(_, c)| c)
    }

    /// The candidate window of sentences `first..=last`, if it is one.
    fn window(&self, first: usize, last: usize) -> Option<Window> {
        self.windows
            .binary_search_by(|w| (w.first, w.last).cmp(&(first, last)))
            .ok()
            .map(|i| self.windows[i])
    }

    fn dress(
        &self,
        w: &Window,
        b: ScoreBreakdown,
        f: &WindowFeatures,
        mentioned: &[String],
        score: f64,
    ) -> ClipSuggestion {
        let (reason, highlights) = score::explain(&b, f, mentioned);
        let duration = w.duration();
        let keyphrases = self.vocabulary.keyphrases(
            self.info[w.first..=w.last]
                .iter()
                .map(|i| i.tokens.as_slice()),
            3,
        );
        ClipSuggestion {
            start: round3(w.start),
            end: round3(w.end),
            duration: round3(duration),
            score: (score * 10.0).round() / 10.0,
            breakdown: b,
            reason,
            highlights,
            title: self.title(w),
            hook: self.hook_line(w),
            platforms: score::platforms(duration, &b, self.params.genre),
            hashtags: keyphrases.iter().map(|k| text::hashtag(k)).collect(),
            transcript: self.sentences.text(w.first..w.last + 1),
            ranked_by: RankedBy::Local,
        }
    }

    /// The sentence that best sums the clip up, preferring hooks and title-length
    /// sentences and avoiding ones that lean on context.
    fn title(&self, w: &Window) -> String {
        let centroid = self.sums.sum(w.first, w.last + 1);
        let best = (w.first..=w.last)
            .max_by(|&a, &b| {
                let value = |i: usize| {
                    let info = &self.info[i];
                    let n = info.tokens.len();
                    let fit = if (5..=14).contains(&n) {
                        0.25
                    } else if n < 4 {
                        -0.4
                    } else {
                        0.0
                    };
                    cosine(&self.embeddings[i], &centroid) + 0.4 * info.hook + fit
                        - if info.dangling_start { 0.2 } else { 0.0 }
                        - if info.back_reference { 0.3 } else { 0.0 }
                };
                value(a).total_cmp(&value(b)).then(b.cmp(&a))
            })
            .unwrap_or(w.first);
        text::tidy(&self.sentences.sentences[best].text, text::MAX_TITLE, false)
    }

    /// The line for the intro overlay: the opening sentence when it hooks, else the
    /// strongest hook in the first half of the clip, else the title sentence.
    fn hook_line(&self, w: &Window) -> String {
        let half = w.first + (w.last - w.first) / 2;
        let best = (w.first..=half)
            .filter(|&i| self.info[i].hook >= 0.3)
            .max_by(|&a, &b| {
                let lead = |i: usize| self.info[i].hook - 0.1 * (i - w.first) as f64;
                lead(a).total_cmp(&lead(b)).then(b.cmp(&a))
            });
        match best {
            Some(i) => text::tidy(&self.sentences.sentences[i].text, text::MAX_HOOK, true),
            None => self.title(w),
        }
    }
}

/// A scored window: the window, its score, breakdown, features and mentioned keywords.
type Scored = (Window, f64, ScoreBreakdown, WindowFeatures, Vec<String>);

/// An editor first finds a moment, then cuts it where its thought ends: of the windows
/// that share a first sentence, only the one that ends most cleanly (highest
/// completeness; the higher score on a tie) competes. Content features that wobble as
/// sentences are added must not choose the ending.
fn best_end_per_start(scored: Vec<Scored>) -> Vec<Scored> {
    let mut best: Vec<Scored> = Vec::new();
    for c in scored {
        match best.last_mut() {
            Some(b) if b.0.first == c.0.first => {
                let better = (c.2.completeness, c.1) > (b.2.completeness, b.1);
                if better {
                    *b = c;
                }
            }
            _ => best.push(c),
        }
    }
    best
}

/// Greedy pick, best effective score first: a candidate overlapping a picked one by more
/// than [`MAX_OVERLAP`] of the shorter is dropped, and one from a topic segment that
/// already gave a clip waits behind fresher parts of the video.
fn pick<T: Clone>(
    scored: &mut [(Window, f64, ScoreBreakdown, WindowFeatures, T)],
    topics: &Topics,
    max: usize,
) -> Vec<(Window, f64, ScoreBreakdown, WindowFeatures, T)> {
    scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.start.total_cmp(&b.0.start)));
    let mut picked: Vec<(Window, f64, ScoreBreakdown, WindowFeatures, T)> = Vec::new();
    let mut per_topic: Vec<usize> = vec![0; topics.starts.len() + 2];
    let mut taken = vec![false; scored.len()];
    while picked.len() < max {
        let mut best: Option<(usize, f64)> = None;
        for (i, c) in scored.iter().enumerate() {
            if taken[i] {
                continue;
            }
            if let Some((_, b)) = best {
                // Sorted by raw score: nothing further down can beat the best so far.
                if c.1 <= b {
                    break;
                }
            }
            if picked.iter().any(|p| overlap(&p.0, &c.0) > MAX_OVERLAP) {
                taken[i] = true;
                continue;
            }
            let segment = topics.segment_of.get(c.0.first).copied().unwrap_or(0);
            let effective = c.1 - SAME_TOPIC_PENALTY * per_topic[segment] as f64;
            if best.is_none_or(|(_, b)| effective > b) {
                best = Some((i, effective));
            }
        }
        let Some((i, _)) = best else { break };
        taken[i] = true;
        let segment = topics
            .segment_of
            .get(scored[i].0.first)
            .copied()
            .unwrap_or(0);
        per_topic[segment] += 1;
        picked.push(scored[i].clone());
    }
    picked
}

/// Shared time of two windows as a share of the shorter one.
fn overlap(a: &Window, b: &Window) -> f64 {
    let shared = (a.end.min(b.end) - a.start.max(b.start)).max(0.0);
    shared / a.duration().min(b.duration()).max(1e-6)
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}
