//! One way for every stage to report how far it got, whatever drives it (CLI bar or job row).

/// Receives progress from a long-running stage. Implementations must be cheap: stages call
/// `update` often (every decoded chunk, every batch).
pub trait Progress: Send + Sync {
    /// A new named step began (e.g. "decoding audio", "transcribing").
    fn stage(&self, name: &str);
    /// `done` out of `total` units (seconds of media for most stages) are finished.
    fn update(&self, done: f64, total: f64);
}

/// Discards all progress; for callers that do not show any.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn stage(&self, _name: &str) {}
    fn update(&self, _done: f64, _total: f64) {}
}
