//! The cut list as JSON, for scripts and the renderer.

use serde::Serialize;

use super::SourceInfo;
use crate::{Counts, JumpcutError, Plan};

#[derive(Serialize)]
struct Document<'a> {
    source: Source<'a>,
    frame_rate: String,
    fps: f64,
    pieces: Vec<Piece>,
    duration_in: f64,
    duration_out: f64,
    output_frames: u64,
    removed_seconds: f64,
    removed_percent: f64,
    counts: Counts,
}

#[derive(Serialize)]
struct Source<'a> {
    path: &'a str,
    width: u32,
    height: u32,
    duration: f64,
}

#[derive(Serialize)]
struct Piece {
    start: f64,
    end: f64,
    speed: f64,
    start_frame: u64,
    end_frame: u64,
    output_start: f64,
    output_end: f64,
    output_frames: u64,
}

/// The plan as pretty JSON: source, frame rate (`"30000/1001"` and as a number), pieces
/// with source and output times and frames, and the totals.
pub fn to_json(plan: &Plan, source: &SourceInfo) -> Result<String, JumpcutError> {
    source.check(plan)?;
    let rate = plan.frame_rate;
    let pieces = plan
        .pieces
        .iter()
        .zip(plan.output_start_frames())
        .map(|(p, at)| Piece {
            start: p.start,
            end: p.end,
            speed: p.speed,
            start_frame: p.start_frame,
            end_frame: p.end_frame,
            output_start: rate.seconds(at),
            output_end: rate.seconds(at + p.output_frames),
            output_frames: p.output_frames,
        })
        .collect();
    let doc = Document {
        source: Source {
            path: &source.path,
            width: source.width,
            height: source.height,
            duration: source.duration,
        },
        frame_rate: rate.into(),
        fps: rate.fps(),
        pieces,
        duration_in: plan.duration_in,
        duration_out: plan.duration_out,
        output_frames: plan.output_frames(),
        removed_seconds: plan.removed.seconds,
        removed_percent: plan.removed.percent,
        counts: plan.counts,
    };
    serde_json::to_string_pretty(&doc)
        .map_err(|e| JumpcutError::input("plan", format!("cannot be written as JSON: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::tests_support::sample_plan;
    use crate::FrameRate;

    #[test]
    fn json_holds_source_pieces_and_totals() {
        let plan = sample_plan(FrameRate::FPS_25, Some(4.0));
        let source = SourceInfo::new("/v/a.mp4", FrameRate::FPS_25, 1280, 720, 10.0);
        let v: serde_json::Value = serde_json::from_str(&to_json(&plan, &source).unwrap()).unwrap();
        assert_eq!(v["source"]["path"], "/v/a.mp4");
        assert_eq!(v["frame_rate"], "25/1");
        assert_eq!(v["fps"], 25.0);
        let pieces = v["pieces"].as_array().unwrap();
        assert_eq!(pieces.len(), plan.pieces.len());
        assert_eq!(pieces[1]["start_frame"], 21);
        assert_eq!(pieces[1]["speed"], 1.0);
        assert_eq!(pieces[1]["output_start"], 0.2);
        assert_eq!(v["output_frames"], plan.output_frames());
        assert_eq!(v["counts"]["sped_up"], 3);
        let last = pieces.last().unwrap();
        assert_eq!(last["output_end"], plan.duration_out);
    }

    #[test]
    fn json_refuses_a_source_at_another_rate() {
        let plan = sample_plan(FrameRate::FPS_25, None);
        let source = SourceInfo::new("/v/a.mp4", FrameRate::FPS_30, 1280, 720, 10.0);
        assert!(matches!(
            to_json(&plan, &source),
            Err(JumpcutError::InvalidInput {
                field: "source.frame_rate",
                ..
            })
        ));
    }
}
