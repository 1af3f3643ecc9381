//! Preparing audio for remote speech APIs, which cap upload sizes (25 MB at OpenAI and Groq).
//!
//! The audio is encoded once to 16 kHz mono FLAC (lossless, about half the size of WAV). If
//! that is too big it is split into parts, cutting inside pauses so no word is cut in half;
//! each part carries its offset in the source so callers can shift timestamps back.

use std::path::{Path, PathBuf};

use clipforge_core::{NoProgress, Progress};
use serde::Serialize;

use crate::context::{ffmpeg_path, ffmpeg_seconds, work_timeout};
use crate::{detect_silences_with, probe_with, MediaError, RunContext, SAMPLE_RATE};

/// MIME type of every [`UploadPart`].
pub const UPLOAD_MIME: &str = "audio/flac";

/// Bytes a FLAC file costs beyond its audio: ffmpeg writes STREAMINFO and 8 KiB of padding.
const FLAC_OVERHEAD: u64 = 16 * 1024;

/// Smallest `max_bytes` accepted: below this a part holds only a few seconds of speech.
const MIN_UPLOAD_BYTES: u64 = 64 * 1024;

/// Parts are planned this much under the limit because FLAC's bit rate varies with content.
const SIZE_SAFETY: f64 = 0.95;

/// Pauses to cut at: quieter than this for at least this long.
const PAUSE_NOISE_DB: f64 = -35.0;
const PAUSE_MIN_SECS: f64 = 0.3;

/// Look for a pause in the last half of each part; with none there, cut hard at the limit.
const PAUSE_SEARCH_RATIO: f64 = 0.5;

/// Re-plans of one part that came out over the limit before giving up.
const MAX_ATTEMPTS: usize = 6;

/// One file to upload and where it sits in the source.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UploadPart {
    /// The encoded file, inside the work directory.
    pub path: PathBuf,
    /// Start of this part in the source, in seconds: add it to the part's timestamps.
    pub offset: f64,
    /// Length of this part in seconds.
    pub duration: f64,
    /// The part's MIME type ([`UPLOAD_MIME`]).
    pub mime: &'static str,
}

/// Encodes `path`'s first audio stream to FLAC files in `workdir`, each at most `max_bytes`.
///
/// `workdir` should be the job's temporary directory: the parts are left there for the caller
/// to upload and remove (also after an error).
pub async fn prepare_upload(
    path: &Path,
    max_bytes: u64,
    workdir: &Path,
) -> Result<Vec<UploadPart>, MediaError> {
    prepare_upload_with(
        path,
        max_bytes,
        workdir,
        &RunContext::default(),
        &NoProgress,
    )
    .await
}

/// Like [`prepare_upload`], on `ctx`'s runner, reporting progress in seconds of audio.
#[tracing::instrument(level = "debug", skip(ctx, progress), fields(path = %path.display()))]
pub async fn prepare_upload_with(
    path: &Path,
    max_bytes: u64,
    workdir: &Path,
    ctx: &RunContext,
    progress: &dyn Progress,
) -> Result<Vec<UploadPart>, MediaError> {
    if max_bytes < MIN_UPLOAD_BYTES {
        return Err(MediaError::InvalidArgument {
            name: "max_bytes",
            detail: format!("{max_bytes} bytes; allow at least {MIN_UPLOAD_BYTES}"),
        });
    }
    let info = probe_with(path, ctx).await?;
    let Some(stream) = info.audio.first() else {
        return Err(MediaError::NoAudio {
            path: path.to_owned(),
        });
    };
    let source_secs = stream.duration.unwrap_or(info.duration);
    tokio::fs::create_dir_all(workdir)
        .await
        .map_err(|e| MediaError::io(format!("creating {}", workdir.display()), e))?;

    progress.stage("encoding audio for upload");
    let full = workdir.join("audio.flac");
    encode_flac(ctx, path, None, &full, source_secs, progress).await?;
    // Measure what was actually encoded: the stream's header duration can be off.
    let duration = match probe_with(&full, ctx).await {
        Ok(encoded) => encoded.duration,
        Err(MediaError::ZeroDuration { .. }) => {
            return Err(MediaError::Corrupt {
                path: path.to_owned(),
                detail: "no audio could be decoded from it".into(),
            })
        }
        Err(other) => return Err(other),
    };
    let size = file_size(&full).await?;
    if size <= max_bytes {
        return Ok(vec![UploadPart {
            path: full,
            offset: 0.0,
            duration,
            mime: UPLOAD_MIME,
        }]);
    }

    progress.stage("finding pauses to split at");
    let pauses = detect_silences_with(&full, PAUSE_NOISE_DB, PAUSE_MIN_SECS, ctx, progress).await?;
    let bytes_per_sec = size as f64 / duration;
    let budget = (max_bytes - FLAC_OVERHEAD) as f64 * SIZE_SAFETY;

    progress.stage("splitting audio for upload");
    let mut parts: Vec<UploadPart> = Vec::new();
    let mut start = 0.0;
    while duration - start > 1e-3 {
        let part_path = workdir.join(format!("audio-part-{:03}.flac", parts.len() + 1));
        let mut span = budget / bytes_per_sec;
        let mut attempt = 1;
        let (part, end) = loop {
            let end = choose_cut(start, span, duration, &pauses);
            encode_flac(
                ctx,
                &full,
                Some((start, end - start)),
                &part_path,
                end - start,
                &NoProgress,
            )
            .await?;
            let part_size = file_size(&part_path).await?;
            if part_size <= max_bytes {
                let part = UploadPart {
                    path: part_path,
                    offset: start,
                    duration: end - start,
                    mime: UPLOAD_MIME,
                };
                break (part, end);
            }
            if attempt == MAX_ATTEMPTS {
                return Err(MediaError::InvalidArgument {
                    name: "max_bytes",
                    detail: format!(
                        "{max_bytes} bytes; a {:.1} s part at {start:.1} s still encodes to \
                         {part_size} bytes, allow more",
                        end - start
                    ),
                });
            }
            attempt += 1;
            // This stretch is denser than average: plan with its own rate.
            span = (end - start) * budget / part_size as f64;
            tracing::debug!(
                start,
                part_size,
                max_bytes,
                span,
                "part over the limit; re-planning"
            );
        };
        start = end;
        progress.update(start, duration);
        parts.push(part);
    }
    tokio::fs::remove_file(&full)
        .await
        .map_err(|e| MediaError::io(format!("removing {}", full.display()), e))?;
    tracing::debug!(
        parts = parts.len(),
        size,
        max_bytes,
        "audio split for upload"
    );
    Ok(parts)
}

/// Encodes audio to 16 kHz mono FLAC at `out`: the whole first audio stream of `input`, or
/// `(start, length)` seconds of it.
async fn encode_flac(
    ctx: &RunContext,
    input: &Path,
    range: Option<(f64, f64)>,
    out: &Path,
    media_secs: f64,
    progress: &dyn Progress,
) -> Result<(), MediaError> {
    let mut cmd = ctx
        .runner
        .command("ffmpeg")
        .args(["-nostdin", "-hide_banner", "-v", "error", "-nostats"])
        .args(["-progress", "pipe:1"]);
    if let Some((start, _)) = range {
        // Before -i: seek in the input; ffmpeg then decodes up to the exact sample.
        cmd = cmd.args(["-ss", &ffmpeg_seconds(start)]);
    }
    cmd = cmd.arg("-i").arg(ffmpeg_path(input));
    if let Some((_, length)) = range {
        cmd = cmd.args(["-t", &ffmpeg_seconds(length)]);
    }
    let offset = range.map_or(0.0, |(start, _)| start);
    cmd.args(["-map", "0:a:0", "-vn", "-sn", "-dn", "-map_metadata", "-1"])
        .args([
            "-ac",
            "1",
            "-ar",
            &SAMPLE_RATE.to_string(),
            "-c:a",
            "flac",
            "-y",
        ])
        .arg(ffmpeg_path(out))
        .timeout(work_timeout(media_secs))
        .cancel_on(ctx.cancel.clone())
        .on_progress(|p| progress.update(offset + p.out_time.min(media_secs), offset + media_secs))
        .run()
        .await
        .map(drop)
}

async fn file_size(path: &Path) -> Result<u64, MediaError> {
    tokio::fs::metadata(path)
        .await
        .map(|m| m.len())
        .map_err(|e| MediaError::io(format!("reading the size of {}", path.display()), e))
}

/// Where to end a part that starts at `start` and may hold `span` seconds of audio that lasts
/// `duration`: inside the latest pause in the last part of the span (its middle, or the limit
/// if the pause runs past it), else exactly at the limit. Rounded to whole milliseconds so
/// ffmpeg's microsecond times stay exact.
pub(crate) fn choose_cut(start: f64, span: f64, duration: f64, pauses: &[(f64, f64)]) -> f64 {
    let limit = start + span;
    if limit >= duration {
        return duration;
    }
    let earliest = start + span * (1.0 - PAUSE_SEARCH_RATIO);
    let cut = pauses
        .iter()
        .filter(|(s, _)| *s < limit)
        .map(|(s, e)| ((s + e) / 2.0).min(limit))
        .filter(|c| *c > earliest)
        .fold(None, |best: Option<f64>, c| {
            Some(best.map_or(c, |b| b.max(c)))
        })
        .unwrap_or(limit);
    let rounded = (cut * 1000.0).floor() / 1000.0;
    // Never produce an empty part, even for absurdly small spans.
    if rounded > start {
        rounded
    } else {
        cut
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_in_the_middle_of_the_latest_pause_before_the_limit() {
        let pauses = [(4.0, 5.0), (8.0, 9.0), (14.0, 15.0)];
        assert_eq!(choose_cut(0.0, 12.0, 60.0, &pauses), 8.5);
        assert_eq!(choose_cut(8.5, 10.0, 60.0, &pauses), 14.5);
    }

    #[test]
    fn hard_cut_when_no_pause_is_near() {
        let pauses = [(1.0, 2.0)];
        assert_eq!(choose_cut(0.0, 12.0, 60.0, &pauses), 12.0);
        assert_eq!(choose_cut(0.0, 12.345_678, 60.0, &[]), 12.345);
    }

    #[test]
    fn pause_running_past_the_limit_cuts_at_the_limit() {
        assert_eq!(choose_cut(0.0, 10.0, 60.0, &[(9.0, 20.0)]), 10.0);
    }

    #[test]
    fn last_part_runs_to_the_end() {
        assert_eq!(choose_cut(50.0, 12.0, 60.0, &[(55.0, 56.0)]), 60.0);
    }
}
