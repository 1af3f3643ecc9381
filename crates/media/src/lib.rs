//! Everything that touches ffmpeg and ffprobe: the one supervised process runner, probing
//! files into typed [`MediaInfo`], streaming audio decode to 16 kHz mono `f32`, silence
//! detection, and preparing audio for remote speech APIs.
//!
//! Every process goes through [`Runner`] (time limits, kill on drop, stderr in errors,
//! cancellation, a concurrency limit); every failure is a [`MediaError`] whose message tells a
//! user what is wrong and what to do.
//!
//! ```no_run
//! # async fn example() -> Result<(), clipforge_media::MediaError> {
//! use clipforge_media::{AudioDecoder, SAMPLE_RATE};
//!
//! let mut decoder = AudioDecoder::open("talk.mp4".as_ref()).await?;
//! println!("{:.0} s of audio", decoder.duration());
//! // 30 s windows, a few in memory at a time however long the input is.
//! while let Some(window) = decoder.next_chunk(30 * SAMPLE_RATE as usize).await? {
//!     println!("{} samples", window.len());
//! }
//! # Ok(())
//! # }
//! ```
#![warn(missing_docs)]

mod audio;
mod context;
mod error;
mod extract;
mod frames;
pub mod jumpcut;
mod probe;
pub mod process;
pub mod render;
mod silence;
mod upload;

pub use audio::{decode_all, AudioDecoder, DECODE_STALL_TIMEOUT};
pub use context::RunContext;
pub use error::MediaError;
pub use extract::extract_audio;
pub use frames::{sample_size, FrameSampler, GrayFrame};
pub use probe::{parse_probe, probe, probe_with, AudioStream, MediaInfo, VideoStream};
pub use process::{FfmpegProgress, Output, ProcessCommand, Runner, RunningProcess};
pub use silence::{detect_silences, detect_silences_with, parse_silencedetect};
pub use upload::{prepare_upload, prepare_upload_with, UploadPart, UPLOAD_MIME};

/// Sample rate of decoded audio, in Hz: what speech models expect.
pub const SAMPLE_RATE: u32 = 16_000;
