//! The pipeline driven by queued jobs: `ingest` (fetch, probe, thumbnail, credits) →
//! `transcribe` → `suggest` (clips with scores, auto-renders) and `render` (a clip's MP4
//! and thumbnail in storage); `jumpcut` (a whole video without its silences, with the
//! editor exports) on request.
//!
//! Each handler reads what it needs from the store, downloads its inputs into a per-job
//! temp folder (removed on success and failure alike), runs the pipeline's stage functions
//! with no transaction open, and writes its results, the new status and the next job in
//! one transaction. On a permanent failure or the last attempt the video (or render) is
//! marked failed with the reason, earlier artifacts are kept, and the credits the work
//! took are refunded.

mod ingest;
mod jumpcut;
mod progress;
mod render;
mod suggest;
mod transcribe;

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;

use clipforge_storage::Storage;
use clipforge_store::videos::{self, VideoStatus};
use clipforge_store::{
    credits, JobContext, JobFailure, NewJob, Queue, Store, VideoId, Worker, WorkspaceId,
};
use serde::Deserialize;
use serde_json::json;

pub use suggest::SuggestSettings;

/// Job kinds the handlers run.
pub const INGEST: &str = "ingest";
/// See [`INGEST`].
pub const TRANSCRIBE: &str = "transcribe";
/// See [`INGEST`].
pub const SUGGEST: &str = "suggest";
/// See [`INGEST`].
pub const RENDER: &str = "render";
/// See [`INGEST`].
pub const JUMPCUT: &str = clipforge_store::jumpcuts::JOB_KIND;

/// How the handlers run on this machine.
#[derive(Debug, Clone)]
pub struct WorkerSettings {
    /// Where per-job temp folders are made.
    pub temp_dir: PathBuf,
    /// A Whisper model folder or the name of an installed model (default: tiny.en, or the
    /// first installed).
    pub model: Option<PathBuf>,
    /// `CLIPFORGE_MODEL_DIR` or the config's model folder.
    pub model_dir: Option<PathBuf>,
}

/// What every handler shares: the database, the media storage and the settings.
#[derive(Debug, Clone)]
pub struct Pipeline {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    store: Store,
    storage: Storage,
    queue: Queue,
    settings: WorkerSettings,
}

impl Pipeline {
    /// Handlers over `store` and `storage`.
    pub fn new(store: Store, storage: Storage, settings: WorkerSettings) -> Self {
        let queue = Queue::new(store.clone());
        Pipeline {
            inner: Arc::new(Inner {
                store,
                storage,
                queue,
                settings,
            }),
        }
    }

    /// Adds the pipeline's handlers to `worker`.
    pub fn register(&self, worker: Worker) -> Worker {
        let (a, b, c, d) = (self.clone(), self.clone(), self.clone(), self.clone());
        let e = self.clone();
        worker
            .handle(INGEST, move |ctx| {
                let p = a.clone();
                async move { ingest::run(&p, &ctx).await }
            })
            .handle(TRANSCRIBE, move |ctx| {
                let p = b.clone();
                async move { transcribe::run(&p, &ctx).await }
            })
            .handle(SUGGEST, move |ctx| {
                let p = c.clone();
                async move { suggest::run(&p, &ctx).await }
            })
            .handle(RENDER, move |ctx| {
                let p = d.clone();
                async move { render::run(&p, &ctx).await }
            })
            .handle(JUMPCUT, move |ctx| {
                let p = e.clone();
                async move { jumpcut::run(&p, &ctx).await }
            })
    }

    fn store(&self) -> &Store {
        &self.inner.store
    }

    fn storage(&self) -> &Storage {
        &self.inner.storage
    }

    fn queue(&self) -> &Queue {
        &self.inner.queue
    }

    fn settings(&self) -> &WorkerSettings {
        &self.inner.settings
    }

    /// A temp folder for one job, removed when dropped.
    fn job_dir(&self) -> Result<tempfile::TempDir, JobFailure> {
        std::fs::create_dir_all(&self.settings().temp_dir).map_err(|e| {
            JobFailure::retry(format!(
                "cannot create the temp folder {}: {e}",
                self.settings().temp_dir.display()
            ))
        })?;
        tempfile::Builder::new()
            .prefix("job-")
            .tempdir_in(&self.settings().temp_dir)
            .map_err(|e| JobFailure::retry(format!("cannot create a job folder: {e}")))
    }
}

/// The `{"video_id"}` payload of the video jobs.
#[derive(Debug, Deserialize)]
struct VideoPayload {
    video_id: String,
}

/// The job's workspace; every pipeline job has one.
fn workspace(ctx: &JobContext) -> Result<WorkspaceId, JobFailure> {
    ctx.job()
        .workspace_id
        .map(WorkspaceId::from)
        .ok_or_else(|| JobFailure::permanent("the job names no workspace"))
}

/// Reads the job's payload; a payload that does not parse never will.
fn payload<T: serde::de::DeserializeOwned>(ctx: &JobContext) -> Result<T, JobFailure> {
    serde_json::from_value(ctx.job().payload.clone()).map_err(|e| {
        JobFailure::permanent(format!(
            "the {} job's payload is not what it should be: {e}",
            ctx.job().kind
        ))
    })
}

fn parse_id<T: std::str::FromStr>(text: &str, what: &str) -> Result<T, JobFailure> {
    text.parse()
        .map_err(|_| JobFailure::permanent(format!("{text:?} is not a {what} id")))
}

/// Whether this failure ends the job: no retry follows it.
fn is_final(ctx: &JobContext, failure: &JobFailure) -> bool {
    failure.permanent || ctx.job().attempts >= ctx.job().max_attempts
}

/// The next job of a video's chain.
fn video_job(
    kind: &str,
    workspace: WorkspaceId,
    video: VideoId,
    extra: serde_json::Value,
) -> NewJob {
    let mut payload = json!({ "video_id": video.to_string() });
    if let (Some(obj), serde_json::Value::Object(more)) = (payload.as_object_mut(), extra) {
        obj.extend(more);
    }
    NewJob::new(kind, payload)
        .workspace(workspace.0)
        .unique_key(format!("video:{video}:{kind}"))
}

/// Runs one stage of a video's chain; when it fails for good, the video is marked failed
/// with the reason and, when `refund` says so, its processing credits are given back.
async fn video_stage<F>(
    pipeline: &Pipeline,
    ctx: &JobContext,
    refund: bool,
    stage: impl FnOnce(WorkspaceId, VideoId) -> F,
) -> Result<(), JobFailure>
where
    F: Future<Output = Result<(), JobFailure>>,
{
    let ws = workspace(ctx)?;
    let p: VideoPayload = payload(ctx)?;
    let video: VideoId = parse_id(&p.video_id, "video")?;
    let result = stage(ws, video).await;
    if let Err(failure) = &result {
        if is_final(ctx, failure) {
            if let Err(e) = record_video_failure(pipeline, ctx, ws, video, refund, failure).await {
                tracing::warn!(job = %ctx.job().id, error = %e, "recording a video's failure failed");
            }
        }
    }
    result
}

async fn record_video_failure(
    pipeline: &Pipeline,
    ctx: &JobContext,
    ws: WorkspaceId,
    video: VideoId,
    refund: bool,
    failure: &JobFailure,
) -> Result<(), clipforge_store::StoreError> {
    let mut tx = pipeline.store().begin().await?;
    videos::set_status(
        &mut tx,
        ws,
        video,
        VideoStatus::Failed,
        Some(&failure.message),
    )
    .await?;
    if refund {
        let reason = format!("{} failed", ctx.job().kind);
        credits::refund_video(&mut tx, ws, video, &reason).await?;
        credits::refund_job(&mut tx, ws, ctx.job().id, &reason).await?;
    }
    tx.commit().await
}
