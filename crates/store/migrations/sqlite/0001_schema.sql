-- The clipforge schema on SQLite. Kept column for column in step with
-- migrations/postgres/0001_schema.sql: the same queries run on both.
--
-- Types as sqlx writes them on SQLite: UUIDs are 16-byte BLOBs (UUIDv7, so they sort by
-- creation time), timestamps are RFC 3339 UTC TEXT (which sorts in time order), JSON is
-- TEXT, booleans are 0/1 INTEGERs. STRICT tables refuse a value of the wrong type instead of
-- silently storing it.
--
-- Every tenant table carries workspace_id, and child rows reference their parent through
-- (workspace_id, id): a clip cannot point at another workspace's video even by mistake.
-- Soft-deleted rows keep their data (recovery, audit) and are invisible to every query.

CREATE TABLE users (
    id                BLOB PRIMARY KEY NOT NULL,
    email             TEXT NOT NULL,
    password_hash     TEXT NOT NULL,
    full_name         TEXT NOT NULL,
    avatar_url        TEXT,
    email_verified_at TEXT,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL,
    deleted_at        TEXT
) STRICT;
-- A deleted account frees its address for a new one.
CREATE UNIQUE INDEX users_email ON users (email) WHERE deleted_at IS NULL;

CREATE TABLE sessions (
    id           BLOB PRIMARY KEY NOT NULL,
    user_id      BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash   TEXT NOT NULL UNIQUE,
    ip           TEXT,
    user_agent   TEXT,
    created_at   TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    expires_at   TEXT NOT NULL
) STRICT;
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

CREATE TABLE workspaces (
    id         BLOB PRIMARY KEY NOT NULL,
    name       TEXT NOT NULL,
    slug       TEXT NOT NULL,
    plan       TEXT NOT NULL DEFAULT 'free',
    settings   TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    deleted_at TEXT
) STRICT;
CREATE UNIQUE INDEX workspaces_slug ON workspaces (slug) WHERE deleted_at IS NULL;

CREATE TABLE memberships (
    workspace_id BLOB NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    user_id      BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role         TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    PRIMARY KEY (workspace_id, user_id)
) STRICT;
CREATE INDEX memberships_user ON memberships (user_id);

CREATE TABLE invitations (
    id           BLOB PRIMARY KEY NOT NULL,
    workspace_id BLOB NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    email        TEXT NOT NULL,
    role         TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
    token_hash   TEXT NOT NULL UNIQUE,
    invited_by   BLOB REFERENCES users (id) ON DELETE SET NULL,
    created_at   TEXT NOT NULL,
    expires_at   TEXT NOT NULL,
    accepted_at  TEXT
) STRICT;
-- One open invitation per address and workspace.
CREATE UNIQUE INDEX invitations_open ON invitations (workspace_id, email) WHERE accepted_at IS NULL;

CREATE TABLE api_keys (
    id           BLOB PRIMARY KEY NOT NULL,
    workspace_id BLOB NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    user_id      BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    prefix       TEXT NOT NULL,
    key_hash     TEXT NOT NULL UNIQUE,
    created_at   TEXT NOT NULL,
    last_used_at TEXT,
    expires_at   TEXT,
    revoked_at   TEXT
) STRICT;
CREATE INDEX api_keys_workspace ON api_keys (workspace_id, created_at);

CREATE TABLE projects (
    id           BLOB PRIMARY KEY NOT NULL,
    workspace_id BLOB NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    description  TEXT,
    settings     TEXT NOT NULL DEFAULT '{}',
    created_by   BLOB REFERENCES users (id) ON DELETE SET NULL,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    deleted_at   TEXT,
    UNIQUE (workspace_id, id)
) STRICT;
CREATE INDEX projects_workspace_created ON projects (workspace_id, created_at);

CREATE TABLE videos (
    id                BLOB PRIMARY KEY NOT NULL,
    workspace_id      BLOB NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    project_id        BLOB,
    created_by        BLOB REFERENCES users (id) ON DELETE SET NULL,
    title             TEXT NOT NULL,
    source            TEXT NOT NULL CHECK (source IN ('upload', 'url')),
    source_url        TEXT,
    original_filename TEXT,
    storage_key       TEXT,
    thumbnail_key     TEXT,
    status            TEXT NOT NULL CHECK (status IN ('uploaded', 'queued', 'downloading', 'ingesting', 'transcribing', 'analyzing', 'ready', 'failed')),
    error             TEXT,
    media             TEXT,
    config            TEXT NOT NULL DEFAULT '{}',
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL,
    deleted_at        TEXT,
    UNIQUE (workspace_id, id),
    FOREIGN KEY (workspace_id, project_id) REFERENCES projects (workspace_id, id) ON DELETE CASCADE
) STRICT;
CREATE INDEX videos_workspace_created ON videos (workspace_id, created_at);
CREATE INDEX videos_workspace_project ON videos (workspace_id, project_id, created_at);
CREATE INDEX videos_workspace_status ON videos (workspace_id, status);

CREATE TABLE transcripts (
    id               BLOB PRIMARY KEY NOT NULL,
    workspace_id     BLOB NOT NULL,
    video_id         BLOB NOT NULL UNIQUE,
    language         TEXT NOT NULL,
    duration_seconds REAL NOT NULL,
    segments         TEXT NOT NULL,
    version          INTEGER NOT NULL DEFAULT 1,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    FOREIGN KEY (workspace_id, video_id) REFERENCES videos (workspace_id, id) ON DELETE CASCADE
) STRICT;
CREATE INDEX transcripts_workspace ON transcripts (workspace_id);

CREATE TABLE clips (
    id              BLOB PRIMARY KEY NOT NULL,
    workspace_id    BLOB NOT NULL,
    video_id        BLOB NOT NULL,
    created_by      BLOB REFERENCES users (id) ON DELETE SET NULL,
    title           TEXT NOT NULL,
    hook            TEXT,
    start_seconds   REAL NOT NULL,
    end_seconds     REAL NOT NULL,
    score           REAL,
    breakdown       TEXT,
    reason          TEXT,
    highlights      TEXT NOT NULL DEFAULT '[]',
    status          TEXT NOT NULL CHECK (status IN ('draft', 'queued', 'rendering', 'rendered', 'failed')),
    favourite       INTEGER NOT NULL DEFAULT 0,
    is_ai_suggested INTEGER NOT NULL DEFAULT 0,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    deleted_at      TEXT,
    UNIQUE (workspace_id, id),
    FOREIGN KEY (workspace_id, video_id) REFERENCES videos (workspace_id, id) ON DELETE CASCADE,
    CHECK (end_seconds > start_seconds AND start_seconds >= 0),
    CHECK (score IS NULL OR (score >= 0 AND score <= 100))
) STRICT;
CREATE INDEX clips_workspace_created ON clips (workspace_id, created_at);
CREATE INDEX clips_video_score ON clips (workspace_id, video_id, score);

CREATE TABLE templates (
    id           BLOB PRIMARY KEY NOT NULL,
    -- NULL for the built-in templates every workspace sees.
    workspace_id BLOB REFERENCES workspaces (id) ON DELETE CASCADE,
    -- The code's name for a built-in template, so startup can update it in place.
    builtin_key  TEXT UNIQUE,
    name         TEXT NOT NULL,
    description  TEXT,
    style        TEXT NOT NULL,
    created_by   BLOB REFERENCES users (id) ON DELETE SET NULL,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    deleted_at   TEXT,
    CHECK ((workspace_id IS NULL) = (builtin_key IS NOT NULL))
) STRICT;
CREATE INDEX templates_workspace ON templates (workspace_id, created_at);

CREATE TABLE clip_styles (
    clip_id           BLOB PRIMARY KEY NOT NULL,
    workspace_id      BLOB NOT NULL,
    template_id       BLOB REFERENCES templates (id) ON DELETE SET NULL,
    caption_template  TEXT,
    caption_overrides TEXT NOT NULL DEFAULT '{}',
    logo_key          TEXT,
    logo_position     TEXT,
    music_key         TEXT,
    music_volume      REAL,
    aspect            TEXT NOT NULL,
    reframe_mode      TEXT NOT NULL,
    updated_at        TEXT NOT NULL,
    FOREIGN KEY (workspace_id, clip_id) REFERENCES clips (workspace_id, id) ON DELETE CASCADE
) STRICT;
CREATE INDEX clip_styles_workspace ON clip_styles (workspace_id);

CREATE TABLE renders (
    id               BLOB PRIMARY KEY NOT NULL,
    workspace_id     BLOB NOT NULL,
    clip_id          BLOB NOT NULL,
    requested_by     BLOB REFERENCES users (id) ON DELETE SET NULL,
    settings         TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('queued', 'rendering', 'completed', 'failed', 'canceled')),
    progress         INTEGER NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),
    current_step     TEXT,
    output_key       TEXT,
    size_bytes       INTEGER,
    duration_seconds REAL,
    error            TEXT,
    created_at       TEXT NOT NULL,
    started_at       TEXT,
    finished_at      TEXT,
    updated_at       TEXT NOT NULL,
    UNIQUE (workspace_id, id),
    FOREIGN KEY (workspace_id, clip_id) REFERENCES clips (workspace_id, id) ON DELETE CASCADE
) STRICT;
CREATE INDEX renders_clip_created ON renders (workspace_id, clip_id, created_at);

CREATE TABLE credit_ledger (
    id            BLOB PRIMARY KEY NOT NULL,
    workspace_id  BLOB NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    delta         INTEGER NOT NULL,
    kind          TEXT NOT NULL CHECK (kind IN ('grant', 'debit', 'refund')),
    reason        TEXT NOT NULL,
    -- The job that spent or returned the credits; the jobs table is the queue's, so no key.
    job_id        BLOB,
    render_id     BLOB REFERENCES renders (id) ON DELETE SET NULL,
    video_id      BLOB REFERENCES videos (id) ON DELETE SET NULL,
    -- For a refund, the debit it gives back; unique, so a debit is refunded at most once.
    refund_of     BLOB UNIQUE REFERENCES credit_ledger (id) ON DELETE CASCADE,
    actor_user_id BLOB REFERENCES users (id) ON DELETE SET NULL,
    created_at    TEXT NOT NULL,
    CHECK ((kind = 'grant' AND delta > 0) OR (kind = 'debit' AND delta < 0) OR (kind = 'refund' AND delta > 0 AND refund_of IS NOT NULL))
) STRICT;
CREATE INDEX credit_ledger_workspace_created ON credit_ledger (workspace_id, created_at);

CREATE TABLE audit_log (
    id               BLOB PRIMARY KEY NOT NULL,
    -- NULL for events outside any workspace (a login).
    workspace_id     BLOB REFERENCES workspaces (id) ON DELETE CASCADE,
    actor_user_id    BLOB REFERENCES users (id) ON DELETE SET NULL,
    actor_api_key_id BLOB REFERENCES api_keys (id) ON DELETE SET NULL,
    action           TEXT NOT NULL,
    target_type      TEXT,
    target_id        TEXT,
    ip               TEXT,
    details          TEXT NOT NULL DEFAULT '{}',
    created_at       TEXT NOT NULL
) STRICT;
CREATE INDEX audit_log_workspace_created ON audit_log (workspace_id, created_at);
CREATE INDEX audit_log_actor_created ON audit_log (actor_user_id, created_at);
