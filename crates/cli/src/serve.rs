//! `clipforge serve` and `clipforge migrate`: the service on a database and a data folder.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;
use clipforge_server::{router, serve as serve_http, AppState, ServiceConfig};
use clipforge_storage::{Storage, StorageConfig};
use clipforge_store::Store;
use secrecy::SecretString;
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::worker::pipeline_worker;

/// Where the service keeps its data and which database it uses.
#[derive(Debug, Args)]
pub(crate) struct DataArgs {
    /// Folder for everything the service stores locally: the SQLite file, media, temp files.
    #[arg(long, env = "CLIPFORGE_DATA_DIR", default_value = "clipforge-data")]
    data_dir: PathBuf,
    /// Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST/DB
    /// (default: a SQLite file in the data folder).
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    database_url: Option<String>,
}

impl DataArgs {
    /// Media storage as configured (`[storage]`, `CLIPFORGE_STORAGE_*`, `CLIPFORGE_S3_*`):
    /// by default a `media` folder in the data folder. Signed links to local files start
    /// with `public_url`, the address clients reach the service at, when given.
    pub(crate) fn storage(
        &self,
        config: &StorageConfig,
        public_url: Option<&str>,
    ) -> anyhow::Result<Storage> {
        let mut config = config.clone();
        if let Some(url) = public_url {
            config.public_base_url = url.trim_end_matches('/').to_string();
        }
        Ok(Storage::new(&config, &self.data_dir)?)
    }

    /// Where jobs make their temp folders.
    pub(crate) fn temp_dir(&self) -> PathBuf {
        self.data_dir.join("tmp")
    }

    /// Creates the data folder and opens the database, migrated.
    pub(crate) async fn open(&self) -> anyhow::Result<Store> {
        std::fs::create_dir_all(&self.data_dir).with_context(|| {
            format!("cannot create the data folder {}", self.data_dir.display())
        })?;
        let url = match &self.database_url {
            Some(url) => url.clone(),
            None => sqlite_url(&self.data_dir.join("clipforge.db")),
        };
        let store = Store::connect(&url).await?;
        store.migrate().await?;
        Ok(store)
    }
}

fn sqlite_url(path: &Path) -> String {
    format!("sqlite://{}", path.display())
}

/// `clipforge serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, env = "CLIPFORGE_BIND", default_value = "127.0.0.1:8080")]
    bind: SocketAddr,
    /// Pipeline jobs run at once by the workers inside the server; 0 serves the API only,
    /// for deployments whose jobs run on `clipforge worker` processes.
    #[arg(
        long,
        env = "CLIPFORGE_CONCURRENCY",
        default_value_t = 1,
        value_name = "N"
    )]
    concurrency: usize,
    /// The address clients reach the service at, for download links
    /// (default: http:// and the address it listens on).
    #[arg(long, env = "CLIPFORGE_PUBLIC_URL")]
    public_url: Option<String>,
    /// Let link imports reach private, loopback and link-local addresses (a media server
    /// on your own network); refused by default so a link cannot probe your network.
    #[arg(long, env = "CLIPFORGE_ALLOW_PRIVATE_URLS")]
    allow_private_urls: bool,
    /// Make `/metrics` require `Authorization: Bearer TOKEN` (it is open by default, for a
    /// scraper on a private network).
    #[arg(
        long,
        env = "CLIPFORGE_METRICS_TOKEN",
        value_name = "TOKEN",
        hide_env_values = true
    )]
    metrics_token: Option<String>,
    #[command(flatten)]
    data: DataArgs,
}

pub async fn serve(args: ServeArgs, config: &Config) -> anyhow::Result<()> {
    let store = args.data.open().await?;
    let listener = tokio::net::TcpListener::bind(args.bind)
        .await
        .with_context(|| format!("cannot listen on {}", args.bind))?;
    let address = listener.local_addr()?;
    // The flag, else `public_base_url` when the config file sets one, else the bound address.
    let configured = &config.storage.public_base_url;
    let public_url = match &args.public_url {
        Some(url) => url.clone(),
        None if *configured != StorageConfig::default().public_base_url => configured.clone(),
        None => format!("http://{address}"),
    };
    let public_url = public_url.trim_end_matches('/');
    let storage = args.data.storage(&config.storage, Some(public_url))?;
    // The workers stop with the server: when serving ends, or when this future is dropped
    // (Ctrl-C), the guard cancels them and their processes are killed with them.
    let stop = CancellationToken::new();
    let _stop_workers = stop.clone().drop_guard();
    let workers = (args.concurrency > 0).then(|| {
        let worker = pipeline_worker(
            store.clone(),
            storage.clone(),
            &args.data,
            config,
            args.concurrency,
        );
        tokio::spawn(worker.run(stop.clone()))
    });
    // On stdout, so scripts and tests can read the address when they asked for port 0.
    println!("clipforge is listening on http://{address}");
    let service = ServiceConfig {
        allow_private_urls: args.allow_private_urls,
        metrics_token: args
            .metrics_token
            .clone()
            .filter(|t| !t.trim().is_empty())
            .map(SecretString::from),
        ..ServiceConfig::default()
    };
    let app = router(AppState::new(store, storage, service));
    let served = serve_http(listener, app, std::future::pending()).await;
    stop.cancel();
    if let Some(workers) = workers {
        let _ = workers.await;
    }
    served?;
    Ok(())
}

/// `clipforge migrate`.
#[derive(Debug, Args)]
pub struct MigrateArgs {
    #[command(flatten)]
    data: DataArgs,
}

pub async fn migrate(args: MigrateArgs) -> anyhow::Result<()> {
    let store = args.data.open().await?;
    eprintln!("the {:?} database is up to date", store.kind());
    store.close().await;
    Ok(())
}
