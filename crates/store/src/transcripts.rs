//! Transcripts: one per video, segments with their words, editable by the user.
//!
//! Segments are stored as one JSON document: they are always read and written whole (the
//! captions and the clip finder need all of them), and an edit is one compare-and-set on
//! `version`, so two editors never silently overwrite each other.

use chrono::{DateTime, Utc};
use clipforge_core::{Segment, Transcript, Word};
use serde::Serialize;

use crate::db::{now, on_db, Db, TranscriptId, VideoId, WorkspaceId};
use crate::{on_pool, Store, StoreError};

/// A video's stored transcript.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct TranscriptRecord {
    /// The transcript's id.
    pub id: TranscriptId,
    /// Its workspace.
    pub workspace_id: WorkspaceId,
    /// The video it transcribes.
    pub video_id: VideoId,
    /// ISO 639-1 language code.
    pub language: String,
    /// Length of the transcribed audio in seconds.
    pub duration_seconds: f64,
    /// Segments in time order; a segment's id in the API is its index here.
    #[sqlx(json)]
    pub segments: Vec<Segment>,
    /// Goes up by one with every change; edits name the version they started from.
    pub version: i64,
    /// When it was first stored.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl TranscriptRecord {
    /// The transcript in the shape the caption and clip stages take.
    pub fn transcript(&self) -> Transcript {
        Transcript {
            language: self.language.clone(),
            duration: self.duration_seconds,
            segments: self.segments.clone(),
        }
    }
}

macro_rules! transcript_columns {
    ($p:literal) => {
        concat!(
            $p,
            "id, ",
            $p,
            "workspace_id, ",
            $p,
            "video_id, ",
            $p,
            "language, ",
            $p,
            "duration_seconds, ",
            $p,
            "segments, ",
            $p,
            "version, ",
            $p,
            "created_at, ",
            $p,
            "updated_at"
        )
    };
}

/// Stores the transcript of one of the workspace's live videos, replacing any earlier one
/// (a re-transcription); [`StoreError::NotFound`] when there is no such video.
pub async fn replace(
    db: impl Into<Db<'_>>,
    workspace: WorkspaceId,
    video: VideoId,
    transcript: &Transcript,
) -> Result<TranscriptRecord, StoreError> {
    let at = now();
    // The SELECT's WHERE both checks the video and keeps SQLite from reading
    // `ON CONFLICT` as a join constraint.
    let sql = concat!(
        "INSERT INTO transcripts (id, workspace_id, video_id, language, duration_seconds, segments, version, created_at, updated_at) ",
        "SELECT $1, $2, $3, $4, $5, $6, 1, $7, $7 ",
        "WHERE EXISTS (SELECT 1 FROM videos v WHERE v.id = $3 AND v.workspace_id = $2 AND v.deleted_at IS NULL) ",
        "ON CONFLICT (video_id) DO UPDATE SET language = excluded.language, ",
        "duration_seconds = excluded.duration_seconds, segments = excluded.segments, ",
        "version = transcripts.version + 1, updated_at = excluded.updated_at ",
        "WHERE transcripts.workspace_id = excluded.workspace_id ",
        "RETURNING ",
        transcript_columns!("")
    );
    let record = on_db!(db.into(), conn => sqlx::query_as::<_, TranscriptRecord>(sql)
        .bind(TranscriptId::new())
        .bind(workspace)
        .bind(video)
        .bind(&transcript.language)
        .bind(transcript.duration)
        .bind(sqlx::types::Json(&transcript.segments))
        .bind(at)
        .fetch_optional(conn)
        .await)?;
    record.ok_or(StoreError::NotFound { what: "video" })
}

/// The transcript of one of the workspace's live videos.
pub async fn get_for_video(
    store: &Store,
    workspace: WorkspaceId,
    video: VideoId,
) -> Result<Option<TranscriptRecord>, StoreError> {
    let sql = concat!(
        "SELECT ",
        transcript_columns!("t."),
        " FROM transcripts t JOIN videos v ON v.id = t.video_id ",
        "WHERE t.video_id = $1 AND t.workspace_id = $2 AND v.deleted_at IS NULL"
    );
    Ok(
        on_pool!(store, pool => sqlx::query_as::<_, TranscriptRecord>(sql)
        .bind(video)
        .bind(workspace)
        .fetch_optional(pool)
        .await)?,
    )
}

/// One of the workspace's transcripts by its own id (its video must be live).
pub async fn get(
    store: &Store,
    workspace: WorkspaceId,
    id: TranscriptId,
) -> Result<Option<TranscriptRecord>, StoreError> {
    let sql = concat!(
        "SELECT ",
        transcript_columns!("t."),
        " FROM transcripts t JOIN videos v ON v.id = t.video_id ",
        "WHERE t.id = $1 AND t.workspace_id = $2 AND v.deleted_at IS NULL"
    );
    Ok(
        on_pool!(store, pool => sqlx::query_as::<_, TranscriptRecord>(sql)
        .bind(id)
        .bind(workspace)
        .fetch_optional(pool)
        .await)?,
    )
}

/// A user's correction of one segment.
#[derive(Debug, Clone, PartialEq)]
pub struct SegmentEdit {
    /// The corrected text.
    pub text: String,
    /// The corrected words with their times; captions are drawn from these.
    pub words: Vec<Word>,
}

/// Applies `edit` to segment `index`; false when there is no such segment.
fn apply_edit(segments: &mut [Segment], index: usize, edit: &SegmentEdit) -> bool {
    let Some(segment) = segments.get_mut(index) else {
        return false;
    };
    segment.text = edit.text.clone();
    segment.words = edit.words.clone();
    true
}

/// How often an edit re-reads and retries after another writer changed the transcript
/// between its read and its write.
const EDIT_ATTEMPTS: usize = 3;

/// Corrects one segment's text and words. `None` when there is no such transcript or
/// segment; [`StoreError::Conflict`] when `expected_version` is given and the transcript
/// changed since (the editor worked on a stale copy); [`StoreError::Invalid`] when the
/// words break the transcript's invariants (times out of order, past the end).
pub async fn edit_segment(
    store: &Store,
    workspace: WorkspaceId,
    id: TranscriptId,
    index: usize,
    edit: &SegmentEdit,
    expected_version: Option<i64>,
) -> Result<Option<TranscriptRecord>, StoreError> {
    let sql = concat!(
        "UPDATE transcripts SET segments = $3, version = version + 1, updated_at = $4 ",
        "WHERE id = $1 AND workspace_id = $2 AND version = $5 ",
        "AND video_id IN (SELECT id FROM videos WHERE workspace_id = $2 AND deleted_at IS NULL) ",
        "RETURNING ",
        transcript_columns!("")
    );
    for _ in 0..EDIT_ATTEMPTS {
        let Some(current) = get(store, workspace, id).await? else {
            return Ok(None);
        };
        if expected_version.is_some_and(|v| v != current.version) {
            return Err(StoreError::Conflict {
                what: "the transcript changed since it was read; reload it and edit again",
            });
        }
        let mut transcript = current.transcript();
        if !apply_edit(&mut transcript.segments, index, edit) {
            return Ok(None);
        }
        transcript
            .validate()
            .map_err(|e| StoreError::Invalid(e.to_string()))?;
        let updated = on_pool!(store, pool => sqlx::query_as::<_, TranscriptRecord>(sql)
            .bind(id)
            .bind(workspace)
            .bind(sqlx::types::Json(&transcript.segments))
            .bind(now())
            .bind(current.version)
            .fetch_optional(pool)
            .await)?;
        if updated.is_some() {
            return Ok(updated);
        }
    }
    Err(StoreError::Conflict {
        what: "the transcript is being changed by someone else; try again",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn word(text: &str, start: f64, end: f64) -> Word {
        Word {
            start,
            end,
            text: text.into(),
            confidence: 0.9,
        }
    }

    fn segment(text: &str, words: Vec<Word>) -> Segment {
        Segment {
            start: words.first().map_or(0.0, |w| w.start),
            end: words.last().map_or(0.0, |w| w.end),
            text: text.into(),
            speaker: None,
            words,
        }
    }

    #[test]
    fn an_edit_changes_only_its_segment() {
        let mut segments = vec![
            segment(
                "Hello there.",
                vec![word("Hello", 0.0, 0.4), word("there.", 0.4, 0.8)],
            ),
            segment(
                "Good bye.",
                vec![word("Good", 1.0, 1.3), word("bye.", 1.3, 1.6)],
            ),
        ];
        let edit = SegmentEdit {
            text: "Goodbye.".into(),
            words: vec![word("Goodbye.", 1.0, 1.6)],
        };
        assert!(apply_edit(&mut segments, 1, &edit));
        assert_eq!(segments[1].text, "Goodbye.");
        assert_eq!(segments[1].words, edit.words);
        assert_eq!(segments[0].text, "Hello there.");
        assert!(!apply_edit(&mut segments, 2, &edit));
    }
}
