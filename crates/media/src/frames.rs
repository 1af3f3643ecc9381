//! Low-resolution gray frames sampled a few times a second, for face detection and scene
//! analysis before a clip is rendered.
//!
//! ffmpeg decodes only what it must (non-reference frames are skipped, the loop filter is
//! relaxed), drops to the sampling rate, scales down and converts to 8-bit gray, then writes
//! raw frames to a pipe the caller pulls one at a time, so memory stays at one frame.

use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::io::AsyncReadExt;

use crate::context::{ffmpeg_path, ffmpeg_seconds, work_timeout};
use crate::probe::summarize_stderr;
use crate::{MediaError, RunContext, RunningProcess, VideoStream};

/// If ffmpeg produces no frame at all for this long while the consumer waits, it is stuck.
const FRAME_STALL_TIMEOUT: Duration = Duration::from_secs(120);

/// One sampled picture: 8-bit luma, row-major, `width * height` bytes.
#[derive(Clone, PartialEq)]
pub struct GrayFrame {
    /// Seconds from the start of the sampled range.
    pub time: f64,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Luma values, one byte per pixel, rows top to bottom.
    pub pixels: Vec<u8>,
}

impl std::fmt::Debug for GrayFrame {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GrayFrame")
            .field("time", &self.time)
            .field("width", &self.width)
            .field("height", &self.height)
            .finish_non_exhaustive()
    }
}

/// Streams gray frames of a time range of a video at a fixed rate.
#[derive(Debug)]
pub struct FrameSampler {
    path: PathBuf,
    process: Option<RunningProcess>,
    width: u32,
    height: u32,
    source_size: (u32, u32),
    fps: f64,
    index: u64,
}

impl FrameSampler {
    /// Starts decoding `duration` seconds of `input`'s `video` stream (as probed) from
    /// `start` at `fps` frames a second, scaled to at most `max_width` pixels wide with the
    /// display aspect kept (rotation applied, both sides even).
    #[tracing::instrument(level = "debug", skip(ctx, video), fields(path = %input.display()))]
    pub async fn open(
        input: &Path,
        video: &VideoStream,
        start: f64,
        duration: f64,
        fps: f64,
        max_width: u32,
        ctx: &RunContext,
    ) -> Result<FrameSampler, MediaError> {
        if !(fps.is_finite() && fps > 0.0 && fps <= 120.0) {
            return Err(MediaError::InvalidArgument {
                name: "fps",
                detail: format!("{fps} is not a sampling rate between 0 and 120 frames/s"),
            });
        }
        if !(duration.is_finite() && duration > 0.0 && start.is_finite() && start >= 0.0) {
            return Err(MediaError::InvalidArgument {
                name: "duration",
                detail: format!("cannot sample {duration} s from {start} s"),
            });
        }
        let source_size = video.display_size();
        let (width, height) = sample_size(source_size, max_width);

        // Decoding dominates the cost: sampling 3 of 30 frames a second still decodes all
        // the reference frames, so skip the rest and relax the decoder's exactness. One
        // decoding thread: frame threading costs 40-70 % more CPU on the same frames, and
        // the face detector runs on the other core meanwhile (45 s of 1080p30: 1.1-1.6 s
        // of CPU on one thread, 2.0-2.4 s on two, and no faster on a loaded machine).
        let filter =
            format!("fps={fps},scale={width}:{height}:flags=fast_bilinear,setsar=1,format=gray");
        let process = ctx
            .runner
            .command("ffmpeg")
            .args(["-nostdin", "-hide_banner", "-v", "error"])
            .args(["-threads", "1", "-skip_frame", "noref", "-flags2", "fast"])
            // Deblocking only smooths block edges, which a face detector on a frame a
            // quarter the size never sees; skipping it saves a tenth of the decode.
            .args(["-skip_loop_filter", "all"])
            .args([
                "-ss",
                &ffmpeg_seconds(start),
                "-t",
                &ffmpeg_seconds(duration),
            ])
            .arg("-i")
            .arg(ffmpeg_path(input))
            .args(["-map", &format!("0:{}", video.index), "-an", "-sn", "-dn"])
            .args([
                "-vf", &filter, "-f", "rawvideo", "-pix_fmt", "gray", "pipe:1",
            ])
            .timeout(work_timeout(duration))
            .cancel_on(ctx.cancel.clone())
            .spawn_reader()
            .await?;

        Ok(FrameSampler {
            path: input.to_owned(),
            process: Some(process),
            width,
            height,
            source_size,
            fps,
            index: 0,
        })
    }

    /// Size of the frames this sampler returns.
    pub fn frame_size(&self) -> (u32, u32) {
        (self.width, self.height)
    }

    /// The source's display size (rotation applied), which frame coordinates scale to.
    pub fn source_size(&self) -> (u32, u32) {
        self.source_size
    }

    /// The next frame, or `None` once the range is exhausted and ffmpeg exited cleanly.
    pub async fn next_frame(&mut self) -> Result<Option<GrayFrame>, MediaError> {
        let Some(process) = self.process.as_mut() else {
            return Ok(None);
        };
        let want = self.width as usize * self.height as usize;
        let mut pixels = vec![0u8; want];
        let mut filled = 0;
        while filled < want {
            let read = tokio::time::timeout(
                FRAME_STALL_TIMEOUT,
                process.stdout().read(&mut pixels[filled..]),
            )
            .await;
            match read {
                Ok(Ok(0)) => break,
                Ok(Ok(n)) => filled += n,
                Ok(Err(err)) if err.kind() == std::io::ErrorKind::Interrupted => {}
                Ok(Err(err)) => {
                    self.process = None;
                    return Err(MediaError::io("reading sampled frames from ffmpeg", err));
                }
                Err(_) => {
                    let stderr_tail = process.stderr_tail();
                    self.process = None;
                    return Err(MediaError::Timeout {
                        program: "ffmpeg".into(),
                        after: FRAME_STALL_TIMEOUT,
                        stderr_tail,
                    });
                }
            }
        }
        if filled < want {
            // End of stream; a partial frame can only come from a killed process, which
            // `finish` reports.
            let process = self.process.take().expect("checked above");
            self.finish(process).await?;
            return Ok(None);
        }
        let frame = GrayFrame {
            time: self.index as f64 / self.fps,
            width: self.width,
            height: self.height,
            pixels,
        };
        self.index += 1;
        Ok(Some(frame))
    }

    async fn finish(&self, process: RunningProcess) -> Result<(), MediaError> {
        match process.finish_with_stderr().await {
            Ok(tail) => {
                if !tail.trim().is_empty() {
                    tracing::warn!(
                        path = %self.path.display(),
                        stderr = %summarize_stderr(&tail),
                        "ffmpeg reported problems while sampling frames"
                    );
                }
                Ok(())
            }
            Err(MediaError::Failed {
                status,
                stderr_tail,
                ..
            }) if !status.contains("signal") => {
                let summary = summarize_stderr(&stderr_tail);
                Err(MediaError::Corrupt {
                    path: self.path.clone(),
                    detail: if summary.is_empty() {
                        format!("ffmpeg stopped decoding video ({status})")
                    } else {
                        summary
                    },
                })
            }
            Err(other) => Err(other),
        }
    }
}

/// The sampled frame size for a source shown at `source` pixels: at most `max_width` wide
/// (and never wider than the source), aspect kept, both sides even and at least 2.
pub fn sample_size(source: (u32, u32), max_width: u32) -> (u32, u32) {
    let (sw, sh) = (source.0.max(1), source.1.max(1));
    let even = |x: f64| ((x / 2.0).floor() as u32 * 2).max(2);
    let width = even(f64::from(max_width.min(sw)));
    let height = even(f64::from(width) * f64::from(sh) / f64::from(sw) + 1.0);
    (width, height)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_sizes_keep_aspect_and_stay_even() {
        assert_eq!(sample_size((1920, 1080), 640), (640, 360));
        assert_eq!(sample_size((1080, 1920), 640), (640, 1138));
        assert_eq!(sample_size((320, 240), 640), (320, 240));
        assert_eq!(sample_size((1281, 721), 641), (640, 360));
        assert_eq!(sample_size((0, 0), 640), (2, 2));
    }
}
