//! Runs analyse + plan on a synthetic video whose true face path is known and prints how well
//! the crop keeps the face centred. Used by `scripts/reframe-eval.sh`.
//!
//! `reframe_eval moving|turns VIDEO` or `reframe_eval find-face RAW_GRAY WIDTH HEIGHT`.

use std::time::Instant;

use anyhow::{bail, Context};
use clipforge_core::{Framing, ReframeMode};
use clipforge_media::{probe, GrayFrame, RunContext};
use clipforge_reframe::{analyse, plan, ReframeSettings, SpeakerTurn};

#[path = "../tests/support/truth.rs"]
mod truth;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("find-face") => {
            let pixels = std::fs::read(&args[1])?;
            let frame = GrayFrame {
                time: 0.0,
                width: args[2].parse()?,
                height: args[3].parse()?,
                pixels,
            };
            for f in clipforge_reframe::detect_frame(&frame, &ReframeSettings::default())? {
                println!(
                    "{:.0} {:.0} {:.0} {:.0} {:.2}",
                    f.x, f.y, f.width, f.height, f.score
                );
            }
            Ok(())
        }
        Some(scenario @ ("moving" | "turns")) => {
            let video = args.get(1).context("missing VIDEO")?;
            // REFRAME_SETTINGS='{"min_face_size":48}' tries other tunings.
            let settings: ReframeSettings = match std::env::var("REFRAME_SETTINGS") {
                Ok(json) => serde_json::from_str(&json)?,
                Err(_) => ReframeSettings::default(),
            };
            let started = Instant::now();
            let stream = probe(video.as_ref())
                .await?
                .video
                .context("the video has no video stream")?;
            let analysis = analyse(
                video.as_ref(),
                &stream,
                0.0,
                20.0,
                &RunContext::default(),
                &settings,
            )
            .await?;
            let analyse_s = started.elapsed().as_secs_f64();
            let turns: Vec<SpeakerTurn> = if scenario == "turns" {
                truth::turns_speakers()
            } else {
                Vec::new()
            };
            let framing = plan(&analysis, (9, 16), ReframeMode::Auto, &turns, &settings);
            let Framing::Crop { path } = framing else {
                bail!("expected a crop, got {framing:?}");
            };
            let truth_at = |t: f64| {
                if scenario == "turns" {
                    truth::turns(t)
                } else {
                    truth::moving(t)
                }
            };
            let report = truth::score(&path, 20.0, 10.0, truth_at);
            let cuts = path
                .keys
                .windows(2)
                .filter(|w| w[0].time == w[1].time)
                .count();
            println!(
                "{scenario}: inside middle 60%: {:.1}% of {} frames; mean |dx| {:.2} px/frame; keys {}; cuts {}; analyse {:.2} s for 20 s",
                report.inside * 100.0,
                report.frames,
                report.mean_dx,
                path.keys.len(),
                cuts,
                analyse_s
            );
            Ok(())
        }
        _ => bail!("usage: reframe_eval moving|turns VIDEO | find-face RAW W H"),
    }
}
