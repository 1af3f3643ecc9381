//! A started process: the supervisor task that owns the child, and the handle callers read
//! stdout from.

use std::fmt;
use std::io;
use std::process::ExitStatus;
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::{Child, ChildStdout};
use tokio::sync::OwnedSemaphorePermit;
use tokio::task::JoinHandle;
use tokio_util::sync::{CancellationToken, DropGuard};
use tracing::Instrument;

use super::stderr::{StderrCollector, StderrReport};
use super::{ProgressCallback, ProgressParser, PIPE_GRACE};
use crate::MediaError;

/// How the supervisor saw the process end.
#[derive(Debug)]
enum Exit {
    Status(io::Result<ExitStatus>),
    TimedOut(Duration),
    Cancelled,
    Abandoned,
}

/// Owns the child until it exits: waits for it, and kills it on timeout, cancellation or when
/// its [`RunningProcess`] is dropped. Holding the permit here ties it to the process's life.
async fn supervise(
    mut child: Child,
    _permit: OwnedSemaphorePermit,
    timeout: Option<Duration>,
    cancel: Option<CancellationToken>,
    abandon: CancellationToken,
    exited: CancellationToken,
) -> Exit {
    let started = Instant::now();
    let deadline = async {
        match timeout {
            Some(limit) => tokio::time::sleep(limit).await,
            None => std::future::pending().await,
        }
    };
    let cancelled = async {
        match &cancel {
            Some(token) => token.cancelled().await,
            None => std::future::pending().await,
        }
    };
    let exit = tokio::select! {
        status = child.wait() => Exit::Status(status),
        () = deadline => Exit::TimedOut(timeout.unwrap_or_default()),
        () = cancelled => Exit::Cancelled,
        () = abandon.cancelled() => Exit::Abandoned,
    };
    if !matches!(exit, Exit::Status(_)) {
        // SIGKILL, then reap so no zombie is left behind.
        if let Err(err) = child.start_kill() {
            tracing::debug!(%err, "kill failed (process already gone?)");
        }
        let _ = child.wait().await;
    }
    tracing::debug!(
        elapsed_ms = started.elapsed().as_millis() as u64,
        ?exit,
        "process ended"
    );
    exited.cancel();
    exit
}

/// A started process whose stdout the caller reads as a stream.
///
/// Dropping it kills the process. Call [`finish`](Self::finish) after reading stdout to the
/// end to learn whether the process succeeded.
pub struct RunningProcess {
    program: String,
    stdout: ChildStdout,
    stderr: StderrCollector,
    supervisor: JoinHandle<Exit>,
    exited: CancellationToken,
    abandon: DropGuard,
}

impl fmt::Debug for RunningProcess {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunningProcess")
            .field("program", &self.program)
            .field("exited", &self.exited.is_cancelled())
            .finish_non_exhaustive()
    }
}

impl RunningProcess {
    /// Hands `child` to a supervisor task that holds `permit` until the child is gone.
    pub(super) fn supervise(
        program: String,
        mut child: Child,
        permit: OwnedSemaphorePermit,
        timeout: Option<Duration>,
        cancel: Option<CancellationToken>,
        stderr: StderrCollector,
    ) -> Self {
        let stdout = child.stdout.take().expect("stdout is piped");
        let exited = CancellationToken::new();
        let abandon = CancellationToken::new();
        let supervisor = tokio::spawn(
            supervise(
                child,
                permit,
                timeout,
                cancel,
                abandon.clone(),
                exited.clone(),
            )
            .in_current_span(),
        );
        Self {
            program,
            stdout,
            stderr,
            supervisor,
            exited,
            abandon: abandon.drop_guard(),
        }
    }

    /// The process's stdout. It reaches end of file when the process exits or is killed.
    pub fn stdout(&mut self) -> &mut (impl AsyncRead + Unpin + Send + 'static) {
        &mut self.stdout
    }

    /// The program's name as used in errors.
    pub fn program(&self) -> &str {
        &self.program
    }

    /// The last lines of stderr written so far.
    pub fn stderr_tail(&self) -> String {
        self.stderr.snapshot()
    }

    /// Waits for the process to exit and maps a failure to an error.
    ///
    /// Closes stdout first: a process still writing then fails with a broken pipe rather
    /// than blocking forever, so read stdout to the end before calling this.
    pub async fn finish(self) -> Result<(), MediaError> {
        self.finish_with_stderr().await.map(drop)
    }

    /// Like [`finish`](Self::finish), and returns the stderr tail of a successful run (ffmpeg
    /// reports recoverable damage as warnings while still exiting with 0).
    pub async fn finish_with_stderr(self) -> Result<String, MediaError> {
        let (exit, report) = self.wait().await;
        exit.map(|()| report.tail)
    }

    /// Reads stdout to the end into `buf`, or through `on_progress` when given. Once the
    /// process has exited, keeps reading for at most [`PIPE_GRACE`].
    pub(super) async fn read_stdout(
        &mut self,
        buf: &mut Vec<u8>,
        on_progress: Option<ProgressCallback<'_>>,
    ) -> io::Result<()> {
        let exited = self.exited.clone();
        let stdout = &mut self.stdout;
        let read = async move {
            match on_progress {
                None => stdout.read_to_end(buf).await.map(drop),
                Some(mut callback) => {
                    let mut parser = ProgressParser::new();
                    let mut chunk = vec![0u8; 4096];
                    loop {
                        let n = stdout.read(&mut chunk).await?;
                        if n == 0 {
                            return Ok(());
                        }
                        parser.push(&chunk[..n], &mut callback);
                    }
                }
            }
        };
        tokio::pin!(read);
        tokio::select! {
            result = &mut read => result,
            () = exited.cancelled() => match tokio::time::timeout(PIPE_GRACE, &mut read).await {
                Ok(result) => result,
                Err(_) => {
                    tracing::debug!("stdout still open after the process ended; using what was read");
                    Ok(())
                }
            },
        }
    }

    /// Waits for the supervisor, then collects stderr, and maps the exit to a result.
    pub(super) async fn wait(self) -> (Result<(), MediaError>, StderrReport) {
        let Self {
            program,
            stdout,
            stderr,
            supervisor,
            exited: _,
            abandon,
        } = self;
        drop(stdout);
        let exit = supervisor.await;
        // The process is gone (or being killed by its supervisor); nothing left to abandon.
        abandon.disarm();
        let report = stderr.finish(PIPE_GRACE).await;
        let result = match exit {
            Ok(Exit::Status(Ok(status))) if status.success() => Ok(()),
            Ok(Exit::Status(Ok(status))) => Err(MediaError::Failed {
                program,
                status: status.to_string(),
                stderr_tail: report.tail.clone(),
            }),
            Ok(Exit::Status(Err(err))) => {
                Err(MediaError::io(format!("waiting for {program}"), err))
            }
            Ok(Exit::TimedOut(after)) => Err(MediaError::Timeout {
                program,
                after,
                stderr_tail: report.tail.clone(),
            }),
            Ok(Exit::Cancelled | Exit::Abandoned) => Err(MediaError::Cancelled { program }),
            Err(join) => Err(MediaError::io(
                format!("supervising {program}"),
                io::Error::other(join.to_string()),
            )),
        };
        (result, report)
    }
}
