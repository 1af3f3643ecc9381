//! The one error type of the media layer.
//!
//! Every message is written for the person who runs clipforge: it says what is wrong with
//! which file or tool and what to do about it, on one line. Only process failures carry the
//! last lines of the tool's stderr, and those go at the very end so the first line still reads
//! as a sentence.

use std::io;
use std::path::PathBuf;
use std::time::Duration;

/// Why a media operation failed, phrased so a user knows what to do next.
#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    /// A required external program (ffmpeg, ffprobe, ...) is not installed or not on `PATH`.
    #[error("`{program}` was not found on PATH; {}", install_hint(program))]
    ToolMissing {
        /// The program that could not be started.
        program: String,
    },

    /// The input path does not exist.
    #[error("{} does not exist; check the path and try again", path.display())]
    FileMissing {
        /// The path that was asked for.
        path: PathBuf,
    },

    /// The input exists but no demuxer recognises it as audio or video.
    #[error("{} is not a media file ffmpeg can read ({detail}); use a video or audio file", path.display())]
    NotMedia {
        /// The input file.
        path: PathBuf,
        /// What ffprobe said, reduced to one line.
        detail: String,
    },

    /// The input is media but carries no audio track.
    #[error("{} has no audio stream; use a file with sound", path.display())]
    NoAudio {
        /// The input file.
        path: PathBuf,
    },

    /// The input is media but its duration is zero or unknown.
    #[error("{} has zero duration; the file is empty or still being written", path.display())]
    ZeroDuration {
        /// The input file.
        path: PathBuf,
    },

    /// The container is recognised but the data is truncated or damaged.
    #[error("{} cannot be fully read ({detail}); the file is damaged or incomplete, re-download or re-export it", path.display())]
    Corrupt {
        /// The input file.
        path: PathBuf,
        /// What is damaged, on one line (e.g. "truncated: decoded 6.0 s of 10.0 s").
        detail: String,
    },

    /// A process ran longer than its time limit and was killed.
    #[error("{program} did not finish within {} and was stopped{}", fmt_duration(*after), fmt_tail(stderr_tail))]
    Timeout {
        /// The program that was killed.
        program: String,
        /// The limit it ran into.
        after: Duration,
        /// The last lines it wrote to stderr.
        stderr_tail: String,
    },

    /// A process was killed because its work was cancelled.
    #[error("{program} was stopped because the job was cancelled")]
    Cancelled {
        /// The program that was killed.
        program: String,
    },

    /// A process exited unsuccessfully.
    #[error("{program} failed ({status}){}", fmt_tail(stderr_tail))]
    Failed {
        /// The program that failed.
        program: String,
        /// How it ended, e.g. "exit status: 1" or "signal: 9 (SIGKILL)".
        status: String,
        /// The last lines it wrote to stderr.
        stderr_tail: String,
    },

    /// A file system or pipe operation failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done, e.g. "creating /tmp/job/parts".
        context: String,
        /// The underlying error.
        #[source]
        source: io::Error,
    },

    /// A tool's output could not be understood.
    #[error("could not understand {what}: {detail}")]
    Parse {
        /// Which output, e.g. "ffprobe output".
        what: String,
        /// What was wrong with it.
        detail: String,
    },

    /// A caller passed a value the operation cannot work with.
    #[error("invalid {name}: {detail}")]
    InvalidArgument {
        /// The parameter name.
        name: &'static str,
        /// Why it is invalid.
        detail: String,
    },
}

impl MediaError {
    /// Wraps an I/O error with what was being attempted.
    pub fn io(context: impl Into<String>, source: io::Error) -> Self {
        Self::Io {
            context: context.into(),
            source,
        }
    }
}

/// How to get a missing program; ffmpeg and ffprobe ship together, so both point to ffmpeg.
fn install_hint(program: &str) -> String {
    let name = std::path::Path::new(program)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| program.to_owned());
    match name.as_str() {
        "ffmpeg" | "ffprobe" => "install ffmpeg: `sudo apt-get install ffmpeg` (Debian/Ubuntu) \
                                 or `brew install ffmpeg` (macOS)"
            .to_owned(),
        other => format!("install {other} or add its folder to PATH"),
    }
}

/// Stderr tails are multi-line, so they go last, after a colon, each line on its own.
fn fmt_tail(tail: &str) -> String {
    let tail = tail.trim();
    if tail.is_empty() {
        String::new()
    } else {
        format!("; stderr:\n{tail}")
    }
}

/// Durations read best in whole seconds unless they are short.
fn fmt_duration(d: Duration) -> String {
    if d >= Duration::from_secs(10) {
        format!("{} s", d.as_secs())
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tool_missing_says_how_to_install_ffmpeg() {
        let msg = MediaError::ToolMissing {
            program: "ffprobe".into(),
        }
        .to_string();
        assert!(msg.contains("sudo apt-get install ffmpeg"), "{msg}");
        assert!(msg.contains("brew install ffmpeg"), "{msg}");
        assert!(!msg.contains('\n'));
    }

    #[test]
    fn tool_missing_for_other_programs_names_them() {
        let msg = MediaError::ToolMissing {
            program: "/opt/bin/espeak-ng".into(),
        }
        .to_string();
        assert!(msg.contains("install espeak-ng"), "{msg}");
    }

    #[test]
    fn failed_puts_stderr_at_the_end() {
        let msg = MediaError::Failed {
            program: "ffmpeg".into(),
            status: "exit status: 1".into(),
            stderr_tail: "first\nsecond".into(),
        }
        .to_string();
        assert_eq!(
            msg,
            "ffmpeg failed (exit status: 1); stderr:\nfirst\nsecond"
        );
    }

    #[test]
    fn timeout_without_stderr_is_one_line() {
        let msg = MediaError::Timeout {
            program: "sleep".into(),
            after: Duration::from_millis(300),
            stderr_tail: String::new(),
        }
        .to_string();
        assert_eq!(msg, "sleep did not finish within 0.3 s and was stopped");
    }

    #[test]
    fn file_errors_are_one_line() {
        let path = PathBuf::from("/videos/talk.mp4");
        for err in [
            MediaError::FileMissing { path: path.clone() },
            MediaError::NotMedia {
                path: path.clone(),
                detail: "Invalid data found when processing input".into(),
            },
            MediaError::NoAudio { path: path.clone() },
            MediaError::ZeroDuration { path: path.clone() },
            MediaError::Corrupt {
                path: path.clone(),
                detail: "truncated: decoded 6.0 s of 10.0 s".into(),
            },
        ] {
            let msg = err.to_string();
            assert!(msg.starts_with("/videos/talk.mp4 "), "{msg}");
            assert!(!msg.contains('\n'), "{msg}");
        }
    }
}
