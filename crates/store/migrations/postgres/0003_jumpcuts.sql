-- Jump cuts: a whole video with its silences and filler words removed, rendered to one
-- MP4 (and, on request, the cut list for editors). Kept column for column in step with
-- migrations/sqlite/0003_jumpcuts.sql.
--
-- Like renders, a jump cut belongs to its video through (workspace_id, video_id), so it
-- can never point at another workspace's video, and has no deleted_at of its own: it is
-- visible only while its video is live, and goes with the video's row.
CREATE TABLE jumpcuts (
    id              UUID PRIMARY KEY NOT NULL,
    workspace_id    UUID NOT NULL,
    video_id        UUID NOT NULL,
    requested_by    UUID REFERENCES users (id) ON DELETE SET NULL,
    -- The queue's job that makes it; the jobs table is the queue's, so no key (as in
    -- credit_ledger). Also what its credit debit is found and refunded by.
    job_id          UUID,
    -- The jump-cut settings as requested, every field filled in.
    settings        JSONB NOT NULL,
    quality         TEXT NOT NULL CHECK (quality IN ('draft', 'standard', 'high')),
    -- Editor exports asked for: a JSON list of 'json', 'fcpxml', 'edl'.
    exports         JSONB NOT NULL DEFAULT '[]',
    status          TEXT NOT NULL CHECK (status IN ('queued', 'processing', 'completed', 'failed', 'canceled')),
    progress        BIGINT NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),
    current_step    TEXT,
    output_key      TEXT,
    -- Where each export is stored: a JSON object from format to key.
    export_keys     JSONB NOT NULL DEFAULT '{}',
    size_bytes      BIGINT,
    duration_in     DOUBLE PRECISION,
    duration_out    DOUBLE PRECISION,
    removed_seconds DOUBLE PRECISION,
    -- The rest of what the cut did (cuts, fillers, pieces, removed_percent, has_audio).
    stats           JSONB,
    error           TEXT,
    created_at      TIMESTAMPTZ NOT NULL,
    started_at      TIMESTAMPTZ,
    finished_at     TIMESTAMPTZ,
    updated_at      TIMESTAMPTZ NOT NULL,
    UNIQUE (workspace_id, id),
    FOREIGN KEY (workspace_id, video_id) REFERENCES videos (workspace_id, id) ON DELETE CASCADE
);
CREATE INDEX jumpcuts_video_created ON jumpcuts (workspace_id, video_id, created_at);
