//! `clipforge serve` as a user starts it: a data folder, a free port, health at once.

use std::time::Duration;

use clipforge_media::Runner;
use tokio::io::{AsyncBufReadExt, BufReader};

#[tokio::test]
async fn serve_answers_health_as_soon_as_it_listens() {
    let data = tempfile::tempdir().unwrap();
    let data_dir = data.path().join("data");
    let mut server = Runner::new(1)
        .command(env!("CARGO_BIN_EXE_clipforge"))
        .args(["serve", "--bind", "127.0.0.1:0", "--data-dir"])
        .arg(&data_dir)
        .timeout(Duration::from_secs(120))
        .spawn_reader()
        .await
        .unwrap();
    let mut lines = BufReader::new(server.stdout()).lines();
    let line = tokio::time::timeout(Duration::from_secs(60), lines.next_line())
        .await
        .expect("serve printed its address within a minute")
        .unwrap()
        .expect("serve printed a line");
    let base = line
        .strip_prefix("clipforge is listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_string();
    let health = reqwest::get(format!("{base}/healthz")).await.unwrap();
    assert_eq!(health.status(), 200);
    let ready: serde_json::Value = reqwest::get(format!("{base}/readyz"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ready["database"], "ok");
    assert!(
        data_dir.join("clipforge.db").is_file(),
        "the SQLite file lives in the data folder"
    );
}

#[tokio::test]
async fn a_bad_database_url_is_refused_with_what_to_use() {
    let data = tempfile::tempdir().unwrap();
    let run = common::clipforge(
        &[
            "migrate",
            "--data-dir",
            data.path().to_str().unwrap(),
            "--database-url",
            "mysql://root@localhost/clips",
        ],
        &[],
    )
    .await;
    assert!(!run.ok);
    assert!(
        run.stderr.contains("sqlite://") && run.stderr.contains("postgres://"),
        "{}",
        run.stderr
    );
}

mod common;
