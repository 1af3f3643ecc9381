//! The body of a jump-cut request: the jump-cut settings with their defaults, the quality
//! and the editor exports, checked field by field.

use clipforge_core::Quality;
use clipforge_jumpcut::{JumpcutError, Mode, Settings};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::ApiError;

/// An editor export of the cut list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub(super) enum ExportFormat {
    /// The plan as JSON, for scripts.
    Json,
    /// Final Cut Pro / DaVinci Resolve / Premiere timeline.
    Fcpxml,
    /// CMX3600 edit decision list.
    Edl,
}

impl ExportFormat {
    /// The name requests, rows and file extensions use.
    pub(super) fn as_str(self) -> &'static str {
        match self {
            ExportFormat::Json => "json",
            ExportFormat::Fcpxml => "fcpxml",
            ExportFormat::Edl => "edl",
        }
    }
}

/// A jump-cut request: the jump-cut settings (every one optional, with the defaults
/// shown), the encoding quality and the editor exports wanted.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct JumpcutBody {
    /// How speech is found: `loudness` (default), `speech` (voice activity) or `words`
    /// (the transcript's word times).
    #[schema(value_type = Option<String>, example = "loudness")]
    mode: Option<Mode>,
    /// Loudness mode: a frame is speech when at most this many dB below the file's own
    /// level; -100..0 (default -20).
    threshold_db: Option<f64>,
    /// Loudness mode: frames quieter than this (dBFS) are never speech; -100..0 (default -60).
    min_level_db: Option<f64>,
    /// Seconds kept before each speech range; 0..10 (default 0.15).
    margin_before: Option<f64>,
    /// Seconds kept after each speech range; 0..10 (default 0.25).
    margin_after: Option<f64>,
    /// Shorter gaps are kept, seconds (default 0.5).
    min_silence: Option<f64>,
    /// Kept pieces with less speech than this are dropped as noise, seconds (default 0.2).
    min_kept: Option<f64>,
    /// Keep breathing pauses (default false).
    keep_breaths: Option<bool>,
    /// Keep silences sped up by this factor (above 1, at most 100) instead of cutting
    /// them; `null` or absent cuts them.
    silence_speed: Option<f64>,
    /// Cut filler words; needs the transcript (default true).
    remove_fillers: Option<bool>,
    /// The filler words (default um, uh, erm, er, ah, hmm, mm, uhm, umm).
    fillers: Option<Vec<String>>,
    /// Cut a word or phrase immediately restarted; needs the transcript (default false).
    remove_false_starts: Option<bool>,
    /// draft (540p), standard or high (default standard).
    #[schema(value_type = Option<String>, example = "standard")]
    pub(super) quality: Option<Quality>,
    /// Cut lists to write next to the MP4 (default none).
    exports: Option<Vec<ExportFormat>>,
}

impl JumpcutBody {
    /// The settings the body names over the defaults, checked field by field.
    pub(super) fn settings(&self) -> Result<Settings, ApiError> {
        let d = Settings::default();
        let settings = Settings {
            mode: self.mode.unwrap_or(d.mode),
            threshold_db: self.threshold_db.unwrap_or(d.threshold_db),
            min_level_db: self.min_level_db.unwrap_or(d.min_level_db),
            margin_before: self.margin_before.unwrap_or(d.margin_before),
            margin_after: self.margin_after.unwrap_or(d.margin_after),
            min_silence: self.min_silence.unwrap_or(d.min_silence),
            min_kept: self.min_kept.unwrap_or(d.min_kept),
            keep_breaths: self.keep_breaths.unwrap_or(d.keep_breaths),
            silence_speed: self.silence_speed,
            remove_fillers: self.remove_fillers.unwrap_or(d.remove_fillers),
            fillers: self.fillers.clone().unwrap_or(d.fillers),
            remove_false_starts: self.remove_false_starts.unwrap_or(d.remove_false_starts),
        };
        settings.validate().map_err(|e| match e {
            JumpcutError::InvalidSetting { field, reason } => ApiError::field(field, reason),
            other => ApiError::field("body", other.to_string()),
        })?;
        Ok(settings)
    }

    /// The exports asked for, each once, in a stable order.
    pub(super) fn exports(&self) -> Vec<String> {
        let mut formats = self.exports.clone().unwrap_or_default();
        formats.sort();
        formats.dedup();
        formats.iter().map(|f| f.as_str().to_string()).collect()
    }
}

/// Whether the settings cut by the transcript's words.
pub(super) fn needs_transcript(settings: &Settings) -> bool {
    settings.mode == Mode::Words || settings.remove_fillers || settings.remove_false_starts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absent_fields_take_the_defaults_and_bad_ones_are_named() {
        let body: JumpcutBody = serde_json::from_str("{}").unwrap();
        assert_eq!(body.settings().unwrap(), Settings::default());
        assert!(needs_transcript(&Settings::default()));

        let body: JumpcutBody = serde_json::from_str(
            r#"{"mode":"speech","margin_after":0.4,"remove_fillers":false,"exports":["edl","json","edl"]}"#,
        )
        .unwrap();
        let s = body.settings().unwrap();
        assert_eq!(
            (s.mode, s.margin_after, s.min_silence),
            (Mode::Speech, 0.4, 0.5)
        );
        assert!(!needs_transcript(&s));
        assert_eq!(body.exports(), ["json", "edl"]);

        let field = |json: &str| {
            let body: JumpcutBody = serde_json::from_str(json).unwrap();
            body.settings().unwrap_err().details[0].field.clone()
        };
        assert_eq!(field(r#"{"margin_before":-1}"#), "margin_before");
        assert_eq!(field(r#"{"silence_speed":1.0}"#), "silence_speed");
        assert_eq!(field(r#"{"fillers":["..."]}"#), "fillers");
        assert!(serde_json::from_str::<JumpcutBody>(r#"{"margin":1}"#).is_err());
    }
}
