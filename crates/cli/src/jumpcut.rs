//! `clipforge jumpcut`: removes silences (and, with a transcript, filler words) from a
//! whole video in one encode, and exports the cut list for video editors.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args, ValueEnum};
use clipforge_core::{Progress, Quality, Transcript};
use clipforge_jumpcut::{Mode, Settings};
use clipforge_media::RunContext;
use clipforge_pipeline::jumpcut::{jumpcut as cut, ExportFormat, JumpcutJob};

use crate::config::Config;
use crate::progress::TerminalProgress;
use crate::transcribe::{transcribe_file, AsrArgs};

/// `clipforge jumpcut`.
#[derive(Debug, Args)]
pub struct JumpcutArgs {
    /// The video to cut.
    input: PathBuf,
    /// Output file (default: INPUT's name + `-jumpcut.mp4`, beside it).
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// What counts as speech: loudness against the file's own level, voice activity, or
    /// the words of a transcript (transcribes the video unless --transcript is given).
    #[arg(long, value_enum, default_value_t = ModeArg::Loudness)]
    mode: ModeArg,
    /// Loudness mode: how far below the file's speech level (dB) sound counts as silence.
    #[arg(long, value_name = "DB", allow_negative_numbers = true)]
    threshold: Option<f64>,
    /// Seconds kept before and after speech (sets both margins).
    #[arg(long, value_name = "S")]
    margin: Option<f64>,
    /// Seconds kept before speech.
    #[arg(long, value_name = "S")]
    margin_before: Option<f64>,
    /// Seconds kept after speech.
    #[arg(long, value_name = "S")]
    margin_after: Option<f64>,
    /// Shortest silence that is cut, in seconds.
    #[arg(long, value_name = "S")]
    min_silence: Option<f64>,
    /// Shortest stretch of speech kept, in seconds (shorter sounds are clicks and coughs).
    #[arg(long, value_name = "S")]
    min_kept: Option<f64>,
    /// Keep short breaths inside sentences instead of cutting them.
    #[arg(long)]
    keep_breaths: bool,
    /// Play silences this many times faster instead of cutting them.
    #[arg(long, value_name = "X")]
    silence_speed: Option<f64>,
    /// Cut filler words (um, uh, erm, …); needs a transcript, so the video is transcribed
    /// unless --transcript is given. On in words mode.
    #[arg(long)]
    remove_fillers: bool,
    /// The filler words, comma-separated (default: um, uh, erm, er, ah, hmm, mm, uhm, umm).
    #[arg(long, value_name = "WORDS", value_delimiter = ',')]
    fillers: Option<Vec<String>>,
    /// Also cut repeated false starts ("I went- I went to"); needs a transcript.
    #[arg(long)]
    remove_false_starts: bool,
    /// Also write the cut list for editors, beside the output (repeatable).
    #[arg(long, value_enum, value_name = "FORMAT")]
    export: Vec<ExportArg>,
    /// Transcript JSON of the input (from `clipforge transcribe`) for words mode and fillers.
    #[arg(long, value_name = "FILE")]
    transcript: Option<PathBuf>,
    /// draft (540p), standard (the source's size, fast encode, larger file) or high (the
    /// source's size, slower encode, compact file).
    #[arg(long, default_value = "standard")]
    quality: Quality,
    #[command(flatten)]
    asr: AsrArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ModeArg {
    Loudness,
    Speech,
    Words,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ExportArg {
    Json,
    Fcpxml,
    Edl,
}

impl JumpcutArgs {
    /// The flags over the defaults, checked.
    fn settings(&self) -> anyhow::Result<Settings> {
        let mut s = Settings {
            mode: match self.mode {
                ModeArg::Loudness => Mode::Loudness,
                ModeArg::Speech => Mode::Speech,
                ModeArg::Words => Mode::Words,
            },
            ..Settings::default()
        };
        if let Some(v) = self.threshold {
            // Below the speech level, whichever sign the user typed.
            s.threshold_db = -v.abs();
        }
        if let Some(v) = self.margin {
            s.margin_before = v;
            s.margin_after = v;
        }
        if let Some(v) = self.margin_before {
            s.margin_before = v;
        }
        if let Some(v) = self.margin_after {
            s.margin_after = v;
        }
        if let Some(v) = self.min_silence {
            s.min_silence = v;
        }
        if let Some(v) = self.min_kept {
            s.min_kept = v;
        }
        s.keep_breaths = self.keep_breaths;
        s.silence_speed = self.silence_speed;
        s.remove_fillers = self.remove_fillers || self.mode == ModeArg::Words;
        if let Some(words) = &self.fillers {
            s.fillers = words
                .iter()
                .map(|w| w.trim().to_string())
                .filter(|w| !w.is_empty())
                .collect();
        }
        s.remove_false_starts = self.remove_false_starts;
        s.validate().map_err(|e| anyhow::anyhow!("{e}"))?;
        Ok(s)
    }

    /// Whether the cut needs the words of the video.
    fn needs_words(&self) -> bool {
        self.mode == ModeArg::Words || self.remove_fillers || self.remove_false_starts
    }

    fn exports(&self) -> Vec<ExportFormat> {
        let mut all: Vec<ExportFormat> = self
            .export
            .iter()
            .map(|e| match e {
                ExportArg::Json => ExportFormat::Json,
                ExportArg::Fcpxml => ExportFormat::Fcpxml,
                ExportArg::Edl => ExportFormat::Edl,
            })
            .collect();
        all.dedup();
        all
    }
}

/// `INPUT`'s name with `-jumpcut.mp4`, in the input's folder.
fn default_output(input: &Path) -> PathBuf {
    let stem = input
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "video".into());
    input.with_file_name(format!("{stem}-jumpcut.mp4"))
}

pub async fn run(args: JumpcutArgs, config: &Config) -> anyhow::Result<()> {
    let settings = args.settings()?;
    let input = &args.input;
    anyhow::ensure!(
        input.is_file(),
        "{} does not exist or is not a file",
        input.display()
    );
    let output = args.output.clone().unwrap_or_else(|| default_output(input));
    anyhow::ensure!(
        std::path::absolute(&output).ok() != std::path::absolute(input).ok(),
        "the output would overwrite the input {}; choose another with -o",
        input.display()
    );
    let transcript: Option<Transcript> = match (&args.transcript, args.needs_words()) {
        (Some(path), _) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            Some(serde_json::from_str(&text).with_context(|| {
                format!(
                    "{} is not a clipforge transcript (make one with `clipforge transcribe`)",
                    path.display()
                )
            })?)
        }
        (None, true) => Some(transcribe_file(input, &args.asr, config).await?),
        (None, false) => None,
    };
    let exports = args.exports();
    let job = JumpcutJob {
        input,
        output: &output,
        settings: &settings,
        transcript: transcript.as_ref(),
        quality: args.quality,
        exports: &exports,
    };
    let progress = TerminalProgress::new();
    progress.stage("analysing");
    let result = cut(&job, &RunContext::default(), &progress).await;
    progress.finish();
    let outcome = result?;
    let mut summary = format!(
        "{}: {} → {} ({} removed, {:.0} %; {} cuts",
        outcome.output.display(),
        clock(outcome.duration_in),
        clock(outcome.duration_out),
        clock(outcome.removed_seconds),
        outcome.removed_percent,
        outcome.cuts,
    );
    if settings.remove_fillers && transcript.is_some() {
        summary.push_str(&format!(", {} filler words", outcome.fillers));
    }
    summary.push(')');
    if !outcome.has_audio {
        summary.push_str("; the input has no sound, so the output has none");
    }
    eprintln!("{summary}");
    for path in &outcome.exports {
        eprintln!("{}", path.display());
    }
    Ok(())
}

/// `m:ss.s` (or `h:mm:ss`) for people.
fn clock(seconds: f64) -> String {
    let s = seconds.max(0.0);
    let whole = s as u64;
    if whole >= 3600 {
        format!("{}:{:02}:{:02}", whole / 3600, whole / 60 % 60, whole % 60)
    } else {
        format!("{}:{:04.1}", whole / 60, s - (whole / 60 * 60) as f64)
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        args: JumpcutArgs,
    }

    fn parse(line: &[&str]) -> JumpcutArgs {
        let mut all = vec!["jumpcut", "talk.mp4"];
        all.extend_from_slice(line);
        Cli::try_parse_from(all).unwrap().args
    }

    #[test]
    fn flags_become_settings() {
        let s = parse(&[
            "--threshold",
            "-25",
            "--margin",
            "0.1",
            "--min-silence",
            "0.8",
        ])
        .settings()
        .unwrap();
        assert_eq!(s.threshold_db, -25.0);
        assert_eq!((s.margin_before, s.margin_after), (0.1, 0.1));
        assert_eq!(s.min_silence, 0.8);
        assert!(!s.remove_fillers);
        let words = parse(&["--mode", "words", "--fillers", "um, like"]);
        assert!(words.needs_words());
        let s = words.settings().unwrap();
        assert!(s.remove_fillers);
        assert_eq!(s.fillers, ["um", "like"]);
        assert!(!parse(&[]).needs_words());
    }

    #[test]
    fn bad_settings_name_the_setting() {
        let err = parse(&["--min-silence=-1"]).settings().unwrap_err();
        assert!(err.to_string().contains("min_silence"), "{err}");
    }

    #[test]
    fn times_read_like_a_clock() {
        assert_eq!(clock(75.25), "1:15.2");
        assert_eq!(clock(3725.0), "1:02:05");
        assert_eq!(
            default_output(Path::new("/v/talk.mov")),
            PathBuf::from("/v/talk-jumpcut.mp4")
        );
    }
}
