//! Exports of a [`Plan`] for editors: JSON, FCPXML and CMX3600 EDL. Pure string builders.

mod edl;
mod fcpxml;
mod json;

pub use edl::to_edl;
pub use fcpxml::to_fcpxml;
pub use json::to_json;

use serde::{Deserialize, Serialize};

use crate::{FrameRate, JumpcutError, Plan};

/// The source media the plan cuts, as the caller probed it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceInfo {
    /// Absolute file path (`/videos/a.mp4`, `C:\videos\a.mp4`) or a URL (`file://…`,
    /// `https://…`), which is used as given.
    pub path: String,
    /// The video's frame rate; must equal the plan's.
    pub frame_rate: FrameRate,
    /// Frame width in pixels.
    pub width: u32,
    /// Frame height in pixels.
    pub height: u32,
    /// Duration in seconds.
    pub duration: f64,
    /// Whether the file has a video stream.
    #[serde(default = "yes")]
    pub has_video: bool,
    /// Whether the file has an audio stream.
    #[serde(default = "yes")]
    pub has_audio: bool,
}

fn yes() -> bool {
    true
}

impl SourceInfo {
    /// A file with both video and audio.
    pub fn new(
        path: impl Into<String>,
        frame_rate: FrameRate,
        width: u32,
        height: u32,
        duration: f64,
    ) -> Self {
        Self {
            path: path.into(),
            frame_rate,
            width,
            height,
            duration,
            has_video: true,
            has_audio: true,
        }
    }

    /// The file's name: the last component of its path or URL.
    pub fn file_name(&self) -> &str {
        let trimmed = self.path.trim_end_matches(['/', '\\']);
        trimmed.rsplit(['/', '\\']).next().unwrap_or(trimmed)
    }

    /// Checks the fields and that the plan was made at the source's frame rate.
    fn check(&self, plan: &Plan) -> Result<(), JumpcutError> {
        if self.path.trim().is_empty() {
            return Err(JumpcutError::input("source.path", "is empty"));
        }
        if self.frame_rate != plan.frame_rate {
            return Err(JumpcutError::input(
                "source.frame_rate",
                format!(
                    "{} differs from the plan's {}; make the plan at the source's rate",
                    self.frame_rate, plan.frame_rate
                ),
            ));
        }
        if self.has_video && (self.width == 0 || self.height == 0) {
            return Err(JumpcutError::input(
                "source.width",
                format!("{}x{} is not a frame size", self.width, self.height),
            ));
        }
        if !self.duration.is_finite() || self.duration <= 0.0 {
            return Err(JumpcutError::input(
                "source.duration",
                format!("{} is not a positive number of seconds", self.duration),
            ));
        }
        Ok(())
    }

    /// The source as a URL: URLs as given, absolute paths as percent-encoded `file://`
    /// URLs. Relative paths are refused: editors resolve them against nothing useful.
    pub fn url(&self) -> Result<String, JumpcutError> {
        let path = self.path.trim();
        if path.contains("://") {
            return Ok(path.to_string());
        }
        let bytes = path.as_bytes();
        let windows_drive = bytes.len() >= 3
            && bytes[0].is_ascii_alphabetic()
            && bytes[1] == b':'
            && (bytes[2] == b'\\' || bytes[2] == b'/');
        if windows_drive {
            return Ok(format!(
                "file:///{}",
                percent_encode(&path.replace('\\', "/"))
            ));
        }
        if path.starts_with('/') {
            return Ok(format!("file://{}", percent_encode(path)));
        }
        Err(JumpcutError::input(
            "source.path",
            format!("{path:?} is relative; editors need an absolute path or a URL"),
        ))
    }
}

/// Percent-encodes everything but unreserved characters, `/` and a drive letter's `:`.
fn percent_encode(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for (i, b) in path.bytes().enumerate() {
        let keep = b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/')
            || (b == b':' && i == 1);
        if keep {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Escapes text for XML attribute values and element content.
pub(crate) fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Control characters are not allowed in XML 1.0 at all.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(path: &str) -> SourceInfo {
        SourceInfo::new(path, FrameRate::FPS_30, 1920, 1080, 10.0)
    }

    #[test]
    fn file_urls_are_percent_encoded() {
        assert_eq!(
            source("/home/me/My Videos/take #1 (é).mp4").url().unwrap(),
            "file:///home/me/My%20Videos/take%20%231%20%28%C3%A9%29.mp4"
        );
        assert_eq!(
            source(r"C:\Users\me\clip 1.mov").url().unwrap(),
            "file:///C:/Users/me/clip%201.mov"
        );
        assert_eq!(
            source("https://cdn.example/a b.mp4").url().unwrap(),
            "https://cdn.example/a b.mp4"
        );
        assert!(matches!(
            source("videos/a.mp4").url(),
            Err(JumpcutError::InvalidInput {
                field: "source.path",
                ..
            })
        ));
    }

    #[test]
    fn file_name_is_the_last_component() {
        assert_eq!(source("/a/b/c.mp4").file_name(), "c.mp4");
        assert_eq!(source(r"C:\a\c.mov").file_name(), "c.mov");
        assert_eq!(source("https://x.org/v/c.mp4").file_name(), "c.mp4");
    }

    #[test]
    fn xml_escape_covers_markup_and_controls() {
        assert_eq!(
            xml_escape("a<b>&\"c\" 'd'\u{1}"),
            "a&lt;b&gt;&amp;&quot;c&quot; &apos;d&apos; "
        );
    }
}

#[cfg(test)]
pub(crate) mod tests_support {
    use crate::{plan, FrameRate, Input, Mode, Plan, Settings};

    /// Speech at 1–2 s and 5–6 s of a 10 s file, default margins.
    pub(crate) fn sample_plan(rate: FrameRate, silence_speed: Option<f64>) -> Plan {
        let settings = Settings {
            mode: Mode::Speech,
            silence_speed,
            ..Settings::default()
        };
        plan(
            &settings,
            &Input::new(10.0, rate).speech(&[(1.0, 2.0), (5.0, 6.0)]),
        )
        .unwrap()
    }
}
