//! The process runner against real processes: time limits, cancellation, the concurrency
//! limit, stderr in errors, streaming stdout and ffmpeg progress.

mod common;

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clipforge_media::{AudioDecoder, FfmpegProgress, MediaError, Runner};
use tokio::io::AsyncReadExt;
use tokio_util::sync::CancellationToken;

#[test]
fn handles_and_futures_can_move_between_threads() {
    fn is_send<T: Send>(_: &T) {}
    let path = Path::new("in.mp4");
    is_send(&clipforge_media::probe(path));
    is_send(&AudioDecoder::open(path));
    is_send(&clipforge_media::decode_all(path));
    is_send(&clipforge_media::detect_silences(path, -30.0, 0.5));
    is_send(&clipforge_media::prepare_upload(path, 1 << 20, path));
    is_send(&Runner::new(1).command("true").run());
    is_send(&Runner::new(1).command("true").spawn_reader());
    fn is_send_type<T: Send + Sync>() {}
    is_send_type::<AudioDecoder>();
    is_send_type::<clipforge_media::RunningProcess>();
    is_send_type::<Runner>();
}

#[tokio::test]
async fn timeout_kills_the_process() {
    let started = Instant::now();
    let err = Runner::new(2)
        .command("sleep")
        .arg("30")
        .timeout(Duration::from_millis(300))
        .run()
        .await
        .unwrap_err();
    assert!(
        matches!(&err, MediaError::Timeout { program, after, .. }
            if program == "sleep" && *after == Duration::from_millis(300)),
        "{err}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        err.to_string(),
        "sleep did not finish within 0.3 s and was stopped"
    );
}

#[tokio::test]
async fn timeout_returns_even_when_a_grandchild_keeps_the_pipes_open() {
    // `sh` is killed, but the `sleep` it started still holds stdout and stderr.
    let started = Instant::now();
    let err = Runner::new(2)
        .command("sh")
        .args(["-c", "sleep 8; echo never"])
        .timeout(Duration::from_millis(300))
        .run()
        .await
        .unwrap_err();
    assert!(matches!(err, MediaError::Timeout { .. }), "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn cancellation_kills_the_process() {
    let token = CancellationToken::new();
    let trigger = token.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(200)).await;
        trigger.cancel();
    });
    let started = Instant::now();
    let err = Runner::new(2)
        .command("sleep")
        .arg("30")
        .cancel_on(token)
        .run()
        .await
        .unwrap_err();
    assert!(
        matches!(&err, MediaError::Cancelled { program } if program == "sleep"),
        "{err}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn cancellation_stops_waiting_for_a_permit() {
    let runner = Runner::new(1);
    let busy = runner
        .command("sleep")
        .arg("30")
        .spawn_reader()
        .await
        .unwrap();
    let token = CancellationToken::new();
    token.cancel();
    let started = Instant::now();
    let err = runner
        .command("true")
        .cancel_on(token)
        .run()
        .await
        .unwrap_err();
    assert!(matches!(err, MediaError::Cancelled { .. }), "{err}");
    assert!(started.elapsed() < Duration::from_secs(2));
    drop(busy);
}

#[tokio::test]
async fn semaphore_limits_concurrency() {
    async fn two_sleeps(runner: &Runner) -> Duration {
        let started = Instant::now();
        let (a, b) = tokio::join!(
            runner.command("sleep").arg("0.3").run(),
            runner.command("sleep").arg("0.3").run()
        );
        a.unwrap();
        b.unwrap();
        started.elapsed()
    }
    let serial = two_sleeps(&Runner::new(1)).await;
    assert!(serial >= Duration::from_millis(600), "{serial:?}");
    let parallel = two_sleeps(&Runner::new(2)).await;
    assert!(parallel < Duration::from_millis(590), "{parallel:?}");
}

#[tokio::test]
async fn dropping_a_running_process_kills_it_and_frees_its_permit() {
    let runner = Runner::new(1);
    let running = runner
        .command("sleep")
        .arg("30")
        .spawn_reader()
        .await
        .unwrap();
    drop(running);
    let started = Instant::now();
    runner
        .command("true")
        .timeout(Duration::from_secs(10))
        .run()
        .await
        .unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}

/// Starting a program that is not installed on `runner` fails as a missing tool.
async fn assert_missing_tool_is_named(runner: &Runner) {
    let err = runner
        .command("clipforge-no-such-tool")
        .run()
        .await
        .unwrap_err();
    assert!(
        matches!(&err, MediaError::ToolMissing { program } if program == "clipforge-no-such-tool"),
        "{err}"
    );
    common::assert_one_line(&err);
}

#[tokio::test]
async fn missing_program_is_tool_missing() {
    assert_missing_tool_is_named(&Runner::new(1)).await;
}

/// The niceness `sh` reports for itself and for a process it forks, started by `runner`.
async fn niceness_of_children(runner: &Runner) -> Vec<i32> {
    let out = runner
        .command("sh")
        .args(["-c", "nice; sh -c nice"])
        .run()
        .await
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .map(|n| n.parse().unwrap())
        .collect()
}

#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn background_work_runs_at_the_lowest_priority_and_foreground_work_does_not() {
    let foreground = Runner::new(2);
    let normal = niceness_of_children(&foreground).await;
    assert_eq!(normal.len(), 2, "{normal:?}");
    assert!(normal[0] < 19, "{normal:?}");
    let background = foreground.background();
    assert!(background.is_background() && !foreground.is_background());
    assert_eq!(niceness_of_children(&background).await, vec![19, 19]);
    // Lowering a child must not lower the caller: foreground work after it is unchanged.
    assert_eq!(niceness_of_children(&foreground).await, normal);

    // A thread doing background work in-process takes the same priority; others keep theirs.
    let thread_nice = |runner: Runner| {
        std::thread::spawn(move || {
            runner.adopt_priority();
            let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap();
            // Field 19 (nice), counted after the parenthesised command name.
            let after_name = &stat[stat.rfind(')').unwrap() + 2..];
            after_name
                .split(' ')
                .nth(16)
                .unwrap()
                .parse::<i32>()
                .unwrap()
        })
        .join()
        .unwrap()
    };
    assert_eq!(thread_nice(background.clone()), 19);
    assert_eq!(thread_nice(foreground.clone()), normal[0]);
}

#[tokio::test]
async fn background_work_neither_waits_for_nor_blocks_foreground_permits() {
    let foreground = Runner::new(1);
    let background = foreground.background();
    let held = foreground
        .command("sleep")
        .arg("30")
        .spawn_reader()
        .await
        .unwrap();
    let ran = tokio::time::timeout(Duration::from_secs(10), background.command("true").run()).await;
    assert!(matches!(ran, Ok(Ok(_))), "{ran:?}");
    drop(held);
    assert_missing_tool_is_named(&background).await;
}

#[tokio::test]
async fn missing_working_directory_is_not_blamed_on_the_tool() {
    let err = Runner::new(1)
        .command("true")
        .current_dir("/nonexistent/clipforge/dir")
        .run()
        .await
        .unwrap_err();
    assert!(matches!(err, MediaError::Io { .. }), "{err}");
}

#[tokio::test]
async fn failing_ffmpeg_puts_its_stderr_in_the_error() {
    let err = Runner::new(1)
        .command("ffmpeg")
        .args([
            "-nostdin",
            "-v",
            "error",
            "-i",
            "/nonexistent/clipforge.mp4",
            "-f",
            "null",
            "-",
        ])
        .run()
        .await
        .unwrap_err();
    let MediaError::Failed {
        program,
        status,
        stderr_tail,
    } = &err
    else {
        panic!("expected Failed, got {err}");
    };
    assert_eq!(program, "ffmpeg");
    assert!(status.contains('1'), "{status}");
    assert!(
        stderr_tail.contains("No such file or directory"),
        "{stderr_tail}"
    );
    let msg = err.to_string();
    assert!(msg.starts_with("ffmpeg failed (exit status: 1)"), "{msg}");
    assert!(
        msg.contains("/nonexistent/clipforge.mp4: No such file or directory"),
        "{msg}"
    );
}

#[tokio::test]
async fn keeps_only_the_last_stderr_lines_in_errors() {
    let script = "i=1; while [ $i -le 30 ]; do echo \"line $i\" >&2; i=$((i+1)); done; exit 3";
    let err = Runner::new(1)
        .command("sh")
        .args(["-c", script])
        .run()
        .await
        .unwrap_err();
    let MediaError::Failed {
        status,
        stderr_tail,
        ..
    } = err
    else {
        panic!("expected Failed");
    };
    assert_eq!(status, "exit status: 3");
    let lines: Vec<&str> = stderr_tail.lines().collect();
    assert_eq!(lines.len(), 20);
    assert_eq!(lines[0], "line 11");
    assert_eq!(lines[19], "line 30");
}

#[tokio::test]
async fn returns_stdout_and_matching_stderr_lines() {
    let script = "echo out; i=0; while [ $i -lt 100 ]; do echo \"line $i\" >&2; i=$((i+1)); done";
    let output = Runner::new(1)
        .command("sh")
        .args(["-c", script])
        .keep_stderr_matching(|l| l.ends_with('7'))
        .run()
        .await
        .unwrap();
    assert_eq!(output.stdout, b"out\n");
    assert_eq!(output.stderr_matches.len(), 10);
    assert_eq!(output.stderr_matches[0], "line 7");
    assert_eq!(output.stderr_matches[9], "line 97");
    assert_eq!(output.stderr_tail.lines().count(), 20);
}

#[tokio::test]
async fn feeds_stdin() {
    let output = Runner::new(1)
        .command("cat")
        .stdin_bytes(b"piped in".to_vec())
        .run()
        .await
        .unwrap();
    assert_eq!(output.stdout, b"piped in");
}

#[tokio::test]
async fn streams_stdout_from_a_running_process() {
    let mut running = Runner::new(1)
        .command("head")
        .args(["-c", "3000000", "/dev/zero"])
        .spawn_reader()
        .await
        .unwrap();
    let mut total = 0usize;
    let mut buf = vec![0u8; 65536];
    loop {
        let n = running.stdout().read(&mut buf).await.unwrap();
        if n == 0 {
            break;
        }
        assert!(buf[..n].iter().all(|b| *b == 0));
        total += n;
    }
    assert_eq!(total, 3_000_000);
    running.finish().await.unwrap();
}

#[tokio::test]
async fn streaming_process_times_out() {
    let started = Instant::now();
    let mut running = Runner::new(1)
        .command("sleep")
        .arg("30")
        .timeout(Duration::from_millis(300))
        .spawn_reader()
        .await
        .unwrap();
    let mut rest = Vec::new();
    running.stdout().read_to_end(&mut rest).await.unwrap();
    let err = running.finish().await.unwrap_err();
    assert!(matches!(err, MediaError::Timeout { .. }), "{err}");
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn parses_ffmpeg_progress() {
    let reports: Arc<Mutex<Vec<FfmpegProgress>>> = Arc::default();
    let sink = Arc::clone(&reports);
    let output = Runner::new(1)
        .command("ffmpeg")
        .args([
            "-nostdin",
            "-hide_banner",
            "-v",
            "error",
            "-progress",
            "pipe:1",
            "-nostats",
        ])
        .args(["-f", "lavfi", "-i", "sine=duration=5", "-f", "null", "-"])
        .on_progress(move |p| sink.lock().unwrap().push(p))
        .run()
        .await
        .unwrap();
    assert!(output.stdout.is_empty());
    let reports = reports.lock().unwrap();
    let last = reports.last().expect("at least one report");
    assert!(last.done);
    assert!((last.out_time - 5.0).abs() < 0.1, "{last:?}");
    assert!(reports.iter().rev().skip(1).all(|p| !p.done));
}

#[tokio::test]
async fn progress_callback_may_borrow_from_the_caller() {
    let mut seen = 0;
    Runner::new(1)
        .command("ffmpeg")
        .args(["-nostdin", "-v", "error", "-progress", "pipe:1", "-nostats"])
        .args(["-f", "lavfi", "-i", "sine=duration=1", "-f", "null", "-"])
        .on_progress(|_| seen += 1)
        .run()
        .await
        .unwrap();
    assert!(seen >= 1);
}
