//! Queue depth per kind and state, as `/metrics` reads it, on every engine available.

mod common;

use std::time::Duration;

use clipforge_store::{JobCount, JobStatus, NewJob, Queue};
use serde_json::json;

const LEASE: Duration = Duration::from_secs(30);

fn count(counts: &[JobCount], kind: &str, state: JobStatus) -> i64 {
    counts
        .iter()
        .find(|c| c.kind == kind && c.state == state)
        .map_or(0, |c| c.count)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counts_follow_jobs_through_their_states() {
    for db in common::stores().await {
        let q = Queue::new(db.store.clone());
        assert!(q.counts().await.unwrap().is_empty(), "{}", db.name);

        for n in 0..3 {
            q.enqueue(NewJob::new("ingest", json!({ "n": n })))
                .await
                .unwrap();
        }
        let render = q
            .enqueue(NewJob::new("render", json!({})).workspace(uuid::Uuid::now_v7()))
            .await
            .unwrap()
            .id();
        q.enqueue(NewJob::new("suggest", json!({})).max_attempts(1))
            .await
            .unwrap();
        q.enqueue(NewJob::new("transcribe", json!({})))
            .await
            .unwrap();

        // One ingest running, one done; the suggest job fails on its only attempt.
        let running = q.claim("w1", &["ingest"], LEASE).await.unwrap().unwrap();
        let done = q.claim("w1", &["ingest"], LEASE).await.unwrap().unwrap();
        assert!(running.id != done.id);
        let _ = q.complete(&done).await.unwrap();
        let suggest = q.claim("w1", &["suggest"], LEASE).await.unwrap().unwrap();
        let _ = q.fail(&suggest, "no transcript").await.unwrap();
        // The transcribe job fails with attempts left: failed, waiting for its retry.
        let transcribe = q
            .claim("w1", &["transcribe"], LEASE)
            .await
            .unwrap()
            .unwrap();
        let _ = q.fail(&transcribe, "engine busy").await.unwrap();
        let workspace = q.get(render).await.unwrap().unwrap().workspace_id.unwrap();
        q.cancel(render, workspace).await.unwrap();

        let counts = q.counts().await.unwrap();
        let name = db.name;
        assert_eq!(
            count(&counts, "ingest", JobStatus::Queued),
            1,
            "{name}: {counts:?}"
        );
        assert_eq!(count(&counts, "ingest", JobStatus::Running), 1, "{name}");
        assert_eq!(count(&counts, "ingest", JobStatus::Succeeded), 1, "{name}");
        assert_eq!(count(&counts, "suggest", JobStatus::Dead), 1, "{name}");
        assert_eq!(count(&counts, "render", JobStatus::Cancelled), 1, "{name}");
        assert_eq!(count(&counts, "transcribe", JobStatus::Failed), 1, "{name}");
        // Only pairs that hold jobs are listed, and every job is in exactly one.
        assert_eq!(counts.len(), 6, "{name}: {counts:?}");
        assert_eq!(counts.iter().map(|c| c.count).sum::<i64>(), 6, "{name}");
    }
}
