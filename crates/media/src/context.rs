//! What every high-level media operation needs from its caller: where to run processes and
//! what can stop them.

use std::ffi::OsString;
use std::path::Path;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::Runner;

/// The runner to start processes on and the token that cancels them.
#[derive(Debug, Clone)]
pub struct RunContext {
    /// Limits concurrent processes.
    pub runner: Runner,
    /// Cancelling it kills whatever process the operation is running.
    pub cancel: CancellationToken,
}

impl Default for RunContext {
    /// The shared runner and a token nobody cancels.
    fn default() -> Self {
        Self {
            runner: Runner::shared(),
            cancel: CancellationToken::new(),
        }
    }
}

impl RunContext {
    /// A context with an explicit runner and cancellation token.
    pub fn new(runner: Runner, cancel: CancellationToken) -> Self {
        Self { runner, cancel }
    }

    /// A context for work done ahead of need beside this one's: processes at the lowest
    /// priority (see [`Runner::background`]), stopped by the same token.
    pub fn background(&self) -> Self {
        Self {
            runner: self.runner.background(),
            cancel: self.cancel.clone(),
        }
    }
}

/// A local path as an ffmpeg input/output argument.
///
/// The `file:` prefix stops ffmpeg from reading `clip:1.mp4` as protocol `clip` or a name
/// starting with `-` as an option.
pub(crate) fn ffmpeg_path(path: &Path) -> OsString {
    let mut arg = OsString::from("file:");
    arg.push(path.as_os_str());
    arg
}

/// A generous limit for ffmpeg work over `media_seconds` of input: hangs get caught, while
/// slow machines running at real-time speed still finish.
pub(crate) fn work_timeout(media_seconds: f64) -> Duration {
    let secs = if media_seconds.is_finite() {
        media_seconds.max(0.0)
    } else {
        0.0
    };
    Duration::from_secs_f64(120.0 + secs)
}

/// Formats seconds for ffmpeg's `-ss`/`-t` with microsecond precision.
pub(crate) fn ffmpeg_seconds(secs: f64) -> String {
    format!("{:.6}", secs.max(0.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_get_the_file_protocol() {
        assert_eq!(ffmpeg_path(Path::new("-x:1.mp4")), "file:-x:1.mp4");
        assert_eq!(ffmpeg_path(Path::new("/a b/c.mp4")), "file:/a b/c.mp4");
    }

    #[test]
    fn timeouts_scale_with_duration() {
        assert_eq!(work_timeout(0.0), Duration::from_secs(120));
        assert_eq!(work_timeout(3600.0), Duration::from_secs(3720));
        assert_eq!(work_timeout(f64::NAN), Duration::from_secs(120));
    }
}
