//! Jump cuts for talking-head video: decides which parts of a recording to keep when
//! removing silences, filler words and false starts, and exports the result for editors.
//!
//! Pure logic, no I/O. The caller measures the media (a [`Loudness`] envelope, speech
//! ranges from a voice-activity detector, and/or a [`clipforge_core::Transcript`]),
//! describes it in an [`Input`], and calls [`plan`] with [`Settings`]. The [`Plan`] lists
//! [`Piece`]s of the source in order, every boundary on the output frame grid, each with
//! a speed (1.0 for speech, above 1 for silences kept sped up). [`to_json`],
//! [`to_fcpxml`] and [`to_edl`] write it for scripts, Final Cut Pro / DaVinci Resolve /
//! Premiere, and anything that reads CMX3600.
//!
//! Choices worth knowing:
//! - Loudness thresholds are relative to the file's own level, the 95th percentile of its
//!   envelope, so a quiet recording cuts like a loud one; an absolute floor
//!   (`min_level_db`) keeps hum and hiss from ever counting as speech.
//! - Kept boundaries are widened to whole frames (start down, end up), so speech is never
//!   clipped by snapping and audio and video cut at the same instants.
//! - A sped-up silence is given a whole number of output frames (`round(frames / speed)`,
//!   at least one), and its speed is adjusted to match exactly, so the output length is
//!   always a whole number of frames.
//! - Removed words (fillers, false starts) are cut even where margins or `min_silence`
//!   would have kept the time around them, and are never sped up instead.
//!
//! ```
//! use clipforge_jumpcut::{plan, FrameRate, Input, Mode, Settings};
//!
//! let settings = Settings { mode: Mode::Speech, ..Settings::default() };
//! let speech = [(1.0, 2.0), (5.0, 6.0)];
//! let plan = plan(&settings, &Input::new(10.0, FrameRate::FPS_25).speech(&speech)).unwrap();
//! assert_eq!(plan.pieces.len(), 2);
//! assert_eq!(plan.output_frames(), 72);
//! ```

mod error;
mod export;
mod loudness;
mod plan;
mod ranges;
mod rate;
mod settings;
mod timecode;
mod words;

pub use error::JumpcutError;
pub use export::{to_edl, to_fcpxml, to_json, SourceInfo};
pub use loudness::{Loudness, FLOOR_DB, REFERENCE_PERCENTILE};
pub use plan::{plan, Counts, Input, Piece, Plan, Removed};
pub use rate::FrameRate;
pub use settings::{Mode, Settings, BREATH_DB, BREATH_GAP, DEFAULT_FILLERS};
pub use timecode::timecode;
pub use words::{is_filler, normalize_word};
