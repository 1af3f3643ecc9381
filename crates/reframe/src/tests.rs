//! Planning on hand-made analyses: subject choice, smoothing, splits and fallbacks.

use clipforge_core::{CropPath, Framing, ReframeMode};

use crate::plan::smooth;
use crate::{
    crop_size, plan, thumbnail_time, Face, FaceAnalysis, NoFaceFallback, ReframeSettings, Sample,
    SpeakerTurn,
};

fn face(cx: f64) -> Face {
    Face {
        x: cx - 60.0,
        y: 400.0,
        width: 120.0,
        height: 120.0,
        score: 5.0,
    }
}

fn analysis(frames: Vec<Vec<Face>>, cut_at: Option<usize>) -> FaceAnalysis {
    let samples = frames
        .into_iter()
        .enumerate()
        .map(|(i, faces)| Sample {
            time: i as f64 / 3.0,
            faces,
            scene_change: if Some(i) == cut_at { 0.9 } else { 0.01 },
            sharpness: 100.0 + i as f64,
        })
        .collect::<Vec<_>>();
    FaceAnalysis {
        source_width: 1920,
        source_height: 1080,
        duration: samples.len() as f64 / 3.0,
        sample_fps: 3.0,
        samples,
    }
}

fn crop(f: Framing) -> CropPath {
    match f {
        Framing::Crop { path } => path,
        other => panic!("expected a crop, got {other:?}"),
    }
}

fn cuts(path: &CropPath) -> Vec<f64> {
    path.keys
        .windows(2)
        .filter(|k| k[0].time == k[1].time)
        .map(|k| k[0].time)
        .collect()
}

#[test]
fn crop_is_the_largest_window_of_the_aspect() {
    assert_eq!(crop_size((1920, 1080), (9, 16)), (606, 1080));
    assert_eq!(crop_size((1080, 1920), (16, 9)), (1080, 606));
    assert_eq!(crop_size((1920, 1080), (16, 9)), (1920, 1080));
}

#[test]
fn dead_zone_keeps_the_camera_still() {
    let s = ReframeSettings::default();
    // Jitter of ±30 px on a 606 px crop stays inside the ±60 px dead zone.
    let frames = (0..30)
        .map(|i| vec![face(960.0 + if i % 2 == 0 { 30.0 } else { -30.0 })])
        .collect();
    let path = crop(plan(
        &analysis(frames, None),
        (9, 16),
        ReframeMode::Auto,
        &[],
        &s,
    ));
    assert_eq!(path.keys.len(), 2, "{:?}", path.keys);
    assert_eq!(path.keys[0].x, path.keys[1].x);
}

#[test]
fn pans_no_faster_than_the_limit_and_cuts_at_scene_changes() {
    let s = ReframeSettings::default();
    let times: Vec<f64> = (0..12).map(|i| f64::from(i) / 3.0).collect();
    let targets: Vec<_> = (0..12)
        .map(|i| Some((if i < 1 { 400.0 } else { 1500.0 }, 500.0)))
        .collect();
    let path = smooth(&times, &targets, &[], (1920, 1080), (606, 1080), &s);
    let limit = s.max_pan_speed * 606.0;
    for k in path.keys.windows(2) {
        let speed = (k[1].x - k[0].x).abs() / (k[1].time - k[0].time);
        assert!(speed <= limit + 1e-6, "{speed} px/s");
    }
    let cut = smooth(&times, &targets, &[(1, 0.2)], (1920, 1080), (606, 1080), &s);
    assert_eq!(cuts(&cut), vec![0.2]);
    assert!((cut.at(0.25).0 - (1500.0 - 303.0)).abs() < 1e-6);
}

#[test]
fn scene_change_gives_a_cut() {
    let frames = (0..12)
        .map(|i| vec![face(if i < 6 { 500.0 } else { 1400.0 })])
        .collect();
    let path = crop(plan(
        &analysis(frames, Some(6)),
        (9, 16),
        ReframeMode::Auto,
        &[],
        &ReframeSettings::default(),
    ));
    let c = cuts(&path);
    assert_eq!(c.len(), 1);
    assert!((c[0] - 5.5 / 3.0).abs() < 1e-9);
}

#[test]
fn speaker_turns_pick_the_subject() {
    // Both on screen throughout; speaker 1 talks first, then speaker 0.
    let frames = (0..18)
        .map(|_| vec![face(400.0), face(1500.0)])
        .collect::<Vec<_>>();
    let mut a = analysis(frames, None);
    // Speaker 1's face (right) is missed during speaker 0's turn: the mapping learns it.
    for s in &mut a.samples[9..] {
        s.faces.retain(|f| f.x < 1000.0);
    }
    let turns = [
        SpeakerTurn {
            start: 0.0,
            end: 3.0,
            speaker: 1,
        },
        SpeakerTurn {
            start: 3.0,
            end: 6.0,
            speaker: 0,
        },
    ];
    let path = crop(plan(
        &a,
        (9, 16),
        ReframeMode::Auto,
        &turns,
        &ReframeSettings::default(),
    ));
    let centre = |t: f64| path.at(t).0 + 303.0;
    assert!((centre(1.0) - 1500.0).abs() < 70.0, "{}", centre(1.0));
    assert!((centre(4.5) - 400.0).abs() < 70.0, "{}", centre(4.5));
    assert_eq!(cuts(&path).len(), 1);
}

#[test]
fn without_turns_the_most_prominent_face_wins() {
    let frames = (0..9)
        .map(|_| {
            vec![
                Face {
                    width: 60.0,
                    height: 60.0,
                    ..face(300.0)
                },
                face(1100.0),
            ]
        })
        .collect();
    let path = crop(plan(
        &analysis(frames, None),
        (9, 16),
        ReframeMode::Auto,
        &[],
        &ReframeSettings::default(),
    ));
    assert!((path.at(1.0).0 + 303.0 - 1100.0).abs() < 1.0);
}

#[test]
fn two_people_far_apart_split_when_allowed() {
    let frames = (0..9)
        .map(|_| vec![face(1600.0), face(300.0)])
        .collect::<Vec<_>>();
    let s = ReframeSettings {
        allow_split: true,
        ..ReframeSettings::default()
    };
    match plan(
        &analysis(frames.clone(), None),
        (9, 16),
        ReframeMode::Auto,
        &[],
        &s,
    ) {
        Framing::Stack { top, bottom } => {
            assert_eq!((top.width, top.height), (1214, 1080));
            assert!(top.at(0.0).0 < bottom.at(0.0).0, "left person on top");
        }
        other => panic!("expected a stack, got {other:?}"),
    }
    let no_split = plan(
        &analysis(frames, None),
        (9, 16),
        ReframeMode::Auto,
        &[],
        &ReframeSettings::default(),
    );
    assert!(matches!(no_split, Framing::Crop { .. }));
    // Close together: one crop shows both.
    let close = (0..9).map(|_| vec![face(850.0), face(1050.0)]).collect();
    assert!(matches!(
        plan(&analysis(close, None), (9, 16), ReframeMode::Auto, &[], &s),
        Framing::Crop { .. }
    ));
}

#[test]
fn fallbacks_without_faces_and_fixed_modes() {
    let empty = analysis(vec![vec![]; 6], None);
    let s = ReframeSettings::default();
    let centred = crop(plan(&empty, (9, 16), ReframeMode::Auto, &[], &s));
    assert_eq!(centred, CropPath::fixed(606, 1080, 657.0, 0.0));
    let blur = ReframeSettings {
        no_face: NoFaceFallback::FitBlur,
        ..s.clone()
    };
    assert_eq!(
        plan(&empty, (9, 16), ReframeMode::Auto, &[], &blur),
        Framing::FitBlur
    );
    let faces = analysis(vec![vec![face(300.0)]; 6], None);
    assert_eq!(
        crop(plan(&faces, (9, 16), ReframeMode::Center, &[], &s)),
        centred
    );
    assert_eq!(
        plan(&faces, (9, 16), ReframeMode::FitBlack, &[], &s),
        Framing::FitBlack
    );
    assert_eq!(
        plan(&faces, (9, 16), ReframeMode::FitBlur, &[], &s),
        Framing::FitBlur
    );
}

#[test]
fn thumbnail_prefers_a_sharp_sample_with_a_face() {
    let mut a = analysis(vec![vec![], vec![face(960.0)], vec![]], None);
    a.samples[2].sharpness = 500.0;
    assert_eq!(thumbnail_time(&a), Some(1.0 / 3.0));
    let none = analysis(vec![vec![], vec![], vec![]], None);
    assert_eq!(thumbnail_time(&none), Some(2.0 / 3.0));
    assert_eq!(thumbnail_time(&analysis(vec![], None)), None);
}

#[test]
fn a_moving_subject_is_followed_steadily_with_lead_room() {
    let s = ReframeSettings::default();
    let times: Vec<f64> = (0..60).map(|i| f64::from(i) / 3.0).collect();
    let face_at = |t: f64| 960.0 + 600.0 * (2.0 * std::f64::consts::PI * t / 10.0).sin();
    let targets: Vec<_> = times.iter().map(|&t| Some((face_at(t), 540.0))).collect();
    let path = smooth(&times, &targets, &[], (1920, 1080), (606, 1080), &s);
    let mut fastest_face: f64 = 0.0;
    let mut fastest_camera: f64 = 0.0;
    for pair in times.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        fastest_face = fastest_face.max((face_at(b) - face_at(a)).abs());
        fastest_camera = fastest_camera.max((path.at(b).0 - path.at(a).0).abs());
        // The face stays near the middle: within the dead zone and a little lag.
        let off = face_at(b) - (path.at(b).0 + 303.0);
        assert!(
            off.abs() <= 0.15 * 606.0,
            "t={b}: face {off:.0} px off centre"
        );
    }
    // No whip pans: the camera never moves faster than the face it follows.
    assert!(
        fastest_camera <= fastest_face * 1.05,
        "camera {fastest_camera:.0} px per sample, face {fastest_face:.0}"
    );
}
