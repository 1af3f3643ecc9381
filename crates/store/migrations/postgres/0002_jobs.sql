-- The durable job queue. A job is inserted in the same transaction as the record it works
-- on, claimed by one worker at a time under a lease that heartbeats extend, retried with
-- its backoff stored in run_at, and kept (dead, with its last error) when it gives up.
-- Times come from the server's clock (now()), so workers on machines whose clocks disagree
-- still agree on when a lease expires.
CREATE TABLE jobs (
    -- UUIDv7: time-ordered, so ORDER BY id is creation order.
    id UUID PRIMARY KEY,
    kind TEXT NOT NULL,
    payload JSONB NOT NULL DEFAULT '{}',
    -- No foreign key to workspaces on purpose: the queue does not depend on the tenant
    -- tables (it also runs workspace-less maintenance jobs), and a job's history and last
    -- error outlive a deleted workspace for diagnosis. Queries scope by this column.
    workspace_id UUID,
    -- failed = the last attempt failed and the job runs again at run_at.
    status TEXT NOT NULL DEFAULT 'queued'
        CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'dead', 'cancelled')),
    priority INTEGER NOT NULL DEFAULT 0,
    -- Attempts started so far (a claim counts one, so a worker killed mid-job counts too).
    attempts INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL DEFAULT 5 CHECK (max_attempts >= 1),
    run_at TIMESTAMPTZ NOT NULL,
    lease_owner TEXT,
    lease_expires_at TIMESTAMPTZ,
    -- The lease length of the current claim, so a heartbeat extends it by the same amount.
    lease_seconds DOUBLE PRECISION,
    progress INTEGER NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),
    step TEXT,
    last_error TEXT,
    unique_key TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    started_at TIMESTAMPTZ,
    finished_at TIMESTAMPTZ
);

-- What a claim scans: live jobs by priority, then due time.
CREATE INDEX jobs_ready ON jobs (priority DESC, run_at, id) WHERE status IN ('queued', 'failed');
-- What the reaper scans.
CREATE INDEX jobs_leases ON jobs (lease_expires_at) WHERE status = 'running';
CREATE INDEX jobs_workspace ON jobs (workspace_id, id);
-- At most one live job per unique key (one render of a clip at a time, ...).
CREATE UNIQUE INDEX jobs_unique_live ON jobs (unique_key)
    WHERE unique_key IS NOT NULL AND status IN ('queued', 'running', 'failed');
