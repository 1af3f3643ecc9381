//! `suggest`: the clip finder over the stored transcript and the video's audio cues; its
//! suggestions replace the earlier unused ones as clips, the video is ready, and the top
//! N are queued for rendering when the video's settings ask for it.

use clipforge_core::{Preferences, SuggestParams};
use clipforge_highlights::embed::load_embedder;
use clipforge_highlights::Moments;
use clipforge_store::clips::{self, ClipStatus, NewClip};
use clipforge_store::credits::{self, CreditRefs};
use clipforge_store::videos::{self, VideoStatus};
use clipforge_store::{renders, transcripts};
use clipforge_store::{JobContext, JobFailure, NewJob, Tx, VideoId, WorkspaceId};
use serde::{Deserialize, Serialize};

use crate::progress::report;
use crate::{payload, video_stage, Pipeline, RENDER};

/// The `settings` of a `suggest` job, as the API takes them.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct SuggestSettings {
    /// Shortest clip in seconds.
    pub min_duration: f64,
    /// Longest clip in seconds.
    pub max_duration: f64,
    /// Clips scoring below this (0–100) are dropped.
    pub min_virality_score: f64,
    /// Most clips to suggest.
    pub max_suggestions: usize,
    /// What the user prefers in a clip.
    pub preferences: Preferences,
}

impl Default for SuggestSettings {
    fn default() -> Self {
        let p = SuggestParams::default();
        SuggestSettings {
            min_duration: p.min_duration,
            max_duration: p.max_duration,
            min_virality_score: p.min_score,
            max_suggestions: p.max_suggestions,
            preferences: p.preferences,
        }
    }
}

impl SuggestSettings {
    /// The clip finder's parameters.
    pub fn params(&self) -> SuggestParams {
        SuggestParams {
            min_duration: self.min_duration,
            max_duration: self.max_duration,
            min_score: self.min_virality_score,
            max_suggestions: self.max_suggestions,
            preferences: self.preferences,
            ..SuggestParams::default()
        }
    }
}

#[derive(Debug, Default, Deserialize)]
struct SuggestPayload {
    #[serde(default)]
    settings: Option<SuggestSettings>,
}

pub(crate) async fn run(pipeline: &Pipeline, ctx: &JobContext) -> Result<(), JobFailure> {
    let settings = payload::<SuggestPayload>(ctx)?.settings.unwrap_or_default();
    video_stage(pipeline, ctx, false, |ws, video| {
        suggest(pipeline, ctx, ws, video, settings)
    })
    .await
}

async fn suggest(
    pipeline: &Pipeline,
    ctx: &JobContext,
    ws: WorkspaceId,
    id: VideoId,
    settings: SuggestSettings,
) -> Result<(), JobFailure> {
    let params = settings.params();
    params
        .validate()
        .map_err(|e| JobFailure::permanent(format!("the clip settings are invalid: {e}")))?;
    let store = pipeline.store();
    let Some(video) = videos::get(store, ws, id).await? else {
        tracing::info!(video = %id, "video deleted before the clip finder ran; nothing to do");
        return Ok(());
    };
    let transcript = transcripts::get_for_video(store, ws, id)
        .await?
        .ok_or_else(|| {
            JobFailure::permanent("the video has no transcript yet; transcribe it first")
        })?
        .transcript();
    videos::set_status(store, ws, id, VideoStatus::Analyzing, None).await?;

    // Loudness and voice changes sharpen the scores; the clip finder still works on the
    // words alone when the source cannot be read back.
    let analysis = match &video.storage_key {
        Some(key) => {
            report(ctx, 10, "listening to the audio", None).await;
            let dir = pipeline.job_dir()?;
            let source = dir.path().join("source");
            pipeline.storage().get_to_file(key, &source).await?;
            clipforge_pipeline::listen(&source)
                .await
                .unwrap_or_else(|e| {
                    tracing::warn!(video = %id, error = %e, "scoring without audio cues");
                    Default::default()
                })
        }
        None => Default::default(),
    };

    report(ctx, 50, "finding the moments", None).await;
    let outcome = tokio::task::spawn_blocking(move || {
        let mut warnings = Vec::new();
        let embedder = load_embedder(None, &mut warnings)?;
        for w in warnings {
            tracing::warn!("{w}");
        }
        let moments = Moments::prepare(&transcript, &params, analysis, embedder.as_ref())?;
        Ok::<_, clipforge_highlights::HighlightsError>(moments.suggest())
    })
    .await
    .map_err(|e| JobFailure::retry(format!("the clip finder stopped: {e}")))??;
    if let Some(message) = &outcome.message {
        tracing::info!(video = %id, %message, "clip finder");
    }

    let auto_render = video
        .config
        .get("auto_render")
        .and_then(|v| v.as_u64())
        .unwrap_or(0) as usize;
    // A render row cannot be taken back within the transaction, so only as many renders
    // are queued as the balance pays for; a debit racing another still fails cleanly.
    let auto_render = if auto_render > 0 {
        let balance = credits::balance(store, ws).await?;
        auto_render.min(usize::try_from(balance.max(0)).unwrap_or(usize::MAX))
    } else {
        0
    };
    let mut tx = store.begin().await?;
    clips::delete_unused_suggestions(&mut tx, ws, id).await?;
    let mut made = Vec::with_capacity(outcome.suggestions.len());
    for s in &outcome.suggestions {
        let clip = clips::create(
            &mut tx,
            ws,
            NewClip {
                video_id: id,
                created_by: None,
                title: &s.title,
                hook: Some(&s.hook),
                start_seconds: s.start,
                end_seconds: s.end,
                score: Some(s.score.clamp(0.0, 100.0)),
                breakdown: Some(&s.breakdown),
                reason: Some(&s.reason),
                highlights: &s.highlights,
                is_ai_suggested: true,
            },
        )
        .await?;
        made.push(clip);
    }
    videos::set_status(&mut tx, ws, id, VideoStatus::Ready, None).await?;
    // Suggestions come best first.
    for clip in made.iter().take(auto_render) {
        queue_render(pipeline, &mut tx, ws, clip.id).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Queues an automatic render of a new clip, paid with one credit.
async fn queue_render(
    pipeline: &Pipeline,
    tx: &mut Tx,
    ws: WorkspaceId,
    clip: clipforge_store::ClipId,
) -> Result<(), JobFailure> {
    let settings = serde_json::json!({ "quality": "standard" });
    let render = renders::create(&mut *tx, ws, clip, None, &settings).await?;
    let job = NewJob::new(
        RENDER,
        serde_json::json!({ "render_id": render.id.to_string() }),
    )
    .workspace(ws.0)
    .unique_key(format!("render:{}", render.id));
    let job_id = pipeline.queue().enqueue_in(tx, job).await?.id();
    let refs = CreditRefs {
        job_id: Some(job_id),
        render_id: Some(render.id),
        video_id: None,
    };
    credits::debit(tx, ws, 1, "render", refs).await?;
    clips::set_status(&mut *tx, ws, clip, ClipStatus::Queued).await?;
    Ok(())
}
