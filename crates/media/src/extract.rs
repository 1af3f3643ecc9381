//! Cutting the sound of a time range out of a media file, for transcribing one clip
//! without the whole video.

use std::path::Path;

use crate::context::{ffmpeg_path, ffmpeg_seconds, work_timeout};
use crate::{MediaError, RunContext, SAMPLE_RATE};

/// Writes `start..end` seconds of `input`'s audio to `output` as 16 kHz mono WAV.
pub async fn extract_audio(
    input: &Path,
    start: f64,
    end: f64,
    output: &Path,
    ctx: &RunContext,
) -> Result<(), MediaError> {
    if !(start.is_finite() && end.is_finite()) || start < 0.0 || end <= start {
        return Err(MediaError::InvalidArgument {
            name: "audio range",
            detail: format!("{start}–{end} s is not a range; the end must come after the start"),
        });
    }
    ctx.runner
        .command("ffmpeg")
        .args([
            "-hide_banner",
            "-nostdin",
            "-y",
            "-loglevel",
            "error",
            "-ss",
        ])
        .arg(ffmpeg_seconds(start))
        .arg("-i")
        .arg(ffmpeg_path(input))
        .arg("-t")
        .arg(ffmpeg_seconds(end - start))
        .args(["-vn", "-ac", "1", "-ar"])
        .arg(SAMPLE_RATE.to_string())
        .args(["-c:a", "pcm_s16le"])
        .arg(ffmpeg_path(output))
        .timeout(work_timeout(end - start))
        .cancel_on(ctx.cancel.clone())
        .run()
        .await?;
    Ok(())
}
