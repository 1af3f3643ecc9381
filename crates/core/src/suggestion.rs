//! Clip suggestions: what the moment finder returns and the knobs a user turns.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// One suggested clip: a time range of the source video with its score and the words
/// that explain it. Times are seconds from the start of the source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClipSuggestion {
    pub start: f64,
    pub end: f64,
    pub duration: f64,
    /// 0–100, higher is better.
    pub score: f64,
    pub breakdown: ScoreBreakdown,
    /// One sentence saying why this moment was picked.
    pub reason: String,
    /// Short facts behind the score, e.g. "Opens with a question".
    pub highlights: Vec<String>,
    /// An extractive title taken from the clip's own words.
    pub title: String,
    /// A line for the intro overlay.
    pub hook: String,
    pub platforms: Vec<Platform>,
    /// Hashtags from the clip's keyphrases, each with its leading `#`.
    pub hashtags: Vec<String>,
    /// The words spoken in the clip.
    pub transcript: String,
    /// Who ranked it last: the local scorer or a language model.
    #[serde(default)]
    pub ranked_by: RankedBy,
}

/// Each scoring feature, 0–1.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct ScoreBreakdown {
    /// Question, bold claim, number, contrarian or story opener in the first sentence.
    pub hook: f64,
    /// Sentiment and arousal words, loud passages, laughter.
    pub emotion: f64,
    /// Closeness to the video's main topics (and to the user's keywords).
    pub topic: f64,
    /// Starts cleanly, holds one thought, ends on a conclusive sentence.
    pub completeness: f64,
    /// Speech rate and pauses; 1 is lively speech with no dead air.
    pub pacing: f64,
    /// Scene-cut rhythm and face presence; 0.5 when the video was not analysed.
    pub visual: f64,
}

/// Who produced a suggestion's final rank and title.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RankedBy {
    #[default]
    Local,
    Llm,
}

/// Where a clip would fit, by its length and tone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Platform {
    Tiktok,
    InstagramReels,
    YoutubeShorts,
    Linkedin,
    X,
}

/// The kind of recording, which shifts what makes a good clip.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Genre {
    Podcast,
    Interview,
    Webinar,
    Talk,
    Stream,
}

impl Genre {
    pub const ALL: [Genre; 5] = [
        Genre::Podcast,
        Genre::Interview,
        Genre::Webinar,
        Genre::Talk,
        Genre::Stream,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Genre::Podcast => "podcast",
            Genre::Interview => "interview",
            Genre::Webinar => "webinar",
            Genre::Talk => "talk",
            Genre::Stream => "stream",
        }
    }
}

impl fmt::Display for Genre {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Genre {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Genre::ALL
            .into_iter()
            .find(|g| g.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| {
                format!("unknown genre {s:?}: use podcast, interview, webinar, talk or stream")
            })
    }
}

/// What the user prefers in a clip.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Preferences {
    /// Rank moments that open on a hook higher.
    pub include_hooks: bool,
    /// Penalise dead air and drop windows with a pause longer than 3 s.
    pub avoid_long_pauses: bool,
    /// Rank emotional peaks higher.
    pub prefer_emotional_peaks: bool,
}

impl Default for Preferences {
    fn default() -> Self {
        Self {
            include_hooks: true,
            avoid_long_pauses: true,
            prefer_emotional_peaks: true,
        }
    }
}

/// Relative weights of the scoring features (any scale; they are normalised). Pacing is
/// not a share of the score but a penalty: up to `pacing_penalty` points come off a clip
/// whose pacing is 0.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ScoreWeights {
    pub hook: f64,
    pub emotion: f64,
    pub topic: f64,
    pub completeness: f64,
    pub visual: f64,
    pub pacing_penalty: f64,
}

impl Default for ScoreWeights {
    fn default() -> Self {
        Self {
            hook: 30.0,
            emotion: 25.0,
            topic: 20.0,
            completeness: 15.0,
            visual: 10.0,
            pacing_penalty: 15.0,
        }
    }
}

/// The longest clip a user may ask for, in seconds.
pub const MAX_CLIP_DURATION: f64 = 180.0;

/// Parameters of one suggestion run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SuggestParams {
    /// Shortest clip in seconds.
    pub min_duration: f64,
    /// Longest clip in seconds (at most [`MAX_CLIP_DURATION`]).
    pub max_duration: f64,
    /// Suggestions scoring below this (0–100) are dropped.
    pub min_score: f64,
    pub max_suggestions: usize,
    pub preferences: Preferences,
    /// Words or phrases whose mentions raise a clip's topic score.
    pub keywords: Vec<String>,
    pub genre: Option<Genre>,
    pub weights: ScoreWeights,
}

impl Default for SuggestParams {
    fn default() -> Self {
        Self {
            min_duration: 20.0,
            max_duration: 60.0,
            min_score: 0.0,
            max_suggestions: 10,
            preferences: Preferences::default(),
            keywords: Vec::new(),
            genre: None,
            weights: ScoreWeights::default(),
        }
    }
}

impl SuggestParams {
    /// Checks the ranges a user can get wrong; the message says what to change.
    pub fn validate(&self) -> Result<(), String> {
        let (min, max) = (self.min_duration, self.max_duration);
        if !(min.is_finite() && min >= 1.0) {
            return Err(format!("min_duration must be at least 1 s, got {min}"));
        }
        if !(max.is_finite() && max <= MAX_CLIP_DURATION) {
            return Err(format!(
                "max_duration must be at most {MAX_CLIP_DURATION} s, got {max}"
            ));
        }
        if max < min {
            return Err(format!(
                "max_duration ({max} s) must not be shorter than min_duration ({min} s)"
            ));
        }
        if !(0.0..=100.0).contains(&self.min_score) {
            return Err(format!(
                "min_score must be between 0 and 100, got {}",
                self.min_score
            ));
        }
        if self.max_suggestions == 0 || self.max_suggestions > 100 {
            return Err(format!(
                "max_suggestions must be between 1 and 100, got {}",
                self.max_suggestions
            ));
        }
        let w = self.weights;
        let all = [
            w.hook,
            w.emotion,
            w.topic,
            w.completeness,
            w.visual,
            w.pacing_penalty,
        ];
        if all.iter().any(|x| !x.is_finite() || *x < 0.0) {
            return Err("score weights must be finite and not negative".into());
        }
        if w.hook + w.emotion + w.topic + w.completeness + w.visual <= 0.0 {
            return Err("at least one score weight must be above zero".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_match_the_documented_ranges() {
        let p = SuggestParams::default();
        assert_eq!((p.min_duration, p.max_duration), (20.0, 60.0));
        p.validate().unwrap();
    }

    #[test]
    fn rejects_ranges_a_user_can_get_wrong() {
        let bad = [
            SuggestParams {
                min_duration: 70.0,
                ..Default::default()
            },
            SuggestParams {
                max_duration: 400.0,
                ..Default::default()
            },
            SuggestParams {
                min_score: 101.0,
                ..Default::default()
            },
            SuggestParams {
                max_suggestions: 0,
                ..Default::default()
            },
        ];
        for p in bad {
            assert!(p.validate().is_err(), "{p:?}");
        }
    }

    #[test]
    fn params_parse_from_partial_json() {
        let p: SuggestParams = serde_json::from_str(
            r#"{"max_duration": 90, "preferences": {"include_hooks": false}}"#,
        )
        .unwrap();
        assert_eq!(p.max_duration, 90.0);
        assert!(!p.preferences.include_hooks);
        assert!(p.preferences.avoid_long_pauses);
    }

    #[test]
    fn genre_parses_case_insensitively() {
        assert_eq!("Podcast".parse::<Genre>().unwrap(), Genre::Podcast);
        assert!("vlog".parse::<Genre>().is_err());
    }
}
