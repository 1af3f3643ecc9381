//! The jump-cut stage: remove silences and filler words from a whole video.
//!
//! Probe → stream the audio once into a loudness envelope (16 kHz mono, a few seconds of
//! samples in memory at a time) → speech from the envelope or the transcript → plan on the
//! output frame grid (`clipforge-jumpcut`) → one ffmpeg encode that cuts picture and sound
//! at the same frame boundaries → the editor exports next to the MP4.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use clipforge_core::{Progress, Quality, Transcript};
use clipforge_jumpcut::{
    plan, to_edl, to_fcpxml, to_json, FrameRate, Input, JumpcutError, Loudness, Mode, Plan,
    Settings, SourceInfo,
};
use clipforge_media::jumpcut::{render_jumpcut, JumpcutRenderSpec, KeptRange};
use clipforge_media::{probe_with, AudioDecoder, MediaInfo, RunContext, VideoStream};
use serde::{Deserialize, Serialize};

use crate::PipelineError;

/// Seconds per loudness envelope frame: 10 ms resolves syllable gaps and costs 1.4 MB an
/// hour.
const LOUDNESS_HOP: f64 = 0.01;

/// Samples decoded per step of the analysis (10 s at 16 kHz, a whole number of hops).
const ANALYSIS_CHUNK: usize = 160_000;

/// One jump cut to make.
#[derive(Debug, Clone, Copy)]
pub struct JumpcutJob<'a> {
    /// The source video.
    pub input: &'a Path,
    /// The MP4; appears only when complete.
    pub output: &'a Path,
    /// What to cut.
    pub settings: &'a Settings,
    /// Needed by [`Mode::Words`] and to remove fillers and false starts.
    pub transcript: Option<&'a Transcript>,
    /// Encoding quality; the source's size is kept (draft scales down to 540p).
    pub quality: Quality,
    /// Written next to `output` as `<stem>.json` / `.fcpxml` / `.edl`.
    pub exports: &'a [ExportFormat],
}

/// A cut list format for editors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ExportFormat {
    /// The plan as JSON, for scripts.
    Json,
    /// Final Cut Pro / DaVinci Resolve / Premiere timeline.
    Fcpxml,
    /// CMX3600 edit decision list.
    Edl,
}

impl ExportFormat {
    /// The file extension (and the name the CLI accepts).
    pub fn extension(self) -> &'static str {
        match self {
            Self::Json => "json",
            Self::Fcpxml => "fcpxml",
            Self::Edl => "edl",
        }
    }
}

impl fmt::Display for ExportFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.extension())
    }
}

impl FromStr for ExportFormat {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "json" => Ok(Self::Json),
            "fcpxml" | "xml" => Ok(Self::Fcpxml),
            "edl" => Ok(Self::Edl),
            other => Err(format!(
                "unknown export format `{other}`; use json, fcpxml or edl"
            )),
        }
    }
}

/// What the jump cut produced.
#[derive(Debug, Clone, Serialize)]
pub struct JumpcutOutcome {
    /// The MP4.
    pub output: PathBuf,
    /// The cut lists written, in the order asked for.
    pub exports: Vec<PathBuf>,
    /// Source length, seconds.
    pub duration_in: f64,
    /// Output length, seconds (whole frames).
    pub duration_out: f64,
    /// `duration_in - duration_out`.
    pub removed_seconds: f64,
    /// The same as a percentage of the input.
    pub removed_percent: f64,
    /// Stretches removed.
    pub cuts: usize,
    /// Filler words removed.
    pub fillers: usize,
    /// Pieces in the output.
    pub pieces: usize,
    /// False when the input had no sound and the output is video only.
    pub has_audio: bool,
    /// Silences kept sped up instead of cut.
    pub sped_up: usize,
    /// False starts removed.
    pub false_starts: usize,
    /// The output frame rate, e.g. `"30000/1001"`.
    pub frame_rate: String,
    /// Frames in the output.
    pub frames_out: u64,
}

/// Cuts `job.input` into `job.output` and writes the exports. Stages: "analysing audio"
/// (seconds of audio decoded) and "cutting" (seconds of output encoded).
#[tracing::instrument(skip_all, fields(input = %job.input.display(), mode = %job.settings.mode))]
pub async fn jumpcut(
    job: &JumpcutJob<'_>,
    ctx: &RunContext,
    progress: &dyn Progress,
) -> Result<JumpcutOutcome, PipelineError> {
    job.settings.validate().map_err(PipelineError::Jumpcut)?;
    if same_file(job.input, job.output) {
        return Err(PipelineError::Settings(format!(
            "the output {} is the input; choose another output path",
            job.output.display()
        )));
    }
    let info = probe_with(job.input, ctx).await?;
    let video = info.video.as_ref().ok_or_else(|| PipelineError::NoVideo {
        path: job.input.to_path_buf(),
    })?;
    let rate = output_rate(video).map_err(PipelineError::Jumpcut)?;
    let has_audio = info.has_audio();
    let mode = job.settings.mode;
    if !has_audio && mode != Mode::Words {
        return Err(PipelineError::NeedsSound {
            path: job.input.to_path_buf(),
            mode: mode.to_string(),
        });
    }

    let loudness = match (has_audio, mode) {
        (true, Mode::Loudness | Mode::Speech) => {
            progress.stage("analysing audio");
            Some(loudness_envelope(job.input, ctx, progress).await?)
        }
        _ => None,
    };
    let speech = match (&loudness, mode) {
        (Some(l), Mode::Speech) => Some(speech_ranges(l)),
        _ => None,
    };
    let mut input = Input::new(info.duration, rate);
    if let Some(l) = &loudness {
        input = input.loudness(l);
    }
    if let Some(s) = &speech {
        input = input.speech(s);
    }
    if let Some(t) = job.transcript {
        input = input.transcript(t);
    }
    let plan = plan(job.settings, &input).map_err(PipelineError::Jumpcut)?;
    tracing::info!(
        pieces = plan.pieces.len(),
        duration_in = plan.duration_in,
        duration_out = plan.duration_out,
        "jump cut planned"
    );

    // Exports are built before the encode so a bad one costs nothing.
    let source = source_info(job.input, &info, video, rate, has_audio);
    let title = job.output.file_stem().map_or_else(
        || "jumpcut".to_owned(),
        |s| s.to_string_lossy().into_owned(),
    );
    let mut exports = Vec::with_capacity(job.exports.len());
    for &format in job.exports {
        let text = match format {
            ExportFormat::Json => to_json(&plan, &source),
            ExportFormat::Fcpxml => to_fcpxml(&plan, &source, &title),
            ExportFormat::Edl => to_edl(&plan, &source, &title),
        }
        .map_err(PipelineError::Jumpcut)?;
        exports.push((job.output.with_extension(format.extension()), text));
    }

    progress.stage("cutting");
    let spec = render_spec(job, &plan, has_audio, &info);
    let total = plan.duration_out;
    render_jumpcut(&spec, job.output, ctx, |p| {
        progress.update(p.out_time, total)
    })
    .await?;
    progress.update(total, total);

    let mut written = Vec::with_capacity(exports.len());
    for (path, text) in exports {
        if let Err(e) = write_atomically(&path, &text) {
            // All or nothing: a half set of exports next to the video would mislead.
            for done in written.iter().chain([&job.output.to_path_buf()]) {
                let _ = std::fs::remove_file(done);
            }
            return Err(e);
        }
        written.push(path);
    }

    Ok(JumpcutOutcome {
        output: job.output.to_path_buf(),
        exports: written,
        duration_in: plan.duration_in,
        duration_out: plan.duration_out,
        removed_seconds: plan.removed.seconds,
        removed_percent: plan.removed.percent,
        cuts: plan.counts.cuts,
        fillers: plan.counts.fillers,
        pieces: plan.pieces.len(),
        has_audio,
        sped_up: plan.counts.sped_up,
        false_starts: plan.counts.false_starts,
        frame_rate: rate.to_string(),
        frames_out: plan.output_frames(),
    })
}

/// The loudness envelope of the first audio stream, decoded in 10 s chunks so an hour
/// costs a few hundred kB of samples at a time.
pub async fn loudness_envelope(
    input: &Path,
    ctx: &RunContext,
    progress: &dyn Progress,
) -> Result<Loudness, PipelineError> {
    let mut decoder = AudioDecoder::open_with(input, ctx, 0).await?;
    let total = decoder.duration();
    let mut envelope = Loudness {
        hop: LOUDNESS_HOP,
        db: Vec::with_capacity((total / LOUDNESS_HOP).clamp(0.0, 1e7) as usize + 1),
    };
    while let Some(chunk) = decoder.next_chunk(ANALYSIS_CHUNK).await? {
        // Chunks are whole hops (bar the last), so per-chunk envelopes join seamlessly.
        let part = Loudness::from_samples(&chunk, clipforge_media::SAMPLE_RATE, LOUDNESS_HOP)
            .map_err(PipelineError::Jumpcut)?;
        envelope.hop = part.hop;
        envelope.db.extend(part.db);
        progress.update(decoder.decoded_seconds(), total);
    }
    Ok(envelope)
}

/// Speech ranges (seconds) from an energy voice-activity detector over the envelope: a
/// frame is speech when it stands [`VAD_ABOVE_NOISE_DB`] above the recording's noise floor
/// (its 10th percentile) and above [`VAD_FLOOR_DB`]; runs shorter than [`VAD_MIN_RUN`] are
/// clicks and are dropped; gaps shorter than [`VAD_HANGOVER`] are bridged.
///
/// Unlike loudness mode, which compares with the speech level, this compares with the
/// noise, so it keeps quiet speech in loud recordings.
pub fn speech_ranges(loudness: &Loudness) -> Vec<(f64, f64)> {
    let hop = loudness.hop;
    let mut sorted: Vec<f32> = loudness
        .db
        .iter()
        .copied()
        .filter(|d| !d.is_nan())
        .collect();
    if sorted.is_empty() || hop <= 0.0 {
        return Vec::new();
    }
    sorted.sort_by(f32::total_cmp);
    let noise = sorted[sorted.len() / 10];
    let threshold = (noise + VAD_ABOVE_NOISE_DB).max(VAD_FLOOR_DB);
    let mut ranges: Vec<(f64, f64)> = Vec::new();
    let mut start: Option<usize> = None;
    let close = |ranges: &mut Vec<(f64, f64)>, a: usize, b: usize| {
        let (s, e) = (a as f64 * hop, b as f64 * hop);
        if e - s < VAD_MIN_RUN {
            return;
        }
        match ranges.last_mut() {
            Some(last) if s - last.1 < VAD_HANGOVER => last.1 = e,
            _ => ranges.push((s, e)),
        }
    };
    for (i, &db) in loudness.db.iter().enumerate() {
        match (db >= threshold, start) {
            (true, None) => start = Some(i),
            (false, Some(a)) => {
                close(&mut ranges, a, i);
                start = None;
            }
            _ => {}
        }
    }
    if let Some(a) = start {
        close(&mut ranges, a, loudness.db.len());
    }
    ranges
}

/// How far above the noise floor speech must be, dB.
pub const VAD_ABOVE_NOISE_DB: f32 = 12.0;
/// Nothing quieter than this is speech, dBFS.
pub const VAD_FLOOR_DB: f32 = -55.0;
/// Shortest speech run, seconds.
pub const VAD_MIN_RUN: f64 = 0.06;
/// Gaps inside speech shorter than this are bridged, seconds.
pub const VAD_HANGOVER: f64 = 0.2;

/// The grid to cut on. Constant-rate input keeps its own rate, snapped to a standard one
/// when within 1% (29.97003 is 30000/1001). Variable-rate input (phones) gets the smallest
/// whole standard rate that holds its average (a phone's 29.87 fps is 30), so almost no
/// recorded frame is merged away and none is invented beyond the usual duplicates.
fn output_rate(video: &VideoStream) -> Result<FrameRate, JumpcutError> {
    let nominal = video.r_frame_rate.filter(|r| r.is_finite() && *r > 0.0);
    let average = video.avg_frame_rate.filter(|r| r.is_finite() && *r > 0.0);
    if video.variable_frame_rate {
        if let Some(avg) = average.or(nominal) {
            let whole = [
                FrameRate::FPS_24,
                FrameRate::FPS_25,
                FrameRate::FPS_30,
                FrameRate::FPS_50,
                FrameRate::FPS_60,
            ];
            return whole
                .into_iter()
                .find(|r| r.fps() >= avg * 0.99)
                .map_or_else(|| FrameRate::from_fps(avg), Ok);
        }
    }
    let fps = average.or(nominal).unwrap_or(30.0);
    let standard = [
        FrameRate::FPS_23_976,
        FrameRate::FPS_24,
        FrameRate::FPS_25,
        FrameRate::FPS_29_97,
        FrameRate::FPS_30,
        FrameRate::FPS_50,
        FrameRate::FPS_59_94,
        FrameRate::FPS_60,
    ];
    standard
        .into_iter()
        .min_by(|a, b| (a.fps() - fps).abs().total_cmp(&(b.fps() - fps).abs()))
        .filter(|r| (r.fps() - fps).abs() <= fps * 0.01)
        .map_or_else(|| FrameRate::from_fps(fps), Ok)
}

fn source_info(
    input: &Path,
    info: &MediaInfo,
    video: &VideoStream,
    rate: FrameRate,
    has_audio: bool,
) -> SourceInfo {
    let path = std::path::absolute(input).unwrap_or_else(|_| input.to_path_buf());
    let (width, height) = video.display_size();
    let mut source = SourceInfo::new(path.to_string_lossy(), rate, width, height, info.duration);
    source.has_audio = has_audio;
    source
}

fn render_spec(
    job: &JumpcutJob<'_>,
    plan: &Plan,
    has_audio: bool,
    info: &MediaInfo,
) -> JumpcutRenderSpec {
    JumpcutRenderSpec {
        input: job.input.to_path_buf(),
        fps_num: plan.frame_rate.num(),
        fps_den: plan.frame_rate.den(),
        ranges: plan
            .pieces
            .iter()
            .map(|p| KeptRange {
                start_frame: p.start_frame,
                end_frame: p.end_frame,
                output_frames: p.output_frames,
            })
            .collect(),
        has_audio,
        audio_kbps: audio_kbps(info.audio.first().and_then(|a| a.bit_rate)),
        crf: job.quality.crf(),
        preset: jumpcut_preset(job.quality).to_owned(),
        max_short_side: (job.quality == Quality::Draft).then(|| job.quality.short_side()),
    }
}

/// The AAC bit rate of a jump cut in kbit/s: the source's own, rounded up to a multiple of
/// 16 and kept within 96..=192 (192 when the source does not say). More bits than the
/// source had cannot bring back what its encoder dropped, and they cost encoding time:
/// AAC at 192 kbit/s takes twice the CPU of 128, 39 s for the 11-minute bench talk.
fn audio_kbps(source_bits_per_second: Option<u64>) -> u32 {
    source_bits_per_second.map_or(192, |b| {
        let kbps = b.div_ceil(16_000) * 16;
        kbps.clamp(96, 192) as u32
    })
}

/// The x264 preset of a jump cut. A jump cut re-encodes the whole video, so draft and
/// standard use `ultrafast` at the quality's CRF: the same picture (on the 11-minute bench
/// talk, SSIM 0.99988 against the source, veryfast 0.99976) from about 2.6 times the bits
/// (2.2 Mbit/s for 1080p) in less than half the time. `high` keeps its slower preset for
/// a compact file.
fn jumpcut_preset(quality: Quality) -> &'static str {
    match quality {
        Quality::Draft | Quality::Standard => "ultrafast",
        Quality::High => quality.preset(),
    }
}

/// Whether `a` and `b` name the same file (an output that does not exist yet never does).
fn same_file(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// Writes `text` to a hidden temporary beside `path`, then renames it into place.
fn write_atomically(path: &Path, text: &str) -> Result<(), PipelineError> {
    let name = path
        .file_name()
        .map_or_else(|| "export".into(), |n| n.to_string_lossy().into_owned());
    let tmp = path.with_file_name(format!(".{name}.part"));
    std::fs::write(&tmp, text)
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            PipelineError::io(format!("writing {}", path.display()), e)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn envelope(db: &[f32]) -> Loudness {
        Loudness {
            hop: 0.01,
            db: db.to_vec(),
        }
    }

    #[test]
    fn the_sound_keeps_the_source_bit_rate_within_limits() {
        // The bench talk's AAC states 127,678 bit/s.
        assert_eq!(audio_kbps(Some(127_678)), 128);
        assert_eq!(audio_kbps(Some(128_000)), 128);
        assert_eq!(audio_kbps(Some(160_001)), 176);
        assert_eq!(audio_kbps(Some(32_000)), 96);
        assert_eq!(audio_kbps(Some(1_411_200)), 192);
        assert_eq!(audio_kbps(None), 192);
    }

    #[test]
    fn export_formats_parse_from_the_cli() {
        assert_eq!("json".parse::<ExportFormat>(), Ok(ExportFormat::Json));
        assert_eq!(" FCPXML ".parse::<ExportFormat>(), Ok(ExportFormat::Fcpxml));
        assert_eq!("edl".parse::<ExportFormat>(), Ok(ExportFormat::Edl));
        assert!("srt".parse::<ExportFormat>().unwrap_err().contains("json"));
        assert_eq!(
            serde_json::to_string(&ExportFormat::Fcpxml).unwrap(),
            "\"fcpxml\""
        );
    }

    #[test]
    fn vad_finds_speech_above_the_noise_and_drops_clicks() {
        // 1 s of noise at -70, 0.5 s speech at -20, 1 s noise, a 30 ms click, 1 s noise.
        let mut db = vec![-70.0; 100];
        db.extend(vec![-20.0; 50]);
        db.extend(vec![-70.0; 100]);
        db.extend(vec![-10.0; 3]);
        db.extend(vec![-70.0; 100]);
        let ranges = speech_ranges(&envelope(&db));
        assert_eq!(ranges.len(), 1, "{ranges:?}");
        assert!((ranges[0].0 - 1.0).abs() < 1e-9 && (ranges[0].1 - 1.5).abs() < 1e-9);
        // Digital silence everywhere: nothing.
        assert!(speech_ranges(&envelope(&[-100.0; 300])).is_empty());
    }

    #[test]
    fn vad_bridges_short_gaps() {
        let mut db = vec![-70.0; 100];
        db.extend(vec![-20.0; 30]);
        db.extend(vec![-70.0; 10]);
        db.extend(vec![-20.0; 30]);
        db.extend(vec![-70.0; 100]);
        assert_eq!(speech_ranges(&envelope(&db)).len(), 1);
    }

    fn stream(avg: f64, r: f64, vfr: bool) -> VideoStream {
        VideoStream {
            index: 0,
            codec: "h264".into(),
            width: 1920,
            height: 1080,
            rotation: 0,
            display_aspect: None,
            avg_frame_rate: Some(avg),
            r_frame_rate: Some(r),
            variable_frame_rate: vfr,
        }
    }

    #[test]
    fn frame_rates_snap_to_standard_ones() {
        assert_eq!(
            output_rate(&stream(29.97003, 29.97003, false)),
            Ok(FrameRate::FPS_29_97)
        );
        assert_eq!(
            output_rate(&stream(29.87, 30.0, false)),
            Ok(FrameRate::FPS_29_97)
        );
        assert_eq!(
            output_rate(&stream(27.1, 60.0, true)),
            Ok(FrameRate::FPS_30)
        );
        assert_eq!(
            output_rate(&stream(29.87, 30.0, true)),
            Ok(FrameRate::FPS_30)
        );
        assert_eq!(
            output_rate(&stream(22.0, 90.0, true)),
            Ok(FrameRate::FPS_24)
        );
        assert_eq!(
            output_rate(&stream(12.5, 12.5, false)),
            Ok(FrameRate::new(25, 2).unwrap())
        );
    }
}
