//! The render stage: from a clip's range and the render settings to an MP4 and a
//! thumbnail. Faces are found once per clip range and cached; captions come from the
//! transcript's words; the clip is skipped when an identical one is already on disk.

use std::path::{Path, PathBuf};

use clipforge_captions::{ass_document, clip_words, title_document, IntroTitle};
use clipforge_core::{Framing, Progress, ReframeMode, Transcript};
use clipforge_media::render::{
    render_after, render_frame, FrameKind, Logo, Music, RenderPrelude, RenderSpec, TitleCard,
};
use clipforge_media::{MediaInfo, RunContext};
use clipforge_reframe::{FaceAnalysis, NoFaceFallback, ReframeSettings, SpeakerTurn};
use serde::Serialize;

use crate::{Fingerprint, PipelineError, RenderSettings, StageKey};

/// Bumped whenever the renderer's output for the same inputs changes, so old clips are
/// not reused.
const RENDER_VERSION: u32 = 3;

/// One clip to render.
#[derive(Debug, Clone, Copy)]
pub struct ClipJob<'a> {
    pub input: &'a Path,
    pub fingerprint: &'a Fingerprint,
    pub info: &'a MediaInfo,
    /// Captions come from its words; `None` renders without captions.
    pub transcript: Option<&'a Transcript>,
    pub start: f64,
    pub end: f64,
    /// The line shown as the intro title.
    pub title: Option<&'a str>,
    pub settings: &'a RenderSettings,
    pub output: &'a Path,
    /// Where the JPEG thumbnail goes, if one is wanted.
    pub thumbnail: Option<&'a Path>,
    /// Folder for cached analysis and keys.
    pub cache: &'a Path,
}

/// What the render stage produced.
#[derive(Debug, Clone, Serialize)]
pub struct RenderedClip {
    pub output: PathBuf,
    pub thumbnail: Option<PathBuf>,
    /// True when an identical clip from an earlier run was kept.
    pub reused: bool,
    /// "face", "center", "stack", "fit-blur" or "fit-black".
    pub framing: &'static str,
}

#[derive(Serialize)]
struct ClipInputs<'a> {
    version: u32,
    fingerprint: &'a str,
    start: f64,
    end: f64,
    title: Option<&'a str>,
    settings: &'a RenderSettings,
    words: Vec<(f64, f64, &'a str)>,
}

/// Renders one clip (or keeps the identical one already there), reporting seconds of
/// the clip done through `progress`.
pub async fn render_clip(
    job: &ClipJob<'_>,
    ctx: &RunContext,
    progress: &dyn Progress,
) -> Result<RenderedClip, PipelineError> {
    let ready = prepare(job, ctx).await?;
    finish(job, ready, ctx, progress).await
}

/// Renders `jobs` in order, as [`render_clip`] would one by one, reporting seconds of all
/// clips together through `progress` and each clip through `rendered` as it is done.
///
/// While a clip encodes, the next clip's faces are found and its prelude made in the
/// background (lowest priority, so the encode does not slow down): an encode leaves part
/// of a core idle, and that work would otherwise come before the next encode. An error
/// names the clip it came from by index.
pub async fn render_clips(
    jobs: &[ClipJob<'_>],
    ctx: &RunContext,
    progress: &dyn Progress,
    mut rendered: impl FnMut(usize, &RenderedClip),
) -> Result<Vec<RenderedClip>, (usize, PipelineError)> {
    let total: f64 = jobs.iter().map(|j| j.end - j.start).sum();
    let ahead = ctx.background();
    let mut done = Vec::with_capacity(jobs.len());
    let mut prepared = None;
    let mut offset = 0.0;
    for (i, job) in jobs.iter().enumerate() {
        let ready = match prepared.take() {
            Some(ready) => ready,
            None => prepare(job, ctx).await,
        }
        .map_err(|e| (i, e))?;
        progress.stage(&format!("clip {}/{}", i + 1, jobs.len()));
        let this = Within {
            inner: progress,
            offset,
            total,
        };
        let next = async {
            // Its failure belongs to the next clip: reported when that clip's turn comes.
            match jobs.get(i + 1) {
                Some(next) => Ok(Some(prepare(next, &ahead).await)),
                None => Ok(None),
            }
        };
        let (clip, next) = tokio::try_join!(
            async { finish(job, ready, ctx, &this).await.map_err(|e| (i, e)) },
            next
        )?;
        prepared = next;
        offset += job.end - job.start;
        rendered(i, &clip);
        done.push(clip);
    }
    Ok(done)
}

/// Progress of one clip as part of a batch.
struct Within<'a> {
    inner: &'a dyn Progress,
    offset: f64,
    total: f64,
}

impl Progress for Within<'_> {
    fn stage(&self, name: &str) {
        self.inner.stage(name);
    }

    fn update(&self, done: f64, _total: f64) {
        self.inner.update(self.offset + done, self.total);
    }
}

/// A clip with everything its encode needs, or the identical clip already on disk.
enum Ready {
    Reused(RenderedClip),
    ToEncode(Box<Prepared>),
}

/// What a clip's encode needs that does not depend on the encode before it.
struct Prepared {
    key: StageKey,
    key_file: PathBuf,
    unframed: RenderSpec,
    faces: FaceAnalysis,
    prelude: RenderPrelude,
}

/// What comes before a clip's encode: checking the job and the cache, finding the faces,
/// measuring the loudness and drawing the title.
async fn prepare(job: &ClipJob<'_>, ctx: &RunContext) -> Result<Ready, PipelineError> {
    let (video, words) = checked(job)?;
    let key = StageKey::new(
        "clip",
        &ClipInputs {
            version: RENDER_VERSION,
            fingerprint: &job.fingerprint.0,
            start: job.start,
            end: job.end,
            title: job.title,
            settings: job.settings,
            words: words
                .iter()
                .map(|w| (w.start, w.end, w.text.as_str()))
                .collect(),
        },
    );
    let key_file = job.cache.join(format!("{}.key", file_name(job.output)));
    let thumb_ok = job.thumbnail.is_none_or(Path::is_file);
    if key.matches(&key_file) && job.output.is_file() && thumb_ok {
        return Ok(Ready::Reused(RenderedClip {
            output: job.output.to_path_buf(),
            thumbnail: job.thumbnail.map(Path::to_path_buf),
            reused: true,
            framing: "cached",
        }));
    }

    // The loudness meter and the title drawing do not need the framing: they run while
    // the faces are being found.
    let unframed = describe(job, video, &words)?;
    let (faces, prelude) = tokio::try_join!(clip_faces(job, video, ctx), async {
        Ok(RenderPrelude::make(&unframed, job.output, ctx).await?)
    })?;
    Ok(Ready::ToEncode(Box::new(Prepared {
        key,
        key_file,
        unframed,
        faces,
        prelude,
    })))
}

/// The encode and the thumbnail of a prepared clip.
async fn finish(
    job: &ClipJob<'_>,
    ready: Ready,
    ctx: &RunContext,
    progress: &dyn Progress,
) -> Result<RenderedClip, PipelineError> {
    let duration = job.end - job.start;
    let Prepared {
        key,
        key_file,
        unframed,
        faces,
        prelude,
    } = match ready {
        Ready::Reused(clip) => {
            progress.update(duration, duration);
            return Ok(clip);
        }
        Ready::ToEncode(prepared) => *prepared,
    };
    // A half-written key must never vouch for a new file.
    let _ = std::fs::remove_file(&key_file);
    let (spec, framing_name) = framed(job, unframed, &faces);
    render_after(&spec, prelude, job.output, ctx, |p| {
        progress.update(p.out_time, duration)
    })
    .await?;
    if let Some(thumb) = job.thumbnail {
        let t = clipforge_reframe::thumbnail_time(&faces)
            .unwrap_or(duration / 2.0)
            .clamp(0.0, (duration - 0.1).max(0.0));
        render_frame(&spec, t, FrameKind::Thumbnail, thumb, ctx).await?;
    }
    key.store(&key_file)?;
    Ok(RenderedClip {
        output: job.output.to_path_buf(),
        thumbnail: job.thumbnail.map(Path::to_path_buf),
        reused: false,
        framing: framing_name,
    })
}

/// The render of a clip as the export does it, for a single preview frame: the same
/// framing, captions and overlays.
pub async fn preview_spec(
    job: &ClipJob<'_>,
    ctx: &RunContext,
) -> Result<RenderSpec, PipelineError> {
    let (video, words) = checked(job)?;
    let unframed = describe(job, video, &words)?;
    let faces = clip_faces(job, video, ctx).await?;
    Ok(framed(job, unframed, &faces).0)
}

/// The faces in the clip when framing or the thumbnail needs them; otherwise an
/// analysis with no samples that carries only the picture's size.
async fn clip_faces(
    job: &ClipJob<'_>,
    video: &clipforge_media::VideoStream,
    ctx: &RunContext,
) -> Result<FaceAnalysis, PipelineError> {
    if job.settings.reframe == ReframeMode::Auto || job.thumbnail.is_some() {
        return faces(job, ctx).await;
    }
    let (width, height) = video.display_size();
    Ok(FaceAnalysis {
        source_width: width,
        source_height: height,
        duration: job.end - job.start,
        sample_fps: 0.0,
        samples: Vec::new(),
    })
}

/// `spec` framed from the faces found in it, with the framing's name.
fn framed(job: &ClipJob<'_>, spec: RenderSpec, faces: &FaceAnalysis) -> (RenderSpec, &'static str) {
    let s = job.settings;
    let speakers = speaker_turns(job);
    let reframe = ReframeSettings {
        no_face: match s.no_face {
            ReframeMode::FitBlur => NoFaceFallback::FitBlur,
            ReframeMode::FitBlack => NoFaceFallback::FitBlack,
            ReframeMode::Auto | ReframeMode::Center => NoFaceFallback::Center,
        },
        allow_split: s.split,
        ..ReframeSettings::default()
    };
    let framing = clipforge_reframe::plan(faces, spec.frame, s.reframe, &speakers, &reframe);
    let followed =
        s.reframe == ReframeMode::Auto && faces.samples.iter().any(|x| !x.faces.is_empty());
    let framing_name = match &framing {
        Framing::Crop { .. } if followed => "face",
        Framing::Crop { .. } => "center",
        Framing::Stack { .. } => "stack",
        Framing::FitBlur => "fit-blur",
        Framing::FitBlack => "fit-black",
    };
    (RenderSpec { framing, ..spec }, framing_name)
}

/// The render of a [`checked`] clip with everything but its framing decided (the
/// framing is provisional until [`framed`]).
fn describe(
    job: &ClipJob<'_>,
    video: &clipforge_media::VideoStream,
    words: &[clipforge_core::Word],
) -> Result<RenderSpec, PipelineError> {
    let s = job.settings;
    let duration = job.end - job.start;
    let frame = s.frame();
    let (captions, title) = match s.caption_style()? {
        Some(style) if job.transcript.is_some() => {
            // The title is drawn once in the captions' look and laid over the first
            // seconds, not burned in frame by frame with them.
            let title = job
                .title
                .filter(|t| s.intro_title && !t.trim().is_empty() && s.intro_seconds > 0.0)
                .map(|text| IntroTitle {
                    text,
                    duration: s.intro_seconds.min(duration),
                })
                .and_then(|t| {
                    title_document(&t, &style, frame).map(|ass| TitleCard {
                        ass,
                        duration: t.duration,
                        fade: t.fade_seconds(),
                    })
                });
            (Some(ass_document(words, &style, frame, None)), title)
        }
        _ => (None, None),
    };
    let logo = match &s.logo {
        Some(l) => Some(Logo {
            path: l.path.clone(),
            corner: l.corner()?,
            scale: l.scale,
            opacity: l.opacity,
        }),
        None => None,
    };
    let spec = RenderSpec {
        input: job.input.to_path_buf(),
        start: job.start,
        end: job.end,
        frame,
        fps: s.frame_rate(video.r_frame_rate.or(video.avg_frame_rate)),
        crf: s.quality.crf(),
        preset: s.quality.preset().into(),
        video_bitrate: s.video_bitrate,
        framing: Framing::FitBlack,
        captions,
        title,
        logo,
        music: s.music.as_ref().map(|m| Music {
            path: m.path.clone(),
            volume_db: m.volume_db,
            duck: m.duck,
        }),
        loudness: s.loudness,
        has_audio: job.info.has_audio(),
    };
    Ok(spec)
}

/// Checks the job before any work and returns the source's video stream and the clip's
/// words.
fn checked<'a>(
    job: &ClipJob<'a>,
) -> Result<(&'a clipforge_media::VideoStream, Vec<clipforge_core::Word>), PipelineError> {
    job.settings.validate()?;
    let video = source_video(job)?;
    std::fs::create_dir_all(job.cache)
        .map_err(|e| PipelineError::io(format!("creating {}", job.cache.display()), e))?;
    let words = job
        .transcript
        .map(|t| clip_words(t, job.start, job.end))
        .unwrap_or_default();
    Ok((video, words))
}

fn source_video<'a>(job: &ClipJob<'a>) -> Result<&'a clipforge_media::VideoStream, PipelineError> {
    let video = job.info.video.as_ref().ok_or_else(|| {
        PipelineError::Settings(format!(
            "{} has no video stream; clips need a picture (for audio only, use `clipforge transcribe`)",
            job.input.display()
        ))
    })?;
    let duration = job.end - job.start;
    if !(job.start >= 0.0 && duration >= 0.5 && job.end <= job.info.duration + 0.5) {
        return Err(PipelineError::Settings(format!(
            "the clip {:.2}–{:.2} s does not fit in the video, which lasts {:.2} s",
            job.start, job.end, job.info.duration
        )));
    }
    Ok(video)
}

/// The faces in the clip's range, from the cache when this range of this input was
/// analysed before.
async fn faces(job: &ClipJob<'_>, ctx: &RunContext) -> Result<FaceAnalysis, PipelineError> {
    let settings = ReframeSettings::default();
    let key = StageKey::new(
        "faces",
        &(&job.fingerprint.0, job.start, job.end, &settings),
    );
    let path = job.cache.join(format!("faces-{}.json", key.0));
    if let Ok(text) = std::fs::read_to_string(&path) {
        if let Ok(cached) = serde_json::from_str::<FaceAnalysis>(&text) {
            return Ok(cached);
        }
    }
    let video = source_video(job)?;
    let analysis = clipforge_reframe::analyse(
        job.input,
        video,
        job.start,
        job.end - job.start,
        ctx,
        &settings,
    )
    .await?;
    let json = serde_json::to_vec(&analysis).unwrap_or_default();
    let part = path.with_extension("json.part");
    std::fs::write(&part, json)
        .and_then(|()| std::fs::rename(&part, &path))
        .map_err(|e| PipelineError::io(format!("writing {}", path.display()), e))?;
    Ok(analysis)
}

/// The transcript's speaker turns inside the clip, clip-relative.
fn speaker_turns(job: &ClipJob<'_>) -> Vec<SpeakerTurn> {
    let Some(t) = job.transcript else {
        return Vec::new();
    };
    t.segments
        .iter()
        .filter(|s| s.end > job.start && s.start < job.end)
        .filter_map(|s| {
            s.speaker.map(|speaker| SpeakerTurn {
                start: (s.start - job.start).max(0.0),
                end: (s.end - job.start).min(job.end - job.start),
                speaker,
            })
        })
        .collect()
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "clip".into())
}
