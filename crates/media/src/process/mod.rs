//! The one supervised process runner. Every external program clipforge starts goes through
//! here, so every one of them gets the same guarantees:
//!
//! - a semaphore bounds how many run at once (ffmpeg saturates cores; more in parallel only
//!   thrashes), and the permit is held for the whole life of the process;
//! - the child is killed when its handle is dropped, when its time limit passes, or when the
//!   job's [`CancellationToken`] fires;
//! - stderr is drained concurrently (a full pipe would block the child) and its last lines go
//!   into the error when the process fails;
//! - ffmpeg's `-progress pipe:1` output is parsed into [`FfmpegProgress`] callbacks.
//!
//! A missing program becomes [`MediaError::ToolMissing`] with an install hint.

mod progress;
mod running;
mod stderr;

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::io;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::MediaError;
pub use progress::{FfmpegProgress, ProgressParser};
pub use running::RunningProcess;
use stderr::StderrCollector;

/// Lines of stderr kept for error messages unless a command asks for another number.
pub const DEFAULT_STDERR_LINES: usize = 20;

/// How long to keep reading a pipe after the process exited. Bounded because a grandchild
/// that inherited the pipe can keep it open indefinitely.
const PIPE_GRACE: Duration = Duration::from_secs(2);

/// Niceness of background work, the lowest priority there is: it gets a core only when
/// the foreground leaves one idle.
const BACKGROUND_NICE: i32 = 19;

/// Limits how many external processes run at once and starts them.
#[derive(Clone)]
pub struct Runner {
    permits: Arc<Semaphore>,
    max: usize,
    /// Niceness its processes (and threads that adopt it) run at; 0 for normal work.
    nice: i32,
}

impl fmt::Debug for Runner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runner")
            .field("max", &self.max)
            .field("available", &self.permits.available_permits())
            .field("nice", &self.nice)
            .finish()
    }
}

impl Runner {
    /// A runner allowing at most `max_concurrent` processes at once (at least one).
    pub fn new(max_concurrent: usize) -> Self {
        let max = max_concurrent.max(1);
        Self {
            permits: Arc::new(Semaphore::new(max)),
            max,
            nice: 0,
        }
    }

    /// A runner for work done ahead of need while this one's work runs (the next clip's
    /// analysis while this clip encodes): as many processes again, each at the lowest
    /// priority, so they use only what the foreground leaves idle and never slow it down.
    pub fn background(&self) -> Runner {
        Runner {
            nice: BACKGROUND_NICE,
            ..Runner::new(self.max)
        }
    }

    /// True for a [`Runner::background`] runner.
    pub fn is_background(&self) -> bool {
        self.nice > 0
    }

    /// Gives the calling thread this runner's priority, for a thread that does part of a
    /// stage's work in-process (face detection beside its decoder). Lowering is for good:
    /// call it only on a thread of the stage's own.
    pub fn adopt_priority(&self) {
        if self.nice > 0 {
            lower_current_thread(self.nice);
        }
    }

    /// The process-wide runner, limited to the number of CPUs (at least 2); clones share
    /// one limit.
    ///
    /// At least 2 because a stage streaming a decode holds a permit for its whole length and
    /// may probe another file meanwhile; with one permit that would wait forever.
    pub fn shared() -> Runner {
        static SHARED: OnceLock<Runner> = OnceLock::new();
        SHARED
            .get_or_init(|| {
                let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
                Runner::new(cpus.max(2))
            })
            .clone()
    }

    /// The most processes this runner lets run at once.
    pub fn max_concurrent(&self) -> usize {
        self.max
    }

    /// Starts describing a command for `program` (looked up on `PATH` unless it is a path).
    pub fn command<'a>(&self, program: impl AsRef<OsStr>) -> ProcessCommand<'a> {
        ProcessCommand {
            runner: self.clone(),
            program: program.as_ref().to_owned(),
            args: Vec::new(),
            envs: Vec::new(),
            current_dir: None,
            timeout: None,
            cancel: None,
            on_progress: None,
            stdin: None,
            stderr_lines: DEFAULT_STDERR_LINES,
            stderr_filter: None,
        }
    }
}

/// What a finished process produced.
#[derive(Debug, Clone, Default)]
pub struct Output {
    /// Everything written to stdout (empty when progress was parsed from it instead).
    pub stdout: Vec<u8>,
    /// The last lines of stderr, newline-separated.
    pub stderr_tail: String,
    /// Every stderr line accepted by [`ProcessCommand::keep_stderr_matching`], in order.
    pub stderr_matches: Vec<String>,
}

type ProgressCallback<'a> = Box<dyn FnMut(FfmpegProgress) + Send + 'a>;

/// A command being described; run it with [`run`](Self::run) or
/// [`spawn_reader`](Self::spawn_reader).
pub struct ProcessCommand<'a> {
    runner: Runner,
    program: OsString,
    args: Vec<OsString>,
    envs: Vec<(OsString, OsString)>,
    current_dir: Option<PathBuf>,
    timeout: Option<Duration>,
    cancel: Option<CancellationToken>,
    on_progress: Option<ProgressCallback<'a>>,
    stdin: Option<Vec<u8>>,
    stderr_lines: usize,
    stderr_filter: Option<fn(&str) -> bool>,
}

impl fmt::Debug for ProcessCommand<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProcessCommand")
            .field("command", &self.command_line())
            .field("timeout", &self.timeout)
            .field("cancellable", &self.cancel.is_some())
            .field("progress", &self.on_progress.is_some())
            .finish_non_exhaustive()
    }
}

impl<'a> ProcessCommand<'a> {
    /// Appends one argument.
    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Self {
        self.args.push(arg.as_ref().to_owned());
        self
    }

    /// Appends several arguments.
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.args
            .extend(args.into_iter().map(|a| a.as_ref().to_owned()));
        self
    }

    /// Sets an environment variable for the child.
    pub fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Self {
        self.envs
            .push((key.as_ref().to_owned(), value.as_ref().to_owned()));
        self
    }

    /// Runs the child in `dir`.
    pub fn current_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.current_dir = Some(dir.into());
        self
    }

    /// Kills the process and fails with [`MediaError::Timeout`] if it runs longer than `limit`.
    /// The clock starts when the process starts, not while it waits for a permit.
    pub fn timeout(mut self, limit: Duration) -> Self {
        self.timeout = Some(limit);
        self
    }

    /// Kills the process (or stops waiting for a permit) and fails with
    /// [`MediaError::Cancelled`] when `token` is cancelled.
    pub fn cancel_on(mut self, token: CancellationToken) -> Self {
        self.cancel = Some(token);
        self
    }

    /// Parses stdout as ffmpeg `-progress` output and reports each block to `callback`.
    ///
    /// The caller must pass `-progress pipe:1 -nostats` to ffmpeg. Stdout is then not kept in
    /// [`Output::stdout`]. Only [`run`](Self::run) parses progress: with
    /// [`spawn_reader`](Self::spawn_reader) stdout is the data stream.
    pub fn on_progress(mut self, callback: impl FnMut(FfmpegProgress) + Send + 'a) -> Self {
        self.on_progress = Some(Box::new(callback));
        self
    }

    /// Writes `bytes` to the child's stdin, then closes it. Without this stdin is `/dev/null`,
    /// so a tool that prompts (ffmpeg "Overwrite? [y/N]") fails instead of hanging.
    pub fn stdin_bytes(mut self, bytes: impl Into<Vec<u8>>) -> Self {
        self.stdin = Some(bytes.into());
        self
    }

    /// Gives the child `/dev/null` as stdin (the default; undoes [`stdin_bytes`](Self::stdin_bytes)).
    pub fn stdin_null(mut self) -> Self {
        self.stdin = None;
        self
    }

    /// Keeps the last `lines` lines of stderr for errors (default [`DEFAULT_STDERR_LINES`]).
    pub fn stderr_tail_lines(mut self, lines: usize) -> Self {
        self.stderr_lines = lines;
        self
    }

    /// Also keeps every stderr line `filter` accepts, returned in [`Output::stderr_matches`],
    /// for tools whose result is written to stderr (ffmpeg's `silencedetect`).
    pub fn keep_stderr_matching(mut self, filter: fn(&str) -> bool) -> Self {
        self.stderr_filter = Some(filter);
        self
    }

    /// The program's name as used in errors and logs.
    fn program_name(&self) -> String {
        self.program.to_string_lossy().into_owned()
    }

    /// The command line, quoted so it can be pasted into a shell when debugging.
    fn command_line(&self) -> String {
        std::iter::once(&self.program)
            .chain(&self.args)
            .map(|a| shell_quote(&a.to_string_lossy()))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Runs the process to completion and returns its stdout and stderr tail.
    ///
    /// For large outputs use [`spawn_reader`](Self::spawn_reader): this keeps all of stdout.
    #[tracing::instrument(level = "debug", name = "process", skip_all, fields(program = %self.program_name()))]
    pub async fn run(mut self) -> Result<Output, MediaError> {
        let on_progress = self.on_progress.take();
        let mut process = self.start().await?;
        let mut stdout = Vec::new();
        let read_result = process.read_stdout(&mut stdout, on_progress).await;
        let (exit, report) = process.wait().await;
        exit?;
        read_result.map_err(|e| MediaError::io("reading the output of a process", e))?;
        Ok(Output {
            stdout,
            stderr_tail: report.tail,
            stderr_matches: report.matched,
        })
    }

    /// Starts the process and hands back its stdout to stream from.
    ///
    /// The permit, time limit and cancellation apply until the process exits; dropping the
    /// [`RunningProcess`] kills it.
    #[tracing::instrument(level = "debug", name = "process", skip_all, fields(program = %self.program_name()))]
    pub async fn spawn_reader(mut self) -> Result<RunningProcess, MediaError> {
        if self.on_progress.take().is_some() {
            tracing::warn!("on_progress is ignored by spawn_reader: stdout is the data stream");
        }
        self.start().await
    }

    async fn start(self) -> Result<RunningProcess, MediaError> {
        let program = self.program_name();
        let command_line = self.command_line();

        let permit = acquire(&self.runner.permits, self.cancel.as_ref(), &program).await?;

        #[allow(clippy::disallowed_methods)] // this module is the one place allowed to spawn
        let mut command = tokio::process::Command::new(&self.program);
        command
            .args(&self.args)
            .envs(self.envs.iter().map(|(k, v)| (k, v)))
            .stdin(if self.stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        if let Some(dir) = &self.current_dir {
            command.current_dir(dir);
        }

        tracing::debug!(command = %command_line, nice = self.runner.nice, "starting process");
        let mut child = spawn_at(&mut command, self.runner.nice)
            .map_err(|e| spawn_error(e, &program, self.current_dir.as_deref()))?;

        if let (Some(bytes), Some(mut stdin)) = (self.stdin, child.stdin.take()) {
            tokio::spawn(
                async move {
                    // A child that exits without reading all of stdin is not our error.
                    if let Err(err) = stdin.write_all(&bytes).await {
                        tracing::debug!(%err, "child did not read all of stdin");
                    }
                }
                .in_current_span(),
            );
        }
        let stderr = StderrCollector::spawn(
            child.stderr.take().expect("stderr is piped"),
            self.stderr_lines,
            self.stderr_filter,
        );
        Ok(RunningProcess::supervise(
            program,
            child,
            permit,
            self.timeout,
            self.cancel,
            stderr,
        ))
    }
}

/// Starts `command` at niceness `nice`. A child takes the niceness of the thread that
/// forks it, for all its threads, so a lowered child is forked from a short-lived thread
/// lowered first (renicing the child after the fact would miss threads it already
/// started).
fn spawn_at(
    command: &mut tokio::process::Command,
    nice: i32,
) -> std::io::Result<tokio::process::Child> {
    if nice <= 0 {
        return command.spawn();
    }
    let runtime = tokio::runtime::Handle::current();
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                let _runtime = runtime.enter();
                lower_current_thread(nice);
                command.spawn()
            })
            .join()
            .unwrap_or_else(|_| Err(std::io::Error::other("the spawning thread panicked")))
    })
}

/// Sets the calling thread's niceness (Linux keeps one per thread); elsewhere, and if the
/// system refuses, the work just runs at normal priority.
fn lower_current_thread(nice: i32) {
    #[cfg(target_os = "linux")]
    if let Err(err) = rustix::process::setpriority_process(Some(rustix::thread::gettid()), nice) {
        tracing::debug!(%err, nice, "cannot lower this thread's priority");
    }
    #[cfg(not(target_os = "linux"))]
    let _ = nice;
}

/// Waits for a permit, giving up if the job is cancelled first.
async fn acquire(
    permits: &Arc<Semaphore>,
    cancel: Option<&CancellationToken>,
    program: &str,
) -> Result<OwnedSemaphorePermit, MediaError> {
    let cancelled = || MediaError::Cancelled {
        program: program.to_owned(),
    };
    let acquire = Arc::clone(permits).acquire_owned();
    let permit = match cancel {
        Some(token) => tokio::select! {
            biased;
            () = token.cancelled() => return Err(cancelled()),
            permit = acquire => permit,
        },
        None => acquire.await,
    };
    // The semaphore lives in the runner and is never closed.
    permit.map_err(|_| cancelled())
}

fn spawn_error(err: io::Error, program: &str, dir: Option<&std::path::Path>) -> MediaError {
    if err.kind() == io::ErrorKind::NotFound {
        // A missing working directory also reports NotFound; do not blame the tool for it.
        if let Some(dir) = dir.filter(|d| !d.is_dir()) {
            return MediaError::io(
                format!("starting {program} in {}", dir.display()),
                io::Error::new(io::ErrorKind::NotFound, "working directory does not exist"),
            );
        }
        return MediaError::ToolMissing {
            program: program.to_owned(),
        };
    }
    MediaError::io(format!("starting {program}"), err)
}

/// Quotes an argument for display the way a POSIX shell would need it.
fn shell_quote(arg: &str) -> String {
    let plain = !arg.is_empty()
        && arg
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=,+@%".contains(c));
    if plain {
        arg.to_owned()
    } else {
        format!("'{}'", arg.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_only_what_needs_it() {
        assert_eq!(shell_quote("-i"), "-i");
        assert_eq!(shell_quote("file:/tmp/a.mp4"), "file:/tmp/a.mp4");
        assert_eq!(shell_quote("my talk.mp4"), "'my talk.mp4'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote(""), "''");
    }

    #[test]
    fn command_line_is_pasteable() {
        let cmd = Runner::new(1)
            .command("ffmpeg")
            .args(["-i", "a b.mp4", "-f", "null", "-"]);
        assert_eq!(cmd.command_line(), "ffmpeg -i 'a b.mp4' -f null -");
    }

    #[test]
    fn runner_has_at_least_one_permit() {
        assert_eq!(Runner::new(0).max_concurrent(), 1);
        assert!(Runner::shared().max_concurrent() >= 1);
    }
}
