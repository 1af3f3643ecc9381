//! The clip pipeline's stages as plain functions of their inputs, shared by the CLI and
//! the job workers: render settings resolved into an ffmpeg render, and artifacts keyed by
//! what produced them so a re-run redoes only what changed; and the jump-cut stage
//! ([`jumpcut()`]) that removes silences and filler words from a whole video.

mod cache;
mod error;
pub mod jumpcut;
mod listen;
mod render;
mod settings;

pub use cache::{fingerprint, Fingerprint, StageKey};
pub use error::PipelineError;
pub use jumpcut::{jumpcut, ExportFormat, JumpcutJob, JumpcutOutcome};
pub use listen::listen;
pub use render::{preview_spec, render_clip, render_clips, ClipJob, RenderedClip};
pub use settings::{LogoSettings, MusicSettings, RenderSettings};
