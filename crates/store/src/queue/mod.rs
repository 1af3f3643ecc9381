//! The durable job queue, in the same database as everything else.
//!
//! A job is enqueued in the transaction that writes the record it works on
//! ([`Queue::enqueue_in`]), so neither exists without the other. Workers claim jobs under a
//! lease (`FOR UPDATE SKIP LOCKED` on PostgreSQL, a conditional `UPDATE … RETURNING` on
//! SQLite, whose writers are serialised), extend it with heartbeats that also carry
//! progress, and settle the job: succeeded, failed (retried at a backoff written into
//! `run_at`, so it survives restarts) or dead after its last attempt, keeping the row and the
//! error. A reaper requeues jobs whose worker stopped heartbeating.
//!
//! **Time.** Every timestamp the queue compares (`run_at`, `lease_expires_at`) is written
//! and compared by the database clock (`now()` on PostgreSQL; SQLite's clock, which is the
//! one machine holding the file), never by a worker's clock: workers on several machines
//! whose clocks drift still agree on when a lease expires or a retry is due. Delays are
//! passed to the database as seconds, so tests shorten them by configuration
//! ([`Backoff`], lease lengths) rather than by faking a clock.
//!
//! **Wake-ups.** PostgreSQL: `NOTIFY` on enqueue and requeue, delivered at commit, and a
//! `LISTEN`ing [`Waiter`]; SQLite: an in-process signal per database file. Both fall back
//! to polling. [`JobEvents`] streams state and progress changes for the API's server-sent
//! events: across processes on PostgreSQL, within the process on SQLite.

mod ops;
mod signal;
mod sql;
mod stats;
mod worker;

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::Store;

pub use signal::{JobEvent, JobEvents, Waiter};
pub use stats::JobCount;
pub use worker::{JobContext, JobFailure, Worker};

/// Where a job is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobStatus {
    /// Waiting for a worker (from `run_at` on).
    Queued,
    /// Claimed by a worker whose lease has not expired.
    Running,
    /// Done.
    Succeeded,
    /// The last attempt failed; the job runs again at `run_at`.
    Failed,
    /// Failed on its last attempt (or permanently); kept with its last error.
    Dead,
    /// Cancelled by a user.
    Cancelled,
}

impl JobStatus {
    /// The name stored in the database and shown by the API.
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Queued => "queued",
            JobStatus::Running => "running",
            JobStatus::Succeeded => "succeeded",
            JobStatus::Failed => "failed",
            JobStatus::Dead => "dead",
            JobStatus::Cancelled => "cancelled",
        }
    }

    /// Whether the job may still run (and holds its unique key).
    pub fn is_live(self) -> bool {
        matches!(
            self,
            JobStatus::Queued | JobStatus::Running | JobStatus::Failed
        )
    }
}

impl fmt::Display for JobStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for JobStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "queued" => JobStatus::Queued,
            "running" => JobStatus::Running,
            "succeeded" => JobStatus::Succeeded,
            "failed" => JobStatus::Failed,
            "dead" => JobStatus::Dead,
            "cancelled" => JobStatus::Cancelled,
            other => return Err(format!("unknown job status {other:?}")),
        })
    }
}

/// A job row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Job {
    /// UUIDv7.
    pub id: Uuid,
    /// Which handler runs it.
    pub kind: String,
    /// The handler's input.
    pub payload: serde_json::Value,
    /// The tenant it belongs to; `None` for maintenance jobs.
    pub workspace_id: Option<Uuid>,
    /// Where it is in its life.
    pub status: JobStatus,
    /// Higher runs first.
    pub priority: i32,
    /// Attempts started so far, the running one included.
    pub attempts: i32,
    /// Attempts allowed before the job is dead.
    pub max_attempts: i32,
    /// When it may run (next).
    pub run_at: DateTime<Utc>,
    /// The worker that holds (or last held) it.
    pub lease_owner: Option<String>,
    /// When the running attempt's lease ends unless a heartbeat extends it.
    pub lease_expires_at: Option<DateTime<Utc>>,
    /// 0–100.
    pub progress: i32,
    /// What the running attempt is doing.
    pub step: Option<String>,
    /// The last failure.
    pub last_error: Option<String>,
    /// At most one live job holds a given key.
    pub unique_key: Option<String>,
    /// When it was enqueued.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    /// When its latest attempt started.
    pub started_at: Option<DateTime<Utc>>,
    /// When it reached a final state.
    pub finished_at: Option<DateTime<Utc>>,
}

/// A job to enqueue.
#[derive(Debug, Clone)]
pub struct NewJob {
    kind: String,
    payload: serde_json::Value,
    workspace_id: Option<Uuid>,
    priority: i32,
    max_attempts: i32,
    delay: Duration,
    unique_key: Option<String>,
}

/// Attempts a job gets unless [`NewJob::max_attempts`] says otherwise.
pub const DEFAULT_MAX_ATTEMPTS: i32 = 5;

impl NewJob {
    /// A job of `kind` with `payload`, priority 0, due now.
    pub fn new(kind: impl Into<String>, payload: serde_json::Value) -> Self {
        NewJob {
            kind: kind.into(),
            payload,
            workspace_id: None,
            priority: 0,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            delay: Duration::ZERO,
            unique_key: None,
        }
    }

    /// The tenant the job belongs to.
    pub fn workspace(mut self, id: Uuid) -> Self {
        self.workspace_id = Some(id);
        self
    }

    /// Higher runs first (default 0).
    pub fn priority(mut self, priority: i32) -> Self {
        self.priority = priority;
        self
    }

    /// Attempts before the job is dead (at least 1).
    pub fn max_attempts(mut self, n: i32) -> Self {
        self.max_attempts = n.max(1);
        self
    }

    /// Runs no earlier than `delay` from now (by the database clock).
    pub fn delay(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }

    /// At most one live (queued, running or retrying) job may hold `key`.
    pub fn unique_key(mut self, key: impl Into<String>) -> Self {
        self.unique_key = Some(key.into());
        self
    }
}

/// What [`Queue::enqueue`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enqueued {
    /// A new job with this id.
    Created(Uuid),
    /// A live job already holds the unique key; nothing was added.
    Duplicate(Uuid),
}

impl Enqueued {
    /// The new job's id, or the one that holds the key.
    pub fn id(self) -> Uuid {
        match self {
            Enqueued::Created(id) | Enqueued::Duplicate(id) => id,
        }
    }
}

/// Whether a worker still holds the job it is working on (the answer to heartbeats and
/// to settling a job). Anything but `Held` means: stop working on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub enum LeaseState {
    /// The worker holds the job (and the write took effect).
    Held,
    /// The lease expired and the job was requeued (maybe claimed by another worker) or
    /// settled; nothing was written.
    Lost,
    /// A user cancelled the job; nothing was written.
    Cancelled,
}

/// What [`Queue::fail`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub enum FailOutcome {
    /// The job runs again at this time.
    Retry(DateTime<Utc>),
    /// That was its last attempt: it is dead, with the error kept.
    Dead,
    /// The worker no longer held the job; nothing was written.
    NotHeld(LeaseState),
}

/// Exponential backoff between attempts: `base · 2^(attempt−1)`, capped at `max`, then
/// scaled by a random factor in [½, 1] so jobs that failed together do not retry together.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backoff {
    /// The delay after the first failed attempt (before jitter).
    pub base: Duration,
    /// The longest delay.
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            base: Duration::from_secs(10),
            max: Duration::from_secs(3600),
        }
    }
}

impl Backoff {
    /// The delay after failed attempt number `attempt` (1-based), jitter included.
    pub fn delay(&self, attempt: i32) -> Duration {
        let exp = attempt.saturating_sub(1).clamp(0, 30) as u32;
        let full = self.base.saturating_mul(1u32 << exp).min(self.max);
        full.mul_f64(0.5 + fastrand::f64() * 0.5)
    }
}

/// The queue over a [`Store`]: cheap to clone, shared by the API (enqueue, cancel, list,
/// events) and workers (claim, heartbeat, settle, reap).
#[derive(Debug, Clone)]
pub struct Queue {
    store: Store,
    backoff: Backoff,
    /// SQLite only: the in-process wake-up and event channels of this database file.
    local: Option<Arc<signal::LocalSignals>>,
}

impl Queue {
    /// The queue in `store`'s database, with the default [`Backoff`].
    pub fn new(store: Store) -> Self {
        let local = signal::LocalSignals::for_store(&store);
        Queue {
            store,
            backoff: Backoff::default(),
            local,
        }
    }

    /// Uses `backoff` between failed attempts.
    pub fn with_backoff(mut self, backoff: Backoff) -> Self {
        self.backoff = backoff;
        self
    }

    /// The store the queue lives in.
    pub fn store(&self) -> &Store {
        &self.store
    }
}
