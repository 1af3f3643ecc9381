//! What can go wrong talking to the database.

use thiserror::Error;

/// An error from the store.
#[derive(Debug, Error)]
pub enum StoreError {
    /// The database URL names no engine clipforge supports.
    #[error(
        "unsupported database URL {url}: use sqlite://PATH or postgres://USER:PASSWORD@HOST/DB"
    )]
    UnsupportedUrl {
        /// The URL, password removed.
        url: String,
    },
    /// The URL could not be parsed.
    #[error("invalid database URL {url}: {source}")]
    InvalidUrl {
        /// The URL, password removed.
        url: String,
        /// Why.
        source: sqlx::Error,
    },
    /// The database could not be reached.
    #[error("cannot connect to the database at {url}: {source}; check that it runs and that the URL, user and password are right")]
    Connect {
        /// The URL, password removed.
        url: String,
        /// Why.
        source: sqlx::Error,
    },
    /// A migration failed.
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A query failed.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// A record the write refers to (a video's project, a clip's video) is not in the
    /// workspace, or is deleted.
    #[error("{what} not found")]
    NotFound {
        /// What is missing.
        what: &'static str,
    },
    /// The write clashes with what is stored: a unique value already taken, or a record
    /// changed since the caller read it.
    #[error("{what}")]
    Conflict {
        /// What clashed, as a sentence for the user.
        what: &'static str,
    },
    /// A debit larger than the workspace's balance.
    #[error("not enough credits: {needed} needed, {balance} left")]
    InsufficientCredits {
        /// Credits left.
        balance: i64,
        /// Credits the work costs.
        needed: i64,
    },
    /// The input breaks a rule of the data (an index past the end, an empty range).
    #[error("invalid input: {0}")]
    Invalid(String),
}

impl StoreError {
    pub(crate) fn url(url: &str, source: sqlx::Error) -> Self {
        StoreError::InvalidUrl {
            url: crate::redact(url),
            source,
        }
    }

    pub(crate) fn connect(url: &str, source: sqlx::Error) -> Self {
        StoreError::Connect {
            url: crate::redact(url),
            source,
        }
    }
}
