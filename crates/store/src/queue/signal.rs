//! Wake-ups for idle workers and the stream of job changes: `LISTEN`/`NOTIFY` on
//! PostgreSQL (across processes and machines), in-process channels on SQLite (one process
//! owns the file's workers in practice; other processes fall back to polling).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sqlx::postgres::PgListener;
use tokio::sync::{broadcast, watch};
use uuid::Uuid;

use super::sql::{EVENTS_CHANNEL, READY_CHANNEL};
use super::{Job, JobStatus, Queue};
use crate::{EnginePool, Store, StoreError};

/// A change of a job's state or progress, as the API streams it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobEvent {
    /// The job.
    pub id: Uuid,
    /// Its tenant (the API sends each workspace only its own events).
    pub workspace_id: Option<Uuid>,
    /// Its kind.
    pub kind: String,
    /// Its status after the change.
    pub status: JobStatus,
    /// Its progress, 0–100.
    pub progress: i32,
    /// What it is doing.
    pub step: Option<String>,
}

impl From<&Job> for JobEvent {
    fn from(job: &Job) -> Self {
        JobEvent {
            id: job.id,
            workspace_id: job.workspace_id,
            kind: job.kind.clone(),
            status: job.status,
            progress: job.progress,
            step: job.step.clone(),
        }
    }
}

/// Events a slow subscriber may fall behind by before it skips the oldest.
const EVENT_BUFFER: usize = 1024;

/// The in-process channels of one SQLite database file.
#[derive(Debug)]
pub(crate) struct LocalSignals {
    /// Bumped whenever a job may have become ready. A watch (not a bare `Notify`) so a
    /// signal sent while a worker is busy claiming is not lost: the worker sees the bump
    /// when it next waits.
    ready: watch::Sender<u64>,
    events: broadcast::Sender<JobEvent>,
}

/// The channels of every SQLite file this process has a queue on, so queues made from
/// different `Store` handles on one file share them.
fn registry() -> &'static Mutex<HashMap<PathBuf, Weak<LocalSignals>>> {
    static REGISTRY: OnceLock<Mutex<HashMap<PathBuf, Weak<LocalSignals>>>> = OnceLock::new();
    REGISTRY.get_or_init(Default::default)
}

impl LocalSignals {
    /// The channels of `store`'s file; `None` on PostgreSQL.
    pub(crate) fn for_store(store: &Store) -> Option<Arc<LocalSignals>> {
        let EnginePool::Sqlite(pool) = store.engine() else {
            return None;
        };
        let path = pool.connect_options().get_filename().to_path_buf();
        let path = std::fs::canonicalize(&path).unwrap_or(path);
        let mut registry = registry().lock().unwrap_or_else(|e| e.into_inner());
        registry.retain(|_, signals| signals.strong_count() > 0);
        if let Some(signals) = registry.get(&path).and_then(Weak::upgrade) {
            return Some(signals);
        }
        let signals = Arc::new(LocalSignals {
            ready: watch::channel(0).0,
            events: broadcast::channel(EVENT_BUFFER).0,
        });
        registry.insert(path, Arc::downgrade(&signals));
        Some(signals)
    }

    pub(crate) fn wake(&self) {
        self.ready.send_modify(|n| *n = n.wrapping_add(1));
    }

    pub(crate) fn publish(&self, job: &Job) {
        // No subscriber is not an error: nobody is watching.
        let _ = self.events.send(JobEvent::from(job));
    }
}

/// Waits until a job may be ready: a wake-up or the polling interval, whichever is first.
#[derive(Debug)]
pub struct Waiter {
    inner: WaiterInner,
}

#[derive(Debug)]
enum WaiterInner {
    Local(watch::Receiver<u64>),
    Listen(Box<PgListener>),
    /// PostgreSQL without a listening connection: polling only.
    Poll,
}

impl Waiter {
    /// Drops wake-ups already received: call before looking for work, so that a wake-up
    /// that arrives after the look-up still ends the next wait.
    pub fn clear(&mut self) {
        match &mut self.inner {
            WaiterInner::Local(rx) => {
                rx.borrow_and_update();
            }
            WaiterInner::Listen(listener) => while listener.next_buffered().is_some() {},
            WaiterInner::Poll => {}
        }
    }

    /// Returns on a wake-up since the last [`clear`](Self::clear), or after `timeout`.
    pub async fn wait(&mut self, timeout: Duration) {
        match &mut self.inner {
            WaiterInner::Local(rx) => {
                let _ = tokio::time::timeout(timeout, rx.changed()).await;
            }
            WaiterInner::Listen(listener) => {
                match tokio::time::timeout(timeout, listener.recv()).await {
                    Ok(Ok(_)) | Err(_) => {}
                    Ok(Err(e)) => {
                        // sqlx reconnects on the next call; until then, poll.
                        tracing::warn!(error = %e, "job wake-up listener failed; polling");
                        tokio::time::sleep(timeout).await;
                    }
                }
            }
            WaiterInner::Poll => tokio::time::sleep(timeout).await,
        }
    }
}

/// A stream of [`JobEvent`]s: every job change in the database on PostgreSQL (any
/// process), those made by this process on SQLite.
#[derive(Debug)]
pub struct JobEvents {
    inner: EventsInner,
}

#[derive(Debug)]
enum EventsInner {
    Local(broadcast::Receiver<JobEvent>),
    Listen(Box<PgListener>),
}

impl JobEvents {
    /// The next event. A subscriber that falls far behind skips the oldest ones (they are
    /// progress updates: the latest tells the state).
    pub async fn recv(&mut self) -> Result<JobEvent, StoreError> {
        loop {
            match &mut self.inner {
                EventsInner::Local(rx) => match rx.recv().await {
                    Ok(event) => return Ok(event),
                    Err(broadcast::error::RecvError::Lagged(skipped)) => {
                        tracing::debug!(skipped, "job event subscriber fell behind");
                    }
                    Err(broadcast::error::RecvError::Closed) => {
                        return Err(StoreError::Database(sqlx::Error::PoolClosed));
                    }
                },
                EventsInner::Listen(listener) => {
                    let note = listener.recv().await?;
                    match serde_json::from_str(note.payload()) {
                        Ok(event) => return Ok(event),
                        Err(e) => tracing::warn!(error = %e, "unreadable job event; skipped"),
                    }
                }
            }
        }
    }
}

impl Queue {
    /// A [`Waiter`] for idle workers. On PostgreSQL it holds a listening connection of its
    /// own; if that cannot be opened, it only polls.
    pub async fn waiter(&self) -> Waiter {
        let inner = match (&self.local, self.store.engine()) {
            (Some(local), _) => WaiterInner::Local(local.ready.subscribe()),
            (None, EnginePool::Postgres(pool)) => match listen(pool, READY_CHANNEL).await {
                Ok(listener) => WaiterInner::Listen(Box::new(listener)),
                Err(e) => {
                    tracing::warn!(error = %e, "cannot LISTEN for jobs; polling only");
                    WaiterInner::Poll
                }
            },
            (None, EnginePool::Sqlite(_)) => WaiterInner::Poll,
        };
        Waiter { inner }
    }

    /// Subscribes to job changes from now on.
    pub async fn events(&self) -> Result<JobEvents, StoreError> {
        let inner = match (&self.local, self.store.engine()) {
            (Some(local), _) => EventsInner::Local(local.events.subscribe()),
            (None, EnginePool::Postgres(pool)) => {
                EventsInner::Listen(Box::new(listen(pool, EVENTS_CHANNEL).await?))
            }
            (None, EnginePool::Sqlite(_)) => {
                unreachable!("a SQLite queue always has local signals")
            }
        };
        Ok(JobEvents { inner })
    }
}

async fn listen(pool: &sqlx::PgPool, channel: &str) -> Result<PgListener, sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(channel).await?;
    Ok(listener)
}
