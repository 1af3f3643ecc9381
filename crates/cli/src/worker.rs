//! `clipforge worker`: runs the pipeline's jobs from the database until stopped; and the
//! workers `clipforge serve` runs beside the API.

use anyhow::Context;
use clap::Args;
use clipforge_storage::Storage;
use clipforge_store::{Queue, Store, Worker};
use clipforge_worker::{Pipeline, WorkerSettings};
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::serve::DataArgs;

/// `clipforge worker`.
#[derive(Debug, Args)]
pub struct WorkerArgs {
    /// Jobs run at once (transcriptions and renders use several cores each).
    #[arg(
        long,
        env = "CLIPFORGE_CONCURRENCY",
        default_value_t = 1,
        value_name = "N"
    )]
    concurrency: usize,
    #[command(flatten)]
    data: DataArgs,
}

/// The pipeline's handlers on a worker named for this host and process.
pub(crate) fn pipeline_worker(
    store: Store,
    storage: Storage,
    data: &DataArgs,
    config: &Config,
    concurrency: usize,
) -> Worker {
    let settings = WorkerSettings {
        temp_dir: data.temp_dir(),
        model: None,
        model_dir: config.asr.model_dir.clone(),
    };
    let pipeline = Pipeline::new(store.clone(), storage, settings);
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "worker".into());
    let id = format!("{host}:{}", std::process::id());
    pipeline.register(Worker::new(Queue::new(store), id).concurrency(concurrency))
}

pub async fn run(args: WorkerArgs, config: &Config) -> anyhow::Result<()> {
    if args.concurrency == 0 {
        anyhow::bail!("--concurrency must be at least 1");
    }
    let store = args.data.open().await?;
    let storage = args.data.storage(&config.storage, None)?;
    let worker = pipeline_worker(store.clone(), storage, &args.data, config, args.concurrency);
    let stop = CancellationToken::new();
    let mut running = tokio::spawn(worker.run(stop.clone()));
    eprintln!(
        "clipforge worker is running {} job(s) at a time; Ctrl-C stops it",
        args.concurrency
    );
    tokio::select! {
        done = &mut running => {
            done.context("the worker stopped unexpectedly")?;
            return Ok(());
        }
        _ = shutdown_signal() => {}
    }
    // The first signal stops claiming and lets the jobs in hand finish; a second drops
    // them (their processes are killed, and their leases run out so another worker
    // retries them).
    eprintln!("stopping: finishing the jobs in hand (Ctrl-C again to stop at once)");
    stop.cancel();
    tokio::select! {
        done = &mut running => done.context("the worker stopped unexpectedly")?,
        _ = shutdown_signal() => running.abort(),
    }
    store.close().await;
    Ok(())
}

/// Ctrl-C, or SIGTERM from a service manager.
pub(crate) async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
