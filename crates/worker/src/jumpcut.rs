//! `jumpcut`: a whole video with its silences and filler words removed, through the
//! pipeline's jump-cut stage. The MP4 and the editor exports go to storage under the
//! video's prefix (so deleting the video removes them), and the jump-cut row records where
//! and what the cut did. One that fails for good keeps its row with the reason, and its
//! credit is refunded.

use std::collections::BTreeMap;
use std::path::Path;
use std::str::FromStr;
use std::sync::Mutex;
use std::time::Duration;

use clipforge_core::{Progress, Quality};
use clipforge_jumpcut::{Mode, Settings};
use clipforge_media::{MediaError, RunContext, Runner};
use clipforge_pipeline::jumpcut::{jumpcut, ExportFormat, JumpcutJob, JumpcutOutcome};
use clipforge_pipeline::PipelineError;
use clipforge_store::jumpcuts::{self, Jumpcut, JumpcutId, JumpcutOutput};
use clipforge_store::{credits, transcripts, videos};
use clipforge_store::{JobContext, JobFailure, Store, StoreError, WorkspaceId};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::progress::report;
use crate::{is_final, parse_id, payload, workspace, Pipeline};

/// How often progress is written while the stage runs.
const TICK: Duration = Duration::from_secs(2);

#[derive(Debug, Deserialize)]
struct JumpcutPayload {
    jumpcut_id: String,
}

pub(crate) async fn run(pipeline: &Pipeline, ctx: &JobContext) -> Result<(), JobFailure> {
    let ws = workspace(ctx)?;
    let p: JumpcutPayload = payload(ctx)?;
    let id: JumpcutId = parse_id(&p.jumpcut_id, "jump cut")?;
    let result = cut(pipeline, ctx, ws, id).await;
    if let Err(failure) = &result {
        if is_final(ctx, failure) {
            if let Err(e) = record_failure(pipeline, ctx, ws, id, &failure.message).await {
                tracing::warn!(jumpcut = %id, error = %e, "recording a jump cut's failure failed");
            }
        }
    }
    result
}

/// What the stored request asks for, parsed; a request that does not parse never will.
struct Request {
    settings: Settings,
    quality: Quality,
    exports: Vec<ExportFormat>,
}

fn request(row: &Jumpcut) -> Result<Request, JobFailure> {
    parse_request(&row.settings, &row.quality, &row.exports)
}

fn parse_request(
    settings: &Value,
    quality: &str,
    exports: &[String],
) -> Result<Request, JobFailure> {
    let settings: Settings = serde_json::from_value(settings.clone())
        .map_err(|e| JobFailure::permanent(format!("the jump-cut settings are invalid: {e}")))?;
    settings
        .validate()
        .map_err(|e| JobFailure::permanent(format!("the jump-cut settings cannot work: {e}")))?;
    let quality: Quality = serde_json::from_value(Value::String(quality.to_string()))
        .map_err(|_| JobFailure::permanent(format!("unknown quality {quality:?}")))?;
    let exports = exports
        .iter()
        .map(|f| ExportFormat::from_str(f).map_err(JobFailure::permanent))
        .collect::<Result<_, _>>()?;
    Ok(Request {
        settings,
        quality,
        exports,
    })
}

/// Whether the settings cut by the transcript's words.
fn needs_transcript(settings: &Settings) -> bool {
    settings.mode == Mode::Words || settings.remove_fillers || settings.remove_false_starts
}

async fn cut(
    pipeline: &Pipeline,
    ctx: &JobContext,
    ws: WorkspaceId,
    id: JumpcutId,
) -> Result<(), JobFailure> {
    let store = pipeline.store();
    let Some(row) = jumpcuts::get(store, ws, id).await? else {
        tracing::info!(jumpcut = %id, "jump cut or its video deleted; nothing to do");
        return Ok(());
    };
    if !jumpcuts::start(store, ws, id).await? {
        tracing::info!(jumpcut = %id, status = %row.status, "jump cut no longer wanted");
        return Ok(());
    }
    let req = request(&row)?;
    let video = videos::get(store, ws, row.video_id)
        .await?
        .ok_or_else(|| JobFailure::permanent("the video was deleted"))?;
    let key = video
        .storage_key
        .as_deref()
        .ok_or_else(|| JobFailure::permanent("the video has no stored file"))?;
    let transcript = if needs_transcript(&req.settings) {
        let record = transcripts::get_for_video(store, ws, video.id)
            .await?
            .ok_or_else(|| {
                JobFailure::permanent(
                    "the video has no transcript yet, and these settings cut by its words \
                     (words mode, remove_fillers or remove_false_starts): wait for the \
                     transcription to finish and ask again, or turn those off",
                )
            })?;
        Some(record.transcript())
    } else {
        None
    };

    let row_ref = Row { store, ws, id };
    let dir = pipeline.job_dir()?;
    // Named like the upload, so the editor exports point at a file the user recognises.
    let source = dir.path().join(file_name(
        video.original_filename.as_deref().unwrap_or(&video.title),
        "source.mp4",
    ));
    row_ref.report(ctx, 2, "downloading the source").await;
    pipeline.storage().get_to_file(key, &source).await?;
    let output = dir
        .path()
        .join(format!("{}.mp4", stem(&file_name(&video.title, "jumpcut"))));
    let job = JumpcutJob {
        input: &source,
        output: &output,
        settings: &req.settings,
        transcript: transcript.as_ref(),
        quality: req.quality,
        exports: &req.exports,
    };
    let run_ctx = RunContext::new(Runner::shared(), ctx.stopped());
    let progress = StageProgress::default();
    let outcome = row_ref
        .tracked(ctx, &progress, jumpcut(&job, &run_ctx, &progress))
        .await
        .map_err(stage_failure)?;

    row_ref.report(ctx, 94, "storing the result").await;
    let prefix = format!("ws/{ws}/videos/{}/jumpcuts/{id}", video.id);
    let out_key = format!("{prefix}.mp4");
    let size = pipeline
        .storage()
        .put_file(&out_key, &outcome.output)
        .await?;
    let mut stored = vec![out_key.clone()];
    let mut export_keys = BTreeMap::new();
    for path in &outcome.exports {
        let ext = path
            .extension()
            .map(|e| e.to_string_lossy().into_owned())
            .unwrap_or_default();
        let key = format!("{prefix}.{ext}");
        pipeline.storage().put_file(&key, path).await?;
        stored.push(key.clone());
        export_keys.insert(ext, key);
    }
    let stats = stats(&outcome);
    let done = jumpcuts::complete(
        store,
        ws,
        id,
        &JumpcutOutput {
            output_key: &out_key,
            export_keys: &export_keys,
            size_bytes: size,
            duration_in: outcome.duration_in,
            duration_out: outcome.duration_out,
            removed_seconds: outcome.removed_seconds,
            stats: &stats,
        },
    )
    .await?;
    if !done {
        // Cancelled while it ran: the files are nobody's to download.
        for key in &stored {
            if let Err(e) = pipeline.storage().delete(key).await {
                tracing::warn!(jumpcut = %id, error = %e, "removing a cancelled jump cut's file failed");
            }
        }
    }
    tracing::info!(
        jumpcut = %id,
        duration_in = outcome.duration_in,
        duration_out = outcome.duration_out,
        cuts = outcome.cuts,
        "jump cut stored"
    );
    Ok(())
}

/// What the row keeps besides the durations: the counts a user reads.
fn stats(outcome: &JumpcutOutcome) -> Value {
    json!({
        "removed_percent": outcome.removed_percent,
        "cuts": outcome.cuts,
        "fillers": outcome.fillers,
        "false_starts": outcome.false_starts,
        "sped_up": outcome.sped_up,
        "pieces": outcome.pieces,
        "has_audio": outcome.has_audio,
        "frame_rate": outcome.frame_rate,
        "frames_out": outcome.frames_out,
    })
}

/// Input that no retry can fix fails for good; the rest (a killed ffmpeg, a full disk)
/// may pass on another attempt.
fn stage_failure(e: PipelineError) -> JobFailure {
    match e {
        PipelineError::Jumpcut(_)
        | PipelineError::NeedsSound { .. }
        | PipelineError::NoVideo { .. }
        | PipelineError::Settings(_)
        | PipelineError::Media(
            MediaError::NotMedia { .. }
            | MediaError::Corrupt { .. }
            | MediaError::NoAudio { .. }
            | MediaError::ZeroDuration { .. },
        ) => JobFailure::permanent(format!("the jump cut cannot be made: {e}")),
        other => other.into(),
    }
}

/// `name` reduced to characters safe in a file name (and in an EDL or FCPXML), or
/// `fallback` when nothing is left.
fn file_name(name: &str, fallback: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | ' ') {
                c
            } else {
                '_'
            }
        })
        .take(80)
        .collect();
    let cleaned = cleaned.trim().trim_start_matches('.').to_string();
    if cleaned.chars().any(char::is_alphanumeric) {
        cleaned
    } else {
        fallback.to_string()
    }
}

/// `name` without its extension.
fn stem(name: &str) -> String {
    Path::new(name)
        .file_stem()
        .map_or_else(|| name.to_string(), |s| s.to_string_lossy().into_owned())
}

/// The jump-cut row whose progress mirrors the job's.
#[derive(Clone, Copy)]
struct Row<'a> {
    store: &'a Store,
    ws: WorkspaceId,
    id: JumpcutId,
}

impl Row<'_> {
    /// Records progress on the job and the row; a failed write only costs a report.
    async fn report(&self, ctx: &JobContext, pct: u8, step: &str) {
        report(ctx, pct, step, None).await;
        if let Err(e) = jumpcuts::set_progress(self.store, self.ws, self.id, pct, Some(step)).await
        {
            tracing::debug!(jumpcut = %self.id, error = %e, "jump-cut progress not recorded");
        }
    }

    /// Runs the stage, writing its progress every [`TICK`].
    async fn tracked<T>(
        &self,
        ctx: &JobContext,
        progress: &StageProgress,
        work: impl std::future::Future<Output = T>,
    ) -> T {
        self.report(ctx, 5, "analysing audio").await;
        let mut work = std::pin::pin!(work);
        let mut tick = tokio::time::interval(TICK);
        tick.tick().await;
        loop {
            tokio::select! {
                out = &mut work => return out,
                _ = tick.tick() => {
                    let (pct, step) = progress.percent();
                    self.report(ctx, pct, &step).await;
                }
            }
        }
    }
}

/// The stage's reports: which of its two steps runs, and how far it is.
#[derive(Debug, Default)]
struct StageProgress(Mutex<(String, f64)>);

impl StageProgress {
    /// Overall percent and step: analysis is 5–35 %, the encode 35–92 %.
    fn percent(&self) -> (u8, String) {
        let (step, fraction) = self.0.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let (from, to) = if step == "cutting" {
            (35.0, 92.0)
        } else {
            (5.0, 35.0)
        };
        let step = if step.is_empty() {
            "analysing audio".to_string()
        } else {
            step
        };
        ((from + fraction * (to - from)).round() as u8, step)
    }
}

impl Progress for StageProgress {
    fn stage(&self, name: &str) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = (name.to_string(), 0.0);
    }

    fn update(&self, done: f64, total: f64) {
        if total > 0.0 && done.is_finite() {
            self.0.lock().unwrap_or_else(|e| e.into_inner()).1 = (done / total).clamp(0.0, 1.0);
        }
    }
}

/// Marks the jump cut failed and gives back the credit its job took.
async fn record_failure(
    pipeline: &Pipeline,
    ctx: &JobContext,
    ws: WorkspaceId,
    id: JumpcutId,
    message: &str,
) -> Result<(), StoreError> {
    let mut tx = pipeline.store().begin().await?;
    jumpcuts::fail(&mut tx, ws, id, message).await?;
    credits::refund_job(&mut tx, ws, ctx.job().id, "jump cut failed").await?;
    tx.commit().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_safe_and_never_empty() {
        assert_eq!(file_name("My talk (final).mp4", "x"), "My talk _final_.mp4");
        assert_eq!(file_name("../../etc/passwd", "x"), "_.._etc_passwd");
        assert_eq!(file_name("///", "jumpcut"), "jumpcut");
        assert_eq!(file_name("", "jumpcut"), "jumpcut");
        assert_eq!(stem("talk.final.mp4"), "talk.final");
    }

    #[test]
    fn progress_maps_each_step_onto_its_share() {
        let p = StageProgress::default();
        assert_eq!(p.percent(), (5, "analysing audio".to_string()));
        p.stage("analysing audio");
        p.update(50.0, 100.0);
        assert_eq!(p.percent().0, 20);
        p.stage("cutting");
        assert_eq!(p.percent(), (35, "cutting".to_string()));
        p.update(10.0, 10.0);
        assert_eq!(p.percent().0, 92);
    }

    #[test]
    fn stored_requests_parse_or_fail_for_good() {
        let parse = |settings: Value, quality: &str, exports: &[&str]| {
            let exports: Vec<String> = exports.iter().map(|s| s.to_string()).collect();
            parse_request(&settings, quality, &exports)
        };
        let ok = parse(
            json!({"mode": "words", "remove_fillers": false}),
            "draft",
            &["edl", "json"],
        )
        .unwrap();
        assert_eq!(ok.settings.mode, Mode::Words);
        assert_eq!(ok.quality, Quality::Draft);
        assert_eq!(ok.exports, [ExportFormat::Edl, ExportFormat::Json]);
        assert!(needs_transcript(&ok.settings));
        let loud = parse(json!({"remove_fillers": false}), "high", &[]).unwrap();
        assert!(!needs_transcript(&loud.settings));

        for bad in [
            parse(json!({"margin": 1}), "draft", &[]),
            parse(json!({"min_silence": -1.0}), "draft", &[]),
            parse(json!({}), "ultra", &[]),
            parse(json!({}), "draft", &["srt"]),
        ] {
            assert!(bad.is_err_and(|f| f.permanent));
        }
    }
}
