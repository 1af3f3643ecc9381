//! How clips are rendered, as one serialisable struct: the CLI fills it from flags, the
//! API from a request, and its JSON is part of every rendered clip's cache key.

use std::path::PathBuf;

use clipforge_core::{AspectRatio, Quality, ReframeMode};
use clipforge_media::render::Corner;
use serde::{Deserialize, Serialize};

use crate::PipelineError;

/// Everything about how a clip looks and sounds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RenderSettings {
    pub aspect: AspectRatio,
    pub quality: Quality,
    /// Output size overrides (both or neither); the preset's size otherwise.
    pub width: Option<u32>,
    pub height: Option<u32>,
    /// Output frame rate; the source's (halved while above 30) otherwise.
    pub fps: Option<f64>,
    /// Video bit rate in kbit/s instead of the preset's constant quality.
    pub video_bitrate: Option<u32>,
    pub reframe: ReframeMode,
    /// What `auto` falls back to when nobody is in the picture: center, fit-blur or
    /// fit-black.
    pub no_face: ReframeMode,
    /// Stack two people far apart one above the other.
    pub split: bool,
    /// Caption template name; `None` burns in no captions.
    pub template: Option<String>,
    /// Fields of the template's caption style that differ (font, colours, position…), as
    /// a JSON object of `CaptionStyle` fields.
    pub caption_overrides: Option<serde_json::Value>,
    /// Show the clip's hook line as a title over its first seconds.
    pub intro_title: bool,
    pub intro_seconds: f64,
    pub logo: Option<LogoSettings>,
    pub music: Option<MusicSettings>,
    /// Integrated loudness target in LUFS; `None` leaves the sound as it is.
    pub loudness: Option<f64>,
}

impl Default for RenderSettings {
    fn default() -> Self {
        Self {
            aspect: AspectRatio::Vertical,
            quality: Quality::Standard,
            width: None,
            height: None,
            fps: None,
            video_bitrate: None,
            reframe: ReframeMode::Auto,
            no_face: ReframeMode::Center,
            split: false,
            template: Some(clipforge_captions::TEMPLATES[0].to_string()),
            caption_overrides: None,
            intro_title: true,
            intro_seconds: 3.0,
            logo: None,
            music: None,
            loudness: Some(-14.0),
        }
    }
}

/// A watermark image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogoSettings {
    pub path: PathBuf,
    /// top-left, top-right, bottom-left or bottom-right.
    pub corner: String,
    /// Width as a share of the frame width.
    pub scale: f64,
    pub opacity: f64,
}

/// Background music under the speech.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MusicSettings {
    pub path: PathBuf,
    pub volume_db: f64,
    pub duck: bool,
}

impl RenderSettings {
    /// The caption look: the template with the overrides applied; `None` for no captions.
    pub fn caption_style(&self) -> Result<Option<clipforge_core::CaptionStyle>, PipelineError> {
        let Some(name) = &self.template else {
            return Ok(None);
        };
        let base = clipforge_captions::template(name)
            .ok_or_else(|| PipelineError::Settings(format!("unknown caption template {name:?}")))?;
        let Some(overrides) = self.caption_overrides.as_ref().filter(|o| !o.is_null()) else {
            return Ok(Some(base));
        };
        let serde_json::Value::Object(changes) = overrides else {
            return Err(PipelineError::Settings(
                "caption overrides must be an object of caption settings".into(),
            ));
        };
        let mut fields = match serde_json::to_value(&base) {
            Ok(serde_json::Value::Object(fields)) => fields,
            _ => return Ok(Some(base)),
        };
        for (key, value) in changes {
            if !fields.contains_key(key) {
                return Err(PipelineError::Settings(format!(
                    "{key:?} is not a caption setting"
                )));
            }
            fields.insert(key.clone(), value.clone());
        }
        serde_json::from_value(serde_json::Value::Object(fields))
            .map(Some)
            .map_err(|e| PipelineError::Settings(format!("the caption overrides are invalid: {e}")))
    }
}

impl LogoSettings {
    /// The corner as the renderer names it.
    pub fn corner(&self) -> Result<Corner, PipelineError> {
        match self.corner.trim().to_ascii_lowercase().as_str() {
            "top-left" => Ok(Corner::TopLeft),
            "top-right" => Ok(Corner::TopRight),
            "bottom-left" => Ok(Corner::BottomLeft),
            "bottom-right" => Ok(Corner::BottomRight),
            other => Err(PipelineError::Settings(format!(
                "unknown logo position {other:?}: use top-left, top-right, bottom-left or bottom-right"
            ))),
        }
    }
}

impl RenderSettings {
    /// Checks what flags and requests can get wrong, before any work starts.
    pub fn validate(&self) -> Result<(), PipelineError> {
        let bad = |m: String| Err(PipelineError::Settings(m));
        match (self.width, self.height) {
            (Some(w), Some(h))
                if w < 16 || h < 16 || w % 2 == 1 || h % 2 == 1 || w > 4096 || h > 4096 =>
            {
                return bad(format!(
                    "--width/--height {w}x{h}: both must be even and between 16 and 4096"
                ))
            }
            (Some(_), None) | (None, Some(_)) => {
                return bad("give --width and --height together".into())
            }
            _ => {}
        }
        if let Some(fps) = self.fps {
            if !(1.0..=120.0).contains(&fps) {
                return bad(format!("--fps {fps}: use a rate between 1 and 120"));
            }
        }
        if let Some(kbps) = self.video_bitrate {
            if !(100..=100_000).contains(&kbps) {
                return bad(format!("--bitrate {kbps} kbit/s: use 100–100000"));
            }
        }
        if matches!(self.no_face, ReframeMode::Auto) {
            return bad("the no-face fallback must be center, fit-blur or fit-black".into());
        }
        if let Some(name) = &self.template {
            if clipforge_captions::template(name).is_none() {
                return bad(format!(
                    "unknown caption template {name:?}: use one of {}",
                    clipforge_captions::TEMPLATES.join(", ")
                ));
            }
        }
        if !(0.0..=15.0).contains(&self.intro_seconds) {
            return bad(format!(
                "intro title of {} s: use 0–15 s",
                self.intro_seconds
            ));
        }
        if let Some(logo) = &self.logo {
            logo.corner()?;
            if !logo.path.is_file() {
                return bad(format!("logo {} does not exist", logo.path.display()));
            }
            if !(0.01..=1.0).contains(&logo.scale) || !(0.0..=1.0).contains(&logo.opacity) {
                return bad("logo scale must be 0.01–1 of the frame width and opacity 0–1".into());
            }
        }
        if let Some(music) = &self.music {
            if !music.path.is_file() {
                return bad(format!("music {} does not exist", music.path.display()));
            }
        }
        if let Some(lufs) = self.loudness {
            if !(-40.0..=-5.0).contains(&lufs) {
                return bad(format!(
                    "loudness target {lufs} LUFS: use −40 to −5 (−14 for social platforms)"
                ));
            }
        }
        Ok(())
    }

    /// Output frame size.
    pub fn frame(&self) -> (u32, u32) {
        match (self.width, self.height) {
            (Some(w), Some(h)) => (w, h),
            _ => self.aspect.frame_size(self.quality.short_side()),
        }
    }

    /// Output frame rate for a source of `source` fps.
    pub fn frame_rate(&self, source: Option<f64>) -> f64 {
        if let Some(fps) = self.fps {
            return fps;
        }
        let mut fps = source
            .filter(|f| f.is_finite() && *f >= 1.0)
            .unwrap_or(30.0);
        while fps > 30.5 {
            fps /= 2.0;
        }
        (fps * 1000.0).round() / 1000.0
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn caption_overrides_change_only_what_they_name() {
        let mut s = RenderSettings {
            caption_overrides: Some(serde_json::json!({"uppercase": false, "size": 0.05})),
            ..RenderSettings::default()
        };
        let style = s.caption_style().unwrap().unwrap();
        let base = clipforge_captions::template("bold-pop").unwrap();
        assert!(!style.uppercase && (style.size - 0.05).abs() < 1e-9);
        assert_eq!(style.font, base.font);
        s.caption_overrides = Some(serde_json::json!({"wobble": 3}));
        assert!(s
            .caption_style()
            .unwrap_err()
            .to_string()
            .contains("wobble"));
        s.caption_overrides = Some(serde_json::json!({"size": "huge"}));
        assert!(s.caption_style().is_err());
        s.template = None;
        assert!(s.caption_style().unwrap().is_none());
    }

    use super::*;

    #[test]
    fn defaults_are_valid_and_vertical_1080p() {
        let s = RenderSettings::default();
        s.validate().unwrap();
        assert_eq!(s.frame(), (1080, 1920));
        assert_eq!(s.frame_rate(Some(59.94)), 29.97);
        assert_eq!(s.frame_rate(Some(25.0)), 25.0);
        assert_eq!(s.frame_rate(None), 30.0);
    }

    #[test]
    fn bad_settings_say_what_to_use() {
        let s = RenderSettings {
            template: Some("comic-sans".into()),
            ..RenderSettings::default()
        };
        assert!(s.validate().unwrap_err().to_string().contains("bold-pop"));
        let s = RenderSettings {
            width: Some(1081),
            height: Some(1920),
            ..RenderSettings::default()
        };
        assert!(s.validate().unwrap_err().to_string().contains("even"));
    }
}
