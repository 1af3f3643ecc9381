//! Fresh, migrated databases for tests: always a SQLite file, and a PostgreSQL database of
//! its own when `DATABASE_URL_TEST` points at a server (scripts/test.sh starts one).

#![allow(dead_code)]

use clipforge_store::Store;

/// A migrated store and what keeps it alive (the SQLite file's folder).
pub struct TestDb {
    pub store: Store,
    pub name: &'static str,
    _dir: Option<tempfile::TempDir>,
}

/// One fresh store per engine available here. Under CI (`CI` set), PostgreSQL must be
/// available: a suite that silently skipped it would prove nothing.
pub async fn stores() -> Vec<TestDb> {
    let mut all = vec![sqlite().await];
    match std::env::var("DATABASE_URL_TEST") {
        Ok(url) if !url.is_empty() => all.push(postgres(&url).await),
        _ => {
            assert!(
                std::env::var_os("CI").is_none(),
                "DATABASE_URL_TEST is not set: scripts/test.sh starts PostgreSQL and sets it"
            );
            eprintln!("DATABASE_URL_TEST is not set: PostgreSQL is not tested here");
        }
    }
    all
}

/// A migrated SQLite store in a temp folder.
pub async fn sqlite() -> TestDb {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("clipforge.db").display());
    let store = Store::connect(&url).await.unwrap();
    store.migrate().await.unwrap();
    TestDb {
        store,
        name: "sqlite",
        _dir: Some(dir),
    }
}

/// A new database on the server at `admin_url`, migrated.
pub async fn postgres(admin_url: &str) -> TestDb {
    let admin = Store::connect(admin_url).await.unwrap();
    let name = format!("clipforge_test_{}", uuid::Uuid::now_v7().simple());
    clipforge_store::on_pool!(admin, pool => {
        sqlx::query(&format!("CREATE DATABASE {name}")).execute(pool).await.unwrap();
    });
    admin.close().await;
    let base = admin_url
        .rsplit_once('/')
        .map_or(admin_url, |(base, _)| base);
    let store = Store::connect(&format!("{base}/{name}")).await.unwrap();
    store.migrate().await.unwrap();
    TestDb {
        store,
        name: "postgres",
        _dir: None,
    }
}
