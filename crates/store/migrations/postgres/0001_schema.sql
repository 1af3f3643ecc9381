-- The clipforge schema on PostgreSQL. Kept column for column in step with
-- migrations/sqlite/0001_schema.sql: the same queries run on both.
--
-- UUIDs are UUIDv7 made by the application (they sort by creation time), timestamps are
-- TIMESTAMPTZ written in UTC, JSON is JSONB.
--
-- Every tenant table carries workspace_id, and child rows reference their parent through
-- (workspace_id, id): a clip cannot point at another workspace's video even by mistake.
-- Soft-deleted rows keep their data (recovery, audit) and are invisible to every query.

CREATE TABLE users (
    id                UUID PRIMARY KEY NOT NULL,
    email             TEXT NOT NULL,
    password_hash     TEXT NOT NULL,
    full_name         TEXT NOT NULL,
    avatar_url        TEXT,
    email_verified_at TIMESTAMPTZ,
    created_at        TIMESTAMPTZ NOT NULL,
    updated_at        TIMESTAMPTZ NOT NULL,
    deleted_at        TIMESTAMPTZ
);
-- A deleted account frees its address for a new one.
CREATE UNIQUE INDEX users_email ON users (email) WHERE deleted_at IS NULL;

CREATE TABLE sessions (
    id           UUID PRIMARY KEY NOT NULL,
    user_id      UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash   TEXT NOT NULL UNIQUE,
    ip           TEXT,
    user_agent   TEXT,
    created_at   TIMESTAMPTZ NOT NULL,
    last_seen_at TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

CREATE TABLE workspaces (
    id         UUID PRIMARY KEY NOT NULL,
    name       TEXT NOT NULL,
    slug       TEXT NOT NULL,
    plan       TEXT NOT NULL DEFAULT 'free',
    settings   JSONB NOT NULL DEFAULT '{}',
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    deleted_at TIMESTAMPTZ
);
CREATE UNIQUE INDEX workspaces_slug ON workspaces (slug) WHERE deleted_at IS NULL;

CREATE TABLE memberships (
    workspace_id UUID NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    user_id      UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role         TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (workspace_id, user_id)
);
CREATE INDEX memberships_user ON memberships (user_id);

CREATE TABLE invitations (
    id           UUID PRIMARY KEY NOT NULL,
    workspace_id UUID NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    email        TEXT NOT NULL,
    role         TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
    token_hash   TEXT NOT NULL UNIQUE,
    invited_by   UUID REFERENCES users (id) ON DELETE SET NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL,
    accepted_at  TIMESTAMPTZ
);
-- One open invitation per address and workspace.
CREATE UNIQUE INDEX invitations_open ON invitations (workspace_id, email) WHERE accepted_at IS NULL;

CREATE TABLE api_keys (
    id           UUID PRIMARY KEY NOT NULL,
    workspace_id UUID NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    user_id      UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    prefix       TEXT NOT NULL,
    key_hash     TEXT NOT NULL UNIQUE,
    created_at   TIMESTAMPTZ NOT NULL,
    last_used_at TIMESTAMPTZ,
    expires_at   TIMESTAMPTZ,
    revoked_at   TIMESTAMPTZ
);
CREATE INDEX api_keys_workspace ON api_keys (workspace_id, created_at);

CREATE TABLE projects (
    id           UUID PRIMARY KEY NOT NULL,
    workspace_id UUID NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    description  TEXT,
    settings     JSONB NOT NULL DEFAULT '{}',
    created_by   UUID REFERENCES users (id) ON DELETE SET NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL,
    deleted_at   TIMESTAMPTZ,
    UNIQUE (workspace_id, id)
);
CREATE INDEX projects_workspace_created ON projects (workspace_id, created_at);

CREATE TABLE videos (
    id                UUID PRIMARY KEY NOT NULL,
    workspace_id      UUID NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    project_id        UUID,
    created_by        UUID REFERENCES users (id) ON DELETE SET NULL,
    title             TEXT NOT NULL,
    source            TEXT NOT NULL CHECK (source IN ('upload', 'url')),
    source_url        TEXT,
    original_filename TEXT,
    storage_key       TEXT,
    thumbnail_key     TEXT,
    status            TEXT NOT NULL CHECK (status IN ('uploaded', 'queued', 'downloading', 'ingesting', 'transcribing', 'analyzing', 'ready', 'failed')),
    error             TEXT,
    media             JSONB,
    config            JSONB NOT NULL DEFAULT '{}',
    created_at        TIMESTAMPTZ NOT NULL,
    updated_at        TIMESTAMPTZ NOT NULL,
    deleted_at        TIMESTAMPTZ,
    UNIQUE (workspace_id, id),
    FOREIGN KEY (workspace_id, project_id) REFERENCES projects (workspace_id, id) ON DELETE CASCADE
);
CREATE INDEX videos_workspace_created ON videos (workspace_id, created_at);
CREATE INDEX videos_workspace_project ON videos (workspace_id, project_id, created_at);
CREATE INDEX videos_workspace_status ON videos (workspace_id, status);

CREATE TABLE transcripts (
    id               UUID PRIMARY KEY NOT NULL,
    workspace_id     UUID NOT NULL,
    video_id         UUID NOT NULL UNIQUE,
    language         TEXT NOT NULL,
    duration_seconds DOUBLE PRECISION NOT NULL,
    segments         JSONB NOT NULL,
    version          BIGINT NOT NULL DEFAULT 1,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL,
    FOREIGN KEY (workspace_id, video_id) REFERENCES videos (workspace_id, id) ON DELETE CASCADE
);
CREATE INDEX transcripts_workspace ON transcripts (workspace_id);

CREATE TABLE clips (
    id              UUID PRIMARY KEY NOT NULL,
    workspace_id    UUID NOT NULL,
    video_id        UUID NOT NULL,
    created_by      UUID REFERENCES users (id) ON DELETE SET NULL,
    title           TEXT NOT NULL,
    hook            TEXT,
    start_seconds   DOUBLE PRECISION NOT NULL,
    end_seconds     DOUBLE PRECISION NOT NULL,
    score           DOUBLE PRECISION,
    breakdown       JSONB,
    reason          TEXT,
    highlights      JSONB NOT NULL DEFAULT '[]',
    status          TEXT NOT NULL CHECK (status IN ('draft', 'queued', 'rendering', 'rendered', 'failed')),
    favourite       BOOLEAN NOT NULL DEFAULT FALSE,
    is_ai_suggested BOOLEAN NOT NULL DEFAULT FALSE,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL,
    deleted_at      TIMESTAMPTZ,
    UNIQUE (workspace_id, id),
    FOREIGN KEY (workspace_id, video_id) REFERENCES videos (workspace_id, id) ON DELETE CASCADE,
    CHECK (end_seconds > start_seconds AND start_seconds >= 0),
    CHECK (score IS NULL OR (score >= 0 AND score <= 100))
);
CREATE INDEX clips_workspace_created ON clips (workspace_id, created_at);
CREATE INDEX clips_video_score ON clips (workspace_id, video_id, score);

CREATE TABLE templates (
    id           UUID PRIMARY KEY NOT NULL,
    -- NULL for the built-in templates every workspace sees.
    workspace_id UUID REFERENCES workspaces (id) ON DELETE CASCADE,
    -- The code's name for a built-in template, so startup can update it in place.
    builtin_key  TEXT UNIQUE,
    name         TEXT NOT NULL,
    description  TEXT,
    style        JSONB NOT NULL,
    created_by   UUID REFERENCES users (id) ON DELETE SET NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL,
    deleted_at   TIMESTAMPTZ,
    CHECK ((workspace_id IS NULL) = (builtin_key IS NOT NULL))
);
CREATE INDEX templates_workspace ON templates (workspace_id, created_at);

CREATE TABLE clip_styles (
    clip_id           UUID PRIMARY KEY NOT NULL,
    workspace_id      UUID NOT NULL,
    template_id       UUID REFERENCES templates (id) ON DELETE SET NULL,
    caption_template  TEXT,
    caption_overrides JSONB NOT NULL DEFAULT '{}',
    logo_key          TEXT,
    logo_position     TEXT,
    music_key         TEXT,
    music_volume      DOUBLE PRECISION,
    aspect            TEXT NOT NULL,
    reframe_mode      TEXT NOT NULL,
    updated_at        TIMESTAMPTZ NOT NULL,
    FOREIGN KEY (workspace_id, clip_id) REFERENCES clips (workspace_id, id) ON DELETE CASCADE
);
CREATE INDEX clip_styles_workspace ON clip_styles (workspace_id);

CREATE TABLE renders (
    id               UUID PRIMARY KEY NOT NULL,
    workspace_id     UUID NOT NULL,
    clip_id          UUID NOT NULL,
    requested_by     UUID REFERENCES users (id) ON DELETE SET NULL,
    settings         JSONB NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('queued', 'rendering', 'completed', 'failed', 'canceled')),
    progress         BIGINT NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),
    current_step     TEXT,
    output_key       TEXT,
    size_bytes       BIGINT,
    duration_seconds DOUBLE PRECISION,
    error            TEXT,
    created_at       TIMESTAMPTZ NOT NULL,
    started_at       TIMESTAMPTZ,
    finished_at      TIMESTAMPTZ,
    updated_at       TIMESTAMPTZ NOT NULL,
    UNIQUE (workspace_id, id),
    FOREIGN KEY (workspace_id, clip_id) REFERENCES clips (workspace_id, id) ON DELETE CASCADE
);
CREATE INDEX renders_clip_created ON renders (workspace_id, clip_id, created_at);

CREATE TABLE credit_ledger (
    id            UUID PRIMARY KEY NOT NULL,
    workspace_id  UUID NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    delta         BIGINT NOT NULL,
    kind          TEXT NOT NULL CHECK (kind IN ('grant', 'debit', 'refund')),
    reason        TEXT NOT NULL,
    -- The job that spent or returned the credits; the jobs table is the queue's, so no key.
    job_id        UUID,
    render_id     UUID REFERENCES renders (id) ON DELETE SET NULL,
    video_id      UUID REFERENCES videos (id) ON DELETE SET NULL,
    -- For a refund, the debit it gives back; unique, so a debit is refunded at most once.
    refund_of     UUID UNIQUE REFERENCES credit_ledger (id) ON DELETE CASCADE,
    actor_user_id UUID REFERENCES users (id) ON DELETE SET NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    CHECK ((kind = 'grant' AND delta > 0) OR (kind = 'debit' AND delta < 0) OR (kind = 'refund' AND delta > 0 AND refund_of IS NOT NULL))
);
CREATE INDEX credit_ledger_workspace_created ON credit_ledger (workspace_id, created_at);

CREATE TABLE audit_log (
    id               UUID PRIMARY KEY NOT NULL,
    -- NULL for events outside any workspace (a login).
    workspace_id     UUID REFERENCES workspaces (id) ON DELETE CASCADE,
    actor_user_id    UUID REFERENCES users (id) ON DELETE SET NULL,
    actor_api_key_id UUID REFERENCES api_keys (id) ON DELETE SET NULL,
    action           TEXT NOT NULL,
    target_type      TEXT,
    target_id        TEXT,
    ip               TEXT,
    details          JSONB NOT NULL DEFAULT '{}',
    created_at       TIMESTAMPTZ NOT NULL
);
CREATE INDEX audit_log_workspace_created ON audit_log (workspace_id, created_at);
CREATE INDEX audit_log_actor_created ON audit_log (actor_user_id, created_at);
