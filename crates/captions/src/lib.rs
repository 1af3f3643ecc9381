//! Captions and transcript export: groups a [`clipforge_core::Transcript`]'s words into
//! broadcast-style cues and writes them as SRT or WebVTT, or the transcript as plain text
//! or JSON; and styled, animated captions for burning into clips, as ASS.

mod ass;
mod cues;
mod error;
mod export;
mod format;
mod layout;

pub use ass::{
    ass_color, ass_document, clip_words, escape, template, title_document, IntroTitle, TEMPLATES,
};
pub use cues::{build_cues, Cue, CueRules};
pub use error::CaptionsError;
pub use export::{export, format_timestamp, to_json, to_srt, to_txt, to_vtt};
pub use format::SubtitleFormat;
