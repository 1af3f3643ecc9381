//! Linking detections across samples into tracks: one track per person per shot.

use crate::analysis::{Face, Sample};

/// One person followed through consecutive samples of one shot.
#[derive(Debug, Clone, PartialEq)]
pub struct Track {
    /// Index in the list of tracks.
    pub id: usize,
    /// `(sample index, face)` for every sample the face was detected in, in order.
    pub detections: Vec<(usize, Face)>,
    /// Index of the shot (see [`shots`]) the track lives in.
    pub shot: usize,
}

impl Track {
    /// First and last sample index.
    pub fn span(&self) -> (usize, usize) {
        (
            self.detections[0].0,
            self.detections[self.detections.len() - 1].0,
        )
    }

    /// The face at sample `i`, interpolated across missed detections inside the track and
    /// `None` outside it.
    pub fn at(&self, i: usize) -> Option<Face> {
        let (first, last) = self.span();
        if i < first || i > last {
            return None;
        }
        let pos = self.detections.partition_point(|(j, _)| *j < i);
        let (j, face) = self.detections[pos];
        if j == i {
            return Some(face);
        }
        let (k, prev) = self.detections[pos - 1];
        let f = (i - k) as f64 / (j - k) as f64;
        let lerp = |a: f64, b: f64| a + (b - a) * f;
        Some(Face {
            x: lerp(prev.x, face.x),
            y: lerp(prev.y, face.y),
            width: lerp(prev.width, face.width),
            height: lerp(prev.height, face.height),
            score: prev.score.min(face.score),
        })
    }

    /// Mean face width in source pixels.
    pub fn mean_width(&self) -> f64 {
        self.detections.iter().map(|(_, f)| f.width).sum::<f64>() / self.detections.len() as f64
    }

    /// Mean face centre x in source pixels.
    pub fn mean_center_x(&self) -> f64 {
        self.detections
            .iter()
            .map(|(_, f)| f.center().0)
            .sum::<f64>()
            / self.detections.len() as f64
    }
}

/// Sample indices where a new shot starts (always including 0 when there are samples).
pub fn shots(samples: &[Sample], threshold: f64) -> Vec<usize> {
    let mut starts = Vec::new();
    for (i, s) in samples.iter().enumerate() {
        if i == 0 || s.scene_change >= threshold {
            starts.push(i);
        }
    }
    starts
}

/// Links faces into tracks. A face joins the track whose last face it overlaps most (or
/// whose centre is within one face width); a track ends after `max_gap` samples without a
/// match or at a shot boundary.
pub fn link(samples: &[Sample], shot_starts: &[usize], max_gap: usize) -> Vec<Track> {
    let mut tracks: Vec<Track> = Vec::new();
    let mut open: Vec<usize> = Vec::new();
    let mut shot = 0;
    for (i, sample) in samples.iter().enumerate() {
        if i > 0 && shot_starts.get(shot + 1) == Some(&i) {
            shot += 1;
            open.clear();
        }
        open.retain(|&t| i - tracks[t].span().1 <= max_gap + 1);

        // Best pairs first, greedily.
        let mut pairs = Vec::new();
        for (d, face) in sample.faces.iter().enumerate() {
            for &t in &open {
                let last = tracks[t]
                    .detections
                    .last()
                    .expect("tracks are never empty")
                    .1;
                let affinity = affinity(&last, face);
                if affinity > 0.0 {
                    pairs.push((affinity, t, d));
                }
            }
        }
        pairs.sort_by(|a, b| b.0.total_cmp(&a.0));
        let mut used_tracks = Vec::new();
        let mut used_faces = vec![false; sample.faces.len()];
        for (_, t, d) in pairs {
            if used_faces[d] || used_tracks.contains(&t) {
                continue;
            }
            used_faces[d] = true;
            used_tracks.push(t);
            tracks[t].detections.push((i, sample.faces[d]));
        }
        for (d, face) in sample.faces.iter().enumerate() {
            if !used_faces[d] {
                let id = tracks.len();
                tracks.push(Track {
                    id,
                    detections: vec![(i, *face)],
                    shot,
                });
                open.push(id);
            }
        }
    }
    tracks
}

/// How likely `b` is the same face as `a` a sample later: IoU, or failing overlap, closeness
/// of centres relative to face size; 0 when unrelated.
fn affinity(a: &Face, b: &Face) -> f64 {
    let iou = a.iou(b);
    let (ax, ay) = a.center();
    let (bx, by) = b.center();
    let size = a.width.max(b.width).max(1.0);
    let dist = ((ax - bx).powi(2) + (ay - by).powi(2)).sqrt() / size;
    let ratio = a.width.min(b.width) / size;
    if ratio < 0.5 {
        return 0.0;
    }
    if iou > 0.0 {
        return 1.0 + iou;
    }
    if dist < 1.5 {
        return 1.0 - dist / 1.5;
    }
    0.0
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn face(x: f64, size: f64) -> Face {
        Face {
            x,
            y: 100.0,
            width: size,
            height: size,
            score: 3.0,
        }
    }

    fn sample(faces: Vec<Face>, scene_change: f64) -> Sample {
        Sample {
            time: 0.0,
            faces,
            scene_change,
            sharpness: 1.0,
        }
    }

    #[test]
    fn links_moving_faces_and_bridges_short_gaps() {
        let samples = vec![
            sample(vec![face(100.0, 100.0), face(1000.0, 100.0)], 0.0),
            sample(vec![face(1010.0, 100.0), face(130.0, 100.0)], 0.0),
            sample(vec![face(160.0, 100.0)], 0.0), // right face missed once
            sample(vec![face(190.0, 100.0), face(1030.0, 100.0)], 0.0),
        ];
        let tracks = link(&samples, &shots(&samples, 0.5), 2);
        assert_eq!(tracks.len(), 2);
        assert_eq!(tracks[0].detections.len(), 4);
        assert_eq!(tracks[1].detections.len(), 3);
        let bridged = tracks[1].at(2).unwrap();
        assert!((bridged.x - 1020.0).abs() < 1e-9);
        assert_eq!(tracks[1].at(4), None);
    }

    #[test]
    fn long_gaps_and_cuts_start_new_tracks() {
        let mut samples = vec![sample(vec![face(100.0, 100.0)], 0.0)];
        samples.extend((0..4).map(|_| sample(vec![], 0.0)));
        samples.push(sample(vec![face(100.0, 100.0)], 0.0));
        samples.push(sample(vec![face(100.0, 100.0)], 0.9));
        let starts = shots(&samples, 0.5);
        assert_eq!(starts, vec![0, 6]);
        let tracks = link(&samples, &starts, 2);
        assert_eq!(tracks.len(), 3);
        assert_eq!(tracks[2].shot, 1);
    }

    #[test]
    fn a_different_sized_face_is_someone_else() {
        let samples = vec![
            sample(vec![face(100.0, 100.0)], 0.0),
            sample(vec![face(110.0, 30.0)], 0.0),
        ];
        assert_eq!(link(&samples, &[0], 2).len(), 2);
    }
}
