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

    /// The same face with every length multiplied by `factor`.
    pub fn scaled(&self, factor: f64) -> Face {
        Face {
            x: self.x * factor,
            y: self.y * factor,
            width: self.width * factor,
            height: self.height * factor,
            score: self.score,
        }
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
    let fps = settings.sample_fps;
    let (source_width, source_height) = video.display_size();

    // Decoding is most of the cost and one decoder uses one core: a longer clip is cut in
    // parts on the sample grid, each decoded by its own ffmpeg and searched by its own
    // detector thread (the detector is not `Send`; a thread of its own also lets detection
    // run while ffmpeg decodes). A thread sees its part's frames in order, so it can look
    // for each face where it was a moment ago.
    let parts = decode_parts(duration);
    let part_length = (duration / parts as f64 * fps).ceil() / fps;
    let mut pumps = tokio::task::JoinSet::new();
    let mut results = Vec::with_capacity(parts);
    for k in 0..parts {
        let offset = k as f64 * part_length;
        let length = part_length.min(duration - offset);
        if length <= 0.0 {
            break;
        }
        let mut sampler = FrameSampler::open(
            input,
            video,
            start + offset,
            length,
            fps,
            settings.detect_width,
            ctx,
        )
        .await?;
        let scale = f64::from(source_width) / f64::from(sampler.frame_size().0);

        let (frames_tx, frames_rx) = tokio::sync::mpsc::channel::<GrayFrame>(4);
        let (done_tx, done_rx) = tokio::sync::oneshot::channel();
        std::thread::Builder::new()
            .name("face-detect".into())
            .spawn({
                let (model, settings) = (model.clone(), settings.clone());
                let runner = ctx.runner.clone();
                move || {
                    // Analysis done ahead in the background detects in the background too.
                    runner.adopt_priority();
                    let _ = done_tx.send(detect_all(model, &settings, scale, frames_rx));
                }
            })
            .map_err(|e| ReframeError::Detector(format!("cannot start a thread: {e}")))?;
        results.push(done_rx);
        pumps.spawn(async move {
            let mut frames = 0usize;
            while let Some(mut frame) = sampler.next_frame().await? {
                frame.time += offset;
                if frames_tx.send(frame).await.is_err() {
                    return Err(ReframeError::Detector("a detector thread exited".into()));
                }
                frames += 1;
            }
            Ok(frames)
        });
    }
    let mut frames = 0usize;
    while let Some(pumped) = pumps.join_next().await {
        frames +=
            pumped.map_err(|e| ReframeError::Detector(format!("frame reader failed: {e}")))??;
    }
    let mut samples = Vec::with_capacity(frames);
    let mut previous: Option<Signature> = None;
    for done_rx in results {
        let mut part = done_rx
            .await
            .map_err(|_| ReframeError::Detector("a detector thread panicked".into()))?;
        // Each thread scored its own frames; the first of a part is scored against the
        // last frame of the part before.
        if let (Some(first), Some((start, _)), Some(before)) =
            (part.samples.first_mut(), &part.ends, &previous)
        {
            first.scene_change = before.distance(start);
        }
        previous = part.ends.map(|(_, end)| end).or(previous);
        samples.append(&mut part.samples);
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
    Ok(detect_faces(detector.as_mut(), frame))
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

/// Longest stretch of video between two scans of a whole frame. In between, a thread
/// looks only around the faces it found last, which costs a fraction of a full scan; a
/// face that walks in is found by the next full scan, and a shot change forces one.
const FULL_SCAN_SECONDS: f64 = 1.0;

/// What one detector thread found in its part of the clip.
struct PartFaces {
    /// The part's samples, in order, each scored against the one before it in the part.
    samples: Vec<Sample>,
    /// Signatures of the part's first and last frames, to score where parts meet.
    ends: Option<(Signature, Signature)>,
}

/// Detects the faces in `frames`, in order, and scores each frame's difference from the
/// one before (`scene_change`).
fn detect_all(
    model: Model,
    settings: &ReframeSettings,
    scale: f64,
    mut frames: tokio::sync::mpsc::Receiver<GrayFrame>,
) -> PartFaces {
    let mut detector = rustface::create_detector_with_model(model);
    configure(detector.as_mut(), settings);
    let mut samples = Vec::new();
    let mut first_signature = None;
    let mut last_full_scan = f64::NEG_INFINITY;
    // The faces of the frame before, in frame pixels, and its signature.
    let mut last: Option<(Vec<Face>, Signature)> = None;
    while let Some(frame) = frames.blocking_recv() {
        let signature = Signature::of(&frame);
        let scene_change = last.as_ref().map_or(0.0, |(_, s)| s.distance(&signature));
        let window = match &last {
            Some((faces, _))
                if frame.time - last_full_scan < FULL_SCAN_SECONDS
                    && scene_change < settings.scene_cut_threshold =>
            {
                search_window(faces, frame.width, frame.height)
            }
            _ => None,
        };
        let mut faces = window.map_or_else(Vec::new, |w| detect_in(detector.as_mut(), &frame, w));
        if faces.is_empty() {
            // Time for a full scan, a new shot, nobody to follow, or the face left the
            // window: look everywhere.
            last_full_scan = frame.time;
            faces = detect_faces(detector.as_mut(), &frame);
        }
        samples.push(Sample {
            time: frame.time,
            faces: faces.iter().map(|f| f.scaled(scale)).collect(),
            scene_change,
            sharpness: laplacian_variance(&frame),
        });
        first_signature.get_or_insert_with(|| signature.clone());
        last = Some((faces, signature));
    }
    PartFaces {
        samples,
        ends: first_signature.zip(last.map(|(_, signature)| signature)),
    }
}

/// How many parts a clip of `duration` seconds is decoded in at once: one per core, up
/// to two, and one for a clip too short to be worth a second ffmpeg.
fn decode_parts(duration: f64) -> usize {
    if duration < 10.0 {
        return 1;
    }
    std::thread::available_parallelism().map_or(1, |n| n.get().clamp(1, 2))
}

/// A part of a frame: left, top, width, height in pixels.
type Window = (u32, u32, u32, u32);

/// Where to look for `faces` again in the next frame of a `width` × `height` picture:
/// every face with its own size again around it on each side, together. `None` (scan the
/// whole frame) when there is no face to follow or the window would cover most of it.
fn search_window(faces: &[Face], width: u32, height: u32) -> Option<Window> {
    let (w, h) = (f64::from(width), f64::from(height));
    let mut boxes = faces.iter().map(|f| {
        let margin = f.width.max(f.height);
        (
            (f.x - margin).max(0.0),
            (f.y - margin).max(0.0),
            (f.x + f.width + margin).min(w),
            (f.y + f.height + margin).min(h),
        )
    });
    let first = boxes.next()?;
    let (x0, y0, x1, y1) = boxes.fold(first, |a, b| {
        (a.0.min(b.0), a.1.min(b.1), a.2.max(b.2), a.3.max(b.3))
    });
    if (x1 - x0) * (y1 - y0) > 0.6 * w * h {
        return None;
    }
    let (left, top) = (x0.floor() as u32, y0.floor() as u32);
    let (right, bottom) = (
        (x1.ceil() as u32).min(width),
        (y1.ceil() as u32).min(height),
    );
    (right > left && bottom > top).then(|| (left, top, right - left, bottom - top))
}

/// Faces inside `window` of `frame`, in the frame's pixels, best first.
fn detect_in(detector: &mut dyn Detector, frame: &GrayFrame, window: Window) -> Vec<Face> {
    let (left, top, width, height) = window;
    let stride = frame.width as usize;
    let mut pixels = Vec::with_capacity(width as usize * height as usize);
    for row in top as usize..(top + height) as usize {
        let start = row * stride + left as usize;
        pixels.extend_from_slice(&frame.pixels[start..start + width as usize]);
    }
    let part = GrayFrame {
        time: frame.time,
        width,
        height,
        pixels,
    };
    detect_faces(detector, &part)
        .into_iter()
        .map(|f| Face {
            x: f.x + f64::from(left),
            y: f.y + f64::from(top),
            ..f
        })
        .collect()
}

/// Faces in `frame`, in its pixels, best first.
pub(crate) fn detect_faces(detector: &mut dyn Detector, frame: &GrayFrame) -> Vec<Face> {
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
                x: f64::from(b.x()),
                y: f64::from(b.y()),
                width: f64::from(b.width()),
                height: f64::from(b.height()),
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
    fn search_windows_surround_the_faces_found_last() {
        let face = Face {
            x: 100.0,
            y: 50.0,
            width: 40.0,
            height: 50.0,
            score: 3.0,
        };
        assert_eq!(search_window(&[], 480, 270), None);
        // Its own size again on each side, clamped to the picture.
        assert_eq!(search_window(&[face], 480, 270), Some((50, 0, 140, 150)));
        // Two faces: one window holding both.
        let other = Face { x: 200.0, ..face };
        assert_eq!(
            search_window(&[face, other], 480, 270),
            Some((50, 0, 240, 150))
        );
        // A face filling most of the frame: scan it all.
        let big = Face {
            x: 100.0,
            y: 20.0,
            width: 200.0,
            height: 220.0,
            score: 3.0,
        };
        assert_eq!(search_window(&[big], 480, 270), None);
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
