//! Rendering one clip in one ffmpeg process: fast seek to the clip, framing, captions,
//! logo, music and loudness in a single filter graph, H.264/AAC with `+faststart`. The same
//! graph renders a single preview frame or a thumbnail, so a preview cannot drift from the
//! export.

mod graph;
mod title;

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use clipforge_core::Framing;

use crate::context::{ffmpeg_path, ffmpeg_seconds, work_timeout};
use crate::{FfmpegProgress, MediaError, RunContext};
pub use graph::{filter_graph, loudness_graph, path_expression, Inputs, Parts, CAPTIONS_FILE};
use title::DrawnTitle;
pub use title::{TitleCard, TitlePlacement, TITLE_FILE};

/// A corner of the frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Corner {
    /// Top left.
    TopLeft,
    /// Top right (the default: platforms put their buttons on the bottom right).
    #[default]
    TopRight,
    /// Bottom left.
    BottomLeft,
    /// Bottom right.
    BottomRight,
}

/// A watermark image.
#[derive(Debug, Clone, PartialEq)]
pub struct Logo {
    /// The image (PNG with transparency works best).
    pub path: PathBuf,
    /// Where it sits.
    pub corner: Corner,
    /// Width as a share of the frame width.
    pub scale: f64,
    /// 0 (invisible) to 1 (opaque).
    pub opacity: f64,
}

/// Background music, looped to the clip's length.
#[derive(Debug, Clone, PartialEq)]
pub struct Music {
    /// The audio file.
    pub path: PathBuf,
    /// Gain applied to the music before mixing, in dB (negative is quieter).
    pub volume_db: f64,
    /// Lower the music while someone speaks.
    pub duck: bool,
}

/// Everything one clip render needs, decided by the caller.
#[derive(Debug, Clone, PartialEq)]
pub struct RenderSpec {
    /// The source video.
    pub input: PathBuf,
    /// Start of the clip in the input, seconds.
    pub start: f64,
    /// End of the clip in the input, seconds.
    pub end: f64,
    /// Output frame width and height.
    pub frame: (u32, u32),
    /// Output frame rate (constant).
    pub fps: f64,
    /// x264 constant rate factor.
    pub crf: u32,
    /// x264 preset.
    pub preset: String,
    /// A target video bit rate in kbit/s instead of the constant rate factor.
    pub video_bitrate: Option<u32>,
    /// How the picture fills the frame.
    pub framing: Framing,
    /// ASS captions to burn in.
    pub captions: Option<String>,
    /// An intro title over the first seconds.
    pub title: Option<TitleCard>,
    /// A watermark.
    pub logo: Option<Logo>,
    /// Background music.
    pub music: Option<Music>,
    /// Integrated loudness target in LUFS (−14 for social platforms).
    pub loudness: Option<f64>,
    /// Whether the input has sound; silence is generated otherwise, so every clip has an
    /// audio track players and platforms expect.
    pub has_audio: bool,
}

impl RenderSpec {
    /// Length of the clip in seconds.
    pub fn duration(&self) -> f64 {
        self.end - self.start
    }

    fn validate(&self) -> Result<(), MediaError> {
        let bad = |name, detail: String| Err(MediaError::InvalidArgument { name, detail });
        if !(self.start.is_finite() && self.end.is_finite()) || self.start < 0.0 {
            return bad(
                "clip range",
                format!("{}–{} s is not a time range", self.start, self.end),
            );
        }
        if self.duration() < 0.1 {
            return bad(
                "clip range",
                format!(
                    "{:.2}–{:.2} s is empty; the end must come after the start",
                    self.start, self.end
                ),
            );
        }
        if self.frame.0 < 16 || self.frame.1 < 16 || self.frame.0 % 2 == 1 || self.frame.1 % 2 == 1
        {
            return bad(
                "frame size",
                format!(
                    "{}x{} must be at least 16x16 and even on both sides",
                    self.frame.0, self.frame.1
                ),
            );
        }
        if !(1.0..=120.0).contains(&self.fps) {
            return bad("frame rate", format!("{} fps is outside 1–120", self.fps));
        }
        Ok(())
    }
}

/// Threads decoding the source in a render: one per four cores, at least one. On 2 cores
/// a single decoding thread saved about 3 % of a 45-s 1080p clip's render time.
fn decoder_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().div_ceil(4))
}

/// Where the inputs go in the ffmpeg command and what the graph may use.
fn input_args(
    spec: &RenderSpec,
    seek: f64,
    with_audio: bool,
    title: Option<&DrawnTitle>,
) -> (Vec<OsString>, Inputs) {
    let mut args: Vec<OsString> = Vec::new();
    // The encoder keeps every core busy; a decoder with frame threads of its own only
    // adds their overhead on a small machine, so it gets a thread per four cores.
    args.extend(["-threads".into(), decoder_threads().to_string().into()]);
    // Seeking before -i jumps to the nearest keyframe and decodes forward to the exact
    // time; timestamps then start at zero at the clip's first frame.
    args.extend(["-ss".into(), ffmpeg_seconds(seek).into(), "-i".into()]);
    args.push(ffmpeg_path(&absolute(&spec.input)));
    let mut next = 1;
    let mut inputs = Inputs {
        logo: None,
        music: None,
        audio: 0,
        title: None,
    };
    if let Some(logo) = &spec.logo {
        args.extend(["-i".into(), ffmpeg_path(&absolute(&logo.path))]);
        inputs.logo = Some(next);
        next += 1;
    }
    if let Some(DrawnTitle { path, place }) = title {
        let place = *place;
        args.extend(["-f", "rawvideo", "-pix_fmt", "rgba", "-s"].map(OsString::from));
        args.push(format!("{}x{}", spec.frame.0, place.height).into());
        args.extend(["-i".into(), ffmpeg_path(path)]);
        inputs.title = Some((next, place));
        next += 1;
    }
    if with_audio {
        if let Some(music) = &spec.music {
            args.extend(["-stream_loop".into(), "-1".into(), "-i".into()]);
            args.push(ffmpeg_path(&absolute(&music.path)));
            inputs.music = Some(next);
            next += 1;
        }
        if !spec.has_audio {
            args.extend([
                "-f".into(),
                "lavfi".into(),
                "-i".into(),
                "anullsrc=r=48000:cl=stereo".into(),
            ]);
            inputs.audio = next;
        }
    }
    (args, inputs)
}

/// `path` made absolute: ffmpeg runs in the render's work folder, where a relative path
/// would point elsewhere.
fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

/// Writes the captions file into `work` when the spec has captions.
async fn write_captions(spec: &RenderSpec, work: &Path) -> Result<bool, MediaError> {
    let Some(ass) = &spec.captions else {
        return Ok(false);
    };
    let path = work.join(CAPTIONS_FILE);
    tokio::fs::write(&path, ass)
        .await
        .map_err(|e| MediaError::io(format!("writing {}", path.display()), e))?;
    Ok(true)
}

/// A folder for one render's files, removed when dropped, next to the output so the
/// finished file is renamed into place rather than copied.
fn work_dir(output: &Path) -> Result<tempfile::TempDir, MediaError> {
    let parent = output
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let parent = &absolute(parent);
    std::fs::create_dir_all(parent)
        .map_err(|e| MediaError::io(format!("creating {}", parent.display()), e))?;
    tempfile::Builder::new()
        .prefix(".clipforge-render-")
        .tempdir_in(parent)
        .map_err(|e| MediaError::io(format!("creating a work folder in {}", parent.display()), e))
}

/// Renders the clip to `output` (MP4), reporting seconds of output done. The file appears
/// only when complete; on failure or cancellation nothing is left behind.
pub async fn render(
    spec: &RenderSpec,
    output: &Path,
    ctx: &RunContext,
    on_progress: impl FnMut(FfmpegProgress) + Send,
) -> Result<(), MediaError> {
    let prelude = RenderPrelude::make(spec, output, ctx).await?;
    encode(spec, prelude, output, ctx, on_progress).await
}

/// The parts of a render that do not depend on how the picture is framed: the loudness
/// gain and the drawn intro title. A caller that still has to analyse the picture (face
/// reframing) makes them at the same time, from the spec with a provisional framing.
#[derive(Debug)]
pub struct RenderPrelude {
    /// The spec the prelude was made for, its framing aside.
    made_for: RenderSpec,
    work: tempfile::TempDir,
    gain_db: Option<f64>,
    title: Option<title::DrawnTitle>,
}

impl RenderPrelude {
    /// Measures the loudness and draws the title (two small passes, run together), in a
    /// work folder next to `output`.
    pub async fn make(
        spec: &RenderSpec,
        output: &Path,
        ctx: &RunContext,
    ) -> Result<Self, MediaError> {
        spec.validate()?;
        let work = work_dir(output)?;
        let (gain_db, title) = tokio::try_join!(
            loudness_gain(spec, ctx, work.path()),
            title::draw_title(spec, ctx, work.path())
        )?;
        Ok(Self {
            made_for: unframed(spec),
            work,
            gain_db,
            title,
        })
    }
}

/// The spec with its framing left out, for telling whether a prelude still fits it.
fn unframed(spec: &RenderSpec) -> RenderSpec {
    RenderSpec {
        framing: Framing::FitBlack,
        ..spec.clone()
    }
}

/// [`render`] with the loudness and title made ahead by [`RenderPrelude::make`] from a
/// spec that may differ from this one only in its framing; a prelude made for anything
/// else is made again.
pub async fn render_after(
    spec: &RenderSpec,
    prelude: RenderPrelude,
    output: &Path,
    ctx: &RunContext,
    on_progress: impl FnMut(FfmpegProgress) + Send,
) -> Result<(), MediaError> {
    spec.validate()?;
    let prelude = if prelude.made_for == unframed(spec) {
        prelude
    } else {
        RenderPrelude::make(spec, output, ctx).await?
    };
    encode(spec, prelude, output, ctx, on_progress).await
}

/// The render's one ffmpeg pass, with a prelude made for `spec`.
async fn encode(
    spec: &RenderSpec,
    prelude: RenderPrelude,
    output: &Path,
    ctx: &RunContext,
    mut on_progress: impl FnMut(FfmpegProgress) + Send,
) -> Result<(), MediaError> {
    let RenderPrelude {
        work,
        gain_db,
        title,
        ..
    } = prelude;
    let captions = write_captions(spec, work.path()).await?;
    let (mut args, inputs) = input_args(spec, spec.start, true, title.as_ref());
    let parts = Parts {
        captions,
        audio: true,
        gain_db,
        offset: 0.0,
    };
    let graph = filter_graph(spec, inputs, parts);
    let part = work.path().join("clip.mp4");
    args.extend(["-filter_complex".into(), graph.into()]);
    args.extend(["-map".into(), "[v]".into(), "-map".into(), "[a]".into()]);
    args.extend(["-t".into(), ffmpeg_seconds(spec.duration()).into()]);
    args.extend(video_codec_args(spec));
    for a in [
        "-c:a",
        "aac",
        "-b:a",
        "192k",
        "-ar",
        "48000",
        "-ac",
        "2",
        "-movflags",
        "+faststart",
        "-map_metadata",
        "-1",
        "-map_chapters",
        "-1",
    ] {
        args.push(a.into());
    }
    args.extend(["-progress".into(), "pipe:1".into()]);
    args.push(ffmpeg_path(&part));
    ffmpeg_in(
        ctx,
        work.path(),
        args,
        work_timeout(spec.duration() * 4.0),
        "error",
    )
    .on_progress(&mut on_progress)
    .run()
    .await?;
    tokio::fs::rename(&part, output)
        .await
        .map_err(|e| MediaError::io(format!("moving the clip to {}", output.display()), e))?;
    Ok(())
}

/// Loudest boost the loudness gain applies: more would lift a near-silent recording's
/// noise floor to speech level.
const MAX_GAIN_DB: f64 = 36.0;

/// Below this integrated loudness a clip counts as silent and gets no gain.
const SILENT_LUFS: f64 = -60.0;

/// The gain in dB that brings the clip's mixed audio to the spec's loudness target, from
/// a fast audio-only pass through ffmpeg's EBU R128 meter; `None` without a target or
/// sound.
async fn loudness_gain(
    spec: &RenderSpec,
    ctx: &RunContext,
    work: &Path,
) -> Result<Option<f64>, MediaError> {
    let Some(target) = spec.loudness else {
        return Ok(None);
    };
    if !spec.has_audio && spec.music.is_none() {
        return Ok(None);
    }
    let (mut args, inputs) = input_args(spec, spec.start, true, None);
    args.extend([
        "-filter_complex".into(),
        loudness_graph(spec, inputs).into(),
    ]);
    args.extend(["-map".into(), "[a]".into()]);
    args.extend(["-t".into(), ffmpeg_seconds(spec.duration()).into()]);
    args.extend(["-f".into(), "null".into(), "-".into()]);
    let out = ffmpeg_in(ctx, work, args, work_timeout(spec.duration()), "info")
        .keep_stderr_matching(|line| line.trim_start().starts_with("I:"))
        .run()
        .await?;
    let measured = out
        .stderr_matches
        .last()
        .and_then(|line| parse_integrated(line))
        .ok_or_else(|| MediaError::Corrupt {
            path: spec.input.clone(),
            detail: "the loudness meter gave no reading for the clip's audio".into(),
        })?;
    Ok(gain_for(measured, target))
}

/// The number in a meter summary line such as `    I:         -23.5 LUFS`.
fn parse_integrated(line: &str) -> Option<f64> {
    let rest = line.trim_start().strip_prefix("I:")?;
    let value: f64 = rest.split_whitespace().next()?.parse().ok()?;
    value.is_finite().then_some(value)
}

/// Gain from `measured` to `target` LUFS: none for silence, boosts capped.
fn gain_for(measured: f64, target: f64) -> Option<f64> {
    (measured > SILENT_LUFS).then(|| (target - measured).min(MAX_GAIN_DB))
}

/// An ffmpeg command running in the render's work folder at `loglevel`, stopped by the
/// context's token or after `limit`.
fn ffmpeg_in<'a>(
    ctx: &RunContext,
    work: &Path,
    args: Vec<OsString>,
    limit: std::time::Duration,
    loglevel: &str,
) -> crate::ProcessCommand<'a> {
    ctx.runner
        .command("ffmpeg")
        .args([
            "-hide_banner",
            "-nostdin",
            "-y",
            "-nostats",
            "-loglevel",
            loglevel,
        ])
        .args(args)
        .current_dir(work)
        .timeout(limit)
        .cancel_on(ctx.cancel.clone())
}

fn video_codec_args(spec: &RenderSpec) -> Vec<OsString> {
    let mut args: Vec<OsString> = ["-c:v", "libx264", "-preset", spec.preset.as_str()]
        .into_iter()
        .map(Into::into)
        .collect();
    match spec.video_bitrate {
        Some(kbps) => args.extend([
            "-b:v".into(),
            format!("{kbps}k").into(),
            "-maxrate".into(),
            format!("{}k", kbps * 3 / 2).into(),
            "-bufsize".into(),
            format!("{}k", kbps * 2).into(),
        ]),
        None => args.extend(["-crf".into(), spec.crf.to_string().into()]),
    }
    for a in [
        "-pix_fmt",
        "yuv420p",
        "-profile:v",
        "high",
        "-fps_mode",
        "cfr",
    ] {
        args.push(a.into());
    }
    args.extend(["-r".into(), format!("{}", spec.fps).into()]);
    args
}

/// What a single frame shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameKind {
    /// Exactly what the export shows at that time, captions included.
    Preview,
    /// The picture without captions or title, for a thumbnail.
    Thumbnail,
}

/// Renders the frame at `time` seconds into the clip through the clip's own filter graph,
/// as PNG or JPEG by `output`'s extension.
pub async fn render_frame(
    spec: &RenderSpec,
    time: f64,
    kind: FrameKind,
    output: &Path,
    ctx: &RunContext,
) -> Result<(), MediaError> {
    spec.validate()?;
    if !(0.0..spec.duration()).contains(&time) {
        return Err(MediaError::InvalidArgument {
            name: "frame time",
            detail: format!(
                "{time:.2} s is outside the clip, which lasts {:.2} s",
                spec.duration()
            ),
        });
    }
    let work = work_dir(output)?;
    let preview = kind == FrameKind::Preview;
    let captions = preview && write_captions(spec, work.path()).await?;
    let title = match preview && time < spec.title.as_ref().map_or(0.0, |t| t.duration) {
        true => title::draw_title(spec, ctx, work.path()).await?,
        false => None,
    };
    let (mut args, inputs) = input_args(spec, spec.start + time, false, title.as_ref());
    let parts = Parts {
        captions,
        audio: false,
        gain_db: None,
        offset: time,
    };
    let graph = filter_graph(spec, inputs, parts);
    let jpeg = output
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("jpg") || e.eq_ignore_ascii_case("jpeg"));
    let part = work
        .path()
        .join(if jpeg { "frame.jpg" } else { "frame.png" });
    args.extend(["-filter_complex".into(), graph.into()]);
    args.extend(["-map".into(), "[v]".into(), "-frames:v".into(), "1".into()]);
    if jpeg {
        args.extend(["-q:v".into(), "2".into()]);
    }
    args.push(ffmpeg_path(&part));
    ffmpeg_in(ctx, work.path(), args, work_timeout(0.0), "error")
        .run()
        .await?;
    if tokio::fs::metadata(&part).await.is_err() {
        return Err(MediaError::Corrupt {
            path: spec.input.clone(),
            detail: format!("no frame could be decoded at {:.2} s", spec.start + time),
        });
    }
    tokio::fs::rename(&part, output)
        .await
        .map_err(|e| MediaError::io(format!("moving the frame to {}", output.display()), e))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meter_summary_lines_parse() {
        assert_eq!(parse_integrated("    I:         -23.5 LUFS"), Some(-23.5));
        assert_eq!(parse_integrated("I: -70.0 LUFS"), Some(-70.0));
        assert_eq!(parse_integrated("    I:  nan LUFS"), None);
        assert_eq!(parse_integrated("    LRA:  7.5 LU"), None);
    }

    #[test]
    fn gain_reaches_the_target_but_never_lifts_silence() {
        assert_eq!(gain_for(-23.5, -14.0), Some(9.5));
        assert_eq!(gain_for(-8.0, -14.0), Some(-6.0));
        assert_eq!(gain_for(-55.0, -14.0), Some(MAX_GAIN_DB));
        assert_eq!(gain_for(-70.0, -14.0), None);
    }
}
