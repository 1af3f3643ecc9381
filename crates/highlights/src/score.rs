//! From features to a 0–100 score, and the words that explain it.

use clipforge_core::{Genre, Platform, ScoreBreakdown, ScoreWeights, SuggestParams};

use crate::features::WindowFeatures;
use crate::text::capitalise;

/// Longest pause a window may hold when the user asked to avoid long pauses.
pub const LONG_PAUSE_LIMIT: f64 = 3.0;

/// The weights after the user's preferences and the genre have had their say.
pub fn effective_weights(params: &SuggestParams) -> ScoreWeights {
    let mut w = params.weights;
    let p = params.preferences;
    if !p.include_hooks {
        w.hook *= 0.5;
    }
    if !p.prefer_emotional_peaks {
        w.emotion *= 0.6;
    }
    if !p.avoid_long_pauses {
        w.pacing_penalty *= 0.5;
    }
    match params.genre {
        // Teaching formats live on complete, on-topic explanations more than on drama.
        Some(Genre::Webinar) => {
            w.hook *= 0.8;
            w.emotion *= 0.6;
            w.topic *= 1.3;
            w.completeness *= 1.4;
        }
        Some(Genre::Talk) => {
            w.completeness *= 1.2;
        }
        // Conversations: the exchange and the story matter; keep the defaults but lean on
        // completeness, since answers often lean on the question before them.
        Some(Genre::Interview) => {
            w.completeness *= 1.15;
        }
        Some(Genre::Podcast) | None => {}
        // Live streams: reactions are the moments.
        Some(Genre::Stream) => {
            w.emotion *= 1.4;
            w.topic *= 0.7;
        }
    }
    w
}

/// The 0–100 score of a window's breakdown.
pub fn score(b: &ScoreBreakdown, f: &WindowFeatures, w: &ScoreWeights) -> f64 {
    let total = w.hook + w.emotion + w.topic + w.completeness + w.visual;
    let base = (w.hook * b.hook
        + w.emotion * b.emotion
        + w.topic * b.topic
        + w.completeness * b.completeness
        + w.visual * b.visual)
        / total
        * 100.0;
    let mut s = base - w.pacing_penalty * (1.0 - b.pacing);
    if f.housekeeping {
        s *= 0.5;
    }
    s.clamp(0.0, 100.0)
}

/// The facts behind a score, best first, and the one-sentence reason built from them.
pub fn explain(
    b: &ScoreBreakdown,
    f: &WindowFeatures,
    keywords: &[String],
) -> (String, Vec<String>) {
    let mut highlights: Vec<String> = Vec::new();
    let mut reasons: Vec<&str> = Vec::new();
    if b.hook >= 0.45 {
        for kind in &f.hooks {
            highlights.push(kind.describe().to_string());
        }
        if f.hooks.is_empty() {
            highlights.push("Second sentence lands the hook".into());
        }
        reasons.push(
            f.hooks
                .first()
                .map_or("hooks the listener early", |k| k.reason()),
        );
    }
    if f.conclusive_end && f.clean_start && !f.spans_topic_change {
        highlights.push("Complete thought with a conclusion".into());
        reasons.push("holds one complete thought to its conclusion");
    } else if f.conclusive_end {
        highlights.push("Ends on a clear conclusion".into());
        reasons.push("ends on a clear conclusion");
    } else if b.completeness >= 0.75 {
        highlights.push("Self-contained: needs no earlier context".into());
        reasons.push("stands on its own");
    }
    if f.starts_topic {
        highlights.push("Starts at a new topic".into());
    }
    if b.emotion >= 0.6 {
        highlights.push("High emotional intensity".into());
        reasons.push("carries strong emotion");
    }
    if f.loud {
        highlights.push("Animated, louder delivery".into());
    }
    if f.laughter {
        highlights.push("Laughter".into());
    }
    if b.topic >= 0.75 {
        highlights.push("On the video's main topic".into());
        if reasons.len() < 2 {
            reasons.push("stays on the video's main topic");
        }
    }
    for k in keywords {
        highlights.push(format!("Mentions \"{k}\""));
    }
    if f.speakers >= 2 {
        highlights.push("Speaker exchange adds dynamic".into());
    }
    if b.pacing >= 0.9 && f.words_per_minute >= 150.0 {
        highlights.push(format!(
            "Brisk pace ({:.0} words a minute)",
            f.words_per_minute
        ));
    }
    // Caveats a user should see before posting.
    if f.back_reference {
        highlights.push("Refers back to earlier talk".into());
    }
    if f.spans_topic_change {
        highlights.push("Crosses a topic change".into());
    }
    if f.longest_pause > 2.0 {
        highlights.push(format!("Contains a {:.1} s pause", f.longest_pause));
    }
    if f.housekeeping {
        highlights.push("Contains channel housekeeping (sponsor, subscribe)".into());
    }
    let reason = match reasons.as_slice() {
        [] => "The strongest passage in this part of the video, though it has no clear hook"
            .to_string(),
        [one] => format!("{}.", capitalise(one)),
        [first @ .., last] => format!("{} and {}.", capitalise(&first.join(", ")), last),
    };
    (reason, highlights)
}

/// Where a clip fits: every short-video platform takes up to 60 s; Reels up to 90 s,
/// TikTok and Shorts up to 3 minutes. Calm, complete explanations also suit LinkedIn;
/// short clips with a sharp hook suit X.
pub fn platforms(duration: f64, b: &ScoreBreakdown, genre: Option<Genre>) -> Vec<Platform> {
    let mut out = vec![Platform::Tiktok];
    if duration <= 60.0 {
        out.extend([Platform::YoutubeShorts, Platform::InstagramReels]);
    } else if duration <= 90.0 {
        out.extend([Platform::InstagramReels, Platform::YoutubeShorts]);
    } else {
        out.push(Platform::YoutubeShorts);
    }
    let professional = matches!(genre, Some(Genre::Webinar | Genre::Talk | Genre::Interview));
    if professional || (b.emotion < 0.45 && b.completeness >= 0.7 && b.topic >= 0.6) {
        out.push(Platform::Linkedin);
    }
    if duration <= 140.0 && b.hook >= 0.6 {
        out.push(Platform::X);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::HookKind;

    fn breakdown(hook: f64, completeness: f64, pacing: f64) -> ScoreBreakdown {
        ScoreBreakdown {
            hook,
            emotion: 0.5,
            topic: 0.5,
            completeness,
            pacing,
            visual: 0.5,
        }
    }

    #[test]
    fn default_weights_give_the_documented_shares() {
        let w = ScoreWeights::default();
        let f = WindowFeatures::default();
        let hook_only = ScoreBreakdown {
            hook: 1.0,
            pacing: 1.0,
            ..Default::default()
        };
        assert!((score(&hook_only, &f, &w) - 30.0).abs() < 1e-9);
        let all = ScoreBreakdown {
            hook: 1.0,
            emotion: 1.0,
            topic: 1.0,
            completeness: 1.0,
            pacing: 1.0,
            visual: 1.0,
        };
        assert!((score(&all, &f, &w) - 100.0).abs() < 1e-9);
        let slow = ScoreBreakdown { pacing: 0.0, ..all };
        assert!((score(&slow, &f, &w) - 85.0).abs() < 1e-9);
    }

    #[test]
    fn preferences_and_genre_shift_weights() {
        let mut p = SuggestParams::default();
        p.preferences.include_hooks = false;
        p.genre = Some(Genre::Webinar);
        let w = effective_weights(&p);
        assert!(w.hook < 15.0);
        assert!(w.completeness > 15.0);
    }

    #[test]
    fn reason_names_the_strongest_facts() {
        let f = WindowFeatures {
            hooks: vec![HookKind::Question],
            conclusive_end: true,
            clean_start: true,
            ..Default::default()
        };
        let (reason, highlights) = explain(&breakdown(0.8, 0.9, 1.0), &f, &[]);
        assert_eq!(
            reason,
            "Opens with a question and holds one complete thought to its conclusion."
        );
        assert_eq!(highlights[0], "Opens with a question");
        assert!(highlights.contains(&"Complete thought with a conclusion".to_string()));
        let (weak, _) = explain(&breakdown(0.0, 0.3, 1.0), &WindowFeatures::default(), &[]);
        assert!(weak.contains("no clear hook"));
    }

    #[test]
    fn platforms_follow_duration_limits() {
        let b = breakdown(0.8, 0.5, 1.0);
        assert!(platforms(45.0, &b, None).contains(&Platform::InstagramReels));
        assert!(!platforms(120.0, &b, None).contains(&Platform::InstagramReels));
        assert!(platforms(45.0, &b, None).contains(&Platform::X));
        assert!(platforms(45.0, &b, Some(Genre::Webinar)).contains(&Platform::Linkedin));
    }
}
