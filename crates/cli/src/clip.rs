//! `clipforge clip`: a long video in, ready-to-post clips out — probe, transcribe, find
//! the moments, render the best few; and `clipforge render`: one clip by hand.
//!
//! Every stage leaves its artifact in the output folder with a key of what made it
//! (`.clipforge/`), so a re-run with the same input and settings redoes nothing, and one
//! with only a new caption template re-renders only the clips.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context};
use clap::Args;
use serde::Serialize;

use clipforge_captions::SubtitleFormat;
use clipforge_core::{
    AspectRatio, ClipSuggestion, Progress, Quality, ReframeMode, SuggestParams, Transcript,
};
use clipforge_highlights::embed::load_embedder;
use clipforge_highlights::Moments;
use clipforge_media::render::{render_frame, FrameKind};
use clipforge_media::{probe, MediaInfo, RunContext};
use clipforge_pipeline::{
    fingerprint, listen, render_clips, ClipJob, LogoSettings, MusicSettings, RenderSettings,
    StageKey,
};

use crate::config::Config;
use crate::progress::TerminalProgress;
use crate::transcribe::{transcribe_file, write_atomically, AsrArgs};

/// How clips look: shared by `clip` and `render`.
#[derive(Debug, Args)]
pub struct LookArgs {
    /// Frame shape: 9:16, 1:1, 4:5 or 16:9.
    #[arg(long, default_value = "9:16")]
    aspect: AspectRatio,
    /// draft (540p, fast), standard (1080p) or high (1080p, slower, sharper).
    #[arg(long, default_value = "standard")]
    quality: Quality,
    /// Caption template (bold-pop, karaoke, boxed, minimal, neon).
    #[arg(long, value_name = "NAME")]
    template: Option<String>,
    /// Burn in no captions.
    #[arg(long, conflicts_with = "template")]
    no_captions: bool,
    /// auto (follow the speaker's face), center, fit-blur or fit-black.
    #[arg(long, default_value = "auto")]
    reframe: ReframeMode,
    /// What auto does when nobody is in the picture: center, fit-blur or fit-black.
    #[arg(long, default_value = "center", value_name = "MODE")]
    no_face: ReframeMode,
    /// Stack two people far apart one above the other.
    #[arg(long)]
    split: bool,
    /// No intro title over the first seconds.
    #[arg(long)]
    no_title: bool,
    /// Output width and height in pixels (instead of the quality's size).
    #[arg(long, value_name = "PX", requires = "height")]
    width: Option<u32>,
    #[arg(long, value_name = "PX", requires = "width")]
    height: Option<u32>,
    /// Output frame rate (default: the source's, halved while above 30).
    #[arg(long)]
    fps: Option<f64>,
    /// Video bit rate in kbit/s instead of constant quality.
    #[arg(long, value_name = "KBPS")]
    bitrate: Option<u32>,
    /// Watermark image.
    #[arg(long, value_name = "IMAGE")]
    logo: Option<PathBuf>,
    /// Watermark corner: top-left, top-right, bottom-left or bottom-right.
    #[arg(long, default_value = "top-right", value_name = "CORNER")]
    logo_position: String,
    /// Watermark width as a share of the frame width.
    #[arg(long, default_value_t = 0.18, value_name = "SHARE")]
    logo_scale: f64,
    /// Watermark opacity, 0–1.
    #[arg(long, default_value_t = 0.85)]
    logo_opacity: f64,
    /// Background music, looped and lowered while someone speaks.
    #[arg(long, value_name = "AUDIO")]
    music: Option<PathBuf>,
    /// Music level in dB before ducking.
    #[arg(long, default_value_t = -18.0, value_name = "DB", allow_hyphen_values = true)]
    music_volume: f64,
    /// Loudness target in LUFS.
    #[arg(long, default_value_t = -14.0, value_name = "LUFS", allow_hyphen_values = true)]
    loudness: f64,
    /// Leave the loudness as it is.
    #[arg(long)]
    no_loudness: bool,
}

impl LookArgs {
    fn settings(&self) -> anyhow::Result<RenderSettings> {
        let mut s = RenderSettings {
            aspect: self.aspect,
            quality: self.quality,
            width: self.width,
            height: self.height,
            fps: self.fps,
            video_bitrate: self.bitrate,
            reframe: self.reframe,
            no_face: self.no_face,
            split: self.split,
            intro_title: !self.no_title,
            logo: self.logo.as_ref().map(|path| LogoSettings {
                path: path.clone(),
                corner: self.logo_position.clone(),
                scale: self.logo_scale,
                opacity: self.logo_opacity,
            }),
            music: self.music.as_ref().map(|path| MusicSettings {
                path: path.clone(),
                volume_db: self.music_volume,
                duck: true,
            }),
            loudness: (!self.no_loudness).then_some(self.loudness),
            ..RenderSettings::default()
        };
        if self.no_captions {
            s.template = None;
        } else if let Some(t) = &self.template {
            s.template = Some(t.clone());
        }
        s.validate()?;
        Ok(s)
    }
}

#[derive(Debug, Args)]
pub struct ClipArgs {
    /// The long video.
    input: PathBuf,
    /// Output folder (default: INPUT's name + "-clips" beside it).
    #[arg(short, long, value_name = "DIR")]
    output: Option<PathBuf>,
    /// How many clips to render.
    #[arg(long, default_value_t = 10, value_name = "N")]
    clips: usize,
    /// Shortest and longest clip in seconds.
    #[arg(long, default_value_t = 20.0, value_name = "S")]
    min_duration: f64,
    #[arg(long, default_value_t = 60.0, value_name = "S")]
    max_duration: f64,
    #[command(flatten)]
    look: LookArgs,
    #[command(flatten)]
    asr: AsrArgs,
}

/// One entry of `clips.json`.
#[derive(Debug, Serialize)]
struct ClipEntry<'a> {
    index: usize,
    file: String,
    thumbnail: Option<String>,
    #[serde(flatten)]
    suggestion: &'a ClipSuggestion,
    framing: &'static str,
}

#[derive(Debug, Serialize)]
struct ClipsFile<'a> {
    input: String,
    settings: &'a RenderSettings,
    clips: Vec<ClipEntry<'a>>,
}

/// A short stage name, then a bar over its work with an ETA.
fn stage(progress: &TerminalProgress, name: &str) {
    progress.stage(name);
    progress.update(0.0, 1.0);
}

pub async fn run(args: ClipArgs, config: &Config) -> anyhow::Result<()> {
    let settings = args.look.settings()?;
    if args.clips == 0 {
        bail!("--clips must be at least 1");
    }
    let params = SuggestParams {
        min_duration: args.min_duration,
        max_duration: args.max_duration,
        max_suggestions: args.clips,
        ..SuggestParams::default()
    };
    params.validate().map_err(|e| anyhow::anyhow!("{e}"))?;
    let started = Instant::now();
    let input = &args.input;
    let info = probe(input).await?;
    if info.video.is_none() {
        bail!(
            "{} has no video stream; clips need a picture (use `clipforge transcribe` for audio)",
            input.display()
        );
    }
    let dir = args.output.clone().unwrap_or_else(|| default_dir(input));
    let cache = dir.join(".clipforge");
    std::fs::create_dir_all(&cache)
        .with_context(|| format!("cannot create {}", cache.display()))?;
    let print = |m: String| eprintln!("[{:>5.1} s] {m}", started.elapsed().as_secs_f64());
    let fp = fingerprint(input)?;

    // Transcript.
    let transcript_path = dir.join("transcript.json");
    let transcript_key = StageKey::new("transcript", &(&fp.0, args.asr.identity(config)));
    let transcript: Transcript = match read_cached(&transcript_path, &transcript_key, &cache) {
        Some(t) => {
            print(format!("transcript: reused {}", transcript_path.display()));
            t
        }
        None => {
            let t = transcribe_file(input, &args.asr, config).await?;
            let json = clipforge_captions::export(&t, SubtitleFormat::Json);
            write_atomically(&transcript_path, json.as_bytes())?;
            let srt = clipforge_captions::export(&t, SubtitleFormat::Srt);
            write_atomically(&dir.join("transcript.srt"), srt.as_bytes())?;
            transcript_key.store(&key_path(&cache, &transcript_path))?;
            print(format!("transcript: {} words", t.words().count()));
            t
        }
    };
    if transcript.words().next().is_none() {
        bail!(
            "no speech was found in {}; clips are cut around what is said, so there is nothing to clip",
            input.display()
        );
    }

    // Suggestions.
    let suggestions_path = cache.join("suggestions.json");
    let suggest_key = StageKey::new(
        "suggest",
        &(&transcript_key.0, &params, env!("CARGO_PKG_VERSION")),
    );
    let suggestions: Vec<ClipSuggestion> =
        match read_cached(&suggestions_path, &suggest_key, &cache) {
            Some(s) => {
                print("moments: reused".into());
                s
            }
            None => {
                let progress = TerminalProgress::new();
                stage(&progress, "finding moments");
                let mut warnings = Vec::new();
                let embedder = load_embedder(None, &mut warnings)?;
                for w in warnings {
                    eprintln!("warning: {w}");
                }
                let analysis = listen(input).await?;
                let moments = tokio::task::block_in_place(|| {
                    Moments::prepare(&transcript, &params, analysis, embedder.as_ref())
                })?;
                let outcome = moments.suggest();
                progress.finish();
                if outcome.suggestions.is_empty() {
                    bail!(
                        "no clip found: {}",
                        outcome.message.as_deref().unwrap_or("no window qualified")
                    );
                }
                let json = serde_json::to_vec_pretty(&outcome.suggestions)?;
                write_atomically(&suggestions_path, &json)?;
                suggest_key.store(&key_path(&cache, &suggestions_path))?;
                print(format!(
                    "moments: {} picked from {} candidates",
                    outcome.suggestions.len(),
                    outcome.candidates
                ));
                outcome.suggestions
            }
        };

    // Clips.
    let names: Vec<(String, String)> = (1..=suggestions.len())
        .map(|n| (format!("clip-{n:02}.mp4"), format!("clip-{n:02}.jpg")))
        .collect();
    let paths: Vec<(PathBuf, PathBuf)> = names
        .iter()
        .map(|(file, thumb)| (dir.join(file), dir.join(thumb)))
        .collect();
    let jobs: Vec<ClipJob> = suggestions
        .iter()
        .zip(&paths)
        .map(|(s, (file, thumb))| ClipJob {
            input,
            fingerprint: &fp,
            info: &info,
            transcript: Some(&transcript),
            start: s.start,
            end: s.end,
            title: Some(&s.hook),
            settings: &settings,
            output: file,
            thumbnail: Some(thumb),
            cache: &cache,
        })
        .collect();
    let progress = TerminalProgress::new();
    let mut entries = Vec::new();
    render_clips(&jobs, &RunContext::default(), &progress, |i, rendered| {
        let (s, (file, thumb)) = (&suggestions[i], &names[i]);
        print(format!(
            "{file}: {:.1}–{:.1} s, score {:.0}, {}{}",
            s.start,
            s.end,
            s.score,
            rendered.framing,
            if rendered.reused { " (reused)" } else { "" }
        ));
        entries.push(ClipEntry {
            index: i + 1,
            file: file.clone(),
            thumbnail: Some(thumb.clone()),
            suggestion: s,
            framing: rendered.framing,
        });
    })
    .await
    .map_err(|(i, e)| {
        let s = &suggestions[i];
        anyhow::Error::new(e).context(format!(
            "rendering clip {} ({:.1}–{:.1} s)",
            i + 1,
            s.start,
            s.end
        ))
    })?;
    progress.finish();
    let report = ClipsFile {
        input: input.display().to_string(),
        settings: &settings,
        clips: entries,
    };
    write_atomically(
        &dir.join("clips.json"),
        &serde_json::to_vec_pretty(&report)?,
    )?;
    print(format!(
        "done: {} clips in {}",
        report.clips.len(),
        dir.display()
    ));
    Ok(())
}

fn default_dir(input: &Path) -> PathBuf {
    let stem = input
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "video".into());
    input
        .parent()
        .unwrap_or(Path::new("."))
        .join(format!("{stem}-clips"))
}

fn key_path(cache: &Path, artifact: &Path) -> PathBuf {
    let name = artifact
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    cache.join(format!("{name}.key"))
}

/// The artifact at `path` when its key says it was made from the same inputs.
fn read_cached<T: serde::de::DeserializeOwned>(
    path: &Path,
    key: &StageKey,
    cache: &Path,
) -> Option<T> {
    if !key.matches(&key_path(cache, path)) {
        return None;
    }
    let text = std::fs::read_to_string(path).ok()?;
    serde_json::from_str(&text).ok()
}

#[derive(Debug, Args)]
pub struct RenderArgs {
    /// The source video.
    input: PathBuf,
    /// Start of the clip in seconds. Give --start and --end once per clip to render
    /// several clips of one source in one run.
    #[arg(long, value_name = "S", required = true)]
    start: Vec<f64>,
    /// End of the clip in seconds (one per --start).
    #[arg(long, value_name = "S", required = true)]
    end: Vec<f64>,
    /// Output file (default: INPUT's name + the range, .mp4; .png/.jpg with
    /// --preview-frame); with several clips, or when it is a folder, the folder the clips
    /// go in, each named as the default.
    #[arg(short, long, value_name = "PATH")]
    output: Option<PathBuf>,
    /// Transcript JSON of the input for captions (default: transcribe the clip's range).
    #[arg(long, value_name = "FILE")]
    transcript: Option<PathBuf>,
    /// Intro title text (once for every clip, or once per clip in order).
    #[arg(long, value_name = "TEXT")]
    title: Vec<String>,
    /// Render only the frame at T seconds into the clip, through the clip's own filter
    /// graph (what the export shows at T).
    #[arg(long, value_name = "T")]
    preview_frame: Option<f64>,
    #[command(flatten)]
    look: LookArgs,
    #[command(flatten)]
    asr: AsrArgs,
}

pub async fn render(args: RenderArgs, config: &Config) -> anyhow::Result<()> {
    let ranges = clip_ranges(&args)?;
    let settings = args.look.settings()?;
    let input = &args.input;
    let info: MediaInfo = probe(input).await?;
    let fp = fingerprint(input)?;
    // One transcript for all clips from --transcript, or each clip's range transcribed.
    let mut per_clip = Vec::new();
    let shared = if settings.template.is_none() {
        None
    } else if let Some(path) = &args.transcript {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        Some(serde_json::from_str::<Transcript>(&text).with_context(|| {
            format!(
                "{} is not a clipforge transcript (make one with `clipforge transcribe`)",
                path.display()
            )
        })?)
    } else {
        if info.has_audio() {
            for &(start, end) in &ranges {
                per_clip.push(transcribe_range(input, start, end, &args.asr, config).await?);
            }
        }
        None
    };
    let stem = input
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "clip".into());
    let cache = std::env::temp_dir().join(format!("clipforge-render-{}", fp.0));
    let default_name = |(start, end): (f64, f64)| {
        let range = format!("{stem}-{start:.1}-{end:.1}");
        match args.preview_frame {
            Some(t) => format!("{range}-at-{t:.2}.png"),
            None => format!("{range}.mp4"),
        }
    };
    let outputs: Vec<PathBuf> = match (&args.output, ranges.as_slice()) {
        (Some(file), [_]) if !file.is_dir() => vec![file.clone()],
        (Some(dir), _) => {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            ranges.iter().map(|&r| dir.join(default_name(r))).collect()
        }
        (None, _) => ranges
            .iter()
            .map(|&r| PathBuf::from(default_name(r)))
            .collect(),
    };
    let jobs: Vec<ClipJob> = ranges
        .iter()
        .zip(&outputs)
        .enumerate()
        .map(|(i, (&(start, end), output))| ClipJob {
            input,
            fingerprint: &fp,
            info: &info,
            transcript: shared.as_ref().or(per_clip.get(i)),
            start,
            end,
            title: args.title.get(i).or(args.title.first()).map(String::as_str),
            settings: &settings,
            output,
            thumbnail: None,
            cache: &cache,
        })
        .collect();
    let ctx = RunContext::default();
    if let (Some(t), [job]) = (args.preview_frame, jobs.as_slice()) {
        let spec = clipforge_pipeline::preview_spec(job, &ctx).await?;
        render_frame(&spec, t, FrameKind::Preview, job.output, &ctx).await?;
        eprintln!("{}", job.output.display());
        return Ok(());
    }
    let progress = TerminalProgress::new();
    progress.stage("rendering");
    render_clips(&jobs, &ctx, &progress, |_, rendered| {
        progress.println(&format!(
            "{} ({})",
            rendered.output.display(),
            rendered.framing
        ));
    })
    .await
    .map_err(|(i, e)| {
        let (start, end) = ranges[i];
        anyhow::Error::new(e).context(format!("rendering {start:.1}–{end:.1} s"))
    })?;
    progress.finish();
    Ok(())
}

/// The clip ranges `--start`/`--end` name, checked against each other and the titles.
fn clip_ranges(args: &RenderArgs) -> anyhow::Result<Vec<(f64, f64)>> {
    if args.start.len() != args.end.len() {
        bail!(
            "{} --start but {} --end: give one of each per clip",
            args.start.len(),
            args.end.len()
        );
    }
    let clips = args.start.len();
    if args.title.len() > 1 && args.title.len() != clips {
        bail!(
            "{} titles for {clips} clips: give one --title for all, or one per clip",
            args.title.len()
        );
    }
    if clips > 1 && args.preview_frame.is_some() {
        bail!("--preview-frame renders a frame of one clip: give one --start and --end");
    }
    Ok(args
        .start
        .iter()
        .copied()
        .zip(args.end.iter().copied())
        .collect())
}

/// Transcribes only the clip's range (a few seconds of audio rather than the whole
/// video) and puts the words back on the video's clock.
async fn transcribe_range(
    input: &Path,
    start: f64,
    end: f64,
    asr: &AsrArgs,
    config: &Config,
) -> anyhow::Result<Transcript> {
    let dir = tempfile::tempdir().context("cannot create a temporary folder")?;
    let wav = dir.path().join("range.wav");
    clipforge_media::extract_audio(input, start, end, &wav, &RunContext::default()).await?;
    let mut t = transcribe_file(&wav, asr, config).await?;
    for seg in &mut t.segments {
        seg.start += start;
        seg.end += start;
        for w in &mut seg.words {
            w.start += start;
            w.end += start;
        }
    }
    t.duration = end;
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_folder_sits_beside_the_input() {
        assert_eq!(
            default_dir(Path::new("/v/talk.mp4")),
            PathBuf::from("/v/talk-clips")
        );
    }
}
