//! What to cut and how: the user-facing knobs, their defaults and their validation.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::words::normalize_word;
use crate::JumpcutError;

/// How speech is found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// From the loudness envelope: frames within `threshold_db` of the file's own level.
    #[default]
    Loudness,
    /// From speech ranges a voice-activity detector found.
    Speech,
    /// From the transcript's word timestamps.
    Words,
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Loudness => "loudness",
            Self::Speech => "speech",
            Self::Words => "words",
        })
    }
}

/// Jump-cut settings. Every field has a default, so `{}` is a valid configuration.
///
/// Times are in seconds. The pipeline, in order: find speech (per [`Mode`]); pad each
/// speech range by `margin_before`/`margin_after`; close gaps shorter than `min_silence`
/// (so every cut removes at least that much); drop kept pieces whose speech spans less
/// than `min_kept`; snap to the frame grid; cut (or speed up) what is left between.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// How speech is found.
    pub mode: Mode,
    /// Loudness mode: a frame is speech when it is at most this many dB below the file's
    /// own level (the 95th percentile of its envelope, i.e. its loud speech). Relative, so
    /// quiet and loud recordings behave alike. Default -20.
    pub threshold_db: f64,
    /// Loudness mode: frames quieter than this absolute level (dBFS) are never speech, and
    /// a file whose own level is below it is silent. Default -60.
    pub min_level_db: f64,
    /// Kept before each speech range so onsets are not clipped. Default 0.15.
    pub margin_before: f64,
    /// Kept after each speech range so word tails and reverb are not clipped. Default 0.25.
    pub margin_after: f64,
    /// Gaps (after margins) shorter than this are kept: no cut removes less. Default 0.5.
    pub min_silence: f64,
    /// A kept piece whose speech (before margins) spans less than this is dropped as
    /// noise: a click, a cough, a bump. Default 0.2.
    pub min_kept: f64,
    /// Keep breathing pauses: gaps inside speech shorter than [`BREATH_GAP`] are never
    /// cut and, in loudness mode, quiet-but-not-silent frames (up to [`BREATH_DB`] below
    /// the threshold) touching speech count as speech. Default false.
    pub keep_breaths: bool,
    /// Instead of cutting a silence, keep it sped up by this factor (> 1, e.g. 4.0).
    /// Gaps made by removed fillers or false starts are still cut. Default none (cut).
    pub silence_speed: Option<f64>,
    /// Cut the filler words in `fillers`; needs a transcript (any mode). Default true.
    pub remove_fillers: bool,
    /// Filler words, matched case-insensitively, ignoring punctuation and stretched
    /// letters (`"Ummm,"` matches `um`).
    pub fillers: Vec<String>,
    /// Cut the first take of a word or short phrase immediately restarted ("I went- I
    /// went to", "the the"); needs a transcript. Conservative. Default false.
    pub remove_false_starts: bool,
}

/// Longest interior gap `keep_breaths` keeps, in seconds (a breath between phrases).
pub const BREATH_GAP: f64 = 0.8;
/// How far below the loudness threshold `keep_breaths` still counts a frame as speech
/// when it touches speech, in dB.
pub const BREATH_DB: f64 = 10.0;
/// The filler words removed by default.
pub const DEFAULT_FILLERS: [&str; 9] = ["um", "uh", "erm", "er", "ah", "hmm", "mm", "uhm", "umm"];

impl Default for Settings {
    fn default() -> Self {
        Self {
            mode: Mode::Loudness,
            threshold_db: -20.0,
            min_level_db: -60.0,
            margin_before: 0.15,
            margin_after: 0.25,
            min_silence: 0.5,
            min_kept: 0.2,
            keep_breaths: false,
            silence_speed: None,
            remove_fillers: true,
            fillers: DEFAULT_FILLERS.iter().map(|s| s.to_string()).collect(),
            remove_false_starts: false,
        }
    }
}

impl Settings {
    /// Checks every field; the error names the first bad one.
    pub fn validate(&self) -> Result<(), JumpcutError> {
        in_range("threshold_db", self.threshold_db, -100.0, 0.0)?;
        in_range("min_level_db", self.min_level_db, -100.0, 0.0)?;
        in_range("margin_before", self.margin_before, 0.0, 10.0)?;
        in_range("margin_after", self.margin_after, 0.0, 10.0)?;
        in_range("min_silence", self.min_silence, 0.0, 3600.0)?;
        in_range("min_kept", self.min_kept, 0.0, 3600.0)?;
        if let Some(speed) = self.silence_speed {
            if !speed.is_finite() || speed <= 1.0 || speed > 100.0 {
                return Err(JumpcutError::setting(
                    "silence_speed",
                    format!("{speed} must be above 1 and at most 100 (or unset to cut)"),
                ));
            }
        }
        if let Some(bad) = self.fillers.iter().find(|f| normalize_word(f).is_empty()) {
            return Err(JumpcutError::setting(
                "fillers",
                format!("{bad:?} has no letters or digits to match"),
            ));
        }
        Ok(())
    }

    /// The interior gap below which no cut is made, with `keep_breaths` applied.
    pub(crate) fn effective_min_silence(&self) -> f64 {
        if self.keep_breaths {
            self.min_silence.max(BREATH_GAP)
        } else {
            self.min_silence
        }
    }
}

fn in_range(field: &'static str, value: f64, min: f64, max: f64) -> Result<(), JumpcutError> {
    if !value.is_finite() {
        return Err(JumpcutError::setting(
            field,
            format!("{value} is not a number"),
        ));
    }
    if value < min || value > max {
        return Err(JumpcutError::setting(
            field,
            format!("{value} is outside {min}..={max}"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field_of(result: Result<(), JumpcutError>) -> &'static str {
        match result {
            Err(JumpcutError::InvalidSetting { field, .. }) => field,
            other => panic!("expected a setting error, got {other:?}"),
        }
    }

    #[test]
    fn defaults_are_valid_and_empty_json_gives_them() {
        let s: Settings = serde_json::from_str("{}").unwrap();
        assert_eq!(s, Settings::default());
        assert_eq!(s.validate(), Ok(()));
        assert_eq!(s.mode, Mode::Loudness);
        assert_eq!((s.threshold_db, s.min_level_db), (-20.0, -60.0));
        assert_eq!((s.margin_before, s.margin_after), (0.15, 0.25));
        assert_eq!((s.min_silence, s.min_kept), (0.5, 0.2));
        assert!(s.remove_fillers && !s.remove_false_starts && !s.keep_breaths);
        assert_eq!(s.silence_speed, None);
        assert_eq!(s.fillers, DEFAULT_FILLERS);
    }

    #[test]
    fn json_reads_modes_and_rejects_unknown_fields() {
        let s: Settings =
            serde_json::from_str(r#"{"mode":"words","silence_speed":4.0,"min_kept":0.1}"#).unwrap();
        assert_eq!(s.mode, Mode::Words);
        assert_eq!(s.silence_speed, Some(4.0));
        assert_eq!(s.min_kept, 0.1);
        assert_eq!(s.margin_after, 0.25);
        assert!(serde_json::from_str::<Settings>(r#"{"margin":0.1}"#).is_err());
        assert!(serde_json::from_str::<Settings>(r#"{"mode":"vad"}"#).is_err());
    }

    #[test]
    fn bad_values_name_their_field() {
        let mut s = Settings {
            margin_before: -0.1,
            ..Settings::default()
        };
        assert_eq!(field_of(s.validate()), "margin_before");
        s.margin_before = 0.1;
        s.margin_after = f64::NAN;
        assert_eq!(field_of(s.validate()), "margin_after");
        s.margin_after = 0.1;
        s.min_silence = f64::INFINITY;
        assert_eq!(field_of(s.validate()), "min_silence");
        s.min_silence = 0.5;
        s.min_kept = -1.0;
        assert_eq!(field_of(s.validate()), "min_kept");
        s.min_kept = 0.2;
        s.threshold_db = 6.0;
        assert_eq!(field_of(s.validate()), "threshold_db");
        s.threshold_db = -20.0;
        s.silence_speed = Some(1.0);
        assert_eq!(field_of(s.validate()), "silence_speed");
        s.silence_speed = Some(f64::NAN);
        assert_eq!(field_of(s.validate()), "silence_speed");
        s.silence_speed = Some(4.0);
        s.fillers.push(" ... ".into());
        assert_eq!(field_of(s.validate()), "fillers");
        s.fillers.pop();
        assert_eq!(s.validate(), Ok(()));
        let msg = Settings {
            min_silence: -2.0,
            ..Settings::default()
        }
        .validate()
        .unwrap_err()
        .to_string();
        assert!(msg.contains("min_silence"), "{msg}");
    }

    #[test]
    fn keep_breaths_raises_the_interior_cut_length() {
        let mut s = Settings::default();
        assert_eq!(s.effective_min_silence(), 0.5);
        s.keep_breaths = true;
        assert_eq!(s.effective_min_silence(), BREATH_GAP);
        s.min_silence = 2.0;
        assert_eq!(s.effective_min_silence(), 2.0);
    }
}
