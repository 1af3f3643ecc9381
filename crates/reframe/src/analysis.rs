//! Sampling a clip and detecting faces in it: the part of reframing that reads video.

use std::path::Path;
use std::sync::OnceLock;

use clipforge_media::{FrameSampler, GrayFrame, RunContext, VideoStream};
use rustface::{Detector, ImageData, Model};
use serde::{Deserialize, Serialize};

use crate::{ReframeError, ReframeSettings};

/// The SeetaFace frontal model, compiled in so detection needs no configuration.
static MODEL_BYTES: &[u8] = include_bytes!("../model/seeta_fd_frontal_v1.0.bin");

/// One detected face, in source display pixels.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Face {
    /// Left edge.
    pub x: f64,
    /// Top edge.
    pub y: f64,
    /// Width.
    pub width: f64,
    /// Height.
    pub height: f64,
    /// Detector confidence.
    pub score: f64,
}

impl Face {
    /// The centre point.
    pub fn center(&self) -> (f64, f64) {
        (self.x + self.width / 2.0, self.y + self.height / 2.0)
    }

    /// Intersection over union of the two boxes.
    pub fn iou(&self, other: &Face) -> f64 {
        let ix = (self.x + self.width).min(other.x + other.width) - self.x.max(other.x);
        let iy = (self.y + self.height).min(other.y + other.height) - self.y.max(other.y);
        if ix <= 0.0 || iy <= 0.0 {
            return 0.0;
        }
        let inter = ix * iy;
        inter / (self.width * self.height + other.width * other.height - inter)
    }
}

/// What one analysed frame showed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    /// Seconds from the clip's start.
    pub time: f64,
    /// Faces found, best score first.
    pub faces: Vec<Face>,
    /// How different the picture is from the previous sample, 0 (same) to 1 (nothing alike).
    pub scene_change: f64,
    /// Variance of the Laplacian of the frame: higher is sharper.
    pub sharpness: f64,
}

/// Everything reframing learned from a clip's pictures; cached as JSON by the pipeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaceAnalysis {
    /// Source size as displayed (rotation applied), which all coordinates refer to.
    pub source_width: u32,
    /// See `source_width`.
    pub source_height: u32,
    /// Seconds analysed.
    pub duration: f64,
    /// Samples per second.
    pub sample_fps: f64,
    /// One entry per sampled frame, in time order.
    pub samples: Vec<Sample>,
}

/// Samples `duration` seconds of `input`'s `video` stream (as probed) from `start`, finds
/// faces, and measures scene changes and sharpness.
#[tracing::instrument(level = "debug", skip(ctx, video, settings), fields(path = %input.display()))]
pub async fn analyse(
    input: &Path,
    video: &VideoStream,
    start: f64,
    duration: f64,
    ctx: &RunContext,
    settings: &ReframeSettings,
) -> Result<FaceAnalysis, ReframeError> {
    settings.validate()?;
    let model = model()?;
    let mut sampler = FrameSampler::open(
        input,
        video,
        start,
        duration,
        settings.sample_fps,
        settings.detect_width,
        ctx,
    )
    .await?;
    let (source_width, source_height) = sampler.source_size();
    let scale = f64::from(source_width) / f64::from(sampler.frame_size().0);

    // Detectors are not `Send`, so each lives on a thread of its own, which also lets
    // detection run while ffmpeg decodes the next frames. Frames are dealt out in turn and
    // put back in order at the end.
    let mut workers = Vec::new();
    for _ in 0..detector_threads() {
        let (frames_tx, frames_rx) = tokio::sync::mpsc::channel::<(usize, GrayFrame)>(2);
        let (done_tx, done_rx) = tokio::sync::oneshot::channel();
        let (model, settings) = (model.clone(), settings.clone());
        std::thread::Builder::new()
            .name("face-detect".into())
            .spawn(move || {
                let _ = done_tx.send(detect_all(model, &settings, scale, frames_rx));
            })
            .map_err(|e| ReframeError::Detector(format!("cannot start a thread: {e}")))?;
        workers.push((frames_tx, done_rx));
    }

    let mut frames = 0usize;
    while let Some(frame) = sampler.next_frame().await? {
        let (to_worker, _) = &workers[frames % workers.len()];
        if to_worker.send((frames, frame)).await.is_err() {
            return Err(ReframeError::Detector("a detector thread exited".into()));
        }
        frames += 1;
    }
    let mut found = Vec::with_capacity(frames);
    for (frames_tx, done_rx) in workers {
        drop(frames_tx);
        let part = done_rx
            .await
            .map_err(|_| ReframeError::Detector("a detector thread panicked".into()))?;
        found.extend(part);
    }
    found.sort_by_key(|(index, _)| *index);
    let mut samples = Vec::with_capacity(found.len());
    let mut previous: Option<Signature> = None;
    for (_, (mut sample, signature)) in found {
        sample.scene_change = previous.as_ref().map_or(0.0, |p| p.distance(&signature));
        previous = Some(signature);
        samples.push(sample);
    }
    tracing::debug!(frames, "face analysis finished");
    Ok(FaceAnalysis {
        source_width,
        source_height,
        duration,
        sample_fps: settings.sample_fps,
        samples,
    })
}

/// Faces in one gray frame, in the frame's pixels, best first (for tools and tests).
pub fn detect_frame(
    frame: &GrayFrame,
    settings: &ReframeSettings,
) -> Result<Vec<Face>, ReframeError> {
    settings.validate()?;
    let mut detector = rustface::create_detector_with_model(model()?.clone());
    configure(detector.as_mut(), settings);
    Ok(detect_faces(detector.as_mut(), frame, 1.0))
}

fn configure(detector: &mut dyn Detector, settings: &ReframeSettings) {
    detector.set_min_face_size(settings.min_face_size.max(20));
    detector.set_score_thresh(settings.score_threshold);
    detector.set_pyramid_scale_factor(settings.pyramid_scale);
    detector.set_slide_window_step(settings.window_step, settings.window_step);
}

fn model() -> Result<&'static Model, ReframeError> {
    static MODEL: OnceLock<Model> = OnceLock::new();
    if let Some(model) = MODEL.get() {
        return Ok(model);
    }
    let model = rustface::read_model(MODEL_BYTES).map_err(ReframeError::Model)?;
    Ok(MODEL.get_or_init(|| model))
}

/// Threads detecting at once: two keep both of a small machine's cores busy next to the
/// decoder; more help little because the decoder feeds them.
fn detector_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().clamp(1, 2))
}

/// Detects the faces in the frames one thread is given, each with its index and the
/// signature the scene-change score is computed from once the frames are back in order.
fn detect_all(
    model: Model,
    settings: &ReframeSettings,
    scale: f64,
    mut frames: tokio::sync::mpsc::Receiver<(usize, GrayFrame)>,
) -> Vec<(usize, (Sample, Signature))> {
    let mut detector = rustface::create_detector_with_model(model);
    configure(detector.as_mut(), settings);
    let mut found = Vec::new();
    while let Some((index, frame)) = frames.blocking_recv() {
        let sample = Sample {
            time: frame.time,
            faces: detect_faces(detector.as_mut(), &frame, scale),
            scene_change: 0.0,
            sharpness: laplacian_variance(&frame),
        };
        found.push((index, (sample, Signature::of(&frame))));
    }
    found
}

/// Faces in `frame`, scaled by `scale` into source pixels, best first.
pub(crate) fn detect_faces(
    detector: &mut dyn Detector,
    frame: &GrayFrame,
    scale: f64,
) -> Vec<Face> {
    if frame.width < 20 || frame.height < 20 {
        return Vec::new();
    }
    let image = ImageData::new(&frame.pixels, frame.width, frame.height);
    let mut faces: Vec<Face> = detector
        .detect(&image)
        .into_iter()
        .map(|f| {
            let b = f.bbox();
            Face {
                x: f64::from(b.x()) * scale,
                y: f64::from(b.y()) * scale,
                width: f64::from(b.width()) * scale,
                height: f64::from(b.height()) * scale,
                score: f.score(),
            }
        })
        .collect();
    faces.sort_by(|a, b| b.score.total_cmp(&a.score));
    faces
}

/// A coarse summary of a frame for telling shots apart: block means and a luma histogram.
#[derive(Debug, Clone)]
pub(crate) struct Signature {
    blocks: Vec<f64>,
    histogram: [f64; 32],
}

const GRID_X: usize = 16;
const GRID_Y: usize = 9;

impl Signature {
    pub(crate) fn of(frame: &GrayFrame) -> Self {
        let (w, h) = (frame.width as usize, frame.height as usize);
        let mut sums = vec![0.0; GRID_X * GRID_Y];
        let mut counts = vec![0usize; GRID_X * GRID_Y];
        let mut histogram = [0.0; 32];
        // Every second pixel in each direction is plenty for a summary.
        for y in (0..h).step_by(2) {
            let by = y * GRID_Y / h;
            let row = &frame.pixels[y * w..(y + 1) * w];
            for x in (0..w).step_by(2) {
                let v = row[x];
                let cell = by * GRID_X + x * GRID_X / w;
                sums[cell] += f64::from(v);
                counts[cell] += 1;
                histogram[usize::from(v) / 8] += 1.0;
            }
        }
        let total: f64 = histogram.iter().sum::<f64>().max(1.0);
        histogram.iter_mut().for_each(|v| *v /= total);
        let blocks = sums
            .iter()
            .zip(&counts)
            .map(|(s, &c)| if c == 0 { 0.0 } else { s / c as f64 / 255.0 })
            .collect();
        Self { blocks, histogram }
    }

    /// 0 for the same picture, towards 1 for unrelated ones. Both the layout (block means)
    /// and the tonal content (histogram) must change: a person moving changes the first,
    /// a lighting drift mostly the second, a cut both.
    pub(crate) fn distance(&self, other: &Signature) -> f64 {
        let layout = self
            .blocks
            .iter()
            .zip(&other.blocks)
            .map(|(a, b)| (a - b).abs())
            .sum::<f64>()
            / self.blocks.len() as f64;
        let tones = self
            .histogram
            .iter()
            .zip(&other.histogram)
            .map(|(a, b)| (a - b).abs())
            .sum::<f64>()
            / 2.0;
        // Block differences of 0.25 (a quarter of the luma range on average) are already a
        // different picture.
        ((layout * 4.0).min(1.0) * tones).sqrt()
    }
}

/// Variance of the 4-neighbour Laplacian over every second pixel.
pub(crate) fn laplacian_variance(frame: &GrayFrame) -> f64 {
    let (w, h) = (frame.width as usize, frame.height as usize);
    if w < 3 || h < 3 {
        return 0.0;
    }
    let p = &frame.pixels;
    let (mut sum, mut sum_sq, mut n) = (0.0, 0.0, 0.0);
    for y in (1..h - 1).step_by(2) {
        for x in (1..w - 1).step_by(2) {
            let i = y * w + x;
            let l = 4.0 * f64::from(p[i])
                - f64::from(p[i - 1])
                - f64::from(p[i + 1])
                - f64::from(p[i - w])
                - f64::from(p[i + w]);
            sum += l;
            sum_sq += l * l;
            n += 1.0;
        }
    }
    let mean = sum / n;
    sum_sq / n - mean * mean
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(f: impl Fn(usize, usize) -> u8) -> GrayFrame {
        let (w, h) = (64usize, 36usize);
        let mut pixels = Vec::with_capacity(w * h);
        for y in 0..h {
            for x in 0..w {
                pixels.push(f(x, y));
            }
        }
        GrayFrame {
            time: 0.0,
            width: w as u32,
            height: h as u32,
            pixels,
        }
    }

    #[test]
    fn scene_change_scores_cuts_high_and_motion_low() {
        let a = frame(|x, _| if x < 32 { 40 } else { 200 });
        let shifted = frame(|x, _| if x < 34 { 40 } else { 200 });
        let other = frame(|_, y| (y * 7) as u8);
        let sa = Signature::of(&a);
        assert_eq!(sa.distance(&Signature::of(&a)), 0.0);
        assert!(sa.distance(&Signature::of(&shifted)) < 0.1);
        assert!(sa.distance(&Signature::of(&other)) > 0.4);
    }

    #[test]
    fn sharpness_prefers_detail() {
        let flat = frame(|_, _| 128);
        let checker = frame(|x, y| if (x / 3 + y / 3) % 2 == 0 { 0 } else { 255 });
        let gradient = frame(|x, _| (x * 4) as u8);
        assert_eq!(laplacian_variance(&flat), 0.0);
        assert!(laplacian_variance(&checker) > laplacian_variance(&gradient));
    }

    #[test]
    fn iou_of_boxes() {
        let a = Face {
            x: 0.0,
            y: 0.0,
            width: 10.0,
            height: 10.0,
            score: 1.0,
        };
        let b = Face { x: 5.0, ..a };
        assert!((a.iou(&b) - 50.0 / 150.0).abs() < 1e-9);
        assert_eq!(a.iou(&Face { x: 20.0, ..a }), 0.0);
    }

    #[test]
    fn built_in_model_loads() {
        assert!(model().is_ok());
    }
}
