//! The `clipforge` command-line tool: parses arguments and calls the library crates.

mod clip;
mod config;
mod jumpcut;
mod progress;
mod serve;
mod suggest;
mod transcribe;
mod worker;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Turn long videos into short clips, on your own machine.
#[derive(Debug, Parser)]
#[command(name = "clipforge", version, about)]
struct Cli {
    /// Config file (default: ./clipforge.toml, then ~/.config/clipforge/clipforge.toml).
    #[arg(long, global = true, env = "CLIPFORGE_CONFIG")]
    config: Option<PathBuf>,
    /// More log output (repeat for more).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Transcribe the speech in a video or audio file, with word timestamps.
    Transcribe(transcribe::TranscribeArgs),
    /// Find the best moments for short clips in a video or a transcript.
    Suggest(suggest::SuggestArgs),
    /// Turn a long video into ready-to-post clips: transcribe, find the moments, render.
    Clip(clip::ClipArgs),
    /// Render one clip of a video by hand (or one preview frame of it).
    Render(clip::RenderArgs),
    /// Remove silences and filler words from a whole video; export the cuts for editors.
    Jumpcut(jumpcut::JumpcutArgs),
    /// Run the service: API v1 and workers, on SQLite and local disk unless configured.
    Serve(serve::ServeArgs),
    /// Run pipeline jobs (ingest, transcribe, suggest, render) from the database.
    Worker(worker::WorkerArgs),
    /// Create or update the database schema, then exit.
    Migrate(serve::MigrateArgs),
    /// Manage local Whisper models.
    #[command(subcommand)]
    Models(transcribe::ModelsCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.verbose);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        let config = config::Config::load(cli.config.as_deref())?;
        // A worker stops gracefully on Ctrl-C or SIGTERM by itself: jobs in hand finish.
        if let Command::Worker(args) = cli.command {
            return worker::run(args, &config).await;
        }
        let work = run(cli.command, &config);
        // Ctrl-C drops the work: ffmpeg is killed with its handle and work folders and
        // partial files are removed by their guards, so nothing half-written stays.
        tokio::select! {
            result = work => result,
            _ = tokio::signal::ctrl_c() => {
                Err(anyhow::anyhow!("stopped by Ctrl-C; finished files are kept, partial ones removed"))
            }
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // One line a user can act on; the cause chain follows on the same line.
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command, config: &config::Config) -> anyhow::Result<()> {
    match command {
        Command::Transcribe(args) => transcribe::run(args, config).await,
        Command::Suggest(args) => suggest::run(args, config).await,
        Command::Clip(args) => clip::run(args, config).await,
        Command::Render(args) => clip::render(args, config).await,
        Command::Jumpcut(args) => jumpcut::run(args, config).await,
        Command::Serve(args) => serve::serve(args, config).await,
        Command::Worker(args) => worker::run(args, config).await,
        Command::Migrate(args) => serve::migrate(args).await,
        Command::Models(cmd) => transcribe::models(cmd, config),
    }
}

fn init_logging(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "info,clipforge=debug",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("CLIPFORGE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
}
