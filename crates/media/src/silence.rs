//! Finding silences with ffmpeg's `silencedetect` filter.
//!
//! The filter reports on stderr (its only output), so the runner is asked to keep the
//! matching stderr lines rather than just the tail.

use std::path::Path;

use clipforge_core::{NoProgress, Progress};

use crate::context::{ffmpeg_path, work_timeout};
use crate::{probe_with, MediaError, RunContext};

/// Finds stretches of `path`'s first audio stream quieter than `noise_db` (dBFS, e.g. -35)
/// lasting at least `min_silence` seconds; returns `(start, end)` pairs in seconds.
pub async fn detect_silences(
    path: &Path,
    noise_db: f64,
    min_silence: f64,
) -> Result<Vec<(f64, f64)>, MediaError> {
    detect_silences_with(
        path,
        noise_db,
        min_silence,
        &RunContext::default(),
        &NoProgress,
    )
    .await
}

/// Like [`detect_silences`], on `ctx`'s runner, reporting seconds scanned to `progress`.
#[tracing::instrument(level = "debug", skip(ctx, progress), fields(path = %path.display()))]
pub async fn detect_silences_with(
    path: &Path,
    noise_db: f64,
    min_silence: f64,
    ctx: &RunContext,
    progress: &dyn Progress,
) -> Result<Vec<(f64, f64)>, MediaError> {
    if !noise_db.is_finite() {
        return Err(MediaError::InvalidArgument {
            name: "noise_db",
            detail: format!("{noise_db} is not a number of decibels"),
        });
    }
    if !(min_silence.is_finite() && min_silence > 0.0) {
        return Err(MediaError::InvalidArgument {
            name: "min_silence",
            detail: format!("{min_silence} s; it must be a positive number of seconds"),
        });
    }
    let info = probe_with(path, ctx).await?;
    let Some(stream) = info.audio.first() else {
        return Err(MediaError::NoAudio {
            path: path.to_owned(),
        });
    };
    let total = stream.duration.unwrap_or(info.duration);

    progress.stage("detecting silences");
    let filter = format!("silencedetect=noise={noise_db}dB:d={min_silence}");
    let output = ctx
        .runner
        .command("ffmpeg")
        // silencedetect logs at info level, so `-v info`; -nostats keeps the stats line out.
        .args(["-nostdin", "-hide_banner", "-nostats", "-v", "info"])
        .args(["-progress", "pipe:1", "-i"])
        .arg(ffmpeg_path(path))
        .args([
            "-map", "0:a:0", "-vn", "-sn", "-dn", "-af", &filter, "-f", "null", "-",
        ])
        .timeout(work_timeout(total))
        .cancel_on(ctx.cancel.clone())
        .keep_stderr_matching(|line| line.contains("silence_"))
        .on_progress(|p| progress.update(p.out_time.min(total), total))
        .run()
        .await?;
    let silences = parse_silencedetect(&output.stderr_matches, total);
    tracing::debug!(count = silences.len(), "silences found");
    Ok(silences)
}

/// Parses `silencedetect` log lines into `(start, end)` pairs. A silence still open at the end
/// of the input ends at `duration`.
pub fn parse_silencedetect<S: AsRef<str>>(lines: &[S], duration: f64) -> Vec<(f64, f64)> {
    let mut silences = Vec::new();
    let mut open: Option<f64> = None;
    for line in lines {
        let line = line.as_ref();
        if let Some(start) = value_after(line, "silence_start:") {
            // Clamp: the filter can report a start a hair before zero.
            open = Some(start.max(0.0));
        } else if let Some(end) = value_after(line, "silence_end:") {
            if let Some(start) = open.take() {
                if end > start {
                    silences.push((start, end));
                }
            }
        }
    }
    if let Some(start) = open {
        if duration > start {
            silences.push((start, duration));
        }
    }
    silences
}

/// The number following `key` in `line`, e.g. `silence_end: 10 | silence_duration: 2`.
fn value_after(line: &str, key: &str) -> Option<f64> {
    let rest = &line[line.find(key)? + key.len()..];
    let number = rest.trim_start().split([' ', '|']).next()?;
    number.parse::<f64>().ok().filter(|v| v.is_finite())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_ffmpeg_5_1_lines() {
        let lines = [
            "[silencedetect @ 0x558b252cce00] silence_start: 8.00006",
            "[silencedetect @ 0x558b252cce00] silence_end: 10 | silence_duration: 1.99994",
            "[silencedetect @ 0x558b252cce00] silence_start: -0.00125",
            "[silencedetect @ 0x558b252cce00] silence_end: 0.5 | silence_duration: 0.50125",
            "[silencedetect @ 0x558b252cce00] silence_start: 58.0001",
        ];
        assert_eq!(
            parse_silencedetect(&lines, 60.01),
            [(8.00006, 10.0), (0.0, 0.5), (58.0001, 60.01)]
        );
    }

    #[test]
    fn ignores_unpaired_ends_and_noise() {
        let lines = [
            "silence_end: 3 | silence_duration: 1",
            "Stream mapping:",
            "silence_start: abc",
        ];
        assert!(parse_silencedetect(&lines, 10.0).is_empty());
    }
}
