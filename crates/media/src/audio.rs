//! Streaming decode of any input's audio to 16 kHz mono `f32`, the format speech models eat.
//!
//! ffmpeg writes raw little-endian floats to a pipe and the caller pulls fixed-size chunks,
//! so a four-hour input costs a few chunks of memory, not 900 MB of samples or a temp WAV.
//! The pipe's back-pressure paces ffmpeg to the consumer.

use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::io::AsyncReadExt;

use crate::context::ffmpeg_path;
use crate::probe::summarize_stderr;
use crate::{
    probe_with, AudioStream, MediaError, MediaInfo, RunContext, RunningProcess, SAMPLE_RATE,
};

/// If ffmpeg produces no audio at all for this long while the consumer waits, it is stuck.
/// This is not a limit on the whole decode, which the consumer paces.
pub const DECODE_STALL_TIMEOUT: Duration = Duration::from_secs(120);

/// A decode may come up this much short of the probed length before it counts as truncated:
/// containers round durations, and encoder priming and padding trim a little at each end.
const TRUNCATION_TOLERANCE_RATIO: f64 = 0.95;
const TRUNCATION_TOLERANCE_SECS: f64 = 1.0;

const BYTES_PER_SAMPLE: usize = std::mem::size_of::<f32>();

/// Reads one audio stream of a file as 16 kHz mono `f32` samples, chunk by chunk.
#[derive(Debug)]
pub struct AudioDecoder {
    path: PathBuf,
    info: MediaInfo,
    stream: AudioStream,
    expected_secs: f64,
    process: Option<RunningProcess>,
    samples: u64,
}

impl AudioDecoder {
    /// Probes `path` and starts decoding its first audio stream on the shared runner.
    ///
    /// A missing file, a non-media file, a file without audio and a zero-length file fail
    /// here, with their own errors, before any decoding starts.
    pub async fn open(path: &Path) -> Result<AudioDecoder, MediaError> {
        Self::open_with(path, &RunContext::default(), 0).await
    }

    /// Like [`open`](Self::open), decoding the `audio_stream`-th audio stream (0-based, in
    /// the order of [`MediaInfo::audio`]) on `ctx`'s runner, cancellable through `ctx`.
    #[tracing::instrument(level = "debug", skip(ctx), fields(path = %path.display()))]
    pub async fn open_with(
        path: &Path,
        ctx: &RunContext,
        audio_stream: usize,
    ) -> Result<AudioDecoder, MediaError> {
        let info = probe_with(path, ctx).await?;
        if info.audio.is_empty() {
            return Err(MediaError::NoAudio {
                path: path.to_owned(),
            });
        }
        let stream =
            info.audio
                .get(audio_stream)
                .cloned()
                .ok_or_else(|| MediaError::InvalidArgument {
                    name: "audio_stream",
                    detail: format!(
                        "{} has {} audio stream(s); stream {audio_stream} does not exist",
                        path.display(),
                        info.audio.len()
                    ),
                })?;
        // The stream's own length when the container states it: a video may run past its
        // audio, and that is not truncation.
        let expected_secs = stream.duration.unwrap_or(info.duration);

        let process = ctx
            .runner
            .command("ffmpeg")
            .args(["-nostdin", "-hide_banner", "-v", "error", "-i"])
            .arg(ffmpeg_path(path))
            .args(["-map", &format!("0:a:{audio_stream}"), "-vn", "-sn", "-dn"])
            .args([
                "-ac",
                "1",
                "-ar",
                &SAMPLE_RATE.to_string(),
                "-f",
                "f32le",
                "pipe:1",
            ])
            .cancel_on(ctx.cancel.clone())
            .spawn_reader()
            .await?;

        Ok(AudioDecoder {
            path: path.to_owned(),
            info,
            stream,
            expected_secs,
            process: Some(process),
            samples: 0,
        })
    }

    /// What the probe found.
    pub fn info(&self) -> &MediaInfo {
        &self.info
    }

    /// The audio stream being decoded.
    pub fn stream(&self) -> &AudioStream {
        &self.stream
    }

    /// The probed length of the audio being decoded, in seconds (for progress).
    pub fn duration(&self) -> f64 {
        self.expected_secs
    }

    /// Seconds of audio returned so far.
    pub fn decoded_seconds(&self) -> f64 {
        self.samples as f64 / f64::from(SAMPLE_RATE)
    }

    /// Returns the next `max_samples` samples (fewer only for the last chunk), or `None` once
    /// the stream ended cleanly.
    ///
    /// At the end, ffmpeg's exit is checked and the decoded length compared with the probed
    /// one: a failed or cut-short decode is [`MediaError::Corrupt`]. A `max_samples` of 0 is
    /// treated as 1.
    pub async fn next_chunk(&mut self, max_samples: usize) -> Result<Option<Vec<f32>>, MediaError> {
        let Some(process) = self.process.as_mut() else {
            return Ok(None);
        };
        let want = max_samples.max(1) * BYTES_PER_SAMPLE;
        let mut bytes = vec![0u8; want];
        let mut filled = 0;
        let mut at_end = false;
        while filled < want {
            let read = tokio::time::timeout(
                DECODE_STALL_TIMEOUT,
                process.stdout().read(&mut bytes[filled..]),
            )
            .await;
            match read {
                Ok(Ok(0)) => {
                    at_end = true;
                    break;
                }
                Ok(Ok(n)) => filled += n,
                Ok(Err(err)) if err.kind() == std::io::ErrorKind::Interrupted => {}
                Ok(Err(err)) => {
                    self.process = None;
                    return Err(MediaError::io("reading decoded audio from ffmpeg", err));
                }
                Err(_) => {
                    let stderr_tail = process.stderr_tail();
                    // Dropping the process kills ffmpeg.
                    self.process = None;
                    return Err(MediaError::Timeout {
                        program: "ffmpeg".into(),
                        after: DECODE_STALL_TIMEOUT,
                        stderr_tail,
                    });
                }
            }
        }

        let whole = filled / BYTES_PER_SAMPLE * BYTES_PER_SAMPLE;
        let chunk: Vec<f32> = bytes[..whole]
            .chunks_exact(BYTES_PER_SAMPLE)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        self.samples += chunk.len() as u64;

        if at_end {
            let process = self.process.take().expect("checked above");
            self.check_end(process).await?;
        }
        Ok((!chunk.is_empty()).then_some(chunk))
    }

    /// Checks that ffmpeg succeeded and that the audio was not cut short.
    async fn check_end(&self, process: RunningProcess) -> Result<(), MediaError> {
        let stderr_tail = match process.finish_with_stderr().await {
            Ok(tail) => tail,
            // A kill from outside (OOM killer, admin) says nothing about the file.
            Err(MediaError::Failed {
                status,
                stderr_tail,
                ..
            }) if !status.contains("signal") => {
                let summary = summarize_stderr(&stderr_tail);
                return Err(MediaError::Corrupt {
                    path: self.path.clone(),
                    detail: if summary.is_empty() {
                        format!("ffmpeg stopped decoding ({status})")
                    } else {
                        summary
                    },
                });
            }
            Err(other) => return Err(other),
        };
        let decoded = self.decoded_seconds();
        let expected = self.expected_secs;
        if decoded < expected * TRUNCATION_TOLERANCE_RATIO - TRUNCATION_TOLERANCE_SECS {
            let summary = summarize_stderr(&stderr_tail);
            let mut detail = format!("truncated: decoded {decoded:.1} s of {expected:.1} s");
            if !summary.is_empty() {
                detail.push_str("; ffmpeg: ");
                detail.push_str(&summary);
            }
            return Err(MediaError::Corrupt {
                path: self.path.clone(),
                detail,
            });
        }
        if !stderr_tail.is_empty() {
            tracing::warn!(
                path = %self.path.display(),
                stderr = %summarize_stderr(&stderr_tail),
                "ffmpeg reported problems while decoding audio"
            );
        }
        tracing::debug!(decoded, expected, "audio decode finished");
        Ok(())
    }
}

/// Decodes the whole first audio stream of `path` into memory (4 bytes per sample, 64 kB per
/// second: for clips, not for hour-long inputs; stream those with [`AudioDecoder`]).
pub async fn decode_all(path: &Path) -> Result<Vec<f32>, MediaError> {
    let mut decoder = AudioDecoder::open(path).await?;
    let expected = (decoder.duration() * f64::from(SAMPLE_RATE)) as usize;
    // The probed length is a hint; cap the reservation so a wrong header cannot claim GBs.
    let mut samples = Vec::with_capacity(expected.min(64 << 20));
    while let Some(chunk) = decoder.next_chunk(SAMPLE_RATE as usize * 10).await? {
        samples.extend_from_slice(&chunk);
    }
    Ok(samples)
}
