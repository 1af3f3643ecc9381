//! The database behind `clipforge serve` and `clipforge worker`: SQLite by default,
//! PostgreSQL when the URL says so. One [`Store`] API over both engines; each engine has its
//! own migrations (`migrations/sqlite`, `migrations/postgres`). The job queue lives here too,
//! so a job is enqueued in the same transaction that writes the record it works on.
//!
//! SQL never leaves this crate. Queries are written once with `$N` placeholders, which both
//! engines accept, and run on the engine's own pool through [`on_pool!`], so each engine
//! keeps its native types (UUID and TIMESTAMPTZ on PostgreSQL).

pub mod accounts;
pub mod audit;
pub mod clips;
pub mod credits;
mod db;
mod error;
pub mod jumpcuts;
pub mod page;
pub mod projects;
mod queue;
pub mod renders;
pub mod templates;
pub mod transcripts;
pub mod videos;
pub mod workspaces;

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};

pub use db::{
    ApiKeyId, AuditEntryId, ClipId, CreditEntryId, Db, InvitationId, ProjectId, RenderId,
    SessionId, TemplateId, TranscriptId, UnknownValue, UserId, VideoId, WorkspaceId,
};
pub use error::StoreError;
pub use page::{Page, Paged, SortOrder};
pub use queue::{
    Backoff, Enqueued, FailOutcome, Job, JobContext, JobCount, JobEvent, JobEvents, JobFailure,
    JobStatus, LeaseState, NewJob, Queue, Waiter, Worker,
};

/// Runs the same expression on whichever pool the store holds: `$pool` is bound to the
/// `SqlitePool` or the `PgPool`, so query text and binds are written once.
#[macro_export]
macro_rules! on_pool {
    ($store:expr, $pool:ident => $body:expr) => {
        match $store.engine() {
            $crate::EnginePool::Sqlite($pool) => $body,
            $crate::EnginePool::Postgres($pool) => $body,
        }
    };
}

/// Runs the same expression on an open transaction: `$conn` is bound to the engine's
/// `&mut` connection inside the transaction.
#[macro_export]
macro_rules! on_tx {
    ($tx:expr, $conn:ident => $body:expr) => {
        match $tx {
            $crate::Tx::Sqlite(t) => {
                let $conn = &mut **t;
                $body
            }
            $crate::Tx::Postgres(t) => {
                let $conn = &mut **t;
                $body
            }
        }
    };
}

/// An open transaction on either engine: records and the jobs that work on them are
/// written in one, so neither exists without the other. Dropped without
/// [`commit`](Tx::commit), it rolls back.
#[derive(Debug)]
pub enum Tx {
    /// SQLite (begun `IMMEDIATE`, so two writers queue instead of failing on upgrade).
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
    /// PostgreSQL.
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

impl Tx {
    /// Makes the transaction's writes permanent.
    pub async fn commit(self) -> Result<(), StoreError> {
        match self {
            Tx::Sqlite(t) => t.commit().await?,
            Tx::Postgres(t) => t.commit().await?,
        }
        Ok(())
    }
}

/// Which database engine a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// A SQLite file (the default: no server to run).
    Sqlite,
    /// A PostgreSQL server (for several processes and machines).
    Postgres,
}

/// The pool of one engine.
#[derive(Debug, Clone)]
pub enum EnginePool {
    /// SQLite.
    Sqlite(SqlitePool),
    /// PostgreSQL.
    Postgres(PgPool),
}

/// A connection pool to the clipforge database, cheap to clone.
#[derive(Debug, Clone)]
pub struct Store {
    pool: EnginePool,
}

/// Longest a single PostgreSQL statement may run.
const STATEMENT_TIMEOUT: &str = "30s";

/// How long a statement may wait for a pooled connection before the request fails.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

impl Store {
    /// Connects to `url`: `sqlite://PATH` (the file is created when missing) or
    /// `postgres://…` / `postgresql://…`. Does not migrate; call [`migrate`](Self::migrate).
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        let pool = if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)
                .map_err(|e| StoreError::url(url, e))?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10));
            EnginePool::Sqlite(
                SqlitePoolOptions::new()
                    .max_connections(8)
                    .acquire_timeout(ACQUIRE_TIMEOUT)
                    .connect_with(options)
                    .await
                    .map_err(|e| StoreError::connect(url, e))?,
            )
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            // A statement that runs away (a lock wait, a bad plan) fails instead of holding
            // a request and a pooled connection forever.
            let options = PgConnectOptions::from_str(url)
                .map_err(|e| StoreError::url(url, e))?
                .options([("statement_timeout", STATEMENT_TIMEOUT)]);
            EnginePool::Postgres(
                PgPoolOptions::new()
                    .max_connections(16)
                    .acquire_timeout(ACQUIRE_TIMEOUT)
                    .connect_with(options)
                    .await
                    .map_err(|e| StoreError::connect(url, e))?,
            )
        } else {
            return Err(StoreError::UnsupportedUrl { url: redact(url) });
        };
        Ok(Store { pool })
    }

    /// Brings the schema up to date with this engine's migrations.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        match &self.pool {
            EnginePool::Sqlite(pool) => sqlx::migrate!("migrations/sqlite").run(pool).await?,
            EnginePool::Postgres(pool) => sqlx::migrate!("migrations/postgres").run(pool).await?,
        }
        Ok(())
    }

    /// Starts a write transaction.
    pub async fn begin(&self) -> Result<Tx, StoreError> {
        Ok(match &self.pool {
            EnginePool::Sqlite(pool) => Tx::Sqlite(pool.begin_with("BEGIN IMMEDIATE").await?),
            EnginePool::Postgres(pool) => Tx::Postgres(pool.begin().await?),
        })
    }

    /// The engine this store runs on.
    pub fn kind(&self) -> Engine {
        match self.pool {
            EnginePool::Sqlite(_) => Engine::Sqlite,
            EnginePool::Postgres(_) => Engine::Postgres,
        }
    }

    /// The engine's pool, for [`on_pool!`].
    pub fn engine(&self) -> &EnginePool {
        &self.pool
    }

    /// Whether the database answers (for `/readyz`).
    pub async fn ping(&self) -> Result<(), StoreError> {
        on_pool!(self, pool => sqlx::query("SELECT 1").execute(pool).await.map(|_| ()))?;
        Ok(())
    }

    /// Closes every connection; later calls fail.
    pub async fn close(&self) {
        on_pool!(self, pool => pool.close().await);
    }
}

/// `url` with any password replaced, for errors and logs.
pub(crate) fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            match userinfo.find(':') {
                Some(colon) => format!(
                    "{}{}:***{}",
                    &url[..scheme + 3],
                    &userinfo[..colon],
                    &url[at..]
                ),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_reach_messages() {
        assert_eq!(
            redact("postgres://clip:s3cret@db:5432/clipforge"),
            "postgres://clip:***@db:5432/clipforge"
        );
        assert_eq!(
            redact("sqlite://data/clipforge.db"),
            "sqlite://data/clipforge.db"
        );
        assert_eq!(redact("postgres://db/clipforge"), "postgres://db/clipforge");
    }
}
