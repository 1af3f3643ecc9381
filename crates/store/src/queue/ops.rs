//! The queue's operations on the database: enqueue, claim, heartbeat, settle, cancel, reap,
//! read.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::types::Json;
use uuid::Uuid;

use super::sql;
use super::{Enqueued, FailOutcome, Job, JobStatus, LeaseState, NewJob, Queue};
use crate::{Engine, EnginePool, StoreError, Tx};

/// A job row as the database returns it (status as text, payload as JSON).
#[derive(sqlx::FromRow)]
struct JobRow {
    id: Uuid,
    kind: String,
    payload: Json<serde_json::Value>,
    workspace_id: Option<Uuid>,
    status: String,
    priority: i32,
    attempts: i32,
    max_attempts: i32,
    run_at: DateTime<Utc>,
    lease_owner: Option<String>,
    lease_expires_at: Option<DateTime<Utc>>,
    progress: i32,
    step: Option<String>,
    last_error: Option<String>,
    unique_key: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    started_at: Option<DateTime<Utc>>,
    finished_at: Option<DateTime<Utc>>,
}

impl TryFrom<JobRow> for Job {
    type Error = StoreError;

    fn try_from(r: JobRow) -> Result<Job, StoreError> {
        let status = r
            .status
            .parse()
            .map_err(|e: String| StoreError::Database(sqlx::Error::Decode(e.into())))?;
        Ok(Job {
            id: r.id,
            kind: r.kind,
            payload: r.payload.0,
            workspace_id: r.workspace_id,
            status,
            priority: r.priority,
            attempts: r.attempts,
            max_attempts: r.max_attempts,
            run_at: r.run_at,
            lease_owner: r.lease_owner,
            lease_expires_at: r.lease_expires_at,
            progress: r.progress,
            step: r.step,
            last_error: r.last_error,
            unique_key: r.unique_key,
            created_at: r.created_at,
            updated_at: r.updated_at,
            started_at: r.started_at,
            finished_at: r.finished_at,
        })
    }
}

fn jobs(rows: Vec<JobRow>) -> Result<Vec<Job>, StoreError> {
    rows.into_iter().map(Job::try_from).collect()
}

fn one(row: Option<JobRow>) -> Result<Option<Job>, StoreError> {
    row.map(Job::try_from).transpose()
}

/// How many times an insert that lost a unique-key race retries: the live job it collided
/// with may settle between the insert and the look-up.
const UNIQUE_RETRIES: usize = 3;

/// A statement that changes jobs, spelled for `engine`; on PostgreSQL it also announces the
/// change (see [`sql::with_notify`]).
fn changing(engine: Engine, template: &str, ready: bool) -> String {
    let sql = sql::render(engine, template);
    match engine {
        Engine::Postgres => sql::with_notify(&sql, ready),
        Engine::Sqlite => sql,
    }
}

impl Queue {
    /// Enqueues `job` in the caller's transaction: it commits (and workers hear of it) with
    /// the record it works on, or not at all.
    pub async fn enqueue_in(&self, tx: &mut Tx, job: NewJob) -> Result<Enqueued, StoreError> {
        let engine = match tx {
            Tx::Sqlite(_) => Engine::Sqlite,
            Tx::Postgres(_) => Engine::Postgres,
        };
        let insert = changing(engine, sql::INSERT, true);
        let live = sql::render(engine, sql::LIVE_BY_KEY);
        for _ in 0..UNIQUE_RETRIES {
            let id = Uuid::now_v7();
            let created: Option<JobRow> = crate::on_tx!(tx, conn => {
                sqlx::query_as(&insert)
                    .bind(id)
                    .bind(&job.kind)
                    .bind(Json(&job.payload))
                    .bind(job.workspace_id)
                    .bind(job.priority)
                    .bind(job.max_attempts)
                    .bind(job.delay.as_secs_f64())
                    .bind(&job.unique_key)
                    .fetch_optional(conn)
                    .await
            })?;
            if created.is_some() {
                // SQLite: the signal goes out before the caller commits; a woken worker's
                // claim waits on SQLite's write lock, which this transaction holds (it began
                // IMMEDIATE) until it commits or rolls back, so it sees the job only if it
                // was committed. The `queued` event is not published here for the same
                // reason: a rollback would make it a lie.
                if let Some(local) = &self.local {
                    local.wake();
                }
                return Ok(Enqueued::Created(id));
            }
            let Some(key) = &job.unique_key else {
                // No key, so only the primary key could conflict: a fresh UUIDv7 never does.
                return Err(StoreError::Database(sqlx::Error::Protocol(
                    "job insert returned no row".into(),
                )));
            };
            let existing: Option<(Uuid,)> = crate::on_tx!(tx, conn => {
                sqlx::query_as(&live).bind(key).fetch_optional(conn).await
            })?;
            if let Some((existing,)) = existing {
                return Ok(Enqueued::Duplicate(existing));
            }
        }
        Err(StoreError::Database(sqlx::Error::Protocol(format!(
            "unique key {:?}: enqueue kept colliding with jobs that settled",
            job.unique_key
        ))))
    }

    /// Enqueues `job` in a transaction of its own.
    pub async fn enqueue(&self, job: NewJob) -> Result<Enqueued, StoreError> {
        let mut tx = self.store.begin().await?;
        let done = self.enqueue_in(&mut tx, job).await?;
        tx.commit().await?;
        if let (Enqueued::Created(id), Some(local)) = (done, &self.local) {
            if let Some(job) = self.get(id).await? {
                local.publish(&job);
            }
        }
        Ok(done)
    }

    /// Claims the next due job of one of `kinds` (highest priority, then earliest `run_at`)
    /// for `worker`, leased for `lease`; `None` when there is none. The claim counts as an
    /// attempt.
    pub async fn claim<S: AsRef<str>>(
        &self,
        worker: &str,
        kinds: &[S],
        lease: Duration,
    ) -> Result<Option<Job>, StoreError> {
        if kinds.is_empty() {
            return Ok(None);
        }
        let kinds: Vec<String> = kinds.iter().map(|k| k.as_ref().to_owned()).collect();
        let engine = self.store.kind();
        let claim = changing(engine, &sql::claim(engine), false);
        let lease = lease.as_secs_f64();
        let row: Option<JobRow> = match self.store.engine() {
            EnginePool::Postgres(pool) => {
                sqlx::query_as(&claim)
                    .bind(worker)
                    .bind(&kinds)
                    .bind(lease)
                    .fetch_optional(pool)
                    .await?
            }
            EnginePool::Sqlite(pool) => {
                let kinds = serde_json::to_string(&kinds).expect("strings serialise");
                sqlx::query_as(&claim)
                    .bind(worker)
                    .bind(kinds)
                    .bind(lease)
                    .fetch_optional(pool)
                    .await?
            }
        };
        let job = one(row)?;
        self.publish(job.as_slice());
        Ok(job)
    }

    /// Extends the lease `job` was claimed with (by its length again) and records progress
    /// (0–100, clamped) and the current step when given. Anything but [`LeaseState::Held`]
    /// tells the worker to stop: the job was reaped or cancelled.
    pub async fn heartbeat(
        &self,
        job: &Job,
        progress: Option<u8>,
        step: Option<&str>,
    ) -> Result<LeaseState, StoreError> {
        let announce = progress.is_some() || step.is_some();
        let engine = self.store.kind();
        let template = sql::heartbeat();
        let sql = if announce {
            changing(engine, &template, false)
        } else {
            // A bare lease extension changes nothing anyone watches.
            sql::render(engine, &template)
        };
        let progress = progress.map(|p| i32::from(p.min(100)));
        let row: Option<JobRow> = crate::on_pool!(self.store, pool => {
            sqlx::query_as(&sql)
                .bind(job.id)
                .bind(&job.lease_owner)
                .bind(job.attempts)
                .bind(progress)
                .bind(step)
                .fetch_optional(pool)
                .await
        })?;
        let row = one(row)?;
        if announce {
            self.publish(row.as_slice());
        }
        self.held(job, row.is_some()).await
    }

    /// Marks `job` succeeded.
    pub async fn complete(&self, job: &Job) -> Result<LeaseState, StoreError> {
        let sql = changing(self.store.kind(), &sql::complete(), false);
        let row: Option<JobRow> = crate::on_pool!(self.store, pool => {
            sqlx::query_as(&sql)
                .bind(job.id)
                .bind(&job.lease_owner)
                .bind(job.attempts)
                .fetch_optional(pool)
                .await
        })?;
        let row = one(row)?;
        self.publish(row.as_slice());
        self.held(job, row.is_some()).await
    }

    /// Records that `job`'s attempt failed with `error`: it runs again after the queue's
    /// [`Backoff`](super::Backoff) (written into `run_at`), or is dead if that was its last
    /// attempt.
    pub async fn fail(&self, job: &Job, error: &str) -> Result<FailOutcome, StoreError> {
        self.settle_failure(job, error, false).await
    }

    /// Records that `job` failed in a way no retry can fix: it is dead now, with `error`.
    pub async fn fail_permanently(
        &self,
        job: &Job,
        error: &str,
    ) -> Result<FailOutcome, StoreError> {
        self.settle_failure(job, error, true).await
    }

    async fn settle_failure(
        &self,
        job: &Job,
        error: &str,
        permanent: bool,
    ) -> Result<FailOutcome, StoreError> {
        let sql = changing(self.store.kind(), &sql::fail(), false);
        let delay = self.backoff.delay(job.attempts).as_secs_f64();
        let row: Option<JobRow> = crate::on_pool!(self.store, pool => {
            sqlx::query_as(&sql)
                .bind(job.id)
                .bind(&job.lease_owner)
                .bind(job.attempts)
                .bind(permanent)
                .bind(delay)
                .bind(error)
                .fetch_optional(pool)
                .await
        })?;
        let row = one(row)?;
        self.publish(row.as_slice());
        Ok(match row {
            Some(j) if j.status == JobStatus::Dead => FailOutcome::Dead,
            Some(j) => FailOutcome::Retry(j.run_at),
            None => FailOutcome::NotHeld(self.held(job, false).await?),
        })
    }

    /// Cancels job `id` of `workspace` unless it already finished. A running job is marked
    /// cancelled at once; its worker learns at its next heartbeat and stops. Returns the job
    /// as it now is (its final status if it had already finished), or `None` when the
    /// workspace has no such job.
    pub async fn cancel(&self, id: Uuid, workspace: Uuid) -> Result<Option<Job>, StoreError> {
        let sql = changing(self.store.kind(), sql::CANCEL, false);
        let row: Option<JobRow> = crate::on_pool!(self.store, pool => {
            sqlx::query_as(&sql).bind(id).bind(workspace).fetch_optional(pool).await
        })?;
        match one(row)? {
            Some(job) => {
                self.publish(std::slice::from_ref(&job));
                Ok(Some(job))
            }
            None => self.get_in_workspace(id, workspace).await,
        }
    }

    /// Requeues running jobs whose lease expired (their worker died or hung); a job on its
    /// last attempt becomes dead. Returns the jobs it changed. Safe to run from every worker
    /// at once: each job is changed by one of them.
    pub async fn reap(&self) -> Result<Vec<Job>, StoreError> {
        let sql = changing(self.store.kind(), sql::REAP, true);
        let rows: Vec<JobRow> = crate::on_pool!(self.store, pool => {
            sqlx::query_as(&sql).fetch_all(pool).await
        })?;
        let reaped = jobs(rows)?;
        if !reaped.is_empty() {
            self.publish(&reaped);
            if let Some(local) = &self.local {
                local.wake();
            }
        }
        Ok(reaped)
    }

    /// Job `id`, whatever its workspace (for workers and operators).
    pub async fn get(&self, id: Uuid) -> Result<Option<Job>, StoreError> {
        let sql = sql::render(self.store.kind(), sql::GET);
        let row: Option<JobRow> = crate::on_pool!(self.store, pool => {
            sqlx::query_as(&sql).bind(id).fetch_optional(pool).await
        })?;
        one(row)
    }

    /// Job `id` if it belongs to `workspace` (for the API: another tenant's job is absent).
    pub async fn get_in_workspace(
        &self,
        id: Uuid,
        workspace: Uuid,
    ) -> Result<Option<Job>, StoreError> {
        let sql = sql::render(self.store.kind(), sql::GET_IN_WORKSPACE);
        let row: Option<JobRow> = crate::on_pool!(self.store, pool => {
            sqlx::query_as(&sql).bind(id).bind(workspace).fetch_optional(pool).await
        })?;
        one(row)
    }

    /// `workspace`'s jobs, newest first, `limit` from `offset`.
    pub async fn list(
        &self,
        workspace: Uuid,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<Job>, StoreError> {
        let sql = sql::render(self.store.kind(), sql::LIST);
        let rows: Vec<JobRow> = crate::on_pool!(self.store, pool => {
            sqlx::query_as(&sql)
                .bind(workspace)
                .bind(limit)
                .bind(offset)
                .fetch_all(pool)
                .await
        })?;
        jobs(rows)
    }

    /// After a write that matched `job`'s claim (`matched`) or not: whether the worker still
    /// holds it, and if not, why.
    async fn held(&self, job: &Job, matched: bool) -> Result<LeaseState, StoreError> {
        if matched {
            return Ok(LeaseState::Held);
        }
        Ok(match self.get(job.id).await? {
            Some(now) if now.status == JobStatus::Cancelled => LeaseState::Cancelled,
            _ => LeaseState::Lost,
        })
    }

    /// SQLite: tells in-process listeners about changed jobs (PostgreSQL announces them in
    /// the statement itself).
    fn publish(&self, changed: &[Job]) {
        if let Some(local) = &self.local {
            for job in changed {
                local.publish(job);
            }
        }
    }
}
