//! A worker: claims jobs of the kinds it has handlers for, runs up to N at once, keeps
//! their leases alive, settles them, and reaps jobs whose workers died.
//!
//! No transaction is open while a handler runs: a claim, each heartbeat and the settling
//! write are single statements, so a handler may take hours (ffmpeg) without holding locks.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::{Job, LeaseState, Queue};
use crate::StoreError;

/// Why a handler's attempt failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobFailure {
    /// What went wrong (stored as the job's last error).
    pub message: String,
    /// No retry can help (bad input): the job is dead at once.
    pub permanent: bool,
}

impl JobFailure {
    /// A failure worth retrying after the backoff.
    pub fn retry(message: impl Into<String>) -> Self {
        JobFailure {
            message: message.into(),
            permanent: false,
        }
    }

    /// A failure no retry can fix.
    pub fn permanent(message: impl Into<String>) -> Self {
        JobFailure {
            message: message.into(),
            permanent: true,
        }
    }
}

/// Any error is a retryable failure, its message the error and its causes.
impl<E: std::error::Error> From<E> for JobFailure {
    fn from(e: E) -> Self {
        let mut message = e.to_string();
        let mut source = e.source();
        while let Some(cause) = source {
            message.push_str(": ");
            message.push_str(&cause.to_string());
            source = cause.source();
        }
        JobFailure::retry(message)
    }
}

/// What a handler gets: the job, and a way to report progress.
#[derive(Debug, Clone)]
pub struct JobContext {
    job: Job,
    queue: Queue,
    stop: CancellationToken,
}

impl JobContext {
    /// The job, as claimed.
    pub fn job(&self) -> &Job {
        &self.job
    }

    /// Records progress (0–100) and the current step, extending the lease. When the job
    /// was cancelled or its lease lost, the worker stops the handler (its future is
    /// dropped at its next await), so a handler needs no check of its own.
    pub async fn progress(&self, percent: u8, step: &str) -> Result<(), StoreError> {
        let state = self
            .queue
            .heartbeat(&self.job, Some(percent), Some(step))
            .await?;
        if state != LeaseState::Held {
            self.stop.cancel();
            // Give the worker the chance to drop this future before the handler goes on.
            tokio::task::yield_now().await;
        }
        Ok(())
    }

    /// Fires when the worker gives up on the job (cancelled, lease lost): for handlers
    /// that run work outside their own future and must stop it themselves.
    pub fn stopped(&self) -> CancellationToken {
        self.stop.clone()
    }
}

type HandlerFuture = Pin<Box<dyn Future<Output = Result<(), JobFailure>> + Send>>;
type Handler = Arc<dyn Fn(JobContext) -> HandlerFuture + Send + Sync>;

/// Runs jobs: see the module docs.
pub struct Worker {
    queue: Queue,
    id: String,
    handlers: HashMap<String, Handler>,
    concurrency: usize,
    lease: Duration,
    poll: Duration,
}

impl fmt::Debug for Worker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Worker")
            .field("id", &self.id)
            .field("kinds", &self.handlers.keys().collect::<Vec<_>>())
            .field("concurrency", &self.concurrency)
            .field("lease", &self.lease)
            .field("poll", &self.poll)
            .finish()
    }
}

impl Worker {
    /// A worker named `id` (shown as the lease owner: host and process make a good one),
    /// one job at a time, 30 s leases, polling every 5 s when no wake-up comes.
    pub fn new(queue: Queue, id: impl Into<String>) -> Self {
        Worker {
            queue,
            id: id.into(),
            handlers: HashMap::new(),
            concurrency: 1,
            lease: Duration::from_secs(30),
            poll: Duration::from_secs(5),
        }
    }

    /// Runs jobs of `kind` with `handler`.
    pub fn handle<F, Fut>(mut self, kind: impl Into<String>, handler: F) -> Self
    where
        F: Fn(JobContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), JobFailure>> + Send + 'static,
    {
        let handler: Handler = Arc::new(move |ctx| Box::pin(handler(ctx)));
        self.handlers.insert(kind.into(), handler);
        self
    }

    /// Runs up to `n` jobs at once.
    pub fn concurrency(mut self, n: usize) -> Self {
        self.concurrency = n.max(1);
        self
    }

    /// How long a claim lasts without a heartbeat; heartbeats go every third of it, and a
    /// dead worker's jobs are requeued about this long after its last one.
    pub fn lease(mut self, lease: Duration) -> Self {
        self.lease = lease.max(Duration::from_millis(30));
        self
    }

    /// How often an idle worker looks for jobs when no wake-up arrives (and how often it
    /// reaps expired leases, at most).
    pub fn poll_interval(mut self, poll: Duration) -> Self {
        self.poll = poll.max(Duration::from_millis(10));
        self
    }

    /// Runs until `stop` fires, then claims nothing more and returns once the jobs in hand
    /// are settled.
    pub async fn run(self, stop: CancellationToken) {
        let kinds: Vec<String> = self.handlers.keys().cloned().collect();
        let slots = Arc::new(Semaphore::new(self.concurrency));
        let mut tasks = JoinSet::new();
        let reaper = tokio::spawn(reap_loop(
            self.queue.clone(),
            self.lease.min(self.poll),
            stop.clone(),
        ));
        let mut waiter = self.queue.waiter().await;
        loop {
            while tasks.try_join_next().is_some() {}
            let permit = tokio::select! {
                biased;
                _ = stop.cancelled() => break,
                permit = slots.clone().acquire_owned() => permit.expect("the semaphore is never closed"),
            };
            waiter.clear();
            match self.queue.claim(&self.id, &kinds, self.lease).await {
                Ok(Some(job)) => {
                    let handler = Arc::clone(&self.handlers[&job.kind]);
                    let run = run_job(self.queue.clone(), handler, job, self.lease / 3);
                    tasks.spawn(async move {
                        run.await;
                        drop(permit);
                    });
                }
                Ok(None) => {
                    drop(permit);
                    tokio::select! {
                        _ = stop.cancelled() => break,
                        _ = waiter.wait(self.poll) => {}
                    }
                }
                Err(e) => {
                    drop(permit);
                    tracing::warn!(worker = %self.id, error = %e, "claiming a job failed");
                    tokio::select! {
                        _ = stop.cancelled() => break,
                        _ = tokio::time::sleep(self.poll) => {}
                    }
                }
            }
        }
        while tasks.join_next().await.is_some() {}
        let _ = reaper.await;
    }
}

async fn reap_loop(queue: Queue, every: Duration, stop: CancellationToken) {
    loop {
        match queue.reap().await {
            Ok(reaped) => {
                for job in reaped {
                    tracing::warn!(job = %job.id, kind = %job.kind, status = %job.status,
                        "requeued a job whose worker stopped heartbeating");
                }
            }
            Err(e) => tracing::warn!(error = %e, "reaping expired leases failed"),
        }
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(every) => {}
        }
    }
}

/// Runs one claimed job: the handler in a task of its own (so a panic fails the attempt
/// instead of the worker), heartbeats beside it, then the settling write.
async fn run_job(queue: Queue, handler: Handler, job: Job, beat: Duration) {
    let stop = CancellationToken::new();
    let ctx = JobContext {
        job: job.clone(),
        queue: queue.clone(),
        stop: stop.clone(),
    };
    let finished = CancellationToken::new();
    let heartbeats = tokio::spawn(heartbeat_loop(
        queue.clone(),
        job.clone(),
        beat,
        stop.clone(),
        finished.clone(),
    ));
    let mut attempt = tokio::spawn(handler(ctx));
    let outcome = tokio::select! {
        result = &mut attempt => Some(result),
        _ = stop.cancelled() => {
            // Dropping the handler's future stops its work (child processes are killed on
            // drop); the job is no longer ours to settle.
            attempt.abort();
            None
        }
    };
    finished.cancel();
    let _ = heartbeats.await;
    let settled = match outcome {
        None => {
            tracing::info!(job = %job.id, kind = %job.kind, "stopped: job cancelled or lease lost");
            return;
        }
        Some(Ok(Ok(()))) => queue.complete(&job).await.map(describe),
        Some(Ok(Err(failure))) => {
            tracing::warn!(job = %job.id, kind = %job.kind, attempt = job.attempts,
                error = %failure.message, "job attempt failed");
            let result = if failure.permanent {
                queue.fail_permanently(&job, &failure.message).await
            } else {
                queue.fail(&job, &failure.message).await
            };
            result.map(describe)
        }
        Some(Err(join)) => {
            let message = if join.is_panic() {
                "the job handler panicked".to_string()
            } else {
                format!("the job handler was aborted: {join}")
            };
            queue.fail(&job, &message).await.map(describe)
        }
    };
    match settled {
        Ok(state) => tracing::debug!(job = %job.id, %state, "job settled"),
        // The lease runs out and the reaper requeues the job: it is not lost.
        Err(e) => tracing::warn!(job = %job.id, error = %e, "recording a job's outcome failed"),
    }
}

/// A settling write's answer, for the log.
fn describe(outcome: impl fmt::Debug) -> String {
    format!("{outcome:?}")
}

async fn heartbeat_loop(
    queue: Queue,
    job: Job,
    every: Duration,
    stop: CancellationToken,
    finished: CancellationToken,
) {
    loop {
        tokio::select! {
            _ = finished.cancelled() => return,
            _ = tokio::time::sleep(every) => {}
        }
        match queue.heartbeat(&job, None, None).await {
            Ok(LeaseState::Held) => {}
            Ok(state) => {
                tracing::info!(job = %job.id, ?state, "job no longer held; stopping it");
                stop.cancel();
                return;
            }
            // Keep trying: the lease outlives a few missed beats.
            Err(e) => tracing::warn!(job = %job.id, error = %e, "heartbeat failed"),
        }
    }
}
