//! Rendering a jump cut in one ffmpeg pass: kept frame ranges of the source, in order,
//! some of them sped up, encoded to H.264/AAC with `+faststart`.
//!
//! Sync comes from cutting both streams on one timeline, not from timestamps ffmpeg
//! guesses:
//! - video is first made constant-rate on the output grid (`fps=NUM/DEN:start_time=0`), so
//!   frame `n` is the picture at `n * DEN / NUM` seconds even for variable-rate input, and
//!   `select` keeps frames by that index;
//! - audio is resampled to 48 kHz with `first_pts=0` and gaps filled (`async=1`), so sample
//!   `k` is the sound at `k / 48000` seconds, and `asegment` splits it at the samples that
//!   correspond to the same frame boundaries;
//! - every kept audio piece is forced (`apad` + `atrim`) to the exact number of samples its
//!   output frames span, counted from the *cumulative* output frame number, so rounding
//!   never accumulates: after any number of cuts audio and video differ by under a sample;
//! - each audio piece fades in and out over a few milliseconds, so cuts do not click.
//!
//! Nothing is held in memory: the graph streams, and the long `select`/`asegment` lists go
//! to ffmpeg in a script file rather than on the command line.

use std::ffi::OsString;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::context::{ffmpeg_path, work_timeout};
use crate::{FfmpegProgress, MediaError, RunContext};

/// Output audio sample rate, Hz.
pub const JUMPCUT_SAMPLE_RATE: u32 = 48_000;

/// Length of the fade at each side of every audio piece, in seconds: long enough to hide
/// the step of a cut, short enough not to be heard as a dip.
pub const CUT_FADE_SECONDS: f64 = 0.005;

/// Output silence appended to a sped-up piece before `atempo`, seconds: more than atempo
/// holds back at the end of its input.
const ATEMPO_TAIL_SECONDS: f64 = 0.1;

/// Name of the filter script inside the render's work folder.
const SCRIPT_FILE: &str = "jumpcut.filter";

/// One stretch of the source, on the output frame grid, that goes into the output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeptRange {
    /// First source frame kept.
    pub start_frame: u64,
    /// Source frame after the last one.
    pub end_frame: u64,
    /// Frames this range makes in the output: `end_frame - start_frame` at normal speed,
    /// fewer for a sped-up range (then evenly spaced frames are kept).
    pub output_frames: u64,
}

impl KeptRange {
    /// Source frames the range spans.
    pub fn source_frames(&self) -> u64 {
        self.end_frame - self.start_frame
    }

    /// Playback speed (1.0, or above 1 when sped up).
    pub fn speed(&self) -> f64 {
        self.source_frames() as f64 / self.output_frames as f64
    }
}

/// Everything one jump-cut render needs, decided by the caller.
#[derive(Debug, Clone, PartialEq)]
pub struct JumpcutRenderSpec {
    /// The source video.
    pub input: PathBuf,
    /// Output frame rate numerator; frame numbers in `ranges` are on this grid.
    pub fps_num: u32,
    /// Output frame rate denominator.
    pub fps_den: u32,
    /// Kept ranges, sorted and non-overlapping.
    pub ranges: Vec<KeptRange>,
    /// Whether the source has sound; without it the output is video only.
    pub has_audio: bool,
    /// AAC bit rate of the output's sound in kbit/s.
    pub audio_kbps: u32,
    /// x264 constant rate factor.
    pub crf: u32,
    /// x264 preset.
    pub preset: String,
    /// Scale down so the shorter side is at most this many pixels; `None` keeps the
    /// source's size.
    pub max_short_side: Option<u32>,
}

impl JumpcutRenderSpec {
    /// Frames in the output.
    pub fn output_frames(&self) -> u64 {
        self.ranges.iter().map(|r| r.output_frames).sum()
    }

    /// Seconds of output.
    pub fn output_seconds(&self) -> f64 {
        self.frame_seconds(self.output_frames())
    }

    fn frame_seconds(&self, frames: u64) -> f64 {
        frames as f64 * f64::from(self.fps_den) / f64::from(self.fps_num)
    }

    /// The first audio sample at or after frame `frame`'s start (rounded to nearest), at
    /// [`JUMPCUT_SAMPLE_RATE`]. Exact integer arithmetic: no drift over hours.
    pub fn frame_sample(&self, frame: u64) -> u64 {
        let num = u128::from(frame) * u128::from(JUMPCUT_SAMPLE_RATE) * u128::from(self.fps_den);
        let den = u128::from(self.fps_num);
        ((num * 2 + den) / (den * 2)) as u64
    }

    fn validate(&self) -> Result<(), MediaError> {
        let bad = |detail: String| {
            Err(MediaError::InvalidArgument {
                name: "jump cut",
                detail,
            })
        };
        if self.fps_num == 0 || self.fps_den == 0 {
            return bad(format!(
                "{}/{} is not a frame rate",
                self.fps_num, self.fps_den
            ));
        }
        let fps = f64::from(self.fps_num) / f64::from(self.fps_den);
        if !(1.0..=240.0).contains(&fps) {
            return bad(format!("{fps:.3} fps is outside 1–240"));
        }
        if self.ranges.is_empty() {
            return bad("nothing to keep: no ranges were given".into());
        }
        let mut after = 0;
        for (i, r) in self.ranges.iter().enumerate() {
            if r.end_frame <= r.start_frame || r.start_frame < after {
                return bad(format!(
                    "range {i} (frames {}..{}) is empty, overlaps or is out of order",
                    r.start_frame, r.end_frame
                ));
            }
            if r.output_frames == 0 || r.output_frames > r.source_frames() {
                return bad(format!(
                    "range {i} makes {} frames from {}; it must make 1 to {}",
                    r.output_frames,
                    r.source_frames(),
                    r.source_frames()
                ));
            }
            if r.speed() > 100.0 {
                return bad(format!(
                    "range {i} is sped up {:.1}x; at most 100x is supported",
                    r.speed()
                ));
            }
            after = r.end_frame;
        }
        if let Some(side) = self.max_short_side {
            if side < 16 {
                return bad(format!("a short side of {side} px is too small"));
            }
        }
        Ok(())
    }
}

/// The `select` expression keeping exactly `output_frames` frames of each range: every
/// frame at normal speed, for a sped-up range the first frame of each of `output_frames`
/// equal buckets (frame `a + floor(i * len / out)` for output frame `i`).
///
/// A binary search over the ranges (`if` evaluates one branch): each frame costs
/// `log2(ranges)` comparisons, and the nesting stays far below the depth ffmpeg's
/// expression parser accepts (a flat sum of more than about 100 terms is refused).
fn select_expression(ranges: &[KeptRange]) -> String {
    match ranges {
        [] => "0".to_owned(),
        [r] => range_expression(r),
        _ => {
            let (left, right) = ranges.split_at(ranges.len() / 2);
            format!(
                "if(lt(n,{}),{},{})",
                right[0].start_frame,
                select_expression(left),
                select_expression(right)
            )
        }
    }
}

fn range_expression(r: &KeptRange) -> String {
    let (a, last) = (r.start_frame, r.end_frame - 1);
    if r.output_frames == r.source_frames() {
        format!("between(n,{a},{last})")
    } else {
        // Frame n starts output bucket floor((n-a)*out/len); keep it when that bucket
        // differs from the previous frame's. Integers below 2^53 divide exactly.
        let (out, len) = (r.output_frames, r.source_frames());
        format!(
            "between(n,{a},{last})*(eq(n,{a})+gt(floor((n-{a})*{out}/{len}),floor((n-{a}-1)*{out}/{len})))"
        )
    }
}

/// `atempo` filters reaching `speed` (each instance accepts 0.5–100).
fn atempo_chain(speed: f64) -> String {
    let mut parts = Vec::new();
    let mut left = speed;
    while left > 100.0 {
        parts.push("atempo=100".to_owned());
        left /= 100.0;
    }
    parts.push(format!("atempo={left:.9}"));
    parts.join(",")
}

/// The whole filter graph: `[v]` always, `[a]` when the spec has audio.
pub fn jumpcut_graph(spec: &JumpcutRenderSpec) -> String {
    let (num, den) = (spec.fps_num, spec.fps_den);
    let total = spec.output_frames();
    let mut g = String::new();
    let _ = write!(
        g,
        "[0:v:0]fps=fps={num}/{den}:start_time=0,select='{}',setpts=N*{den}/({num}*TB)",
        select_expression(&spec.ranges)
    );
    // A video stream ending before the planned last frame still gives every frame.
    let _ = write!(
        g,
        ",tpad=stop_mode=clone:stop={},trim=end_frame={total}",
        num.div_ceil(den) * 2
    );
    if let Some(side) = spec.max_short_side {
        let _ = write!(
            g,
            ",scale=w='if(lt(iw,ih),min(iw,{side}),-2)':h='if(lt(iw,ih),-2,min(ih,{side}))'"
        );
    }
    g.push_str(",format=yuv420p[v]");
    if spec.has_audio {
        g.push_str(";\n");
        audio_graph(spec, &mut g);
    }
    g
}

fn audio_graph(spec: &JumpcutRenderSpec, g: &mut String) {
    let rate = JUMPCUT_SAMPLE_RATE;
    // Sample boundaries of every range, and which segment each range becomes.
    let mut bounds: Vec<u64> = Vec::with_capacity(spec.ranges.len() * 2);
    for r in &spec.ranges {
        for s in [
            spec.frame_sample(r.start_frame),
            spec.frame_sample(r.end_frame),
        ] {
            if s > 0 && bounds.last() != Some(&s) {
                bounds.push(s);
            }
        }
    }
    let segment_of = |sample: u64| bounds.partition_point(|&b| b <= sample);
    let _ = write!(
        g,
        "[0:a:0]aresample={rate}:async=1:first_pts=0,aformat=sample_fmts=fltp:channel_layouts=stereo"
    );
    let segments = bounds.len() + 1;
    if segments > 1 {
        let list: Vec<String> = bounds.iter().map(u64::to_string).collect();
        let _ = write!(g, ",asegment=samples={}", list.join("|"));
        for i in 0..segments {
            let _ = write!(g, "[s{i}]");
        }
    } else {
        g.push_str("[s0]");
    }
    g.push_str(";\n");
    let kept: Vec<usize> = spec
        .ranges
        .iter()
        .map(|r| segment_of(spec.frame_sample(r.start_frame)))
        .collect();
    for i in (0..segments).filter(|i| !kept.contains(i)) {
        let _ = writeln!(g, "[s{i}]anullsink;");
    }
    let fade = (CUT_FADE_SECONDS * f64::from(rate)).round() as u64;
    let mut out_frames = 0;
    for (k, (r, seg)) in spec.ranges.iter().zip(&kept).enumerate() {
        // Samples this range fills, from the cumulative frame count: no drift.
        let first = spec.frame_sample(out_frames);
        out_frames += r.output_frames;
        let n = spec.frame_sample(out_frames) - first;
        let f = fade.min(n / 2);
        let _ = write!(g, "[s{seg}]asetpts=NB_CONSUMED_SAMPLES/SR/TB");
        if r.output_frames != r.source_frames() {
            // atempo keeps back the last few milliseconds of what it is given, so the
            // piece is faded out on the source side and followed by silence before it is
            // sped up: what atempo keeps back is then silence, and the exact-length trim
            // below never exposes an unfaded edge.
            let len = spec.frame_sample(r.end_frame) - spec.frame_sample(r.start_frame);
            let sf = ((f as f64 * r.speed()).round() as u64).min(len / 2);
            if sf > 0 {
                let _ = write!(
                    g,
                    ",afade=t=in:nb_samples={sf},afade=t=out:start_sample={}:nb_samples={sf}",
                    len - sf
                );
            }
            let tail = (ATEMPO_TAIL_SECONDS * r.speed() * f64::from(rate)).round() as u64;
            let _ = write!(g, ",apad=pad_len={tail},{}", atempo_chain(r.speed()));
        }
        let _ = write!(
            g,
            ",apad=whole_len={n},atrim=end_sample={n},asetpts=NB_CONSUMED_SAMPLES/SR/TB"
        );
        if f > 0 {
            let _ = write!(
                g,
                ",afade=t=in:nb_samples={f},afade=t=out:start_sample={}:nb_samples={f}",
                n - f
            );
        }
        let _ = writeln!(g, "[k{k}];");
    }
    for k in 0..spec.ranges.len() {
        let _ = write!(g, "[k{k}]");
    }
    let _ = write!(g, "concat=n={}:v=0:a=1[a]", spec.ranges.len());
}

/// `path` made absolute: ffmpeg runs in the work folder.
fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

/// A folder for the render's files next to the output, removed when dropped.
fn work_dir(output: &Path) -> Result<tempfile::TempDir, MediaError> {
    let parent = output
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let parent = &absolute(parent);
    std::fs::create_dir_all(parent)
        .map_err(|e| MediaError::io(format!("creating {}", parent.display()), e))?;
    tempfile::Builder::new()
        .prefix(".clipforge-jumpcut-")
        .tempdir_in(parent)
        .map_err(|e| MediaError::io(format!("creating a work folder in {}", parent.display()), e))
}

/// Renders the jump cut to `output` (MP4) in one ffmpeg pass, reporting seconds of output
/// done. The file appears only when complete; on failure or cancellation nothing is left.
#[tracing::instrument(level = "debug", skip_all, fields(input = %spec.input.display(), ranges = spec.ranges.len()))]
pub async fn render_jumpcut(
    spec: &JumpcutRenderSpec,
    output: &Path,
    ctx: &RunContext,
    mut on_progress: impl FnMut(FfmpegProgress) + Send,
) -> Result<(), MediaError> {
    spec.validate()?;
    let work = work_dir(output)?;
    let script = work.path().join(SCRIPT_FILE);
    tokio::fs::write(&script, jumpcut_graph(spec))
        .await
        .map_err(|e| MediaError::io(format!("writing {}", script.display()), e))?;
    let part = work.path().join("jumpcut.mp4");
    let mut args: Vec<OsString> = vec!["-i".into(), ffmpeg_path(&absolute(&spec.input))];
    args.extend(["-filter_complex_script".into(), SCRIPT_FILE.into()]);
    args.extend(["-map".into(), "[v]".into()]);
    if spec.has_audio {
        args.extend(["-map".into(), "[a]".into()]);
    }
    for a in [
        "-c:v",
        "libx264",
        "-preset",
        spec.preset.as_str(),
        "-crf",
        &spec.crf.to_string(),
        "-pix_fmt",
        "yuv420p",
        "-profile:v",
        "high",
        "-fps_mode",
        "cfr",
        "-r",
        &format!("{}/{}", spec.fps_num, spec.fps_den),
    ] {
        args.push(a.into());
    }
    if spec.has_audio {
        let bitrate = format!("{}k", spec.audio_kbps.clamp(32, 512));
        for a in ["-c:a", "aac", "-b:a", &bitrate, "-ar", "48000", "-ac", "2"] {
            args.push(a.into());
        }
    }
    for a in [
        "-max_muxing_queue_size",
        "4096",
        "-movflags",
        "+faststart",
        "-map_metadata",
        "-1",
        "-map_chapters",
        "-1",
        "-progress",
        "pipe:1",
    ] {
        args.push(a.into());
    }
    args.push(ffmpeg_path(&part));
    let source_seconds = spec.frame_seconds(spec.ranges.last().map_or(0, |r| r.end_frame));
    ctx.runner
        .command("ffmpeg")
        .args([
            "-hide_banner",
            "-nostdin",
            "-y",
            "-nostats",
            "-loglevel",
            "error",
        ])
        .args(args)
        .current_dir(work.path())
        .timeout(work_timeout(source_seconds * 4.0))
        .cancel_on(ctx.cancel.clone())
        .on_progress(&mut on_progress)
        .run()
        .await?;
    tokio::fs::rename(&part, output)
        .await
        .map_err(|e| MediaError::io(format!("moving the jump cut to {}", output.display()), e))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(ranges: &[(u64, u64, u64)]) -> JumpcutRenderSpec {
        JumpcutRenderSpec {
            input: "in.mp4".into(),
            fps_num: 30000,
            fps_den: 1001,
            ranges: ranges
                .iter()
                .map(|&(start_frame, end_frame, output_frames)| KeptRange {
                    start_frame,
                    end_frame,
                    output_frames,
                })
                .collect(),
            has_audio: true,
            audio_kbps: 192,
            crf: 20,
            preset: "veryfast".into(),
            max_short_side: None,
        }
    }

    #[test]
    fn sample_boundaries_do_not_drift_over_hours() {
        let s = spec(&[(0, 10, 10)]);
        // 29.97 fps: 1601.6 samples a frame; an hour of frames is exact.
        assert_eq!(s.frame_sample(5), 8008);
        assert_eq!(s.frame_sample(30_000), 48_048_000);
        assert_eq!(s.frame_sample(107_892), 172_799_827);
        assert_eq!(s.frame_sample(1), 1602);
    }

    #[test]
    fn sped_up_selection_keeps_exactly_the_output_frames() {
        // Evaluate the selection rule the expression encodes, for many shapes.
        for (len, out) in [(10u64, 3u64), (7, 7), (100, 1), (90, 23), (5, 4)] {
            let kept = (0..len)
                .filter(|&i| i == 0 || (i * out) / len != ((i - 1) * out) / len)
                .count() as u64;
            assert_eq!(kept, out, "{len} -> {out}");
        }
        let e = select_expression(&[KeptRange {
            start_frame: 10,
            end_frame: 20,
            output_frames: 5,
        }]);
        assert!(e.contains("floor((n-10)*5/10)"), "{e}");
    }

    #[test]
    fn selection_is_a_shallow_binary_search() {
        let ranges: Vec<KeptRange> = (0..5000)
            .map(|i| KeptRange {
                start_frame: i * 10,
                end_frame: i * 10 + 5,
                output_frames: 5,
            })
            .collect();
        let e = select_expression(&ranges);
        let mut depth: i32 = 0;
        let mut deepest = 0;
        for c in e.chars() {
            depth += match c {
                '(' => 1,
                ')' => -1,
                _ => 0,
            };
            deepest = deepest.max(depth);
        }
        assert!(deepest < 30, "nesting {deepest}");
        assert_eq!(e.matches("between").count(), 5000);
    }

    #[test]
    fn graph_keeps_one_audio_segment_per_range_and_fades_it() {
        let s = spec(&[(30, 60, 30), (60, 120, 15), (300, 330, 30)]);
        let g = jumpcut_graph(&s);
        assert!(g.contains("concat=n=3:v=0:a=1[a]"), "{g}");
        assert!(g.contains("[s0]anullsink"), "{g}");
        assert!(g.contains("atempo=4.0"), "{g}");
        // 75 output frames at 29.97 fps.
        let total: u64 = s.frame_sample(75);
        let sum: u64 = g
            .split("apad=whole_len=")
            .skip(1)
            .map(|p| p.split(',').next().unwrap().parse::<u64>().unwrap())
            .sum();
        assert_eq!(sum, total);
    }

    #[test]
    fn bad_ranges_are_refused() {
        assert!(spec(&[]).validate().is_err());
        assert!(spec(&[(10, 5, 1)]).validate().is_err());
        assert!(spec(&[(0, 10, 10), (5, 20, 15)]).validate().is_err());
        assert!(spec(&[(0, 10, 11)]).validate().is_err());
        assert!(spec(&[(0, 10, 10), (10, 20, 5)]).validate().is_ok());
    }

    #[test]
    fn long_speedups_chain_atempo() {
        assert_eq!(atempo_chain(4.0), "atempo=4.000000000");
        assert!(atempo_chain(250.0).starts_with("atempo=100,atempo=2.5"));
    }
}
