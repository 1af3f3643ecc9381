//! `render`: one clip with its style through the pipeline's render stage; the MP4 and its
//! JPEG thumbnail go to storage and the render row records where. A render that fails
//! for good is marked failed and its credit refunded.

use std::path::Path;

use clipforge_media::{probe, RunContext, Runner};
use clipforge_pipeline::{
    fingerprint, render_clip, ClipJob, LogoSettings, MusicSettings, RenderSettings,
};
use clipforge_store::clips::{self, ClipStatus};
use clipforge_store::renders::{self, RenderOutput};
use clipforge_store::templates::{self, ClipStyle};
use clipforge_store::{credits, transcripts, videos};
use clipforge_store::{JobContext, JobFailure, RenderId, StoreError, WorkspaceId};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::ingest::extension_or;
use crate::progress::{report, tracked, Fraction, RenderRow};
use crate::{is_final, parse_id, payload, workspace, Pipeline};

#[derive(Debug, Deserialize)]
struct RenderPayload {
    render_id: String,
}

pub(crate) async fn run(pipeline: &Pipeline, ctx: &JobContext) -> Result<(), JobFailure> {
    let ws = workspace(ctx)?;
    let p: RenderPayload = payload(ctx)?;
    let id: RenderId = parse_id(&p.render_id, "render")?;
    let result = render(pipeline, ctx, ws, id).await;
    if let Err(failure) = &result {
        if is_final(ctx, failure) {
            if let Err(e) = record_failure(pipeline, ws, id, &failure.message).await {
                tracing::warn!(render = %id, error = %e, "recording a render's failure failed");
            }
        }
    }
    result
}

async fn render(
    pipeline: &Pipeline,
    ctx: &JobContext,
    ws: WorkspaceId,
    id: RenderId,
) -> Result<(), JobFailure> {
    let store = pipeline.store();
    let Some(render) = renders::get(store, ws, id).await? else {
        tracing::info!(render = %id, "render or its clip deleted; nothing to do");
        return Ok(());
    };
    if !renders::start(store, ws, id).await? {
        tracing::info!(render = %id, status = %render.status, "render no longer wanted");
        return Ok(());
    }
    let row = Some(RenderRow {
        store,
        workspace: ws,
        render: id,
    });
    let clip = clips::get(store, ws, render.clip_id)
        .await?
        .ok_or_else(|| JobFailure::permanent("the clip was deleted"))?;
    clips::set_status(store, ws, clip.id, ClipStatus::Rendering).await?;
    let style = templates::get_style(store, ws, clip.id).await?;
    let settings = settings(style.as_ref(), &render.settings)?;
    let video = videos::get(store, ws, clip.video_id)
        .await?
        .ok_or_else(|| JobFailure::permanent("the clip's video was deleted"))?;
    let key = video
        .storage_key
        .as_deref()
        .ok_or_else(|| JobFailure::permanent("the clip's video has no stored file"))?;
    let transcript = transcripts::get_for_video(store, ws, video.id)
        .await?
        .map(|t| t.transcript());

    let dir = pipeline.job_dir()?;
    let source = dir.path().join("source");
    report(ctx, 2, "downloading the source", row).await;
    pipeline.storage().get_to_file(key, &source).await?;
    let settings = with_style_media(pipeline, settings, style.as_ref(), dir.path()).await?;
    let info = probe(&source).await?;
    let fp = fingerprint(&source)?;
    let output = dir.path().join("clip.mp4");
    let thumb = dir.path().join("clip.jpg");
    let cache = dir.path().join("cache");
    std::fs::create_dir_all(&cache)
        .map_err(|e| JobFailure::retry(format!("cannot create {}: {e}", cache.display())))?;
    let job = ClipJob {
        input: &source,
        fingerprint: &fp,
        info: &info,
        transcript: transcript.as_ref(),
        start: clip.start_seconds,
        end: clip.end_seconds,
        title: clip.hook.as_deref().or(Some(clip.title.as_str())),
        settings: &settings,
        output: &output,
        thumbnail: Some(&thumb),
        cache: &cache,
    };
    let run_ctx = RunContext::new(Runner::shared(), ctx.stopped());
    let fraction = Fraction::default();
    tracked(
        ctx,
        10,
        90,
        "rendering",
        row,
        &fraction,
        render_clip(&job, &run_ctx, &fraction),
    )
    .await
    .map_err(|e| match e {
        clipforge_pipeline::PipelineError::Settings(m) => {
            JobFailure::permanent(format!("the render settings cannot work: {m}"))
        }
        other => other.into(),
    })?;

    report(ctx, 92, "storing the clip", row).await;
    let rendered = probe(&output).await?;
    let out_key = format!("ws/{ws}/renders/{id}.mp4");
    let thumb_key = format!("ws/{ws}/renders/{id}.jpg");
    let size = pipeline.storage().put_file(&out_key, &output).await?;
    pipeline.storage().put_file(&thumb_key, &thumb).await?;

    let mut tx = store.begin().await?;
    let done = renders::complete(
        &mut tx,
        ws,
        id,
        &RenderOutput {
            output_key: &out_key,
            size_bytes: size,
            duration_seconds: rendered.duration,
        },
    )
    .await?;
    if done {
        clips::set_status(&mut tx, ws, clip.id, ClipStatus::Rendered).await?;
    }
    tx.commit().await?;
    if !done {
        // Cancelled while it rendered: the file is nobody's to download.
        for key in [&out_key, &thumb_key] {
            if let Err(e) = pipeline.storage().delete(key).await {
                tracing::warn!(render = %id, error = %e, "removing a cancelled render's file failed");
            }
        }
    }
    Ok(())
}

/// The style's logo and music, fetched from storage into `dir`, in the settings.
async fn with_style_media(
    pipeline: &Pipeline,
    mut settings: RenderSettings,
    style: Option<&ClipStyle>,
    dir: &Path,
) -> Result<RenderSettings, JobFailure> {
    let Some(style) = style else {
        return Ok(settings);
    };
    if let Some(key) = &style.logo_key {
        let path = dir.join(format!("logo.{}", extension_or(key, "bin")));
        pipeline.storage().get_to_file(key, &path).await?;
        settings.logo = Some(LogoSettings {
            path,
            corner: style
                .logo_position
                .clone()
                .unwrap_or_else(|| "top-right".into()),
            scale: 0.18,
            opacity: 0.85,
        });
    }
    let volume = style.music_volume.unwrap_or(0.25);
    if let (Some(key), true) = (&style.music_key, volume > 0.0) {
        let path = dir.join(format!("music.{}", extension_or(key, "bin")));
        pipeline.storage().get_to_file(key, &path).await?;
        settings.music = Some(MusicSettings {
            path,
            // The style's 0–1 volume as a gain; speech still ducks it.
            volume_db: 20.0 * volume.min(1.0).log10(),
            duck: true,
        });
    }
    settings
        .validate()
        .map_err(|e| JobFailure::permanent(format!("the clip's style cannot work: {e}")))?;
    Ok(settings)
}

/// The render settings: the defaults, then the clip's style, then what the request named.
fn settings(style: Option<&ClipStyle>, requested: &Value) -> Result<RenderSettings, JobFailure> {
    let mut merged = match serde_json::to_value(RenderSettings::default()) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    };
    if let Some(style) = style {
        let mut put = |k: &str, v: Value| {
            merged.insert(k.to_string(), v);
        };
        put(
            "aspect",
            serde_json::to_value(style.aspect).unwrap_or(Value::Null),
        );
        put(
            "reframe",
            serde_json::to_value(style.reframe_mode).unwrap_or(Value::Null),
        );
        if let Some(t) = &style.caption_template {
            put("template", Value::String(t.clone()));
        }
        if style
            .caption_overrides
            .as_object()
            .is_some_and(|o| !o.is_empty())
        {
            put("caption_overrides", style.caption_overrides.clone());
        }
    }
    if let Value::Object(req) = requested {
        for (k, v) in req {
            // The API names the framing as the style does; `captions: false` burns none.
            match k.as_str() {
                "reframe_mode" => {
                    merged.insert("reframe".into(), v.clone());
                }
                "captions" if v == &Value::Bool(false) => {
                    merged.insert("template".into(), Value::Null);
                }
                _ if merged.contains_key(k) => {
                    merged.insert(k.clone(), v.clone());
                }
                _ => {}
            }
        }
    }
    let settings: RenderSettings = serde_json::from_value(Value::Object(merged))
        .map_err(|e| JobFailure::permanent(format!("the render settings are invalid: {e}")))?;
    settings
        .validate()
        .map_err(|e| JobFailure::permanent(format!("the render settings cannot work: {e}")))?;
    Ok(settings)
}

/// Marks the render and its clip failed and gives back the credit the render took.
async fn record_failure(
    pipeline: &Pipeline,
    ws: WorkspaceId,
    id: RenderId,
    message: &str,
) -> Result<(), StoreError> {
    let store = pipeline.store();
    let debits = credits::debits_for_render(store, ws, id).await?;
    let clip = renders::get(store, ws, id).await?.map(|r| r.clip_id);
    let mut tx = store.begin().await?;
    renders::fail(&mut tx, ws, id, message).await?;
    if let Some(clip) = clip {
        clips::set_status(&mut tx, ws, clip, ClipStatus::Failed).await?;
    }
    for debit in debits {
        credits::refund(&mut tx, ws, debit.id, "render failed").await?;
    }
    tx.commit().await
}

#[cfg(test)]
mod tests {
    use super::*;
    use clipforge_core::{AspectRatio, Quality, ReframeMode};

    #[test]
    fn the_request_wins_over_the_defaults_and_unknown_fields_are_ignored() {
        let s = settings(
            None,
            &serde_json::json!({"quality": "draft", "aspect": "1:1", "watermark": true}),
        )
        .unwrap();
        assert_eq!(s.quality, Quality::Draft);
        assert_eq!(s.aspect, AspectRatio::Square);
        assert!(s.template.is_some(), "captions by default");
        assert!(settings(None, &serde_json::json!({"quality": "ultra"})).is_err());

        let s = settings(
            None,
            &serde_json::json!({"captions": false, "reframe_mode": "fit-blur"}),
        )
        .unwrap();
        assert_eq!((s.template, s.reframe), (None, ReframeMode::FitBlur));
    }

    #[test]
    fn the_clip_style_sets_the_look_and_its_caption_overrides_reach_the_captions() {
        let style = ClipStyle {
            clip_id: "01a200b8-bcab-771d-b7a1-df77dfb4747e".parse().unwrap(),
            template_id: None,
            caption_template: Some("boxed".into()),
            caption_overrides: serde_json::json!({"position": "top", "max_words": 2}),
            logo_key: None,
            logo_position: None,
            music_key: None,
            music_volume: None,
            aspect: AspectRatio::Square,
            reframe_mode: ReframeMode::Center,
            updated_at: None,
        };
        let s = settings(Some(&style), &serde_json::json!({"quality": "draft"})).unwrap();
        assert_eq!(s.template.as_deref(), Some("boxed"));
        assert_eq!(
            (s.aspect, s.reframe),
            (AspectRatio::Square, ReframeMode::Center)
        );
        let captions = s.caption_style().unwrap().unwrap();
        assert_eq!(captions.position, clipforge_core::CaptionPosition::Top);
        assert_eq!(captions.max_words, 2);
        assert_eq!(captions.font, "Open Sans", "the rest stays the template's");
    }
}
