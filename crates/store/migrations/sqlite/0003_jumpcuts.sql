-- Jump cuts: a whole video with its silences and filler words removed, rendered to one
-- MP4 (and, on request, the cut list for editors). Kept column for column in step with
-- migrations/postgres/0003_jumpcuts.sql.
--
-- Like renders, a jump cut belongs to its video through (workspace_id, video_id), so it
-- can never point at another workspace's video, and has no deleted_at of its own: it is
-- visible only while its video is live, and goes with the video's row.
CREATE TABLE jumpcuts (
    id              BLOB PRIMARY KEY NOT NULL,
    workspace_id    BLOB NOT NULL,
    video_id        BLOB NOT NULL,
    requested_by    BLOB REFERENCES users (id) ON DELETE SET NULL,
    -- The queue's job that makes it; the jobs table is the queue's, so no key (as in
    -- credit_ledger). Also what its credit debit is found and refunded by.
    job_id          BLOB,
    -- The jump-cut settings as requested, every field filled in.
    settings        TEXT NOT NULL,
    quality         TEXT NOT NULL CHECK (quality IN ('draft', 'standard', 'high')),
    -- Editor exports asked for: a JSON list of 'json', 'fcpxml', 'edl'.
    exports         TEXT NOT NULL DEFAULT '[]',
    status          TEXT NOT NULL CHECK (status IN ('queued', 'processing', 'completed', 'failed', 'canceled')),
    progress        INTEGER NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),
    current_step    TEXT,
    output_key      TEXT,
    -- Where each export is stored: a JSON object from format to key.
    export_keys     TEXT NOT NULL DEFAULT '{}',
    size_bytes      INTEGER,
    duration_in     REAL,
    duration_out    REAL,
    removed_seconds REAL,
    -- The rest of what the cut did (cuts, fillers, pieces, removed_percent, has_audio).
    stats           TEXT,
    error           TEXT,
    created_at      TEXT NOT NULL,
    started_at      TEXT,
    finished_at     TEXT,
    updated_at      TEXT NOT NULL,
    UNIQUE (workspace_id, id),
    FOREIGN KEY (workspace_id, video_id) REFERENCES videos (workspace_id, id) ON DELETE CASCADE
) STRICT;
CREATE INDEX jumpcuts_video_created ON jumpcuts (workspace_id, video_id, created_at);
