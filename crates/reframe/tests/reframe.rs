//! End to end on a real (synthetic) video: ffmpeg draws a face along a known path, and the
//! planned crop must keep it centred and cut at the scene change.

mod support;

use std::path::Path;

use clipforge_core::{Framing, ReframeMode};
use clipforge_media::{probe, RunContext};
use clipforge_reframe::{analyse, plan, thumbnail_time, ReframeSettings};
use support::truth::{moving_at, score};

const W: f64 = 640.0;

/// Face sweeping for 2 s, then a hard cut to a new background with the face at 0.2 W.
fn truth(t: f64) -> Option<f64> {
    if t < 2.0 {
        moving_at(t, W)
    } else {
        Some(0.2 * W)
    }
}

async fn make_clip(dir: &Path) -> std::path::PathBuf {
    draw(
        dir,
        "[0]noise=alls=20:allf=t[bg1];[1]noise=alls=20:allf=t[bg2];\
        [bg1][bg2]overlay=enable='gte(t,2)'[bg];[2]scale=104:112[f];[f]split[f1][f2];\
        [bg][f1]overlay=x='W/2+0.3125*W*sin(2*PI*t/10)-w/2':y='H/2-h/2':enable='lt(t,2)':shortest=1[v];\
        [v][f2]overlay=x='0.2*W-w/2':y='H/2-h/2-20':enable='gte(t,2)':shortest=1,format=yuv420p",
    )
    .await
}

/// A 4-s 640x360 clip drawn by `filter` from two noisy backgrounds ([0], [1]) and the
/// face image ([2]).
async fn draw(dir: &Path, filter: &str) -> std::path::PathBuf {
    let out = dir.join("clip.mp4");
    let face = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/face.png");
    let output = RunContext::default()
        .runner
        .command("ffmpeg")
        .args(["-nostdin", "-v", "error", "-y"])
        .args(["-f", "lavfi", "-i", "color=c=0x506070:s=640x360:r=25:d=4"])
        .args(["-f", "lavfi", "-i", "color=c=0xa08040:s=640x360:r=25:d=4"])
        .args(["-loop", "1", "-i"])
        .arg(&face)
        .args([
            "-filter_complex",
            filter,
            "-t",
            "4",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
        ])
        .arg(&out)
        .run()
        .await;
    output.expect("ffmpeg draws the test clip");
    out
}

/// The 4-s clip analysed at 5 samples a second, with the settings used.
async fn analysed(clip: &Path) -> (clipforge_reframe::FaceAnalysis, ReframeSettings) {
    let settings = ReframeSettings {
        sample_fps: 5.0,
        ..ReframeSettings::default()
    };
    let video = probe(clip).await.unwrap().video.unwrap();
    let analysis = analyse(clip, &video, 0.0, 4.0, &RunContext::default(), &settings)
        .await
        .unwrap();
    (analysis, settings)
}

#[tokio::test]
async fn follows_the_face_and_cuts_at_the_scene_change() {
    let dir = tempfile::tempdir().unwrap();
    let clip = make_clip(dir.path()).await;
    let (analysis, settings) = analysed(&clip).await;
    assert_eq!((analysis.source_width, analysis.source_height), (640, 360));
    let with_faces = analysis
        .samples
        .iter()
        .filter(|s| !s.faces.is_empty())
        .count();
    assert!(
        with_faces * 10 >= analysis.samples.len() * 8,
        "faces in {with_faces} of {}",
        analysis.samples.len()
    );

    // The cache format round-trips.
    let json = serde_json::to_string(&analysis).unwrap();
    let back: clipforge_reframe::FaceAnalysis = serde_json::from_str(&json).unwrap();
    assert_eq!(back.samples.len(), analysis.samples.len());

    let Framing::Crop { path } = plan(&analysis, (9, 16), ReframeMode::Auto, &[], &settings) else {
        panic!("expected a crop");
    };
    assert_eq!((path.width, path.height), (202, 360));
    let report = score(&path, 4.0, 10.0, truth);
    assert!(
        report.inside >= 0.95,
        "face inside the middle 60% in only {:.0}% of frames",
        report.inside * 100.0
    );

    let cut = path
        .keys
        .windows(2)
        .find(|k| k[0].time == k[1].time)
        .expect("a cut");
    assert!((1.7..=2.3).contains(&cut[0].time), "cut at {}", cut[0].time);
    assert!(cut[1].x < cut[0].x - 100.0, "the cut jumps left");
    assert!(thumbnail_time(&analysis).is_some());
}

/// Between full scans detection looks only around the faces already found; a second
/// person who steps in beside the first, with no cut, must still be found within about a
/// second and then kept.
#[tokio::test]
async fn a_face_that_appears_mid_shot_is_found_within_a_second() {
    let dir = tempfile::tempdir().unwrap();
    let clip = draw(
        dir.path(),
        "[0]noise=alls=20:allf=t[bg];[2]scale=104:112[f];[f]split[f1][f2];\
        [bg][f1]overlay=x='0.25*W-w/2':y='H/2-h/2':shortest=1[v];\
        [v][f2]overlay=x='0.75*W-w/2':y='H/2-h/2':enable='gte(t,1.5)':shortest=1,format=yuv420p",
    )
    .await;
    let (analysis, _) = analysed(&clip).await;
    let near = |s: &clipforge_reframe::Sample, x: f64| {
        s.faces.iter().any(|f| (f.center().0 - x).abs() < 40.0)
    };
    let first = analysis
        .samples
        .iter()
        .find(|s| near(s, 0.75 * W))
        .expect("the second face is found");
    assert!(
        (1.5..=2.7).contains(&first.time),
        "the second face is first found at {:.2} s",
        first.time
    );
    let after: Vec<_> = analysis
        .samples
        .iter()
        .filter(|s| s.time > first.time)
        .collect();
    let kept = after.iter().filter(|s| near(s, 0.75 * W)).count();
    assert!(
        kept * 10 >= after.len() * 8,
        "kept in {kept} of {}",
        after.len()
    );
    let first_face = analysis
        .samples
        .iter()
        .filter(|s| near(s, 0.25 * W))
        .count();
    assert!(first_face * 10 >= analysis.samples.len() * 8);
}
