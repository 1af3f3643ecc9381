//! Queue throughput: enqueues no-op jobs, runs them on concurrent workers, and prints
//! jobs per second for both phases. Used by `scripts/bench-queue.sh`.
//!
//! `queue_bench URL [JOBS] [WORKERS] [SLOTS_PER_WORKER]` (defaults 5000, 4, 4); the
//! database at URL is migrated and must hold no jobs.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clipforge_store::{on_pool, NewJob, Queue, Store, Worker};
use tokio_util::sync::CancellationToken;

/// Jobs enqueued per transaction: what a burst of uploads looks like, not one per commit.
const BATCH: usize = 500;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(url) = args.first() else {
        return Err("usage: queue_bench URL [JOBS] [WORKERS] [SLOTS_PER_WORKER]".into());
    };
    let arg = |i: usize, default: usize| -> Result<usize, Box<dyn std::error::Error>> {
        Ok(args
            .get(i)
            .map(|a| a.parse())
            .transpose()?
            .unwrap_or(default))
    };
    let (jobs, workers, slots) = (arg(1, 5000)?, arg(2, 4)?, arg(3, 4)?);

    let store = Store::connect(url).await?;
    store.migrate().await?;
    let queue = Queue::new(store.clone());
    let engine = format!("{:?}", store.kind()).to_lowercase();

    let started = Instant::now();
    let mut left = jobs;
    while left > 0 {
        let n = left.min(BATCH);
        let mut tx = store.begin().await?;
        for _ in 0..n {
            queue
                .enqueue_in(&mut tx, NewJob::new("noop", serde_json::Value::Null))
                .await?;
        }
        tx.commit().await?;
        left -= n;
    }
    let enqueue_secs = started.elapsed().as_secs_f64();

    let ran = Arc::new(AtomicUsize::new(0));
    let stop = CancellationToken::new();
    let started = Instant::now();
    let handles: Vec<_> = (0..workers)
        .map(|w| {
            let ran = Arc::clone(&ran);
            let worker = Worker::new(queue.clone(), format!("bench-{w}"))
                .concurrency(slots)
                .poll_interval(Duration::from_millis(100))
                .handle("noop", move |_| {
                    ran.fetch_add(1, Ordering::Relaxed);
                    async { Ok(()) }
                });
            tokio::spawn(worker.run(stop.clone()))
        })
        .collect();
    let done_sql = "SELECT COUNT(*) FROM jobs WHERE status = 'succeeded'";
    loop {
        let done: i64 =
            on_pool!(store, pool => sqlx::query_scalar(done_sql).fetch_one(pool).await)?;
        if done as usize >= jobs {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let run_secs = started.elapsed().as_secs_f64();
    stop.cancel();
    for handle in handles {
        handle.await?;
    }
    let ran = ran.load(Ordering::Relaxed);
    if ran != jobs {
        return Err(format!("{ran} handler runs for {jobs} jobs").into());
    }
    println!(
        "{engine}: enqueue {:.0} jobs/s ({jobs} in {enqueue_secs:.2} s, {BATCH} per transaction); \
         run {:.0} jobs/s ({jobs} no-op jobs in {run_secs:.2} s, {workers} workers x {slots} slots)",
        jobs as f64 / enqueue_secs,
        jobs as f64 / run_secs
    );
    store.close().await;
    Ok(())
}
