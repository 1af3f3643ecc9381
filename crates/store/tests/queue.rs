//! The job queue on every engine available (SQLite always, PostgreSQL when
//! `DATABASE_URL_TEST` is set): transactional enqueue, ordering, unique keys, retries with
//! backoff, dead jobs, cancellation, the reaper, exactly-once execution under concurrent
//! workers, and a worker process killed with SIGKILL mid-job.

mod common;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clipforge_store::{
    on_pool, Backoff, Enqueued, FailOutcome, Job, JobFailure, JobStatus, LeaseState, NewJob, Queue,
    Store, Worker,
};
use serde_json::json;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

const LEASE: Duration = Duration::from_secs(30);

/// Claims a job of `kinds` for `worker`, retrying until one is due or `within` passes.
async fn claim_within(q: &Queue, worker: &str, kinds: &[&str], within: Duration) -> Option<Job> {
    let deadline = Instant::now() + within;
    loop {
        if let Some(job) = q.claim(worker, kinds, LEASE).await.unwrap() {
            return Some(job);
        }
        if Instant::now() > deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits until `check` holds for job `id`, or panics after `within`.
async fn wait_for(
    q: &Queue,
    id: Uuid,
    within: Duration,
    what: &str,
    check: impl Fn(&Job) -> bool,
) -> Job {
    let deadline = Instant::now() + within;
    loop {
        let job = q.get(id).await.unwrap().expect("job exists");
        if check(&job) {
            return job;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}: {job:?}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

async fn count(store: &Store, sql: &str) -> i64 {
    on_pool!(store, pool => sqlx::query_scalar::<_, i64>(sql).fetch_one(pool).await).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_commits_and_rolls_back_with_its_record() {
    for db in common::stores().await {
        let store = &db.store;
        let q = Queue::new(store.clone());
        on_pool!(store, pool => sqlx::query("CREATE TABLE notes (body TEXT NOT NULL)").execute(pool).await.map(|_| ()))
            .unwrap();

        let mut tx = store.begin().await.unwrap();
        clipforge_store::on_tx!(&mut tx, conn => sqlx::query("INSERT INTO notes (body) VALUES ('lost')").execute(conn).await.map(|_| ()))
            .unwrap();
        let rolled_back = q
            .enqueue_in(&mut tx, NewJob::new("ingest", json!({"note": "lost"})))
            .await
            .unwrap()
            .id();
        drop(tx);
        assert!(q.get(rolled_back).await.unwrap().is_none(), "{}", db.name);
        assert_eq!(
            count(store, "SELECT COUNT(*) FROM notes").await,
            0,
            "{}",
            db.name
        );
        assert!(
            q.claim("w", &["ingest"], LEASE).await.unwrap().is_none(),
            "{}",
            db.name
        );

        let mut tx = store.begin().await.unwrap();
        clipforge_store::on_tx!(&mut tx, conn => sqlx::query("INSERT INTO notes (body) VALUES ('kept')").execute(conn).await.map(|_| ()))
            .unwrap();
        let kept = q
            .enqueue_in(&mut tx, NewJob::new("ingest", json!({"note": "kept"})))
            .await
            .unwrap();
        assert!(matches!(kept, Enqueued::Created(_)));
        tx.commit().await.unwrap();
        let job = q.get(kept.id()).await.unwrap().expect("committed job");
        assert_eq!(job.status, JobStatus::Queued, "{}", db.name);
        assert_eq!(job.payload, json!({"note": "kept"}));
        assert_eq!(job.attempts, 0);
        assert_eq!(
            count(store, "SELECT COUNT(*) FROM notes").await,
            1,
            "{}",
            db.name
        );
        let claimed = q
            .claim("w", &["ingest"], LEASE)
            .await
            .unwrap()
            .expect("due job");
        assert_eq!(claimed.id, kept.id());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claims_follow_priority_then_run_at_and_kind() {
    for db in common::stores().await {
        let q = Queue::new(db.store.clone());
        let later = q
            .enqueue(NewJob::new("k", json!("later")).delay(Duration::from_millis(600)))
            .await
            .unwrap()
            .id();
        let sooner = q
            .enqueue(NewJob::new("k", json!("sooner")))
            .await
            .unwrap()
            .id();
        let urgent = q
            .enqueue(NewJob::new("k", json!("urgent")).priority(10))
            .await
            .unwrap()
            .id();
        let tomorrow = q
            .enqueue(
                NewJob::new("k", json!("tomorrow"))
                    .priority(50)
                    .delay(Duration::from_secs(86_400)),
            )
            .await
            .unwrap()
            .id();
        let other = q
            .enqueue(NewJob::new("other", json!("other kind")).priority(100))
            .await
            .unwrap()
            .id();

        let first = q.claim("w", &["k"], LEASE).await.unwrap().unwrap();
        let second = q.claim("w", &["k"], LEASE).await.unwrap().unwrap();
        assert_eq!((first.id, second.id), (urgent, sooner), "{}", db.name);
        assert!(
            q.claim("w", &["k"], LEASE).await.unwrap().is_none(),
            "{}: nothing else of kind k is due yet",
            db.name
        );
        let third = claim_within(&q, "w", &["k"], Duration::from_secs(5))
            .await
            .unwrap();
        assert_eq!(third.id, later, "{}", db.name);
        assert!(
            q.claim("w", &["k"], LEASE).await.unwrap().is_none(),
            "{}",
            db.name
        );
        assert_eq!(
            q.get(tomorrow).await.unwrap().unwrap().status,
            JobStatus::Queued
        );
        let any = q.claim("w", &["k", "other"], LEASE).await.unwrap().unwrap();
        assert_eq!(any.id, other, "{}", db.name);
        assert_eq!(any.status, JobStatus::Running);
        assert_eq!(any.attempts, 1);
        assert_eq!(any.lease_owner.as_deref(), Some("w"));
        assert!(any.lease_expires_at.unwrap() > any.started_at.unwrap());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_unique_key_admits_one_live_job() {
    for db in common::stores().await {
        let q = Queue::new(db.store.clone());
        let render = || NewJob::new("render", json!({"clip": 1})).unique_key("render:clip-1");
        let first = q.enqueue(render()).await.unwrap();
        let Enqueued::Created(id) = first else {
            panic!("{}: {first:?}", db.name)
        };
        assert_eq!(
            q.enqueue(render()).await.unwrap(),
            Enqueued::Duplicate(id),
            "{}",
            db.name
        );
        let mut tx = db.store.begin().await.unwrap();
        assert_eq!(
            q.enqueue_in(&mut tx, render()).await.unwrap(),
            Enqueued::Duplicate(id)
        );
        tx.commit().await.unwrap();
        let other_key = q
            .enqueue(NewJob::new("render", json!({"clip": 2})).unique_key("render:clip-2"))
            .await
            .unwrap();
        assert!(matches!(other_key, Enqueued::Created(_)), "{}", db.name);

        let job = q.claim("w", &["render"], LEASE).await.unwrap().unwrap();
        assert_eq!(job.id, id);
        assert_eq!(
            q.enqueue(render()).await.unwrap(),
            Enqueued::Duplicate(id),
            "running holds the key"
        );
        assert_eq!(q.complete(&job).await.unwrap(), LeaseState::Held);
        let next = q.enqueue(render()).await.unwrap();
        assert!(
            matches!(next, Enqueued::Created(n) if n != id),
            "{}: {next:?}",
            db.name
        );

        // Racing enqueues of one key: exactly one creates, the rest see that one.
        let racers = (0..8).map(|_| {
            let q = q.clone();
            tokio::spawn(async move {
                q.enqueue(NewJob::new("render", json!({})).unique_key("race"))
                    .await
                    .unwrap()
            })
        });
        let mut created = Vec::new();
        let mut duplicates = HashSet::new();
        for racer in racers.collect::<Vec<_>>() {
            match racer.await.unwrap() {
                Enqueued::Created(id) => created.push(id),
                Enqueued::Duplicate(id) => {
                    duplicates.insert(id);
                }
            }
        }
        assert_eq!(created.len(), 1, "{}", db.name);
        assert!(duplicates.iter().all(|d| *d == created[0]), "{}", db.name);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_back_off_in_run_at_then_the_job_dies_keeping_its_error() {
    let base = Duration::from_millis(200);
    for db in common::stores().await {
        let q = Queue::new(db.store.clone()).with_backoff(Backoff {
            base,
            max: Duration::from_secs(10),
        });
        let id = q
            .enqueue(NewJob::new("flaky", json!({})).max_attempts(3))
            .await
            .unwrap()
            .id();
        for attempt in 1..=3 {
            let job = claim_within(&q, "w", &["flaky"], Duration::from_secs(5))
                .await
                .unwrap_or_else(|| panic!("{}: attempt {attempt} never became due", db.name));
            assert_eq!((job.id, job.attempts), (id, attempt), "{}", db.name);
            let outcome = q.fail(&job, &format!("boom {attempt}")).await.unwrap();
            let row = q.get(id).await.unwrap().unwrap();
            assert_eq!(
                row.last_error.as_deref(),
                Some(format!("boom {attempt}").as_str())
            );
            if attempt < 3 {
                let FailOutcome::Retry(at) = outcome else {
                    panic!("{}: attempt {attempt}: {outcome:?}", db.name)
                };
                assert_eq!(row.status, JobStatus::Failed, "{}", db.name);
                assert_eq!(row.run_at, at);
                // base · 2^(attempt−1), jittered into [½, 1] of that, by the database clock.
                let full = base.as_millis() as i64 * (1 << (attempt - 1));
                let delay = (row.run_at - row.updated_at).num_milliseconds();
                assert!(
                    delay >= full / 2 - 2 && delay <= full + 2,
                    "{}: attempt {attempt}: backoff {delay} ms, expected {}..={full}",
                    db.name,
                    full / 2
                );
                assert!(
                    q.claim("w", &["flaky"], LEASE).await.unwrap().is_none(),
                    "{}: a retry runs no earlier than its run_at",
                    db.name
                );
            } else {
                assert_eq!(outcome, FailOutcome::Dead, "{}", db.name);
                assert_eq!(row.status, JobStatus::Dead);
                assert_eq!(row.attempts, 3);
                assert!(row.finished_at.is_some());
            }
        }
        tokio::time::sleep(base * 2).await;
        assert!(
            q.claim("w", &["flaky"], LEASE).await.unwrap().is_none(),
            "{}",
            db.name
        );

        let doomed = q
            .enqueue(NewJob::new("strict", json!({})))
            .await
            .unwrap()
            .id();
        let job = q.claim("w", &["strict"], LEASE).await.unwrap().unwrap();
        let outcome = q.fail_permanently(&job, "not a video").await.unwrap();
        assert_eq!(outcome, FailOutcome::Dead, "{}", db.name);
        let row = q.get(doomed).await.unwrap().unwrap();
        assert_eq!((row.status, row.attempts), (JobStatus::Dead, 1));
        assert_eq!(row.last_error.as_deref(), Some("not a video"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_stops_queued_and_running_jobs_of_the_workspace_only() {
    for db in common::stores().await {
        let q = Queue::new(db.store.clone());
        let (ws, stranger) = (Uuid::now_v7(), Uuid::now_v7());
        let queued = q
            .enqueue(NewJob::new("k", json!({})).workspace(ws))
            .await
            .unwrap()
            .id();
        assert!(
            q.cancel(queued, stranger).await.unwrap().is_none(),
            "{}",
            db.name
        );
        assert_eq!(
            q.get(queued).await.unwrap().unwrap().status,
            JobStatus::Queued
        );
        let cancelled = q.cancel(queued, ws).await.unwrap().unwrap();
        assert_eq!(cancelled.status, JobStatus::Cancelled, "{}", db.name);
        assert!(cancelled.finished_at.is_some());

        let running = q
            .enqueue(NewJob::new("k", json!({})).workspace(ws))
            .await
            .unwrap()
            .id();
        let job = q.claim("w", &["k"], LEASE).await.unwrap().unwrap();
        assert_eq!(
            job.id, running,
            "{}: the cancelled job is never claimed",
            db.name
        );
        assert_eq!(
            q.heartbeat(&job, Some(30), Some("probing")).await.unwrap(),
            LeaseState::Held
        );
        assert_eq!(
            q.cancel(running, ws).await.unwrap().unwrap().status,
            JobStatus::Cancelled
        );
        assert_eq!(
            q.heartbeat(&job, Some(60), None).await.unwrap(),
            LeaseState::Cancelled,
            "{}",
            db.name
        );
        assert_eq!(q.complete(&job).await.unwrap(), LeaseState::Cancelled);
        assert_eq!(
            q.fail(&job, "late").await.unwrap(),
            FailOutcome::NotHeld(LeaseState::Cancelled)
        );
        let row = q.get(running).await.unwrap().unwrap();
        assert_eq!(
            (row.status, row.progress),
            (JobStatus::Cancelled, 30),
            "{}",
            db.name
        );
        // Cancelling a finished job changes nothing and reports its state.
        assert_eq!(
            q.cancel(running, ws).await.unwrap().unwrap().status,
            JobStatus::Cancelled
        );
        let listed: Vec<Uuid> = q
            .list(ws, 10, 0)
            .await
            .unwrap()
            .iter()
            .map(|j| j.id)
            .collect();
        assert_eq!(listed, vec![running, queued], "{}: newest first", db.name);
        assert!(q.list(stranger, 10, 0).await.unwrap().is_empty());
        assert!(q
            .get_in_workspace(running, stranger)
            .await
            .unwrap()
            .is_none());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reaper_requeues_a_job_whose_lease_expired() {
    let lease = Duration::from_millis(400);
    for db in common::stores().await {
        let q = Queue::new(db.store.clone());
        let id = q
            .enqueue(NewJob::new("k", json!({})).max_attempts(2))
            .await
            .unwrap()
            .id();
        let stale = q.claim("doomed", &["k"], lease).await.unwrap().unwrap();
        assert!(
            q.reap().await.unwrap().is_empty(),
            "{}: the lease is fresh",
            db.name
        );
        tokio::time::sleep(lease / 2).await;
        assert_eq!(
            q.heartbeat(&stale, Some(10), Some("working"))
                .await
                .unwrap(),
            LeaseState::Held
        );
        let extended = q.get(id).await.unwrap().unwrap();
        assert!(
            extended.lease_expires_at > stale.lease_expires_at,
            "{}",
            db.name
        );
        tokio::time::sleep(lease / 2).await;
        assert!(
            q.reap().await.unwrap().is_empty(),
            "{}: the heartbeat extended it",
            db.name
        );

        tokio::time::sleep(lease + Duration::from_millis(100)).await;
        let reaped = q.reap().await.unwrap();
        assert_eq!(reaped.len(), 1, "{}", db.name);
        assert_eq!((reaped[0].id, reaped[0].status), (id, JobStatus::Failed));
        let error = reaped[0].last_error.as_deref().unwrap();
        assert!(
            error.contains("lease expired") && error.contains("doomed"),
            "{error}"
        );
        assert!(
            q.reap().await.unwrap().is_empty(),
            "{}: reaped once",
            db.name
        );

        let again = q.claim("rescuer", &["k"], LEASE).await.unwrap().unwrap();
        assert_eq!((again.id, again.attempts), (id, 2), "{}", db.name);
        assert_eq!(
            q.heartbeat(&stale, None, None).await.unwrap(),
            LeaseState::Lost
        );
        assert_eq!(q.complete(&stale).await.unwrap(), LeaseState::Lost);
        assert_eq!(q.complete(&again).await.unwrap(), LeaseState::Held);
        let done = q.get(id).await.unwrap().unwrap();
        assert_eq!(done.status, JobStatus::Succeeded, "{}", db.name);
        assert_eq!(done.lease_owner.as_deref(), Some("rescuer"));

        // A job that keeps losing its worker ends dead after its last attempt.
        let last = q
            .enqueue(NewJob::new("k", json!({})).max_attempts(1))
            .await
            .unwrap()
            .id();
        q.claim("doomed", &["k"], Duration::from_millis(50))
            .await
            .unwrap()
            .unwrap();
        tokio::time::sleep(Duration::from_millis(150)).await;
        let reaped = q.reap().await.unwrap();
        assert_eq!(
            (reaped[0].id, reaped[0].status),
            (last, JobStatus::Dead),
            "{}",
            db.name
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_follow_a_job_through_its_life() {
    for db in common::stores().await {
        let q = Queue::new(db.store.clone());
        let mut events = q.events().await.unwrap();
        let ws = Uuid::now_v7();
        let id = q
            .enqueue(NewJob::new("transcribe", json!({})).workspace(ws))
            .await
            .unwrap()
            .id();
        let job = q.claim("w", &["transcribe"], LEASE).await.unwrap().unwrap();
        assert_eq!(
            q.heartbeat(&job, Some(40), Some("transcribing"))
                .await
                .unwrap(),
            LeaseState::Held
        );
        assert_eq!(q.complete(&job).await.unwrap(), LeaseState::Held);
        let mut seen = Vec::new();
        while seen.len() < 4 {
            let event = tokio::time::timeout(Duration::from_secs(5), events.recv())
                .await
                .unwrap_or_else(|_| panic!("{}: events so far {seen:?}", db.name))
                .unwrap();
            assert_eq!((event.id, event.workspace_id), (id, Some(ws)));
            seen.push((event.status, event.progress, event.step));
        }
        assert_eq!(
            seen,
            vec![
                (JobStatus::Queued, 0, None),
                (JobStatus::Running, 0, None),
                (JobStatus::Running, 40, Some("transcribing".to_string())),
                (JobStatus::Succeeded, 100, Some("transcribing".to_string())),
            ],
            "{}",
            db.name
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_worker_wakes_on_enqueue_without_waiting_for_its_poll() {
    for db in common::stores().await {
        let q = Queue::new(db.store.clone());
        let stop = CancellationToken::new();
        let worker = Worker::new(q.clone(), "sleepy")
            .poll_interval(Duration::from_secs(60))
            .handle("ping", |_| async { Ok(()) });
        let running = tokio::spawn(worker.run(stop.clone()));
        // Let it find the queue empty and go to sleep.
        tokio::time::sleep(Duration::from_millis(500)).await;
        let started = Instant::now();
        let id = q
            .enqueue(NewJob::new("ping", json!({})))
            .await
            .unwrap()
            .id();
        wait_for(&q, id, Duration::from_secs(10), "the woken worker", |j| {
            j.status == JobStatus::Succeeded
        })
        .await;
        eprintln!("{}: enqueue to done in {:?}", db.name, started.elapsed());
        stop.cancel();
        running.await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_thousand_jobs_on_four_workers_run_exactly_once() {
    const JOBS: usize = 1000;
    for db in common::stores().await {
        let q = Queue::new(db.store.clone());
        let mut tx = db.store.begin().await.unwrap();
        let mut ids = HashSet::new();
        for n in 0..JOBS {
            let job = NewJob::new("noop", json!({ "n": n })).priority((n % 3) as i32);
            ids.insert(q.enqueue_in(&mut tx, job).await.unwrap().id());
        }
        tx.commit().await.unwrap();

        let runs: Arc<Mutex<HashMap<Uuid, Vec<String>>>> = Arc::default();
        let stop = CancellationToken::new();
        let started = Instant::now();
        let workers: Vec<_> = (0..4)
            .map(|w| {
                let runs = Arc::clone(&runs);
                let name = format!("worker-{w}");
                let worker = Worker::new(q.clone(), name.clone())
                    .poll_interval(Duration::from_millis(100))
                    .handle("noop", move |ctx| {
                        runs.lock()
                            .unwrap()
                            .entry(ctx.job().id)
                            .or_default()
                            .push(name.clone());
                        async {
                            tokio::task::yield_now().await;
                            Ok(())
                        }
                    });
                tokio::spawn(worker.run(stop.clone()))
            })
            .collect();

        let deadline = Instant::now() + Duration::from_secs(180);
        let done_sql = "SELECT COUNT(*) FROM jobs WHERE status = 'succeeded'";
        while count(&db.store, done_sql).await < JOBS as i64 {
            assert!(Instant::now() < deadline, "{}: jobs left undone", db.name);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let elapsed = started.elapsed();
        stop.cancel();
        for w in workers {
            w.await.unwrap();
        }
        let runs = std::mem::take(&mut *runs.lock().unwrap());
        let duplicated: Vec<_> = runs.iter().filter(|(_, by)| by.len() != 1).collect();
        assert!(
            duplicated.is_empty(),
            "{}: run more than once: {duplicated:?}",
            db.name
        );
        let ran: HashSet<Uuid> = runs.keys().copied().collect();
        assert_eq!(ran, ids, "{}: every job ran", db.name);
        let workers_used: HashSet<&String> = runs.values().flatten().collect();
        assert!(
            workers_used.len() >= 2,
            "{}: only {workers_used:?} worked",
            db.name
        );
        assert_eq!(
            count(&db.store, "SELECT COUNT(*) FROM jobs WHERE attempts <> 1").await,
            0,
            "{}",
            db.name
        );
        eprintln!(
            "{}: {JOBS} jobs on 4 workers in {elapsed:?}, by {:?}",
            db.name,
            workers_used.len()
        );
    }
}

/// The URL a second process opens to reach the same database.
async fn url_of(db: &common::TestDb) -> String {
    let store = &db.store;
    match store.kind() {
        clipforge_store::Engine::Sqlite => {
            let file: String = on_pool!(store, pool => sqlx::query_scalar("SELECT file FROM pragma_database_list WHERE name = 'main'").fetch_one(pool).await)
                .unwrap();
            format!("sqlite://{file}")
        }
        clipforge_store::Engine::Postgres => {
            let name: String = on_pool!(store, pool => sqlx::query_scalar("SELECT current_database()::text").fetch_one(pool).await)
                .unwrap();
            let admin = std::env::var("DATABASE_URL_TEST").unwrap();
            format!("{}/{name}", admin.rsplit_once('/').unwrap().0)
        }
    }
}

const CHILD_URL: &str = "CLIPFORGE_QUEUE_TEST_CHILD_URL";
const CHILD_LEASE: Duration = Duration::from_secs(1);

/// Not a test on its own: the worker process that
/// `a_worker_killed_mid_job_loses_it_to_another_after_its_lease` starts (this test binary
/// again) and kills. It claims a job, reports progress, and works until killed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "run by a_worker_killed_mid_job_loses_it_to_another_after_its_lease"]
async fn killed_worker_process() {
    let Ok(url) = std::env::var(CHILD_URL) else {
        return;
    };
    let store = Store::connect(&url).await.unwrap();
    let worker = Worker::new(Queue::new(store), "doomed")
        .lease(CHILD_LEASE)
        .poll_interval(Duration::from_millis(50))
        .handle("export", |ctx| async move {
            ctx.progress(10, "encoding").await?;
            tokio::time::sleep(Duration::from_secs(3600)).await;
            Ok(())
        });
    worker.run(CancellationToken::new()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_killed_mid_job_loses_it_to_another_after_its_lease() {
    use std::os::unix::process::ExitStatusExt;
    for db in common::stores().await {
        let q = Queue::new(db.store.clone());
        let id = q
            .enqueue(NewJob::new("export", json!({"clip": 7})).max_attempts(3))
            .await
            .unwrap()
            .id();
        #[allow(clippy::disallowed_methods)] // a test's own second process, not a tool
        let mut child = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--ignored",
                "--exact",
                "killed_worker_process",
                "--nocapture",
            ])
            .env(CHILD_URL, url_of(&db).await)
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let claimed = wait_for(
            &q,
            id,
            Duration::from_secs(60),
            "the child to start the job",
            |j| j.status == JobStatus::Running && j.progress == 10,
        )
        .await;
        assert_eq!(
            claimed.lease_owner.as_deref(),
            Some("doomed"),
            "{}",
            db.name
        );
        child.kill().unwrap(); // SIGKILL: no cleanup, no goodbye.
        let status = child.wait().unwrap();
        assert_eq!(status.signal(), Some(9), "{}", db.name);
        let killed_at = Instant::now();
        assert_eq!(q.get(id).await.unwrap().unwrap().status, JobStatus::Running);

        let stop = CancellationToken::new();
        let rescued: Arc<Mutex<Vec<i32>>> = Arc::default();
        let seen = Arc::clone(&rescued);
        let rescuer = Worker::new(q.clone(), "rescuer")
            .lease(Duration::from_secs(5))
            .poll_interval(Duration::from_millis(100))
            .handle("export", move |ctx| {
                seen.lock().unwrap().push(ctx.job().attempts);
                async move {
                    ctx.progress(50, "encoding").await?;
                    if ctx.job().payload != json!({"clip": 7}) {
                        return Err(JobFailure::permanent("payload lost"));
                    }
                    Ok(())
                }
            });
        let running = tokio::spawn(rescuer.run(stop.clone()));
        let done = wait_for(
            &q,
            id,
            Duration::from_secs(30),
            "the rescuer to finish",
            |j| j.status == JobStatus::Succeeded,
        )
        .await;
        let took = killed_at.elapsed();
        stop.cancel();
        running.await.unwrap();
        assert_eq!(
            *rescued.lock().unwrap(),
            vec![2],
            "{}: run once more, as attempt 2",
            db.name
        );
        assert_eq!(done.lease_owner.as_deref(), Some("rescuer"));
        assert_eq!(done.attempts, 2);
        assert!(done.last_error.unwrap().contains("doomed"), "{}", db.name);
        assert!(
            took >= CHILD_LEASE / 2,
            "{}: taken over before the lease ran out",
            db.name
        );
        eprintln!("{}: job rescued {took:?} after SIGKILL", db.name);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_stops_a_handler_whose_job_is_cancelled() {
    /// Sets its flag when the handler's future is dropped (how work is stopped).
    struct Dropped(Arc<std::sync::atomic::AtomicBool>);
    impl Drop for Dropped {
        fn drop(&mut self) {
            self.0.store(true, std::sync::atomic::Ordering::SeqCst);
        }
    }
    for db in common::stores().await {
        let q = Queue::new(db.store.clone());
        let ws = Uuid::now_v7();
        let dropped = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = Arc::clone(&dropped);
        let stop = CancellationToken::new();
        let worker = Worker::new(q.clone(), "w")
            .lease(Duration::from_millis(300))
            .poll_interval(Duration::from_millis(50))
            .handle("render", move |ctx| {
                let guard = Dropped(Arc::clone(&flag));
                async move {
                    let _guard = guard;
                    ctx.progress(5, "rendering").await?;
                    tokio::time::sleep(Duration::from_secs(3600)).await;
                    Ok(())
                }
            });
        let running = tokio::spawn(worker.run(stop.clone()));
        let id = q
            .enqueue(NewJob::new("render", json!({})).workspace(ws))
            .await
            .unwrap()
            .id();
        wait_for(
            &q,
            id,
            Duration::from_secs(10),
            "the render to start",
            |j| j.progress == 5,
        )
        .await;
        assert!(!dropped.load(std::sync::atomic::Ordering::SeqCst));
        q.cancel(id, ws).await.unwrap().unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        while !dropped.load(std::sync::atomic::Ordering::SeqCst) {
            assert!(
                Instant::now() < deadline,
                "{}: handler still running",
                db.name
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        // The worker is free again and the cancelled job stays cancelled.
        stop.cancel();
        running.await.unwrap();
        let row = q.get(id).await.unwrap().unwrap();
        assert_eq!(
            (row.status, row.attempts),
            (JobStatus::Cancelled, 1),
            "{}",
            db.name
        );
    }
}
