//! The transcript formats users ask for by name.

use std::fmt;
use std::path::Path;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::CaptionsError;

/// A transcript export format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SubtitleFormat {
    /// The full transcript (segments, words, times, confidences) as pretty JSON.
    Json,
    /// SubRip subtitles.
    Srt,
    /// WebVTT subtitles.
    Vtt,
    /// Plain text in paragraphs.
    Txt,
}

impl SubtitleFormat {
    /// Every format, in the order they are listed to users.
    pub const ALL: [SubtitleFormat; 4] = [Self::Json, Self::Srt, Self::Vtt, Self::Txt];

    /// The name used on the command line, in the API and as the file extension.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Json => "json",
            Self::Srt => "srt",
            Self::Vtt => "vtt",
            Self::Txt => "txt",
        }
    }

    /// The media type to serve this format with.
    pub fn mime_type(self) -> &'static str {
        match self {
            Self::Json => "application/json",
            Self::Srt => "application/x-subrip",
            Self::Vtt => "text/vtt",
            Self::Txt => "text/plain; charset=utf-8",
        }
    }

    /// The format a file name asks for by its extension (`talk.srt` → SRT), if any.
    pub fn from_path(path: &Path) -> Option<Self> {
        path.extension()?.to_str()?.parse().ok()
    }
}

impl fmt::Display for SubtitleFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SubtitleFormat {
    type Err = CaptionsError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim();
        Self::ALL
            .into_iter()
            .find(|f| f.as_str().eq_ignore_ascii_case(wanted))
            .ok_or_else(|| CaptionsError::UnknownFormat {
                input: s.to_string(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for format in SubtitleFormat::ALL {
            assert_eq!(format.to_string().parse::<SubtitleFormat>(), Ok(format));
            let json = serde_json::to_string(&format).unwrap();
            assert_eq!(json, format!("\"{format}\""));
        }
        assert_eq!(" SRT ".parse::<SubtitleFormat>(), Ok(SubtitleFormat::Srt));
    }

    #[test]
    fn unknown_names_say_what_is_accepted() {
        let err = "ass".parse::<SubtitleFormat>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown transcript format \"ass\": use one of json, srt, vtt, txt"
        );
        assert!("".parse::<SubtitleFormat>().is_err());
    }

    #[test]
    fn format_from_file_name() {
        assert_eq!(
            SubtitleFormat::from_path(Path::new("out/talk.VTT")),
            Some(SubtitleFormat::Vtt)
        );
        assert_eq!(SubtitleFormat::from_path(Path::new("talk.mp4")), None);
        assert_eq!(SubtitleFormat::from_path(Path::new("talk")), None);
    }
}
