//! Tunables for sampling, detection and camera motion, with defaults that suit talking-head
//! footage.

use serde::{Deserialize, Serialize};

use crate::ReframeError;

/// What `Auto` framing does when no face is found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NoFaceFallback {
    /// A fixed crop from the middle of the picture.
    #[default]
    Center,
    /// The whole picture over a blurred copy of itself.
    FitBlur,
    /// The whole picture on black.
    FitBlack,
}

/// How reframing samples, detects and moves the virtual camera.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ReframeSettings {
    /// Frames analysed per second of clip.
    pub sample_fps: f64,
    /// Width of the frames faces are detected on, in pixels.
    pub detect_width: u32,
    /// Smallest face found, in pixels of the detection frame (at least 20).
    pub min_face_size: u32,
    /// Detector score below which a detection is dropped (SeetaFace: 0.95 lenient, 2.8 strict).
    pub score_threshold: f64,
    /// Scale between image pyramid levels (0.1..0.99); lower is faster and coarser.
    pub pyramid_scale: f32,
    /// Sliding window step in detection pixels.
    pub window_step: u32,
    /// Scene-change score (0..1) from which a new shot starts and the crop cuts.
    pub scene_cut_threshold: f64,
    /// Samples a track survives without a detection.
    pub max_track_gap: usize,
    /// Half-width of the dead zone as a share of the crop width: the crop does not move
    /// while the subject's centre stays this close to the crop's centre.
    pub dead_zone: f64,
    /// Fastest pan, in crop widths per second.
    pub max_pan_speed: f64,
    /// Largest deviation, in source pixels, that path simplification may introduce.
    pub simplify_tolerance: f64,
    /// What `Auto` does without faces.
    pub no_face: NoFaceFallback,
    /// Whether two people far apart may be shown stacked top and bottom.
    pub allow_split: bool,
    /// Share of samples in which both faces must be visible to split.
    pub split_min_share: f64,
}

impl Default for ReframeSettings {
    fn default() -> Self {
        Self {
            sample_fps: 3.0,
            detect_width: 480,
            min_face_size: 24,
            score_threshold: 2.0,
            pyramid_scale: 0.75,
            window_step: 4,
            scene_cut_threshold: 0.25,
            max_track_gap: 4,
            dead_zone: 0.1,
            max_pan_speed: 1.0,
            simplify_tolerance: 3.0,
            no_face: NoFaceFallback::Center,
            allow_split: false,
            split_min_share: 0.6,
        }
    }
}

impl ReframeSettings {
    /// Checks every value is in a range the detector and planner accept.
    pub fn validate(&self) -> Result<(), ReframeError> {
        let bad = |name, detail: String| Err(ReframeError::InvalidSetting { name, detail });
        if !(self.sample_fps > 0.0 && self.sample_fps <= 30.0) {
            return bad(
                "sample_fps",
                format!("{} is not in (0, 30]", self.sample_fps),
            );
        }
        if !(64..=1920).contains(&self.detect_width) {
            return bad(
                "detect_width",
                format!("{} is not in 64..=1920", self.detect_width),
            );
        }
        if self.min_face_size < 20 {
            return bad(
                "min_face_size",
                format!("{} is below 20", self.min_face_size),
            );
        }
        if self.score_threshold.is_nan() || self.score_threshold <= 0.0 {
            return bad(
                "score_threshold",
                format!("{} is not positive", self.score_threshold),
            );
        }
        if !(self.pyramid_scale >= 0.1 && self.pyramid_scale <= 0.99) {
            return bad(
                "pyramid_scale",
                format!("{} is not in [0.1, 0.99]", self.pyramid_scale),
            );
        }
        if self.window_step == 0 {
            return bad("window_step", "0 is not a step".into());
        }
        if !(0.0..0.5).contains(&self.dead_zone) {
            return bad(
                "dead_zone",
                format!("{} is not in [0, 0.5)", self.dead_zone),
            );
        }
        if self.max_pan_speed.is_nan() || self.max_pan_speed <= 0.0 {
            return bad(
                "max_pan_speed",
                format!("{} is not positive", self.max_pan_speed),
            );
        }
        Ok(())
    }
}
