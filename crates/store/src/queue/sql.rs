//! The queue's statements, written once with two tokens for the database clock, which the
//! engines spell differently:
//! - `{now}`: the current time;
//! - `{after:EXPR}`: the current time plus `EXPR` seconds (a bind or a column).
//!
//! On SQLite both become `strftime('%Y-%m-%dT%H:%M:%fZ', …)`, one fixed text form, so text
//! comparison is time order. On PostgreSQL, statements that change a job are wrapped so
//! that they also `NOTIFY` the change (see [`with_notify`]).

use crate::Engine;

/// The columns of a [`super::Job`], in `RETURNING` and `SELECT` lists.
pub(crate) const COLUMNS: &str = "id, kind, payload, workspace_id, status, priority, attempts, \
     max_attempts, run_at, lease_owner, lease_expires_at, progress, step, last_error, unique_key, \
     created_at, updated_at, started_at, finished_at";

/// The channel that tells workers a job may be ready (payload: its kind).
pub(crate) const READY_CHANNEL: &str = "clipforge_jobs_ready";
/// The channel of job state and progress changes (payload: a `JobEvent` as JSON).
pub(crate) const EVENTS_CHANNEL: &str = "clipforge_job_events";

/// Live statuses, which hold a unique key and (but `running`) may be claimed.
const CLAIMABLE: &str = "status IN ('queued', 'failed')";

pub(crate) const INSERT: &str =
    "INSERT INTO jobs (id, kind, payload, workspace_id, status, priority, \
     attempts, max_attempts, run_at, progress, unique_key, created_at, updated_at) \
     VALUES ($1, $2, $3, $4, 'queued', $5, 0, $6, {after:$7}, 0, $8, {now}, {now}) \
     ON CONFLICT DO NOTHING RETURNING {cols}";

pub(crate) const LIVE_BY_KEY: &str =
    "SELECT id FROM jobs WHERE unique_key = $1 AND status IN ('queued', 'running', 'failed')";

/// Claims the next due job of the given kinds. `$2` is a `text[]` on PostgreSQL and a JSON
/// array on SQLite. PostgreSQL: `SKIP LOCKED` lets concurrent claimers pass over each
/// other's rows instead of queueing on them; the row lock makes the claim exclusive. SQLite:
/// one writer at a time, and the outer status test makes a claim a no-op if the row
/// changed anyway.
pub(crate) fn claim(engine: Engine) -> String {
    let kinds = match engine {
        Engine::Postgres => "kind = ANY($2)",
        Engine::Sqlite => "kind IN (SELECT value FROM json_each($2))",
    };
    let lock = match engine {
        Engine::Postgres => "FOR UPDATE SKIP LOCKED",
        Engine::Sqlite => "",
    };
    render(
        engine,
        &format!(
            "UPDATE jobs SET status = 'running', attempts = attempts + 1, lease_owner = $1, \
             lease_seconds = $3, lease_expires_at = {{after:$3}}, progress = 0, step = NULL, \
             started_at = {{now}}, updated_at = {{now}} \
             WHERE id = (SELECT id FROM jobs WHERE {CLAIMABLE} AND run_at <= {{now}} AND {kinds} \
             ORDER BY priority DESC, run_at, id LIMIT 1 {lock}) AND {CLAIMABLE} \
             RETURNING {{cols}}"
        ),
    )
}

/// The claim a worker holds: `$1` id, `$2` owner, `$3` attempt number. The attempt number
/// tells a requeued-and-reclaimed job apart from the claim that lost it, even when the same
/// worker claimed it again.
const HELD: &str = "id = $1 AND status = 'running' AND lease_owner = $2 AND attempts = $3";

pub(crate) fn heartbeat() -> String {
    format!(
        "UPDATE jobs SET lease_expires_at = {{after:lease_seconds}}, \
         progress = COALESCE($4, progress), step = COALESCE($5, step), updated_at = {{now}} \
         WHERE {HELD} RETURNING {{cols}}"
    )
}

pub(crate) fn complete() -> String {
    format!(
        "UPDATE jobs SET status = 'succeeded', progress = 100, lease_expires_at = NULL, \
         finished_at = {{now}}, updated_at = {{now}} WHERE {HELD} RETURNING {{cols}}"
    )
}

/// `$4`: permanent (no retry), `$5`: backoff seconds, `$6`: the error.
pub(crate) fn fail() -> String {
    const GIVE_UP: &str = "$4 OR attempts >= max_attempts";
    format!(
        "UPDATE jobs SET \
         status = CASE WHEN {GIVE_UP} THEN 'dead' ELSE 'failed' END, \
         run_at = CASE WHEN {GIVE_UP} THEN run_at ELSE {{after:$5}} END, \
         finished_at = CASE WHEN {GIVE_UP} THEN {{now}} ELSE NULL END, \
         last_error = $6, lease_expires_at = NULL, updated_at = {{now}} \
         WHERE {HELD} RETURNING {{cols}}"
    )
}

pub(crate) const CANCEL: &str = "UPDATE jobs SET status = 'cancelled', lease_expires_at = NULL, \
     finished_at = {now}, updated_at = {now} \
     WHERE id = $1 AND workspace_id = $2 AND status IN ('queued', 'running', 'failed') \
     RETURNING {cols}";

/// Requeues running jobs whose lease expired: their worker died or hung. The attempt was
/// counted when it was claimed, so a job that keeps killing its workers ends dead. It is due
/// at once: the backoff is for jobs that failed, and a dead worker says nothing about when
/// the job could succeed.
pub(crate) const REAP: &str = "UPDATE jobs SET \
     status = CASE WHEN attempts >= max_attempts THEN 'dead' ELSE 'failed' END, \
     run_at = CASE WHEN attempts >= max_attempts THEN run_at ELSE {now} END, \
     finished_at = CASE WHEN attempts >= max_attempts THEN {now} ELSE NULL END, \
     last_error = 'lease expired: worker ' || COALESCE(lease_owner, '?') || ' stopped sending heartbeats', \
     lease_expires_at = NULL, updated_at = {now} \
     WHERE status = 'running' AND lease_expires_at < {now} RETURNING {cols}";

pub(crate) const GET: &str = "SELECT {cols} FROM jobs WHERE id = $1";

pub(crate) const GET_IN_WORKSPACE: &str =
    "SELECT {cols} FROM jobs WHERE id = $1 AND workspace_id = $2";

pub(crate) const LIST: &str = "SELECT {cols} FROM jobs WHERE workspace_id = $1 \
     ORDER BY id DESC LIMIT $2 OFFSET $3";

/// `template` with the clock tokens and the column list spelled for `engine`.
pub(crate) fn render(engine: Engine, template: &str) -> String {
    let now = match engine {
        Engine::Postgres => "now()",
        Engine::Sqlite => "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')",
    };
    let mut out = String::with_capacity(template.len() + 64);
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let end = start
            + rest[start..]
                .find('}')
                .expect("unclosed token in queue SQL");
        let token = &rest[start + 1..end];
        match token {
            "now" => out.push_str(now),
            "cols" => out.push_str(COLUMNS),
            _ => {
                let secs = token
                    .strip_prefix("after:")
                    .unwrap_or_else(|| panic!("unknown token {{{token}}} in queue SQL"));
                match engine {
                    Engine::Postgres => {
                        out.push_str(&format!("(now() + make_interval(secs => {secs}))"))
                    }
                    // A julian day number keeps sub-millisecond precision; strftime turns
                    // it back into the stored text form.
                    Engine::Sqlite => out.push_str(&format!(
                        "strftime('%Y-%m-%dT%H:%M:%fZ', julianday('now') + ({secs}) / 86400.0)"
                    )),
                }
            }
        }
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

/// PostgreSQL: `sql` (which returns job rows) wrapped so that each changed job is also
/// announced on the events channel and, with `ready`, on the ready channel. The
/// notifications belong to the statement's transaction: listeners hear of a job only once
/// it is committed.
pub(crate) fn with_notify(sql: &str, ready: bool) -> String {
    let ready = if ready {
        format!(", (pg_notify('{READY_CHANNEL}', j.kind) IS NULL) AS ready_sent")
    } else {
        String::new()
    };
    format!(
        "WITH j AS ({sql}) SELECT j.*, (pg_notify('{EVENTS_CHANNEL}', json_build_object(\
         'id', j.id, 'workspace_id', j.workspace_id, 'kind', j.kind, 'status', j.status, \
         'progress', j.progress, 'step', left(j.step, 200))::text) IS NULL) AS event_sent{ready} \
         FROM j"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_tokens_render_per_engine() {
        let pg = render(Engine::Postgres, "SELECT {now}, {after:$3}");
        assert_eq!(pg, "SELECT now(), (now() + make_interval(secs => $3))");
        let lite = render(Engine::Sqlite, "SELECT {after:lease_seconds} FROM jobs");
        assert!(lite.contains("julianday('now') + (lease_seconds) / 86400.0"));
        assert!(!render(Engine::Sqlite, INSERT).contains('{'));
    }
}
