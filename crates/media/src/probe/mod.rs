//! What a media file contains, from ffprobe, as typed values; and typed errors for inputs
//! that are missing, not media, or damaged, before any heavier work starts.

mod parse;

use std::io;
use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::io::AsyncReadExt;

use crate::context::ffmpeg_path;
use crate::{MediaError, RunContext};
pub use parse::parse_probe;

/// ffprobe reads headers only; even huge files answer in well under this.
const PROBE_TIMEOUT: Duration = Duration::from_secs(60);

/// The facts about a media file the pipeline needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MediaInfo {
    /// Length in seconds.
    pub duration: f64,
    /// ffprobe's `format_name`, e.g. `mov,mp4,m4a,3gp,3g2,mj2`.
    pub container: String,
    /// File size in bytes.
    pub size: u64,
    /// Overall bit rate in bits per second, when known.
    pub bit_rate: Option<u64>,
    /// The first real video stream (cover art is not counted).
    pub video: Option<VideoStream>,
    /// Every audio stream, in file order.
    pub audio: Vec<AudioStream>,
}

impl MediaInfo {
    /// True when there is at least one audio stream.
    pub fn has_audio(&self) -> bool {
        !self.audio.is_empty()
    }
}

/// A video stream's picture geometry and timing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VideoStream {
    /// Stream index in the file (for `-map 0:N`).
    pub index: u32,
    /// Codec name, e.g. `h264`.
    pub codec: String,
    /// Stored width in pixels, before rotation.
    pub width: u32,
    /// Stored height in pixels, before rotation.
    pub height: u32,
    /// Clockwise degrees to turn the picture for display: 0, 90, 180 or 270.
    pub rotation: i32,
    /// Display aspect ratio, e.g. (16, 9), when the file states one.
    pub display_aspect: Option<(u32, u32)>,
    /// Average frame rate (frames / duration).
    pub avg_frame_rate: Option<f64>,
    /// Nominal ("real base") frame rate.
    pub r_frame_rate: Option<f64>,
    /// True when average and nominal rates differ by more than 1%.
    pub variable_frame_rate: bool,
}

impl VideoStream {
    /// Width and height as shown to a viewer: rotation applied and non-square pixels
    /// stretched to the display aspect ratio.
    pub fn display_size(&self) -> (u32, u32) {
        let mut width = self.width;
        if let Some((num, den)) = self.display_aspect {
            if self.height > 0 && self.width > 0 {
                let stored = f64::from(self.width) / f64::from(self.height);
                let display = f64::from(num) / f64::from(den);
                // Only anamorphic video needs this; rounding noise in the stated ratio
                // must not change square-pixel sizes.
                if (display - stored).abs() > 0.01 * stored {
                    width = (f64::from(self.height) * display).round() as u32;
                }
            }
        }
        match self.rotation {
            90 | 270 => (self.height, width),
            _ => (width, self.height),
        }
    }

    /// The frame rate to plan with: average if known, else nominal.
    pub fn frame_rate(&self) -> Option<f64> {
        self.avg_frame_rate.or(self.r_frame_rate)
    }
}

/// One audio stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AudioStream {
    /// Stream index in the file (for `-map 0:N`).
    pub index: u32,
    /// Codec name, e.g. `aac`.
    pub codec: String,
    /// Channel count.
    pub channels: u32,
    /// Sample rate in Hz.
    pub sample_rate: u32,
    /// Bits per second, when the container states it.
    pub bit_rate: Option<u64>,
    /// ISO 639-2 language tag, if the file names one (`und` counts as none).
    pub language: Option<String>,
    /// The stream's own duration in seconds, when the container states it.
    pub duration: Option<f64>,
}

/// Probes `path` with ffprobe on the shared runner.
pub async fn probe(path: &Path) -> Result<MediaInfo, MediaError> {
    probe_with(path, &RunContext::default()).await
}

/// Probes `path` with ffprobe on `ctx`'s runner, cancellable through `ctx`.
#[tracing::instrument(level = "debug", skip(ctx), fields(path = %path.display()))]
pub async fn probe_with(path: &Path, ctx: &RunContext) -> Result<MediaInfo, MediaError> {
    check_input(path).await?;
    let result = ctx
        .runner
        .command("ffprobe")
        .args([
            "-v",
            "error",
            "-print_format",
            "json",
            "-show_format",
            "-show_streams",
        ])
        .arg("-i")
        .arg(ffmpeg_path(path))
        .timeout(PROBE_TIMEOUT)
        .cancel_on(ctx.cancel.clone())
        .run()
        .await;
    match result {
        Ok(output) => {
            let json = String::from_utf8_lossy(&output.stdout);
            parse_probe(&json, path)
        }
        Err(MediaError::Failed {
            program,
            status,
            stderr_tail,
        }) => {
            let head = read_head(path).await.unwrap_or_default();
            Err(
                classify_probe_failure(path, &stderr_tail, &head).unwrap_or(MediaError::Failed {
                    program,
                    status,
                    stderr_tail,
                }),
            )
        }
        Err(other) => Err(other),
    }
}

/// Fails early, with the right error, for inputs ffprobe would only describe vaguely.
pub(crate) async fn check_input(path: &Path) -> Result<(), MediaError> {
    let meta = match tokio::fs::metadata(path).await {
        Ok(meta) => meta,
        Err(err) if err.kind() == io::ErrorKind::NotFound => {
            return Err(MediaError::FileMissing {
                path: path.to_owned(),
            })
        }
        Err(err) => return Err(MediaError::io(format!("reading {}", path.display()), err)),
    };
    let not_media = |detail: &str| MediaError::NotMedia {
        path: path.to_owned(),
        detail: detail.to_owned(),
    };
    if meta.is_dir() {
        return Err(not_media("it is a directory"));
    }
    if meta.is_file() && meta.len() == 0 {
        return Err(not_media("the file is empty"));
    }
    Ok(())
}

/// The first bytes of the file, to tell a damaged MP4 from something that never was one.
async fn read_head(path: &Path) -> io::Result<Vec<u8>> {
    let mut head = Vec::with_capacity(16);
    tokio::fs::File::open(path)
        .await?
        .take(16)
        .read_to_end(&mut head)
        .await?;
    Ok(head)
}

/// True when `head` starts with an ISO-BMFF box (MP4, MOV, M4A, 3GP).
fn is_iso_bmff(head: &[u8]) -> bool {
    const BOXES: [&[u8; 4]; 8] = [
        b"ftyp", b"moov", b"mdat", b"free", b"skip", b"wide", b"pnot", b"uuid",
    ];
    head.get(4..8)
        .is_some_and(|kind| BOXES.iter().any(|b| b.as_slice() == kind))
}

/// Phrases in ffmpeg's messages that mean the data stops early or is damaged.
const DAMAGE_MARKERS: [&str; 6] = [
    "partial file",
    "truncat",
    "end of file",
    "invalid nal unit",
    "error reading header",
    "corrupt",
];

/// Maps a failed ffprobe run to the error a user should see, or `None` when it says nothing
/// about the input (then the generic failure with stderr is the most useful).
pub(crate) fn classify_probe_failure(
    path: &Path,
    stderr_tail: &str,
    head: &[u8],
) -> Option<MediaError> {
    let lower = stderr_tail.to_lowercase();
    let detail = summarize_stderr(stderr_tail);
    if lower.contains("moov atom not found") {
        // An MP4 whose index (at the end, unless written with +faststart) was never written:
        // a cut-off download or recording. ffmpeg says the same for any non-MP4 named .mp4,
        // so the file's first box decides.
        return Some(if is_iso_bmff(head) {
            MediaError::Corrupt {
                path: path.to_owned(),
                detail: "the MP4 index (moov atom) is missing, so the file was cut off \
                         while downloading or recording"
                    .into(),
            }
        } else {
            MediaError::NotMedia {
                path: path.to_owned(),
                detail: "it is named like an MP4 but is not one".into(),
            }
        });
    }
    if DAMAGE_MARKERS.iter().any(|m| lower.contains(m)) {
        return Some(MediaError::Corrupt {
            path: path.to_owned(),
            detail,
        });
    }
    if lower.contains("invalid data found when processing input") {
        return Some(MediaError::NotMedia {
            path: path.to_owned(),
            detail: "ffmpeg does not recognise its format".into(),
        });
    }
    if lower.contains("no such file or directory") {
        return Some(MediaError::FileMissing {
            path: path.to_owned(),
        });
    }
    None
}

/// Reduces ffmpeg stderr to one line: the last few distinct messages, without the
/// `[demuxer @ 0x55...]` prefixes that make lines differ only by address.
pub(crate) fn summarize_stderr(stderr: &str) -> String {
    let mut lines: Vec<&str> = Vec::new();
    for line in stderr.lines() {
        let line = strip_context_prefix(line.trim());
        if !line.is_empty() && !lines.contains(&line) {
            lines.push(line);
        }
    }
    let start = lines.len().saturating_sub(3);
    lines[start..].join("; ")
}

fn strip_context_prefix(line: &str) -> &str {
    if line.starts_with('[') {
        if let Some(end) = line.find("] ") {
            return line[end + 2..].trim();
        }
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    const MP4_HEAD: &[u8] = b"\0\0\0\x20ftypisom\0\0\x02\0";

    #[test]
    fn truncated_mp4_is_corrupt() {
        let stderr =
            include_str!("../../tests/fixtures/ffprobe/ffprobe-5.1-truncated-mp4.stderr.txt");
        let err = classify_probe_failure(Path::new("t.mp4"), stderr, MP4_HEAD).unwrap();
        assert!(matches!(err, MediaError::Corrupt { .. }), "{err}");
        assert!(!err.to_string().contains('\n'));
    }

    #[test]
    fn text_named_mp4_is_not_media() {
        let stderr =
            include_str!("../../tests/fixtures/ffprobe/ffprobe-5.1-text-named-mp4.stderr.txt");
        let err =
            classify_probe_failure(Path::new("t.mp4"), stderr, b"hello, this is not").unwrap();
        assert!(matches!(err, MediaError::NotMedia { .. }), "{err}");
    }

    #[test]
    fn unknown_format_is_not_media() {
        let stderr = include_str!("../../tests/fixtures/ffprobe/ffprobe-5.1-text-file.stderr.txt");
        let err = classify_probe_failure(Path::new("t.bin"), stderr, b"hello").unwrap();
        assert!(matches!(err, MediaError::NotMedia { .. }), "{err}");
    }

    #[test]
    fn unrelated_failures_are_left_alone() {
        assert!(classify_probe_failure(Path::new("a"), "Unrecognized option 'x'", b"").is_none());
    }

    #[test]
    fn recognises_iso_bmff_boxes() {
        assert!(is_iso_bmff(MP4_HEAD));
        assert!(is_iso_bmff(b"\0\0\0\x08mdat"));
        assert!(!is_iso_bmff(b"ID3\x03\0\0\0\0"));
        assert!(!is_iso_bmff(b"ab"));
    }

    #[test]
    fn summary_is_one_line_without_addresses() {
        let stderr = include_str!(
            "../../tests/fixtures/ffmpeg/ffmpeg-5.1-decode-truncated-faststart.stderr.txt"
        );
        assert_eq!(
            summarize_stderr(stderr),
            "stream 1, offset 0x171cc0: partial file"
        );
        let many = "[a @ 0x1] one\n[a @ 0x2] one\ntwo\nthree\nfour\n";
        assert_eq!(summarize_stderr(many), "two; three; four");
    }

    #[test]
    fn display_size_stretches_anamorphic_video() {
        let v = VideoStream {
            index: 0,
            codec: "mpeg2video".into(),
            width: 720,
            height: 576,
            rotation: 0,
            display_aspect: Some((16, 9)),
            avg_frame_rate: Some(25.0),
            r_frame_rate: Some(25.0),
            variable_frame_rate: false,
        };
        assert_eq!(v.display_size(), (1024, 576));
        assert_eq!(v.frame_rate(), Some(25.0));
    }
}
