//! Load on the list endpoint: `GET /api/v1/videos` returning 100 rows, at a fixed request
//! rate (open loop: requests start on schedule whether or not earlier ones finished), on
//! the real router over a SQLite file, or over the PostgreSQL database named by
//! `BENCH_DATABASE_URL` (which should be empty: the bench registers its own user). Prints
//! latency percentiles. Used by `scripts/bench-api.sh`.
//!
//! `api_load [RATE_PER_S] [SECONDS]` (defaults 200 and 30).

use std::time::{Duration, Instant};

use clipforge_server::{router, serve, AppState, ServiceConfig};
use clipforge_storage::{Storage, StorageConfig};
use clipforge_store::videos::{self, NewVideo, VideoSource, VideoStatus};
use clipforge_store::{Store, WorkspaceId};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let rate: u32 = args.first().map_or(Ok(200), |a| a.parse())?;
    let seconds: u64 = args.get(1).map_or(Ok(30), |a| a.parse())?;

    let dir = tempfile::tempdir()?;
    let url = std::env::var("BENCH_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| format!("sqlite://{}", dir.path().join("clipforge.db").display()));
    let store = Store::connect(&url).await?;
    println!(
        "database: {}",
        if url.starts_with("sqlite:") {
            "SQLite"
        } else {
            "PostgreSQL"
        }
    );
    store.migrate().await?;
    let storage = Storage::new(&StorageConfig::default(), dir.path())?;
    let config = ServiceConfig {
        // The bench measures the endpoint, not the limiter.
        rate_limit_per_minute: u32::MAX / 2,
        ..ServiceConfig::default()
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}/api/v1", listener.local_addr()?);
    tokio::spawn(serve(
        listener,
        router(AppState::new(store.clone(), storage, config)),
        std::future::pending(),
    ));

    let client = reqwest::Client::new();
    let registered: serde_json::Value = client
        .post(format!("{base}/auth/register"))
        .json(&serde_json::json!({"email": "load@example.com", "password": "a long password", "full_name": "Load"}))
        .send()
        .await?
        .json()
        .await?;
    let token = registered["token"]["access_token"]
        .as_str()
        .ok_or_else(|| anyhow::anyhow!("no token in {registered}"))?
        .to_string();
    let workspace: WorkspaceId = registered["workspaces"][0]["id"]
        .as_str()
        .ok_or_else(|| anyhow::anyhow!("no workspace in {registered}"))?
        .parse()?;
    let config = serde_json::json!({});
    for i in 0..100 {
        videos::create(
            &store,
            workspace,
            NewVideo {
                project_id: None,
                created_by: None,
                title: &format!("Episode {i}: a long conversation about building things"),
                source: VideoSource::Upload,
                source_url: None,
                original_filename: Some("episode.mp4"),
                storage_key: None,
                status: VideoStatus::Ready,
                config: &config,
            },
        )
        .await?;
    }
    let list = format!("{base}/videos?per_page=100");
    let first: serde_json::Value = client
        .get(&list)
        .bearer_auth(&token)
        .send()
        .await?
        .json()
        .await?;
    let rows = first["videos"].as_array().map_or(0, Vec::len);
    anyhow::ensure!(rows == 100, "expected 100 rows, got {rows}: {first}");

    let total = u64::from(rate) * seconds;
    let interval = Duration::from_secs_f64(1.0 / f64::from(rate));
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(total as usize);
    for i in 0..total {
        let due = started + interval.mul_f64(i as f64);
        tokio::time::sleep_until(due.into()).await;
        let (client, list, token) = (client.clone(), list.clone(), token.clone());
        tasks.push(tokio::spawn(async move {
            let sent = Instant::now();
            let ok = match client.get(&list).bearer_auth(&token).send().await {
                Ok(r) => r.status().is_success() && r.bytes().await.is_ok(),
                Err(_) => false,
            };
            (sent.elapsed(), ok)
        }));
    }
    let mut latencies = Vec::with_capacity(tasks.len());
    let mut failures = 0;
    for task in tasks {
        let (latency, ok) = task.await?;
        latencies.push(latency.as_secs_f64() * 1000.0);
        if !ok {
            failures += 1;
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort_by(f64::total_cmp);
    let at = |q: f64| latencies[((latencies.len() as f64 - 1.0) * q).round() as usize];
    println!(
        "GET /api/v1/videos (100 rows): {} requests at {rate}/s in {elapsed:.1} s, {failures} failed; \
         p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        latencies.len(),
        at(0.50),
        at(0.95),
        at(0.99),
        latencies.last().copied().unwrap_or(0.0)
    );
    Ok(())
}
