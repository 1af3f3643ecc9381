//! What a rendered clip looks like: frame shape and quality, how the picture is framed,
//! and how captions are styled. Plain data, shared by the renderer, the CLI and the API.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Shape of the output frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum AspectRatio {
    /// 9:16, for TikTok, Reels and Shorts.
    #[default]
    #[serde(rename = "9:16")]
    Vertical,
    /// 1:1.
    #[serde(rename = "1:1")]
    Square,
    /// 4:5, the tallest a feed post may be.
    #[serde(rename = "4:5")]
    Portrait,
    /// 16:9.
    #[serde(rename = "16:9")]
    Landscape,
}

impl AspectRatio {
    /// Every ratio, in the order help texts list them.
    pub const ALL: [AspectRatio; 4] = [
        AspectRatio::Vertical,
        AspectRatio::Square,
        AspectRatio::Portrait,
        AspectRatio::Landscape,
    ];

    /// Width and height in lowest terms.
    pub fn ratio(self) -> (u32, u32) {
        match self {
            AspectRatio::Vertical => (9, 16),
            AspectRatio::Square => (1, 1),
            AspectRatio::Portrait => (4, 5),
            AspectRatio::Landscape => (16, 9),
        }
    }

    /// The frame whose shorter side is `short` pixels, both sides even (H.264 with 4:2:0
    /// chroma needs them even).
    pub fn frame_size(self, short: u32) -> (u32, u32) {
        let (w, h) = self.ratio();
        let even = |x: f64| ((x / 2.0).round() as u32 * 2).max(2);
        let short = f64::from(short);
        if w <= h {
            (even(short), even(short * f64::from(h) / f64::from(w)))
        } else {
            (even(short * f64::from(w) / f64::from(h)), even(short))
        }
    }

    /// "9:16" and friends.
    pub fn as_str(self) -> &'static str {
        match self {
            AspectRatio::Vertical => "9:16",
            AspectRatio::Square => "1:1",
            AspectRatio::Portrait => "4:5",
            AspectRatio::Landscape => "16:9",
        }
    }
}

impl fmt::Display for AspectRatio {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AspectRatio {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().replace(['x', '/'], ":");
        AspectRatio::ALL
            .into_iter()
            .find(|a| a.as_str() == wanted)
            .ok_or_else(|| format!("unknown aspect ratio {s:?}: use 9:16, 1:1, 4:5 or 16:9"))
    }
}

/// Encoding quality presets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Quality {
    /// 540p, CRF 26, x264 `veryfast`: quick previews.
    Draft,
    /// 1080p, CRF 20, `veryfast`.
    #[default]
    Standard,
    /// 1080p, CRF 18, `medium`.
    High,
}

impl Quality {
    /// Shorter side of the output frame in pixels.
    pub fn short_side(self) -> u32 {
        match self {
            Quality::Draft => 540,
            Quality::Standard | Quality::High => 1080,
        }
    }

    /// x264 constant rate factor.
    pub fn crf(self) -> u32 {
        match self {
            Quality::Draft => 26,
            Quality::Standard => 20,
            Quality::High => 18,
        }
    }

    /// x264 preset.
    pub fn preset(self) -> &'static str {
        match self {
            Quality::Draft | Quality::Standard => "veryfast",
            Quality::High => "medium",
        }
    }

    /// "draft", "standard" or "high".
    pub fn as_str(self) -> &'static str {
        match self {
            Quality::Draft => "draft",
            Quality::Standard => "standard",
            Quality::High => "high",
        }
    }
}

impl FromStr for Quality {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "draft" => Ok(Quality::Draft),
            "standard" => Ok(Quality::Standard),
            "high" => Ok(Quality::High),
            _ => Err(format!(
                "unknown quality {s:?}: use draft, standard or high"
            )),
        }
    }
}

/// How the source picture is fitted into a frame of another shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReframeMode {
    /// Follow the speaker's face; without a face, fall back to `fallback`.
    #[default]
    Auto,
    /// A fixed crop from the middle of the picture.
    Center,
    /// The whole picture over a blurred, zoomed copy of itself.
    FitBlur,
    /// The whole picture on black bars.
    FitBlack,
}

impl ReframeMode {
    /// "auto", "center", "fit-blur" or "fit-black".
    pub fn as_str(self) -> &'static str {
        match self {
            ReframeMode::Auto => "auto",
            ReframeMode::Center => "center",
            ReframeMode::FitBlur => "fit-blur",
            ReframeMode::FitBlack => "fit-black",
        }
    }
}

impl FromStr for ReframeMode {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "auto" => Ok(ReframeMode::Auto),
            "center" | "centre" => Ok(ReframeMode::Center),
            "fit-blur" | "blur" => Ok(ReframeMode::FitBlur),
            "fit-black" | "black" => Ok(ReframeMode::FitBlack),
            _ => Err(format!(
                "unknown reframe mode {s:?}: use auto, center, fit-blur or fit-black"
            )),
        }
    }
}

/// Where a crop window sits over time. Coordinates are the window's top-left corner in
/// pixels of the source as displayed (rotation applied); times are seconds from the
/// clip's start. The window moves linearly between keys; two keys with the same time
/// make a cut (the window jumps there, as on a scene change).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CropPath {
    /// Crop window size in source pixels.
    pub width: u32,
    pub height: u32,
    /// In time order; at least one.
    pub keys: Vec<CropKey>,
}

/// One position of a [`CropPath`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CropKey {
    pub time: f64,
    pub x: f64,
    pub y: f64,
}

impl CropPath {
    /// A window that never moves.
    pub fn fixed(width: u32, height: u32, x: f64, y: f64) -> Self {
        Self {
            width,
            height,
            keys: vec![CropKey { time: 0.0, x, y }],
        }
    }

    /// The window's top-left corner at `time`: held before the first key and after the
    /// last, linear between keys, the later key at a cut.
    pub fn at(&self, time: f64) -> (f64, f64) {
        let Some(first) = self.keys.first() else {
            return (0.0, 0.0);
        };
        if time <= first.time {
            return (first.x, first.y);
        }
        for pair in self.keys.windows(2) {
            let (a, b) = (pair[0], pair[1]);
            if time < b.time {
                let span = b.time - a.time;
                if span <= 0.0 {
                    return (b.x, b.y);
                }
                let f = (time - a.time) / span;
                return (a.x + (b.x - a.x) * f, a.y + (b.y - a.y) * f);
            }
        }
        let last = self.keys[self.keys.len() - 1];
        (last.x, last.y)
    }
}

/// How the picture of a clip is laid out in the output frame.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Framing {
    /// One crop window, scaled to fill the frame.
    Crop { path: CropPath },
    /// Two crop windows stacked, each filling half the frame: two people far apart.
    Stack { top: CropPath, bottom: CropPath },
    /// The whole picture, centred over a blurred copy of itself.
    FitBlur,
    /// The whole picture, centred on black.
    FitBlack,
}

/// Where captions sit on the frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaptionPosition {
    Top,
    Center,
    #[default]
    Bottom,
}

/// How the word being spoken stands out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaptionAnimation {
    /// The active word is coloured and pops: drawn bigger, then settling over 120 ms.
    Pop,
    /// The active word is coloured and drawn bigger, with no motion in between: as bold as
    /// `Pop`, and steadier lines that cost the encoder about a tenth fewer bits.
    #[default]
    Grow,
    /// The line fills with colour word by word, like karaoke.
    Karaoke,
    /// The active word is coloured, nothing moves.
    Highlight,
    /// Plain text, a line at a time.
    None,
}

/// An RGBA colour; `a` 255 is opaque.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Rgba {
    pub r: u8,
    pub g: u8,
    pub b: u8,
    pub a: u8,
}

impl Rgba {
    /// An opaque colour.
    pub const fn rgb(r: u8, g: u8, b: u8) -> Self {
        Self { r, g, b, a: 255 }
    }
}

/// Everything about how captions look: a template is a named `CaptionStyle`, and a user
/// may override any field of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaptionStyle {
    /// Font family name as fontconfig knows it ("Inter", "Roboto").
    pub font: String,
    /// Font size as a share of the frame height (0.05 = 5 %), so one style fits every
    /// output size.
    pub size: f64,
    pub bold: bool,
    pub uppercase: bool,
    /// Text colour.
    pub color: Rgba,
    /// Colour of the active word (or of the filled part with karaoke).
    pub highlight: Rgba,
    /// Outline colour and width as a share of the font size.
    pub outline_color: Rgba,
    pub outline: f64,
    /// Shadow depth as a share of the font size (0 for none).
    pub shadow: f64,
    /// A box behind the text, when set.
    pub background: Option<Rgba>,
    pub position: CaptionPosition,
    pub animation: CaptionAnimation,
    /// Words per caption line, and lines per caption.
    pub max_words: usize,
    pub max_lines: usize,
    /// An emoji after keywords that have one ("money" 💰), when the font can draw it.
    pub emoji: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_sizes_follow_the_short_side_and_stay_even() {
        assert_eq!(AspectRatio::Vertical.frame_size(1080), (1080, 1920));
        assert_eq!(AspectRatio::Vertical.frame_size(540), (540, 960));
        assert_eq!(AspectRatio::Square.frame_size(1080), (1080, 1080));
        assert_eq!(AspectRatio::Portrait.frame_size(1080), (1080, 1350));
        assert_eq!(AspectRatio::Portrait.frame_size(540), (540, 676));
        assert_eq!(AspectRatio::Landscape.frame_size(1080), (1920, 1080));
        assert_eq!(AspectRatio::Landscape.frame_size(540), (960, 540));
    }

    #[test]
    fn names_parse_both_ways() {
        for a in AspectRatio::ALL {
            assert_eq!(a.as_str().parse::<AspectRatio>().unwrap(), a);
        }
        assert_eq!(
            "9x16".parse::<AspectRatio>().unwrap(),
            AspectRatio::Vertical
        );
        assert!("3:2".parse::<AspectRatio>().unwrap_err().contains("9:16"));
        assert_eq!(
            "fit-blur".parse::<ReframeMode>().unwrap(),
            ReframeMode::FitBlur
        );
        assert_eq!("HIGH".parse::<Quality>().unwrap(), Quality::High);
        assert_eq!(
            serde_json::to_string(&AspectRatio::Portrait).unwrap(),
            "\"4:5\""
        );
    }

    #[test]
    fn crop_paths_interpolate_and_cut() {
        let path = CropPath {
            width: 600,
            height: 1080,
            keys: vec![
                CropKey {
                    time: 1.0,
                    x: 100.0,
                    y: 0.0,
                },
                CropKey {
                    time: 3.0,
                    x: 300.0,
                    y: 0.0,
                },
                CropKey {
                    time: 3.0,
                    x: 900.0,
                    y: 0.0,
                },
                CropKey {
                    time: 5.0,
                    x: 900.0,
                    y: 0.0,
                },
            ],
        };
        assert_eq!(path.at(0.0), (100.0, 0.0));
        assert_eq!(path.at(2.0), (200.0, 0.0));
        assert_eq!(path.at(2.999).0.round(), 300.0);
        assert_eq!(path.at(3.0), (900.0, 0.0));
        assert_eq!(path.at(9.0), (900.0, 0.0));
    }
}
