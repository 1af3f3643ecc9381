//! Turning a face analysis into a framing: who to follow, and a calm camera path.

use clipforge_core::{CropKey, CropPath, Framing, ReframeMode};
use serde::{Deserialize, Serialize};

use crate::analysis::FaceAnalysis;
use crate::track::{link, shots, Track};
use crate::{NoFaceFallback, ReframeSettings};

/// Who speaks when, in seconds from the clip's start.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SpeakerTurn {
    /// Start of the turn.
    pub start: f64,
    /// End of the turn.
    pub end: f64,
    /// Speaker label from diarization.
    pub speaker: u32,
}

/// Where the face sits vertically in a crop that can move vertically: a little above the
/// middle, as camera operators frame people.
const FACE_HEIGHT_IN_CROP: f64 = 0.4;

/// Lays out a clip in a frame of shape `aspect` (width, height).
pub fn plan(
    analysis: &FaceAnalysis,
    aspect: (u32, u32),
    mode: ReframeMode,
    speakers: &[SpeakerTurn],
    settings: &ReframeSettings,
) -> Framing {
    let source = (analysis.source_width.max(2), analysis.source_height.max(2));
    let window = crop_size(source, aspect);
    let centred = || Framing::Crop {
        path: centred_path(source, window),
    };
    match mode {
        ReframeMode::FitBlur => return Framing::FitBlur,
        ReframeMode::FitBlack => return Framing::FitBlack,
        ReframeMode::Center => return centred(),
        ReframeMode::Auto => {}
    }
    let samples = &analysis.samples;
    let shot_starts = shots(samples, settings.scene_cut_threshold);
    let tracks = link(samples, &shot_starts, settings.max_track_gap);
    if tracks.is_empty() {
        return match settings.no_face {
            NoFaceFallback::Center => centred(),
            NoFaceFallback::FitBlur => Framing::FitBlur,
            NoFaceFallback::FitBlack => Framing::FitBlack,
        };
    }
    let times: Vec<f64> = samples.iter().map(|s| s.time).collect();

    if settings.allow_split {
        if let Some((left, right)) = split_pair(&tracks, samples.len(), source, window, settings) {
            let half = crop_size(source, (aspect.0 * 2, aspect.1));
            let follow = |t: &Track| {
                let targets: Vec<Option<(f64, f64)>> = (0..times.len())
                    .map(|i| t.at(i).map(|f| f.center()))
                    .collect();
                smooth(&times, &targets, &[], source, half, settings)
            };
            return Framing::Stack {
                top: follow(left),
                bottom: follow(right),
            };
        }
    }

    let (subjects, mut cuts) = choose_subjects(analysis, &tracks, &shot_starts, speakers, window);
    let targets: Vec<Option<(f64, f64)>> = subjects
        .iter()
        .enumerate()
        .map(|(i, s)| s.and_then(|t| tracks[t].at(i)).map(|f| f.center()))
        .collect();
    for &i in shot_starts.iter().filter(|&&i| i > 0) {
        if !cuts.iter().any(|c| c.0 == i) {
            cuts.push((i, (times[i - 1] + times[i]) / 2.0));
        }
    }
    cuts.sort_by_key(|c| c.0);
    Framing::Crop {
        path: smooth(&times, &targets, &cuts, source, window, settings),
    }
}

/// The largest window of shape `aspect` inside `source`, both sides even.
pub fn crop_size(source: (u32, u32), aspect: (u32, u32)) -> (u32, u32) {
    let (sw, sh) = (u64::from(source.0), u64::from(source.1));
    let (aw, ah) = (u64::from(aspect.0.max(1)), u64::from(aspect.1.max(1)));
    let even = |v: u64, max: u64| (v.min(max) / 2 * 2).max(2) as u32;
    if sw * ah >= sh * aw {
        (even(sh * aw / ah, sw), even(sh, sh))
    } else {
        (even(sw, sw), even(sw * ah / aw, sh))
    }
}

fn centred_path(source: (u32, u32), window: (u32, u32)) -> CropPath {
    CropPath::fixed(
        window.0,
        window.1,
        f64::from(source.0 - window.0) / 2.0,
        f64::from(source.1 - window.1) / 2.0,
    )
}

/// Two people far apart who are both on screen most of the time, left one first.
fn split_pair<'a>(
    tracks: &'a [Track],
    samples: usize,
    source: (u32, u32),
    window: (u32, u32),
    settings: &ReframeSettings,
) -> Option<(&'a Track, &'a Track)> {
    let mut best: Option<(usize, &Track, &Track)> = None;
    for (i, a) in tracks.iter().enumerate() {
        for b in &tracks[i + 1..] {
            let both = (0..samples)
                .filter(|&s| a.at(s).is_some() && b.at(s).is_some())
                .count();
            if (both as f64) < settings.split_min_share * samples as f64 {
                continue;
            }
            // Both fit one crop with room to spare: no need to split.
            let apart = (a.mean_center_x() - b.mean_center_x()).abs()
                + (a.mean_width() + b.mean_width()) / 2.0;
            if apart < 0.8 * f64::from(window.0) || f64::from(window.0) >= f64::from(source.0) {
                continue;
            }
            if best.is_none_or(|(n, _, _)| both > n) {
                best = Some((both, a, b));
            }
        }
    }
    best.map(|(_, a, b)| {
        if a.mean_center_x() <= b.mean_center_x() {
            (a, b)
        } else {
            (b, a)
        }
    })
}

/// How much a track looks like the main subject: on screen long, large, central.
fn prominence(track: &Track, source_width: f64) -> f64 {
    let central = 1.5 - (track.mean_center_x() - source_width / 2.0).abs() / source_width;
    track.detections.len() as f64 * track.mean_width() * central
}

/// The track to follow at every sample, and `(sample, time)` of switches that must cut
/// (the new subject is far from the old one).
fn choose_subjects(
    analysis: &FaceAnalysis,
    tracks: &[Track],
    shot_starts: &[usize],
    speakers: &[SpeakerTurn],
    window: (u32, u32),
) -> (Vec<Option<usize>>, Vec<(usize, f64)>) {
    let samples = &analysis.samples;
    let sw = f64::from(analysis.source_width);
    let speaker_at = |t: f64| {
        speakers
            .iter()
            .find(|s| s.start <= t && t < s.end)
            .map(|s| s.speaker)
    };
    let mapping = map_speakers(analysis, tracks, speakers, &speaker_at);

    let mut subjects = Vec::with_capacity(samples.len());
    let mut cuts = Vec::new();
    let mut current: Option<usize> = None;
    for (i, sample) in samples.iter().enumerate() {
        let present: Vec<usize> = tracks
            .iter()
            .filter(|t| t.at(i).is_some())
            .map(|t| t.id)
            .collect();
        let shot = shot_starts.partition_point(|&s| s <= i).saturating_sub(1);
        let wanted = speaker_at(sample.time)
            .and_then(|sp| mapping.iter().find(|m| m.0 == shot && m.1 == sp))
            .map(|m| m.2)
            .filter(|t| present.contains(t));
        let next = wanted
            .or_else(|| current.filter(|c| present.contains(c)))
            .or_else(|| {
                present.iter().copied().max_by(|&a, &b| {
                    prominence(&tracks[a], sw).total_cmp(&prominence(&tracks[b], sw))
                })
            });
        if let (Some(old), Some(new)) = (current, next) {
            let was = tracks[old]
                .at(i)
                .or_else(|| tracks[old].detections.last().map(|d| d.1));
            let now = tracks[new].at(i);
            if let (true, Some(was), Some(now)) = (old != new, was, now) {
                if (was.center().0 - now.center().0).abs() > 0.5 * f64::from(window.0) && i > 0 {
                    // Cut where the new speaker's turn starts when it falls between samples.
                    let prev = samples[i - 1].time;
                    let at = speakers
                        .iter()
                        .map(|s| s.start)
                        .find(|&s| s > prev && s <= sample.time)
                        .unwrap_or((prev + sample.time) / 2.0);
                    cuts.push((i, at));
                }
            }
        }
        if next.is_some() {
            current = next;
        }
        subjects.push(next);
    }
    (subjects, cuts)
}

/// `(shot, speaker, track)`: in each shot, each speaker goes to the track seen most during
/// their turns and least during others', one track per speaker.
fn map_speakers(
    analysis: &FaceAnalysis,
    tracks: &[Track],
    speakers: &[SpeakerTurn],
    speaker_at: &dyn Fn(f64) -> Option<u32>,
) -> Vec<(usize, u32, usize)> {
    let mut ids: Vec<u32> = speakers.iter().map(|s| s.speaker).collect();
    ids.sort_unstable();
    ids.dedup();
    let sw = f64::from(analysis.source_width);
    let mut candidates = Vec::new();
    for track in tracks {
        for &sp in &ids {
            let mut own = 0.0_f64;
            let mut other = 0.0_f64;
            for (i, _) in &track.detections {
                match speaker_at(analysis.samples[*i].time) {
                    Some(s) if s == sp => own += 1.0,
                    Some(_) => other += 1.0,
                    None => {}
                }
            }
            let score = own - 0.5 * other;
            if own > 0.0 && score > 0.0 {
                candidates.push((score, prominence(track, sw), track.shot, sp, track.id));
            }
        }
    }
    candidates.sort_by(|a, b| b.0.total_cmp(&a.0).then(b.1.total_cmp(&a.1)));
    let mut mapping: Vec<(usize, u32, usize)> = Vec::new();
    for (_, _, shot, sp, track) in candidates {
        if mapping
            .iter()
            .any(|m| m.0 == shot && (m.1 == sp || m.2 == track))
        {
            continue;
        }
        mapping.push((shot, sp, track));
    }
    mapping
}

/// A camera path following `targets` (subject centres per sample; `None` holds): still
/// while the subject stays within the dead zone, panning no faster than the speed limit
/// otherwise, and jumping at `cuts` (`(sample, time)`). Keys are simplified afterwards.
pub(crate) fn smooth(
    times: &[f64],
    targets: &[Option<(f64, f64)>],
    cuts: &[(usize, f64)],
    source: (u32, u32),
    window: (u32, u32),
    settings: &ReframeSettings,
) -> CropPath {
    let (cw, ch) = (f64::from(window.0), f64::from(window.1));
    let (max_x, max_y) = (f64::from(source.0) - cw, f64::from(source.1) - ch);
    let place = |(cx, cy): (f64, f64)| {
        (
            (cx - cw / 2.0).clamp(0.0, max_x),
            (cy - FACE_HEIGHT_IN_CROP * ch).clamp(0.0, max_y),
        )
    };
    let centre = (max_x / 2.0, max_y / 2.0);
    // The first target at or after sample `i`, so a shot starts where its subject is.
    let ahead = |from: usize, to: usize| targets[from..to].iter().flatten().next().copied();

    let mut segments: Vec<Vec<CropKey>> = Vec::new();
    let mut boundaries: Vec<(usize, f64)> = vec![(0, times.first().copied().unwrap_or(0.0))];
    boundaries.extend(
        cuts.iter()
            .copied()
            .filter(|c| c.0 > 0 && c.0 < times.len()),
    );
    let mut cur = centre;
    for (b, &(start, at)) in boundaries.iter().enumerate() {
        let end = boundaries.get(b + 1).map_or(times.len(), |n| n.0);
        if let Some(first) = ahead(start, end) {
            cur = place(first);
        }
        if let Some(last) = segments.last_mut() {
            let prev = *last.last().expect("segments are never empty");
            last.push(CropKey { time: at, ..prev });
        }
        let mut keys = vec![CropKey {
            time: at,
            x: cur.0,
            y: cur.1,
        }];
        let mut moving = (false, false);
        let (dead_x, dead_y) = (settings.dead_zone * cw, settings.dead_zone * ch);
        for i in start + 1..end {
            let dt = times[i] - times[i - 1];
            if let Some(t) = targets[i] {
                let now = place(t);
                // Lead room: a subject on the move is framed ahead of where it is, by up
                // to the dead zone, so it crosses the whole zone before the camera has to
                // move again. A steady subject has no lead and is centred.
                let later = (i..end)
                    .take_while(|&j| times[j] - times[i] <= LEAD_SECONDS)
                    .filter_map(|j| targets[j])
                    .last()
                    .unwrap_or(t);
                let lead = (
                    (later.0 - t.0).clamp(-dead_x, dead_x),
                    (later.1 - t.1).clamp(-dead_y, dead_y),
                );
                // How far the subject moved since the sample before.
                let moved = match targets[i - 1] {
                    Some(p) if dt > 0.0 => (t.0 - p.0, t.1 - p.1),
                    _ => (0.0, 0.0),
                };
                let dest = place((t.0 + lead.0, t.1 + lead.1));
                let step = settings.max_pan_speed * cw * dt;
                cur.0 = follow(
                    cur.0,
                    Aim {
                        now: now.0,
                        dest: dest.0,
                        moved: moved.0,
                    },
                    &mut moving.0,
                    Limits {
                        dead: dead_x,
                        step,
                        settle: 0.02 * cw,
                        dt,
                    },
                );
                cur.1 = follow(
                    cur.1,
                    Aim {
                        now: now.1,
                        dest: dest.1,
                        moved: moved.1,
                    },
                    &mut moving.1,
                    Limits {
                        dead: dead_y,
                        step,
                        settle: 0.02 * ch,
                        dt,
                    },
                );
            }
            keys.push(CropKey {
                time: times[i],
                x: cur.0,
                y: cur.1,
            });
        }
        segments.push(keys);
    }
    let keys = segments
        .into_iter()
        .flat_map(|s| simplify(&s, settings.simplify_tolerance))
        .collect();
    CropPath {
        width: window.0,
        height: window.1,
        keys,
    }
}

/// How far ahead the camera looks to give a moving subject lead room.
const LEAD_SECONDS: f64 = 1.0;

/// Time constant of a pan, in seconds: each sample the camera covers `dt / PAN_SECONDS` of
/// the distance left, so pans ease out and spread over about a second instead of a fast
/// whip, and a subject on the move is followed steadily rather than in bursts. Slow pans are also far cheaper
/// to encode: less motion per frame.
const PAN_SECONDS: f64 = 0.6;

/// Where one axis of the camera should go: `now` centres the subject where it is, `dest`
/// with lead room; `moved` is how far the subject moved along the axis since the sample
/// before (the camera keeps following while the subject moves).
struct Aim {
    now: f64,
    dest: f64,
    moved: f64,
}

/// The dead zone, the largest move per sample, the distance at which a pan has arrived,
/// and the seconds since the previous sample.
struct Limits {
    dead: f64,
    step: f64,
    settle: f64,
    dt: f64,
}

/// One axis of the camera: starts moving once the subject leaves the dead zone, then
/// closes the distance to `aim.dest` gently, never more than `limits.step` at a time; it
/// stops once it has arrived and the subject stands still.
fn follow(cur: f64, aim: Aim, moving: &mut bool, limits: Limits) -> f64 {
    if !*moving && (aim.now - cur).abs() > limits.dead {
        *moving = true;
    }
    if !*moving {
        return cur;
    }
    let want = (aim.dest - cur) * (limits.dt / PAN_SECONDS).min(1.0);
    let next = cur + want.clamp(-limits.step, limits.step);
    let still = aim.moved.abs() <= limits.settle;
    if (aim.dest - next).abs() <= limits.settle && still {
        *moving = false;
    }
    next
}

/// Ramer–Douglas–Peucker over time: drops keys whose position the neighbours' straight line
/// predicts within `tolerance` pixels. The first and last key always stay.
fn simplify(keys: &[CropKey], tolerance: f64) -> Vec<CropKey> {
    if keys.len() <= 2 {
        return keys.to_vec();
    }
    let mut keep = vec![false; keys.len()];
    keep[0] = true;
    keep[keys.len() - 1] = true;
    let mut stack = vec![(0, keys.len() - 1)];
    while let Some((a, b)) = stack.pop() {
        let (ka, kb) = (keys[a], keys[b]);
        let mut worst = (0.0, 0);
        for (i, k) in keys.iter().enumerate().take(b).skip(a + 1) {
            let f = if kb.time > ka.time {
                (k.time - ka.time) / (kb.time - ka.time)
            } else {
                0.0
            };
            let ex = (ka.x + (kb.x - ka.x) * f - k.x).abs();
            let ey = (ka.y + (kb.y - ka.y) * f - k.y).abs();
            if ex.max(ey) > worst.0 {
                worst = (ex.max(ey), i);
            }
        }
        if worst.0 > tolerance {
            keep[worst.1] = true;
            stack.push((a, worst.1));
            stack.push((worst.1, b));
        }
    }
    keys.iter()
        .zip(keep)
        .filter(|(_, k)| *k)
        .map(|(k, _)| *k)
        .collect()
}

/// When to take the clip's thumbnail: a sharp sample with a face, preferring large central
/// faces, else the sharpest sample; `None` without samples.
pub fn thumbnail_time(analysis: &FaceAnalysis) -> Option<f64> {
    let samples = &analysis.samples;
    let sharpest = samples
        .iter()
        .map(|s| s.sharpness)
        .fold(0.0, f64::max)
        .max(1e-9);
    let sw = f64::from(analysis.source_width.max(1));
    let with_face = samples
        .iter()
        .filter_map(|s| {
            let face = s.faces.iter().max_by(|a, b| a.width.total_cmp(&b.width))?;
            let size = (face.width / sw * 4.0).min(1.0);
            let central = 1.0 - (face.center().0 - sw / 2.0).abs() / sw;
            Some((
                s.sharpness / sharpest * (0.5 + size) * (0.5 + central),
                s.time,
            ))
        })
        .max_by(|a, b| a.0.total_cmp(&b.0));
    with_face.map(|(_, t)| t).or_else(|| {
        samples
            .iter()
            .max_by(|a, b| a.sharpness.total_cmp(&b.sharpness))
            .map(|s| s.time)
    })
}
