//! `clipforge suggest`: the best moments of a video or a transcript.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{bail, Context};
use clap::Args;
use serde::Serialize;

use clipforge_core::{ClipSuggestion, Genre, SuggestParams, Transcript};
use clipforge_highlights::embed::load_embedder;
use clipforge_highlights::llm::{self, LlmConfig, TranscriptLine};
use clipforge_highlights::{Analysis, Moments, SuggestOutcome};
use clipforge_pipeline::listen;

use crate::config::Config;
use crate::transcribe::{transcribe_file, write_atomically, AsrArgs};

#[derive(Debug, Args)]
pub struct SuggestArgs {
    /// A video or audio file (transcribed first), or a transcript JSON from
    /// `clipforge transcribe`.
    input: PathBuf,
    /// Most suggestions to return.
    #[arg(long = "max", value_name = "N", default_value_t = 10)]
    max: usize,
    /// Shortest clip in seconds.
    #[arg(long, value_name = "S", default_value_t = 20.0)]
    min_duration: f64,
    /// Longest clip in seconds (at most 180).
    #[arg(long, value_name = "S", default_value_t = 60.0)]
    max_duration: f64,
    /// Drop suggestions scoring below this (0–100).
    #[arg(long, value_name = "X", default_value_t = 0.0)]
    min_score: f64,
    /// Print JSON instead of a readable list.
    #[arg(long)]
    json: bool,
    /// Write to FILE instead of standard output (written only on success).
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// A word or phrase whose mentions raise a clip's score (repeatable).
    #[arg(long = "keyword", value_name = "TEXT")]
    keywords: Vec<String>,
    /// The kind of recording: podcast, interview, webinar, talk or stream.
    #[arg(long, value_name = "GENRE")]
    genre: Option<Genre>,
    /// Do not favour clips that open on a hook.
    #[arg(long)]
    no_hooks: bool,
    /// Allow clips with pauses longer than 3 s and soften the pacing penalty.
    #[arg(long)]
    allow_long_pauses: bool,
    /// Do not favour emotional peaks.
    #[arg(long)]
    no_emotional_peaks: bool,
    /// Sentence-embedding model folder (default: the installed all-MiniLM-L6-v2).
    #[arg(long, value_name = "DIR")]
    embed_model: Option<PathBuf>,
    /// With a transcript input: the video or audio it came from, for the audio cues
    /// (loudness, speaker changes).
    #[arg(long, value_name = "FILE")]
    media: Option<PathBuf>,
    /// Re-rank and title the best candidates with a language model (any OpenAI-compatible
    /// chat API; see `[llm]` in the config and CLIPFORGE_LLM_*).
    #[arg(long)]
    llm: bool,
    /// Never use the language model, even when the config enables it.
    #[arg(long, conflicts_with = "llm")]
    no_llm: bool,
    /// API root of the language model, e.g. http://localhost:11434/v1 (implies --llm).
    #[arg(long, value_name = "URL")]
    llm_url: Option<String>,
    /// Model name for the language model.
    #[arg(long, value_name = "NAME")]
    llm_model: Option<String>,
    /// Save the transcript of a video input as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    save_transcript: Option<PathBuf>,
    #[command(flatten)]
    asr: AsrArgs,
}

/// The JSON document `suggest --json` prints.
#[derive(Debug, Serialize)]
struct Report<'a> {
    suggestions: &'a [ClipSuggestion],
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    warnings: Vec<String>,
}

pub async fn run(args: SuggestArgs, config: &Config) -> anyhow::Result<()> {
    let mut params = SuggestParams {
        min_duration: args.min_duration,
        max_duration: args.max_duration,
        min_score: args.min_score,
        max_suggestions: args.max,
        keywords: args.keywords.clone(),
        genre: args.genre,
        ..SuggestParams::default()
    };
    params.preferences.include_hooks = !args.no_hooks;
    params.preferences.avoid_long_pauses = !args.allow_long_pauses;
    params.preferences.prefer_emotional_peaks = !args.no_emotional_peaks;
    params.validate().map_err(|e| anyhow::anyhow!("{e}"))?;

    let mut warnings = Vec::new();
    let embedder = load_embedder(args.embed_model.as_deref(), &mut warnings)?;
    let (transcript, analysis) = load_input(&args, config).await?;
    let moments = tokio::task::block_in_place(|| {
        Moments::prepare(&transcript, &params, analysis, embedder.as_ref())
    })?;
    let llm = llm_config(&args, config)?;
    let max = params.max_suggestions;
    // The model sees more candidates than the user asked for, so that it can lift a
    // moment the local score ranked lower. Picking is greedy, so the first `max` of the
    // wider pick are exactly the local answer.
    let wanted = llm.as_ref().map_or(max, |l| l.top_candidates.max(max));
    let mut outcome = moments.suggest_up_to(wanted);
    match llm {
        Some(llm) if !outcome.suggestions.is_empty() => {
            let lines: Vec<TranscriptLine<'_>> = moments
                .sentences()
                .sentences
                .iter()
                .map(|s| TranscriptLine {
                    start: s.start,
                    end: s.end,
                    text: &s.text,
                })
                .collect();
            let resnap = |start: f64, end: f64| moments.resnap(start, end);
            let candidates = std::mem::take(&mut outcome.suggestions);
            let ranked = llm::rank(&llm, &lines, candidates, &resnap, max).await?;
            warnings.extend(ranked.warnings);
            outcome.suggestions = ranked
                .suggestions
                .into_iter()
                .filter(|s| s.score >= params.min_score)
                .collect();
        }
        _ => outcome.suggestions.truncate(max),
    }
    let text = if args.json {
        let report = Report {
            suggestions: &outcome.suggestions,
            message: outcome.message.as_deref(),
            warnings,
        };
        serde_json::to_string_pretty(&report)? + "\n"
    } else {
        for w in &warnings {
            eprintln!("warning: {w}");
        }
        readable(&outcome)
    };
    match &args.output {
        Some(path) => write_atomically(path, text.as_bytes())?,
        None => std::io::stdout().lock().write_all(text.as_bytes())?,
    }
    Ok(())
}

/// The language-model settings when ranking is on: `--llm`/`--llm-url` or `llm.enabled`
/// turn it on, `--no-llm` off; flags win over `CLIPFORGE_LLM_*`, which win over the file.
fn llm_config(args: &SuggestArgs, config: &Config) -> anyhow::Result<Option<LlmConfig>> {
    let file = &config.llm;
    let on = !args.no_llm && (args.llm || args.llm_url.is_some() || file.enabled);
    if !on {
        return Ok(None);
    }
    let mut llm = LlmConfig::default();
    let base_url = args.llm_url.clone().or_else(|| file.base_url.clone());
    // A key configured for one server is never sent to a server named on the command line.
    let key_matches = args.llm_url.is_none() || args.llm_url == file.base_url;
    if let Some(url) = base_url {
        llm.base_url = url;
    }
    if key_matches {
        llm.api_key.clone_from(&file.api_key);
    }
    if let Some(model) = args.llm_model.clone().or_else(|| file.model.clone()) {
        llm.model = model;
    }
    Ok(Some(llm))
}

/// Reads a transcript JSON, or transcribes a media file; then listens to the media.
async fn load_input(args: &SuggestArgs, config: &Config) -> anyhow::Result<(Transcript, Analysis)> {
    let input = &args.input;
    if !input.exists() {
        bail!("{} does not exist", input.display());
    }
    let is_json = input
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    let (transcript, media) = if is_json {
        let text = std::fs::read_to_string(input)
            .with_context(|| format!("cannot read {}", input.display()))?;
        let transcript: Transcript = serde_json::from_str(&text).with_context(|| {
            format!(
                "{} is not a clipforge transcript (make one with `clipforge transcribe VIDEO -o {}`)",
                input.display(),
                input.display()
            )
        })?;
        (transcript, args.media.clone())
    } else {
        if args.media.is_some() {
            bail!(
                "--media is for transcript inputs; {} is media already",
                input.display()
            );
        }
        let transcript = transcribe_file(input, &args.asr, config).await?;
        if let Some(path) = &args.save_transcript {
            let json =
                clipforge_captions::export(&transcript, clipforge_captions::SubtitleFormat::Json);
            write_atomically(path, json.as_bytes())?;
        }
        (transcript, Some(input.clone()))
    };
    let Some(media) = media else {
        return Ok((transcript, Analysis::default()));
    };
    let analysis = listen(&media)
        .await
        .with_context(|| format!("cannot analyse the audio of {}", media.display()))?;
    Ok((transcript, analysis))
}

fn clock(seconds: f64) -> String {
    let s = seconds.max(0.0);
    let (m, s) = ((s / 60.0).floor(), s % 60.0);
    if m >= 60.0 {
        format!("{}:{:02}:{:04.1}", (m / 60.0).floor(), m % 60.0, s)
    } else {
        format!("{m}:{s:04.1}")
    }
}

/// A numbered list for a terminal.
fn readable(outcome: &SuggestOutcome) -> String {
    let mut out = String::new();
    if let Some(message) = &outcome.message {
        out.push_str(&format!("No suggestions: {message}.\n"));
        return out;
    }
    for (i, s) in outcome.suggestions.iter().enumerate() {
        let b = &s.breakdown;
        out.push_str(&format!(
            "{:>2}. {} – {}  ({:.0} s)  score {:.0}  \"{}\"\n",
            i + 1,
            clock(s.start),
            clock(s.end),
            s.duration,
            s.score,
            s.title
        ));
        out.push_str(&format!("    {}\n", s.reason));
        out.push_str(&format!("    hook: {}\n", s.hook));
        out.push_str(&format!(
            "    hook {:.2} · emotion {:.2} · topic {:.2} · completeness {:.2} · pacing {:.2} · visual {:.2}\n",
            b.hook, b.emotion, b.topic, b.completeness, b.pacing, b.visual
        ));
        if !s.highlights.is_empty() {
            out.push_str(&format!("    {}\n", s.highlights.join(" · ")));
        }
        if !s.hashtags.is_empty() {
            out.push_str(&format!("    {}\n", s.hashtags.join(" ")));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_formats_minutes_and_hours() {
        assert_eq!(clock(5.25), "0:05.2");
        assert_eq!(clock(125.0), "2:05.0");
        assert_eq!(clock(3725.0), "1:02:05.0");
    }
}
