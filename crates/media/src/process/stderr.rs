//! Reading a child's stderr concurrently so the pipe never fills up and blocks the child,
//! keeping only what errors need: the last few lines, plus any lines a caller asked for.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::task::JoinHandle;
use tracing::Instrument;

/// Longest line kept; ffmpeg lines are short, anything longer is binary noise or a bug.
const MAX_LINE_BYTES: usize = 2_000;

/// Most lines a filter may keep, so a chatty filter cannot exhaust memory on a long input.
/// A 4-hour silencedetect run produces a few tens of thousands.
pub(crate) const MAX_MATCHED_LINES: usize = 200_000;

/// Splits a byte stream into lines on `\n` or `\r` (ffmpeg redraws its stats line with `\r`),
/// capping each line's length so a stream without newlines cannot grow without bound.
#[derive(Debug, Default)]
pub(crate) struct LineSplitter {
    partial: Vec<u8>,
    overflowed: bool,
}

impl LineSplitter {
    /// Feeds bytes and calls `emit` with every complete, non-empty line.
    pub(crate) fn push(&mut self, bytes: &[u8], mut emit: impl FnMut(&str)) {
        for &b in bytes {
            if b == b'\n' || b == b'\r' {
                self.flush(&mut emit);
            } else if self.partial.len() < MAX_LINE_BYTES {
                self.partial.push(b);
            } else {
                self.overflowed = true;
            }
        }
    }

    /// Emits whatever is left after the stream ended without a final newline.
    pub(crate) fn flush(&mut self, mut emit: impl FnMut(&str)) {
        if !self.partial.is_empty() {
            let mut line = String::from_utf8_lossy(&self.partial).into_owned();
            if self.overflowed {
                line.push_str(" [...]");
            }
            let trimmed = line.trim_end();
            if !trimmed.is_empty() {
                emit(trimmed);
            }
        }
        self.partial.clear();
        self.overflowed = false;
    }
}

/// Which stderr lines to keep in full, besides the tail.
pub(crate) type LineFilter = fn(&str) -> bool;

#[derive(Debug)]
struct State {
    tail: VecDeque<String>,
    tail_cap: usize,
    filter: Option<LineFilter>,
    matched: Vec<String>,
    dropped_matches: usize,
}

impl State {
    fn push(&mut self, line: &str) {
        if let Some(filter) = self.filter {
            if filter(line) {
                if self.matched.len() < MAX_MATCHED_LINES {
                    self.matched.push(line.to_owned());
                } else {
                    self.dropped_matches += 1;
                }
            }
        }
        if self.tail_cap == 0 {
            return;
        }
        if self.tail.len() == self.tail_cap {
            self.tail.pop_front();
        }
        self.tail.push_back(line.to_owned());
    }

    fn tail_text(&self) -> String {
        self.tail
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// What was collected from stderr once the process is done.
#[derive(Debug, Default)]
pub(crate) struct StderrReport {
    pub(crate) tail: String,
    pub(crate) matched: Vec<String>,
}

/// A background task draining one child's stderr.
#[derive(Debug)]
pub(crate) struct StderrCollector {
    state: Arc<Mutex<State>>,
    task: JoinHandle<()>,
}

impl StderrCollector {
    /// Starts draining `stderr`, keeping `tail_lines` lines and every line `filter` accepts.
    pub(crate) fn spawn<R>(stderr: R, tail_lines: usize, filter: Option<LineFilter>) -> Self
    where
        R: AsyncRead + Unpin + Send + 'static,
    {
        let state = Arc::new(Mutex::new(State {
            tail: VecDeque::with_capacity(tail_lines),
            tail_cap: tail_lines,
            filter,
            matched: Vec::new(),
            dropped_matches: 0,
        }));
        let task = tokio::spawn(drain(stderr, Arc::clone(&state)).in_current_span());
        Self { state, task }
    }

    /// The tail as it stands now (the process may still be writing).
    pub(crate) fn snapshot(&self) -> String {
        lock(&self.state).tail_text()
    }

    /// Waits up to `grace` for stderr to reach end of file, then returns what was kept.
    ///
    /// The wait is bounded because a grandchild that inherited the pipe can hold it open long
    /// after the process we started has died.
    pub(crate) async fn finish(self, grace: Duration) -> StderrReport {
        let Self { state, task } = self;
        if tokio::time::timeout(grace, task).await.is_err() {
            tracing::debug!("stderr still open after the process ended; using what was read");
        }
        let mut state = lock(&state);
        if state.dropped_matches > 0 {
            tracing::warn!(
                dropped = state.dropped_matches,
                kept = MAX_MATCHED_LINES,
                "too many matching stderr lines; later ones were dropped"
            );
        }
        StderrReport {
            tail: state.tail_text(),
            matched: std::mem::take(&mut state.matched),
        }
    }
}

fn lock(state: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    // The state stays consistent even if a holder panicked: every update is a single push.
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

async fn drain<R: AsyncRead + Unpin>(mut stderr: R, state: Arc<Mutex<State>>) {
    let mut splitter = LineSplitter::default();
    let mut buf = vec![0u8; 8 * 1024];
    let emit = |line: &str| {
        tracing::trace!(target: "clipforge_media::stderr", "{line}");
        lock(&state).push(line);
    };
    loop {
        match stderr.read(&mut buf).await {
            Ok(0) => break,
            Ok(n) => splitter.push(&buf[..n], emit),
            Err(err) if err.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(err) => {
                tracing::debug!(%err, "reading stderr failed");
                break;
            }
        }
    }
    splitter.flush(emit);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(chunks: &[&[u8]]) -> Vec<String> {
        let mut out = Vec::new();
        let mut s = LineSplitter::default();
        for c in chunks {
            s.push(c, |l| out.push(l.to_owned()));
        }
        s.flush(|l| out.push(l.to_owned()));
        out
    }

    #[test]
    fn splits_on_newline_and_carriage_return_across_chunks() {
        assert_eq!(
            lines(&[b"one\ntw", b"o\r\nthree\rfou", b"r"]),
            ["one", "two", "three", "four"]
        );
    }

    #[test]
    fn caps_long_lines() {
        let long = vec![b'x'; MAX_LINE_BYTES * 3];
        let out = lines(&[&long, b"\nnext\n"]);
        assert_eq!(out.len(), 2);
        assert!(out[0].len() < MAX_LINE_BYTES + 10);
        assert!(out[0].ends_with("[...]"));
        assert_eq!(out[1], "next");
    }

    #[test]
    fn invalid_utf8_is_replaced_not_dropped() {
        assert_eq!(lines(&[b"bad \xff byte\n"]), ["bad \u{fffd} byte"]);
    }

    #[tokio::test]
    async fn keeps_last_lines_and_matches() {
        let input: Vec<u8> = (0..50)
            .map(|i| format!("line {i}{}\n", if i % 10 == 0 { " match" } else { "" }))
            .collect::<String>()
            .into_bytes();
        let collector = StderrCollector::spawn(
            std::io::Cursor::new(input),
            3,
            Some(|l| l.ends_with("match")),
        );
        let report = collector.finish(Duration::from_secs(5)).await;
        assert_eq!(report.tail, "line 47\nline 48\nline 49");
        assert_eq!(
            report.matched,
            [
                "line 0 match",
                "line 10 match",
                "line 20 match",
                "line 30 match",
                "line 40 match"
            ]
        );
    }
}
