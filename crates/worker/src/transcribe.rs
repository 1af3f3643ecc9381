//! `transcribe`: the video's speech to a word-timed transcript with the local Whisper
//! model, then the clip finder is queued (unless the video was added with
//! `"suggest": false`).

use clipforge_asr::{model, AsrError, LocalEngine, LocalOptions, TranscribeOptions, Transcriber};
use clipforge_store::transcripts;
use clipforge_store::videos::{self, VideoStatus};
use clipforge_store::{JobContext, JobFailure, VideoId, WorkspaceId};

use crate::progress::{report, tracked, Fraction};
use crate::suggest::SuggestSettings;
use crate::{video_job, video_stage, Pipeline, SUGGEST};

pub(crate) async fn run(pipeline: &Pipeline, ctx: &JobContext) -> Result<(), JobFailure> {
    video_stage(pipeline, ctx, true, |ws, video| {
        transcribe(pipeline, ctx, ws, video)
    })
    .await
}

async fn transcribe(
    pipeline: &Pipeline,
    ctx: &JobContext,
    ws: WorkspaceId,
    id: VideoId,
) -> Result<(), JobFailure> {
    let store = pipeline.store();
    let Some(video) = videos::get(store, ws, id).await? else {
        tracing::info!(video = %id, "video deleted before transcription; nothing to do");
        return Ok(());
    };
    let key = video
        .storage_key
        .as_deref()
        .ok_or_else(|| JobFailure::permanent("the video has no stored file to transcribe"))?;
    videos::set_status(store, ws, id, VideoStatus::Transcribing, None).await?;

    let settings = pipeline.settings();
    let info = model::resolve(settings.model.as_deref(), settings.model_dir.as_deref())
        .map_err(model_failure)?;
    report(ctx, 2, "loading the speech model", None).await;
    let path = info.path.clone();
    let engine =
        tokio::task::spawn_blocking(move || LocalEngine::load(&path, LocalOptions::default()))
            .await
            .map_err(|e| JobFailure::retry(format!("loading the speech model stopped: {e}")))?
            .map_err(model_failure)?;

    let dir = pipeline.job_dir()?;
    let source = dir.path().join("source");
    report(ctx, 5, "downloading the source", None).await;
    pipeline.storage().get_to_file(key, &source).await?;

    let fraction = Fraction::default();
    let options = TranscribeOptions::default();
    let transcript = tracked(
        ctx,
        10,
        95,
        "transcribing",
        None,
        &fraction,
        engine.transcribe(&source, &options, &fraction),
    )
    .await
    .map_err(asr_failure)?;
    if transcript.words().next().is_none() {
        return Err(JobFailure::permanent(
            "no speech was found in the video; clips are cut around what is said, so there is nothing to clip",
        ));
    }

    let suggest = video.config.get("suggest").and_then(|v| v.as_bool()) != Some(false);
    let mut tx = store.begin().await?;
    transcripts::replace(&mut tx, ws, id, &transcript).await?;
    if suggest {
        videos::set_status(&mut tx, ws, id, VideoStatus::Analyzing, None).await?;
        let extra = serde_json::json!({ "settings": SuggestSettings::default() });
        pipeline
            .queue()
            .enqueue_in(&mut tx, video_job(SUGGEST, ws, id, extra))
            .await?;
    } else {
        videos::set_status(&mut tx, ws, id, VideoStatus::Ready, None).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// A missing or broken model needs an administrator, not a retry.
fn model_failure(e: AsrError) -> JobFailure {
    match e {
        AsrError::ModelMissing { .. } | AsrError::InvalidModel { .. } => JobFailure::permanent(
            format!("the worker cannot transcribe: {e} (scripts/setup.sh installs tiny.en)"),
        ),
        other => other.into(),
    }
}

/// A damaged file fails every attempt alike; an engine hiccup may not.
fn asr_failure(e: AsrError) -> JobFailure {
    match e {
        AsrError::Media(
            m @ (clipforge_media::MediaError::Corrupt { .. }
            | clipforge_media::MediaError::NotMedia { .. }
            | clipforge_media::MediaError::NoAudio { .. }),
        ) => JobFailure::permanent(format!("the video cannot be transcribed: {m}")),
        other => other.into(),
    }
}
