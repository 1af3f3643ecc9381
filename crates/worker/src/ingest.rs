//! `ingest`: fetch a linked video, check that it is a video with sound, make its thumbnail,
//! record what it is, take the transcription credits, and queue the transcription.

use std::path::{Path, PathBuf};
use std::time::Duration;

use clipforge_media::{probe, AudioDecoder, MediaError, MediaInfo, RunContext, Runner};
use clipforge_store::credits::{self, CreditRefs};
use clipforge_store::videos::{self, VideoSource, VideoStatus};
use clipforge_store::{JobContext, JobFailure, StoreError, VideoId, WorkspaceId};
use serde_json::json;

use crate::progress::report;
use crate::{video_job, video_stage, Pipeline, TRANSCRIBE};

/// The longest video the service takes.
pub(crate) const MAX_DURATION_SECONDS: f64 = 4.0 * 3600.0;
/// Audio whose loudest sample stays below this (-60 dBFS) is silence.
const SILENT_PEAK: f32 = 0.001;
/// A download may take this long at most.
const DOWNLOAD_TIMEOUT: Duration = Duration::from_secs(2 * 3600);

pub(crate) async fn run(pipeline: &Pipeline, ctx: &JobContext) -> Result<(), JobFailure> {
    video_stage(pipeline, ctx, true, |ws, video| {
        ingest(pipeline, ctx, ws, video)
    })
    .await
}

async fn ingest(
    pipeline: &Pipeline,
    ctx: &JobContext,
    ws: WorkspaceId,
    id: VideoId,
) -> Result<(), JobFailure> {
    let store = pipeline.store();
    let Some(video) = videos::get(store, ws, id).await? else {
        tracing::info!(video = %id, "video deleted before ingest; nothing to do");
        return Ok(());
    };
    let dir = pipeline.job_dir()?;
    let run_ctx = RunContext::new(Runner::shared(), ctx.stopped());
    let (source, key) = match (&video.storage_key, video.source, &video.source_url) {
        (Some(key), _, _) => {
            videos::set_status(store, ws, id, VideoStatus::Ingesting, None).await?;
            report(ctx, 5, "downloading the source", None).await;
            let path = dir.path().join(format!("source.{}", extension(key)));
            pipeline.storage().get_to_file(key, &path).await?;
            (path, key.clone())
        }
        (None, VideoSource::Url, Some(url)) => {
            videos::set_status(store, ws, id, VideoStatus::Downloading, None).await?;
            report(ctx, 5, "downloading the link", None).await;
            let path = download(url, dir.path(), &run_ctx).await?;
            let key = format!(
                "ws/{ws}/videos/{id}/source.{}",
                extension(&path.to_string_lossy())
            );
            pipeline.storage().put_file(&key, &path).await?;
            let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
            videos::set_stored_file(store, ws, id, &key, name.as_deref()).await?;
            videos::set_status(store, ws, id, VideoStatus::Ingesting, None).await?;
            (path, key)
        }
        _ => {
            return Err(JobFailure::permanent(
                "the video has no stored file and no link to fetch",
            ))
        }
    };

    report(ctx, 30, "checking the video", None).await;
    let info = probe(&source).await.map_err(input_failure)?;
    check(&info)?;
    check_audio(&source).await?;

    report(ctx, 70, "making the thumbnail", None).await;
    let thumb = dir.path().join("thumbnail.jpg");
    thumbnail(&source, &info, &thumb, &run_ctx).await?;
    let thumb_key = format!("ws/{ws}/videos/{id}/thumbnail.jpg");
    pipeline.storage().put_file(&thumb_key, &thumb).await?;
    tracing::debug!(video = %id, source = %key, "ingested");

    let minutes = (info.duration / 60.0).ceil().max(1.0) as i64;
    let mut tx = store.begin().await?;
    videos::set_media(&mut tx, ws, id, &media_info(&info), Some(&thumb_key)).await?;
    // The upload may have paid already; take only what the probed length still needs.
    let paid = credits::spent_on_video(&mut tx, ws, id).await?;
    if minutes > paid {
        let refs = CreditRefs {
            job_id: Some(ctx.job().id),
            render_id: None,
            video_id: Some(id),
        };
        let reason = format!("transcription of {minutes} min");
        match credits::debit(&mut tx, ws, minutes - paid, &reason, refs).await {
            Ok(_) => {}
            Err(StoreError::InsufficientCredits { balance, needed }) => {
                return Err(JobFailure::permanent(format!(
                    "not enough credits: transcribing this {minutes}-minute video needs {needed} more, the workspace has {balance}"
                )));
            }
            Err(e) => return Err(e.into()),
        }
    }
    videos::set_status(&mut tx, ws, id, VideoStatus::Transcribing, None).await?;
    pipeline
        .queue()
        .enqueue_in(&mut tx, video_job(TRANSCRIBE, ws, id, json!({})))
        .await?;
    tx.commit().await?;
    Ok(())
}

/// The extension a stored key or file name ends with (`mp4` when it has none).
fn extension(name: &str) -> String {
    extension_or(name, "mp4")
}

/// The extension a stored key or file name ends with, so ffmpeg can tell what it holds;
/// `default` when it has none (or an odd one).
pub(crate) fn extension_or(name: &str, default: &str) -> String {
    Path::new(name)
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .filter(|e| !e.is_empty() && e.len() <= 5 && e.chars().all(|c| c.is_ascii_alphanumeric()))
        .unwrap_or_else(|| default.into())
}

/// Fetches a link with yt-dlp into `dir`; the path of the file it wrote.
async fn download(url: &str, dir: &Path, ctx: &RunContext) -> Result<PathBuf, JobFailure> {
    let template = dir.join("download.%(ext)s");
    let result = ctx
        .runner
        .command("yt-dlp")
        .args([
            "--no-playlist",
            "--no-progress",
            "--no-part",
            "--restrict-filenames",
        ])
        .args(["-f", "bv*[height<=1080]+ba/b[height<=1080]/b"])
        .args(["--merge-output-format", "mp4"])
        .args([
            "--match-filter",
            // `<=?` lets through links whose length is not known until downloaded;
            // ingest checks the file's own duration after.
            &format!("duration <=? {MAX_DURATION_SECONDS}"),
        ])
        .arg("-o")
        .arg(&template)
        .arg("--")
        .arg(url)
        .timeout(DOWNLOAD_TIMEOUT)
        .cancel_on(ctx.cancel.clone())
        .run()
        .await;
    match result {
        Ok(_) => {}
        Err(MediaError::ToolMissing { .. }) => {
            return Err(JobFailure::permanent(
                "yt-dlp is not installed on the worker: install yt-dlp (pip install yt-dlp)",
            ))
        }
        Err(MediaError::Failed { stderr_tail, .. }) => {
            let line = stderr_tail
                .lines()
                .rev()
                .find(|l| l.contains("ERROR"))
                .unwrap_or("");
            return Err(JobFailure::permanent(format!(
                "the link could not be downloaded{}",
                if line.is_empty() {
                    String::new()
                } else {
                    format!(": {}", line.trim())
                }
            )));
        }
        Err(e) => return Err(e.into()),
    }
    let file = std::fs::read_dir(dir)
        .map_err(|e| JobFailure::retry(format!("cannot read the download folder: {e}")))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.file_stem().is_some_and(|s| s == "download") && p.is_file());
    file.ok_or_else(|| {
        JobFailure::permanent(format!(
            "the link gave no video: it is longer than {} hours, or not a video",
            MAX_DURATION_SECONDS / 3600.0
        ))
    })
}

/// A bad input as the user should read it: what is wrong with their file, without the
/// worker's temp path. Anything else is the worker's problem and worth a retry.
fn input_failure(e: MediaError) -> JobFailure {
    match e {
        MediaError::NotMedia { detail, .. } => JobFailure::permanent(format!(
            "the file is not a video that can be read ({detail}); upload a video file"
        )),
        MediaError::Corrupt { detail, .. } => JobFailure::permanent(format!(
            "the file is damaged or incomplete ({detail}); re-download or re-export it and upload it again"
        )),
        MediaError::NoAudio { .. } => JobFailure::permanent(
            "the video has no audio track; clips are cut around what is said, so upload a video with sound",
        ),
        MediaError::ZeroDuration { .. } => JobFailure::permanent(
            "the file has zero duration; it is empty or was still being written",
        ),
        other => other.into(),
    }
}

/// Refuses what the pipeline cannot clip.
fn check(info: &MediaInfo) -> Result<(), JobFailure> {
    if info.video.is_none() {
        return Err(JobFailure::permanent(
            "the file has no picture; clips need a video, not only sound",
        ));
    }
    if !info.has_audio() {
        return Err(input_failure(MediaError::NoAudio {
            path: PathBuf::new(),
        }));
    }
    if info.duration > MAX_DURATION_SECONDS {
        return Err(JobFailure::permanent(format!(
            "the video is {:.1} hours long; the longest accepted is {} hours",
            info.duration / 3600.0,
            MAX_DURATION_SECONDS / 3600.0
        )));
    }
    Ok(())
}

/// Decodes the whole audio once: a damaged file fails here rather than an hour into
/// transcription, and a silent track is refused before credits are spent on it.
async fn check_audio(source: &Path) -> Result<(), JobFailure> {
    let mut decoder = AudioDecoder::open(source).await.map_err(input_failure)?;
    let mut peak = 0f32;
    while let Some(chunk) = decoder.next_chunk(1 << 16).await.map_err(input_failure)? {
        peak = chunk.iter().fold(peak, |p, s| p.max(s.abs()));
    }
    if peak < SILENT_PEAK {
        return Err(JobFailure::permanent(
            "the audio track is silent; clips are cut around what is said, so upload a video with speech",
        ));
    }
    Ok(())
}

/// A JPEG of a frame a little way in (the very first is often black), at most 640 wide.
async fn thumbnail(
    source: &Path,
    info: &MediaInfo,
    out: &Path,
    ctx: &RunContext,
) -> Result<(), JobFailure> {
    let at = (info.duration * 0.1).min(5.0);
    let mut input = std::ffi::OsString::from("file:");
    input.push(source);
    let mut output = std::ffi::OsString::from("file:");
    output.push(out);
    ctx.runner
        .command("ffmpeg")
        .args(["-nostdin", "-hide_banner", "-v", "error", "-y"])
        .args(["-ss", &format!("{at:.3}"), "-i"])
        .arg(input)
        .args([
            "-frames:v",
            "1",
            "-vf",
            "scale='min(640,iw)':-2",
            "-q:v",
            "3",
        ])
        .arg(output)
        .timeout(Duration::from_secs(60))
        .cancel_on(ctx.cancel.clone())
        .run()
        .await?;
    Ok(())
}

/// What the probe found, in the shape the store keeps.
fn media_info(info: &MediaInfo) -> videos::MediaInfo {
    let (width, height) = info.video.as_ref().map_or((0, 0), |v| v.display_size());
    videos::MediaInfo {
        duration_seconds: info.duration,
        width,
        height,
        fps: info
            .video
            .as_ref()
            .and_then(|v| v.frame_rate())
            .unwrap_or(0.0),
        video_codec: info.video.as_ref().map(|v| v.codec.clone()),
        audio_codec: info.audio.first().map(|a| a.codec.clone()),
        size_bytes: info.size,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extensions_come_from_the_name_or_default_to_mp4() {
        assert_eq!(extension("ws/a/videos/b/source.MOV"), "mov");
        assert_eq!(extension("download.webm"), "webm");
        assert_eq!(extension("ws/a/videos/b/source"), "mp4");
        assert_eq!(extension("x.a b"), "mp4");
    }
}
