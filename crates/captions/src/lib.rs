//! Captions and transcript export: groups a [`clipforge_core::Transcript`]'s words into
//! broadcast-style cues and writes them as SRT or WebVTT, or the transcript as plain text
//! or JSON.

mod cues;
mod error;
mod export;
mod format;
mod layout;

pub use cues::{build_cues, Cue, CueRules};
pub use error::CaptionsError;
pub use export::{export, format_timestamp, to_json, to_srt, to_txt, to_vtt};
pub use format::SubtitleFormat;
