//! `clipforge transcribe` and `clipforge models`.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use clap::{Args, Subcommand, ValueEnum};

use clipforge_asr::model;
use clipforge_asr::{LocalEngine, LocalOptions, TranscribeOptions, Transcriber};
use clipforge_captions::SubtitleFormat;
use clipforge_core::Transcript;

use crate::config::Config;
use crate::progress::TerminalProgress;

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Engine {
    Local,
    Openai,
    Deepgram,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Format {
    Json,
    Srt,
    Vtt,
    Txt,
}

impl From<Format> for SubtitleFormat {
    fn from(f: Format) -> Self {
        match f {
            Format::Json => SubtitleFormat::Json,
            Format::Srt => SubtitleFormat::Srt,
            Format::Vtt => SubtitleFormat::Vtt,
            Format::Txt => SubtitleFormat::Txt,
        }
    }
}

#[derive(Debug, Args)]
pub struct TranscribeArgs {
    /// Video or audio file.
    input: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value = "json")]
    format: Format,
    /// Write to FILE instead of standard output (written only when transcription succeeds).
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    #[command(flatten)]
    asr: AsrArgs,
}

/// How to transcribe: shared by every command that starts from a video.
#[derive(Debug, Args)]
pub struct AsrArgs {
    /// Speech engine (default: local, or `asr.engine` in the config).
    #[arg(long, value_enum)]
    engine: Option<Engine>,
    /// Whisper model folder, or the name of an installed model.
    #[arg(long, value_name = "DIR")]
    model: Option<PathBuf>,
    /// Spoken language as an ISO 639-1 code (default: detect; English for .en models).
    #[arg(long, value_name = "CODE")]
    language: Option<String>,
    /// CPU threads for the local engine.
    #[arg(long, value_name = "N")]
    threads: Option<usize>,
    /// Beam width for the local engine (1 = greedy, faster).
    #[arg(long, value_name = "N")]
    beam_size: Option<usize>,
    /// Windows decoded together by the local engine.
    #[arg(long, value_name = "N")]
    batch_size: Option<usize>,
    /// Batches the local engine decodes at once, one model replica each (default: 2, at
    /// most --threads).
    #[arg(long, value_name = "N")]
    workers: Option<usize>,
    /// CTranslate2 compute type for the local engine (int8, int8_float32, float32, ...).
    #[arg(long, value_name = "TYPE")]
    compute_type: Option<String>,
}

impl AsrArgs {
    /// What decides the words a transcription gives: part of the transcript's cache key.
    pub fn identity(&self, config: &Config) -> String {
        format!(
            "{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}",
            self.engine
                .map(|e| format!("{e:?}"))
                .or_else(|| config.asr.engine.clone()),
            self.model.as_ref().or(config.asr.model_dir.as_ref()),
            self.language,
            self.beam_size.or(config.asr.beam_size),
            self.compute_type
                .as_ref()
                .or(config.asr.compute_type.as_ref()),
            self.batch_size.or(config.asr.batch_size),
            config.openai.model,
            config.deepgram.model,
        )
    }
}

pub async fn run(args: TranscribeArgs, config: &Config) -> anyhow::Result<()> {
    let transcript = transcribe_file(&args.input, &args.asr, config).await?;
    let text = clipforge_captions::export(&transcript, args.format.into());
    match &args.output {
        Some(path) => write_atomically(path, text.as_bytes())?,
        None => {
            let mut stdout = std::io::stdout().lock();
            stdout.write_all(text.as_bytes())?;
            if !text.ends_with('\n') {
                stdout.write_all(b"\n")?;
            }
        }
    }
    Ok(())
}

/// Transcribes one media file with the engine the flags and the config choose, showing
/// progress on a terminal.
pub async fn transcribe_file(
    input: &Path,
    args: &AsrArgs,
    config: &Config,
) -> anyhow::Result<Transcript> {
    if let Some(lang) = &args.language {
        if lang.len() < 2 || lang.len() > 3 || !lang.chars().all(|c| c.is_ascii_lowercase()) {
            bail!("--language {lang:?} is not an ISO 639-1 code such as en, de or es");
        }
    }
    let engine = match args.engine {
        Some(e) => e,
        None => match config.asr.engine.as_deref() {
            None | Some("local") => Engine::Local,
            Some("openai") => Engine::Openai,
            Some("deepgram") => Engine::Deepgram,
            Some(other) => {
                bail!("unknown engine {other:?} in the config: use local, openai or deepgram")
            }
        },
    };
    let transcriber: Box<dyn Transcriber> = match engine {
        Engine::Local => Box::new(local_engine(args, config)?),
        Engine::Openai | Engine::Deepgram => remote_engine(engine, config)?,
    };
    let progress = TerminalProgress::new();
    let options = TranscribeOptions {
        language: args.language.clone(),
    };
    let result = transcriber.transcribe(input, &options, &progress).await;
    progress.finish();
    Ok(result?)
}

fn local_engine(args: &AsrArgs, config: &Config) -> anyhow::Result<LocalEngine> {
    let info = model::resolve(args.model.as_deref(), config.asr.model_dir.as_deref())?;
    let mut options = LocalOptions::default();
    if let Some(t) = args.threads.or(config.asr.threads) {
        if t == 0 {
            bail!("--threads must be at least 1");
        }
        options.threads = t;
    }
    options.workers = args
        .workers
        .or(config.asr.workers)
        .unwrap_or(options.workers.min(options.threads));
    if let Some(b) = args.beam_size.or(config.asr.beam_size) {
        options.decode.beam_size = b.max(1);
    }
    if let Some(b) = args.batch_size.or(config.asr.batch_size) {
        options.batch_size = b.max(1);
    }
    if let Some(c) = args
        .compute_type
        .clone()
        .or_else(|| config.asr.compute_type.clone())
    {
        options.compute_type = c;
    }
    tracing::info!(model = %info.path.display(), threads = options.threads, "loading local model");
    Ok(LocalEngine::load(&info.path, options)?)
}

/// Builds a speech-API engine: the engine's own environment variables win over the config
/// file, which wins over the defaults.
fn remote_engine(engine: Engine, config: &Config) -> anyhow::Result<Box<dyn Transcriber>> {
    use clipforge_asr::remote::{DeepgramConfig, DeepgramEngine, OpenAiConfig, OpenAiEngine};
    let unset = |var: &str| std::env::var(var).map_or(true, |v| v.trim().is_empty());
    Ok(match engine {
        Engine::Openai => {
            let mut c = OpenAiConfig::from_env();
            let file = &config.openai;
            if let (Some(v), true) = (&file.base_url, unset("CLIPFORGE_OPENAI_BASE_URL")) {
                if *v != c.base_url && unset("CLIPFORGE_OPENAI_API_KEY") {
                    // A provider's generic key variable was picked for the default host; never
                    // send it to the different server the config file names.
                    c.api_key = None;
                }
                c.base_url = v.clone();
            }
            if let (Some(v), true) = (&file.api_key, unset("CLIPFORGE_OPENAI_API_KEY")) {
                c.api_key = Some(v.clone());
            }
            if let (Some(v), true) = (&file.model, unset("CLIPFORGE_OPENAI_MODEL")) {
                c.model = v.clone();
            }
            Box::new(OpenAiEngine::new(c)?)
        }
        Engine::Deepgram | Engine::Local => {
            let mut c = DeepgramConfig::from_env();
            let file = &config.deepgram;
            if let (Some(v), true) = (&file.base_url, unset("CLIPFORGE_DEEPGRAM_BASE_URL")) {
                if *v != c.base_url && unset("CLIPFORGE_DEEPGRAM_API_KEY") {
                    // A provider's generic key variable was picked for the default host; never
                    // send it to the different server the config file names.
                    c.api_key = None;
                }
                c.base_url = v.clone();
            }
            if let (Some(v), true) = (&file.api_key, unset("CLIPFORGE_DEEPGRAM_API_KEY")) {
                c.api_key = Some(v.clone());
            }
            if let (Some(v), true) = (&file.model, unset("CLIPFORGE_DEEPGRAM_MODEL")) {
                c.model = v.clone();
            }
            Box::new(DeepgramEngine::new(c)?)
        }
    })
}

/// Writes through a temporary file in the same folder, so a failure leaves no partial file.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path.file_name().context("output path has no file name")?;
    let tmp = dir.join(format!(".{}.partial", name.to_string_lossy()));
    std::fs::write(&tmp, bytes).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        anyhow::anyhow!("cannot write {}: {e}", path.display())
    })
}

#[derive(Debug, Subcommand)]
pub enum ModelsCommand {
    /// List installed models and where clipforge looks for them.
    List,
    /// Validate a faster-whisper model folder and copy it into the models folder.
    Import {
        /// Folder with config.json, model.bin, tokenizer.json and vocabulary.txt/json.
        dir: PathBuf,
        /// Name to install it under (default: the folder name).
        #[arg(long)]
        name: Option<String>,
    },
}

pub fn models(cmd: ModelsCommand, config: &Config) -> anyhow::Result<()> {
    let models_dir = model::default_models_dir();
    match cmd {
        ModelsCommand::List => {
            let default = model::resolve(None, config.asr.model_dir.as_deref()).ok();
            let mut seen = Vec::new();
            let mut dirs: Vec<PathBuf> = config.asr.model_dir.iter().cloned().collect();
            dirs.push(models_dir.clone());
            for dir in &dirs {
                let found = if dir.join("model.bin").is_file() {
                    model::inspect(dir).into_iter().collect()
                } else {
                    model::list_models(dir)
                };
                for m in found {
                    let mark = if default.as_ref().is_some_and(|d| d.path == m.path) {
                        "*"
                    } else {
                        " "
                    };
                    println!(
                        "{mark} {:<20} {:>7.1} MB  {:<12} {}",
                        m.name,
                        m.size as f64 / 1e6,
                        if m.multilingual {
                            "multilingual"
                        } else {
                            "English"
                        },
                        m.path.display()
                    );
                    seen.push(m);
                }
            }
            if seen.is_empty() {
                println!(
                    "no models installed (looked in {})",
                    dirs.iter()
                        .map(|d| d.display().to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                );
                println!("install one with `clipforge models import <DIR>` (a faster-whisper model folder) or run scripts/setup.sh");
            }
            Ok(())
        }
        ModelsCommand::Import { dir, name } => {
            let info = model::import(&dir, &models_dir, name.as_deref())?;
            println!("imported {} into {}", info.name, info.path.display());
            if !info.word_timestamps {
                println!("warning: its config.json lists no alignment_heads; word times will be approximate");
            }
            Ok(())
        }
    }
}
