//! Queue depth for monitoring: how many jobs of each kind are in each state.

use super::{JobStatus, Queue};
use crate::StoreError;

/// How many jobs of one kind are in one state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobCount {
    /// The job kind (`ingest`, `render`, ...).
    pub kind: String,
    /// The state counted.
    pub state: JobStatus,
    /// Jobs of `kind` in `state`.
    pub count: i64,
}

/// One aggregate over the whole table: a scrape costs one query however many jobs there
/// are, and the same text runs on both engines.
const COUNTS: &str =
    "SELECT kind, status, COUNT(*) AS count FROM jobs GROUP BY kind, status ORDER BY kind, status";

impl Queue {
    /// Jobs per kind and state, over every workspace; pairs with no jobs are left out.
    pub async fn counts(&self) -> Result<Vec<JobCount>, StoreError> {
        let rows: Vec<(String, String, i64)> = crate::on_pool!(self.store, pool => {
            sqlx::query_as(COUNTS).fetch_all(pool).await
        })?;
        rows.into_iter()
            .map(|(kind, status, count)| {
                let state = status
                    .parse()
                    .map_err(|e: String| StoreError::Database(sqlx::Error::Decode(e.into())))?;
                Ok(JobCount { kind, state, count })
            })
            .collect()
    }
}
