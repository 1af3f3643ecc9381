//! Transcripts: read one with its segments and words, correct a segment, export it as
//! SRT, WebVTT, plain text or JSON.

use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use clipforge_captions::SubtitleFormat;
use clipforge_core::{Segment, Word};
use clipforge_store::transcripts::{self, SegmentEdit, TranscriptRecord};
use clipforge_store::{videos, StoreError, TranscriptId, VideoId};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{OpenApi, ToSchema};

use super::videos::find_video;
use crate::app::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiJson};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/transcriptions/videos/{video_id}", get(for_video))
        .route("/transcriptions/{id}", get(show))
        .route(
            "/transcriptions/{id}/segments/{segment_id}",
            put(edit_segment),
        )
        .route("/transcriptions/{id}/export", post(export))
}

/// This module's operations in the OpenAPI document.
#[derive(OpenApi)]
#[openapi(paths(for_video, show, edit_segment, export))]
pub(super) struct Doc;

/// A path's transcript id.
const TRANSCRIPT_ID: &str = "The transcript's id";

/// Every transcript route answers with the whole transcript.
#[derive(Serialize, ToSchema)]
struct OneTranscript<'a> {
    transcription: TranscriptView<'a>,
}

/// A word as the API shows and takes it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct WordView {
    word: String,
    start_time: f64,
    end_time: f64,
    /// Omitted in an edit: a word typed by a person is certain.
    #[serde(default = "certain")]
    confidence: f64,
}

fn certain() -> f64 {
    1.0
}

/// A confidence as shown: three decimals, since `0.9` stored as `f32` would otherwise read
/// back as `0.8999999761581421`.
fn shown(confidence: f32) -> f64 {
    (f64::from(confidence) * 1000.0).round() / 1000.0
}

#[derive(Debug, Serialize, ToSchema)]
struct SegmentView<'a> {
    /// The segment's index, which names it in edits.
    id: usize,
    start_time: f64,
    end_time: f64,
    text: &'a str,
    speaker_id: Option<u32>,
    /// Mean of its words' confidences.
    confidence: Option<f64>,
    words: Vec<WordView>,
}

#[derive(Debug, Serialize, ToSchema)]
struct TranscriptView<'a> {
    #[schema(value_type = uuid::Uuid)]
    id: TranscriptId,
    #[schema(value_type = uuid::Uuid)]
    video_id: VideoId,
    language: &'a str,
    status: &'static str,
    duration_seconds: f64,
    word_count: usize,
    confidence_avg: Option<f64>,
    version: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    segments: Vec<SegmentView<'a>>,
}

fn mean(values: impl Iterator<Item = f32>) -> Option<f64> {
    let (sum, n) = values.fold((0.0f64, 0usize), |(s, n), v| (s + f64::from(v), n + 1));
    (n > 0).then(|| (sum / n as f64 * 1000.0).round() / 1000.0)
}

fn word_view(w: &Word) -> WordView {
    WordView {
        word: w.text.clone(),
        start_time: w.start,
        end_time: w.end,
        confidence: shown(w.confidence),
    }
}

fn view(record: &TranscriptRecord) -> TranscriptView<'_> {
    let words = || record.segments.iter().flat_map(|s| s.words.iter());
    TranscriptView {
        id: record.id,
        video_id: record.video_id,
        language: &record.language,
        status: "completed",
        duration_seconds: record.duration_seconds,
        word_count: words().count(),
        confidence_avg: mean(words().map(|w| w.confidence)),
        version: record.version,
        created_at: record.created_at,
        updated_at: record.updated_at,
        segments: record
            .segments
            .iter()
            .enumerate()
            .map(|(id, s)| SegmentView {
                id,
                start_time: s.start,
                end_time: s.end,
                text: &s.text,
                speaker_id: s.speaker,
                confidence: mean(s.words.iter().map(|w| w.confidence)),
                words: s.words.iter().map(word_view).collect(),
            })
            .collect(),
    }
}

fn answer(record: &TranscriptRecord) -> Json<serde_json::Value> {
    Json(json!(OneTranscript {
        transcription: view(record)
    }))
}

fn parse_transcript_id(raw: &str) -> Result<TranscriptId, ApiError> {
    raw.parse().map_err(|_| ApiError::not_found("transcript"))
}

async fn find(state: &AppState, caller: &Caller, raw: &str) -> Result<TranscriptRecord, ApiError> {
    let id = parse_transcript_id(raw)?;
    transcripts::get(state.store(), caller.workspace, id)
        .await?
        .ok_or_else(|| ApiError::not_found("transcript"))
}

/// A video's transcript, once transcription finished.
#[utoipa::path(get, path = "/transcriptions/videos/{video_id}", tag = "transcripts",
    params(("video_id" = String, Path, description = "The video's id")),
    responses((status = 200, description = "The transcript with segments and words", body = OneTranscript)))]
async fn for_video(
    State(state): State<AppState>,
    caller: Caller,
    Path(video_id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let video = find_video(&state, &caller, &video_id).await?;
    let record = transcripts::get_for_video(state.store(), caller.workspace, video.id)
        .await?
        .ok_or_else(|| {
            ApiError::not_found(&format!(
                "transcript (the video is {}; its transcript is stored once transcription \
                 finishes)",
                video.status
            ))
        })?;
    Ok(answer(&record))
}

/// A transcript by its own id.
#[utoipa::path(get, path = "/transcriptions/{id}", tag = "transcripts",
    params(("id" = String, Path, description = TRANSCRIPT_ID)),
    responses((status = 200, description = "The transcript with segments and words", body = OneTranscript)))]
async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    Ok(answer(&find(&state, &caller, &id).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct EditBody {
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    words: Option<Vec<WordView>>,
    /// The transcript version the edit was made on; a later change answers 409.
    #[serde(default)]
    version: Option<i64>,
}

/// New words for corrected `text` when only the text was sent: the old timings when the
/// word count is unchanged (only words that changed become certain), else the segment's
/// span shared out by word length.
fn words_for_text(segment: &Segment, text: &str) -> Vec<Word> {
    let tokens: Vec<&str> = text.split_whitespace().collect();
    if tokens.len() == segment.words.len() {
        return tokens
            .iter()
            .zip(&segment.words)
            .map(|(token, old)| Word {
                confidence: if old.text == *token {
                    old.confidence
                } else {
                    1.0
                },
                text: (*token).to_string(),
                ..old.clone()
            })
            .collect();
    }
    let start = segment.words.first().map_or(segment.start, |w| w.start);
    let end = segment
        .words
        .last()
        .map_or(segment.end, |w| w.end)
        .max(start);
    let weights: Vec<f64> = tokens.iter().map(|t| t.chars().count() as f64).collect();
    let total: f64 = weights.iter().sum();
    let mut at = start;
    tokens
        .iter()
        .zip(&weights)
        .enumerate()
        .map(|(i, (token, weight))| {
            let next = if i + 1 == tokens.len() {
                end
            } else {
                at + (end - start) * weight / total
            };
            let word = Word {
                start: at,
                end: next,
                text: (*token).to_string(),
                confidence: 1.0,
            };
            at = next;
            word
        })
        .collect()
}

/// Corrects one segment's text, words or both; text alone keeps or shares out the timings.
#[utoipa::path(put, path = "/transcriptions/{id}/segments/{segment_id}", tag = "transcripts",
    params(("id" = String, Path, description = TRANSCRIPT_ID),
        ("segment_id" = String, Path, description = "The segment's index, from 0")),
    request_body = EditBody,
    responses((status = 200, description = "The transcript as edited", body = OneTranscript)))]
async fn edit_segment(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, segment_id)): Path<(String, String)>,
    ApiJson(body): ApiJson<EditBody>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let current = find(&state, &caller, &id).await?;
    let index: usize = segment_id
        .parse()
        .map_err(|_| ApiError::not_found("segment"))?;
    let segment = current
        .segments
        .get(index)
        .ok_or_else(|| ApiError::not_found("segment"))?;
    if let Some(text) = &body.text {
        if text.trim().is_empty() {
            return Err(ApiError::field(
                "text",
                "cannot be empty; a segment holds at least one word",
            ));
        }
    }
    let words: Option<Vec<Word>> = body.words.as_ref().map(|words| {
        words
            .iter()
            .map(|w| Word {
                start: w.start_time,
                end: w.end_time,
                text: w.word.trim().to_string(),
                confidence: w.confidence as f32,
            })
            .collect()
    });
    if words.as_ref().is_some_and(Vec::is_empty) {
        return Err(ApiError::field("words", "cannot be empty"));
    }
    // Words worked out from the text rely on the timings just read, so that edit is tied
    // to the version read even when the client named none.
    let (edit, expected) = match (body.text, words) {
        (Some(text), Some(words)) => (
            SegmentEdit {
                text: text.trim().to_string(),
                words,
            },
            body.version,
        ),
        (None, Some(words)) => {
            let text = words
                .iter()
                .map(|w| w.text.as_str())
                .collect::<Vec<_>>()
                .join(" ");
            (SegmentEdit { text, words }, body.version)
        }
        (Some(text), None) => (
            SegmentEdit {
                words: words_for_text(segment, &text),
                text: text.trim().to_string(),
            },
            Some(body.version.unwrap_or(current.version)),
        ),
        (None, None) => {
            return Err(ApiError::field(
                "text",
                "send text, words or both to change the segment",
            ))
        }
    };
    let edited = transcripts::edit_segment(
        state.store(),
        caller.workspace,
        current.id,
        index,
        &edit,
        expected,
    )
    .await
    .map_err(|e| match e {
        StoreError::Invalid(message) => ApiError::field("words", message),
        other => other.into(),
    })?
    .ok_or_else(|| ApiError::not_found("segment"))?;
    Ok(answer(&edited))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct ExportBody {
    /// srt, vtt, txt or json.
    #[schema(example = "srt")]
    format: String,
}

/// The transcript as a subtitle or text file, named after the video.
#[utoipa::path(post, path = "/transcriptions/{id}/export", tag = "transcripts",
    params(("id" = String, Path, description = TRANSCRIPT_ID)), request_body = ExportBody,
    responses((status = 200, description = "The file, with `Content-Disposition: attachment`",
        content((String = "application/x-subrip"), (String = "text/vtt"),
            (String = "text/plain; charset=utf-8"), (Object = "application/json")))))]
async fn export(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ExportBody>,
) -> Result<Response, ApiError> {
    let format: SubtitleFormat = body
        .format
        .parse()
        .map_err(|e: clipforge_captions::CaptionsError| ApiError::field("format", e.to_string()))?;
    let record = find(&state, &caller, &id).await?;
    let title = videos::get(state.store(), caller.workspace, record.video_id)
        .await?
        .map_or_else(|| "transcript".to_string(), |v| v.title);
    let text = clipforge_captions::export(&record.transcript(), format);
    let filename = format!("{title}.{}", format.as_str());
    let mut response = (StatusCode::OK, text).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(format.mime_type()),
    );
    if let Ok(value) = HeaderValue::from_str(&clipforge_storage::content_disposition(&filename)) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segment() -> Segment {
        let words = vec![
            Word {
                start: 1.0,
                end: 1.5,
                text: "Helo".into(),
                confidence: 0.4,
            },
            Word {
                start: 1.5,
                end: 2.0,
                text: "world.".into(),
                confidence: 0.9,
            },
        ];
        Segment {
            start: 1.0,
            end: 2.0,
            text: "Helo world.".into(),
            speaker: None,
            words,
        }
    }

    #[test]
    fn a_spelling_fix_keeps_the_timings() {
        let words = words_for_text(&segment(), "Hello world.");
        assert_eq!(words.len(), 2);
        assert_eq!((words[0].start, words[0].end), (1.0, 1.5));
        assert_eq!(words[0].text, "Hello");
        assert_eq!(words[0].confidence, 1.0);
        assert_eq!(words[1].confidence, 0.9);
    }

    #[test]
    fn a_rewrite_shares_out_the_span() {
        let words = words_for_text(&segment(), "Hi there, world");
        assert_eq!(words.len(), 3);
        assert_eq!(words[0].start, 1.0);
        assert_eq!(words[2].end, 2.0);
        for pair in words.windows(2) {
            assert!((pair[0].end - pair[1].start).abs() < 1e-9);
            assert!(pair[0].start < pair[0].end);
        }
        // Longer words get more time: "there," (6) outlasts "Hi" (2).
        assert!(words[1].end - words[1].start > words[0].end - words[0].start);
    }
}
