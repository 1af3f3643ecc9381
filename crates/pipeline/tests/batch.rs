//! Rendering several clips of one source in a run: the next clip is prepared while this
//! one encodes, and the clips come out exactly as they would one by one.

use std::path::{Path, PathBuf};
use std::time::Duration;

use clipforge_core::{NoProgress, Quality, ReframeMode, Segment, Transcript, Word};
use clipforge_media::{probe, MediaInfo, RunContext, Runner};
use clipforge_pipeline::{
    fingerprint, render_clip, render_clips, ClipJob, Fingerprint, PipelineError, RenderSettings,
};

/// A 12-s talk: a face drifting over a grey background, a tone for the voice.
async fn source(dir: &Path) -> PathBuf {
    let face = Path::new(env!("CARGO_MANIFEST_DIR")).join("../reframe/tests/fixtures/face.png");
    let path = dir.join("talk.mp4");
    Runner::new(1)
        .command("ffmpeg")
        .args(["-nostdin", "-v", "error", "-y"])
        .args(["-f", "lavfi", "-i", "color=c=gray:s=1280x720:r=30:d=12"])
        .args(["-loop", "1", "-i"])
        .arg(&face)
        .args(["-f", "lavfi", "-i", "sine=f=220:r=48000:d=12"])
        .args([
            "-filter_complex",
            "[1]scale=200:-2[f];[0][f]overlay=x='300+400*t/12':y=200:shortest=1,format=yuv420p[v]",
        ])
        .args(["-map", "[v]", "-map", "2:a", "-t", "12"])
        .args(["-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac"])
        .arg(&path)
        .timeout(Duration::from_secs(120))
        .run()
        .await
        .unwrap();
    path
}

fn transcript() -> Transcript {
    let words: Vec<Word> = (0..22)
        .map(|i| Word {
            start: 0.5 + f64::from(i) * 0.5,
            end: 0.9 + f64::from(i) * 0.5,
            text: format!("word{i}"),
            confidence: 1.0,
        })
        .collect();
    Transcript {
        language: "en".into(),
        duration: 12.0,
        segments: vec![Segment {
            start: 0.5,
            end: 11.4,
            text: "words".into(),
            speaker: None,
            words,
        }],
    }
}

fn settings() -> RenderSettings {
    RenderSettings {
        quality: Quality::Draft,
        reframe: ReframeMode::Auto,
        ..RenderSettings::default()
    }
}

struct Source {
    input: PathBuf,
    info: MediaInfo,
    fp: Fingerprint,
    transcript: Transcript,
    settings: RenderSettings,
}

impl Source {
    async fn new(dir: &Path) -> Source {
        let input = source(dir).await;
        Source {
            info: probe(&input).await.unwrap(),
            fp: fingerprint(&input).unwrap(),
            input,
            transcript: transcript(),
            settings: settings(),
        }
    }

    fn job<'a>(&'a self, range: (f64, f64), output: &'a Path, cache: &'a Path) -> ClipJob<'a> {
        ClipJob {
            input: &self.input,
            fingerprint: &self.fp,
            info: &self.info,
            transcript: Some(&self.transcript),
            start: range.0,
            end: range.1,
            title: Some("A title for the first seconds"),
            settings: &self.settings,
            output,
            thumbnail: None,
            cache,
        }
    }
}

fn analysed_ranges(cache: &Path) -> usize {
    std::fs::read_dir(cache)
        .unwrap()
        .filter(|e| {
            let name = e.as_ref().unwrap().file_name();
            let name = name.to_string_lossy();
            name.starts_with("faces-") && name.ends_with(".json")
        })
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_prepares_the_next_clip_during_each_encode_and_renders_what_single_clips_do() {
    let dir = tempfile::tempdir().unwrap();
    let src = Source::new(dir.path()).await;
    let ranges = [(0.5, 4.5), (4.0, 8.0), (7.5, 11.5)];
    let outputs: Vec<PathBuf> = (0..ranges.len())
        .map(|i| dir.path().join(format!("batch-{i}.mp4")))
        .collect();
    let cache = dir.path().join("batch-cache");
    let jobs: Vec<ClipJob> = ranges
        .iter()
        .zip(&outputs)
        .map(|(&r, out)| src.job(r, out, &cache))
        .collect();

    let mut reported = Vec::new();
    let clips = render_clips(&jobs, &RunContext::default(), &NoProgress, |i, clip| {
        // By the time a clip is done, the faces of the one after it have been found.
        let ahead = (i + 2).min(ranges.len());
        assert_eq!(analysed_ranges(&cache), ahead, "when clip {i} was done");
        assert!(clip.output.is_file() && !clip.reused && clip.framing == "face");
        reported.push(i);
    })
    .await
    .unwrap();
    assert_eq!(reported, vec![0, 1, 2]);
    assert_eq!(clips.len(), 3);

    for (i, (&range, batch)) in ranges.iter().zip(&outputs).enumerate() {
        let alone = dir.path().join(format!("alone-{i}.mp4"));
        let cache = dir.path().join(format!("alone-cache-{i}"));
        render_clip(
            &src.job(range, &alone, &cache),
            &RunContext::default(),
            &NoProgress,
        )
        .await
        .unwrap();
        assert!(
            std::fs::read(batch).unwrap() == std::fs::read(&alone).unwrap(),
            "clip {i} of the batch differs from the same clip rendered alone"
        );
    }

    // A second run keeps every clip.
    let again = render_clips(&jobs, &RunContext::default(), &NoProgress, |_, _| {})
        .await
        .unwrap();
    assert!(again.iter().all(|c| c.reused), "{again:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clip_that_cannot_be_rendered_fails_by_its_index_after_the_clips_before_it() {
    let dir = tempfile::tempdir().unwrap();
    let src = Source::new(dir.path()).await;
    let cache = dir.path().join("cache");
    let (good, bad) = (dir.path().join("good.mp4"), dir.path().join("bad.mp4"));
    // The second clip runs past the end of the video: found out while the first encodes.
    let jobs = [
        src.job((0.5, 4.5), &good, &cache),
        src.job((10.0, 30.0), &bad, &cache),
    ];
    let mut done = Vec::new();
    let (index, err) = render_clips(&jobs, &RunContext::default(), &NoProgress, |i, _| {
        done.push(i)
    })
    .await
    .unwrap_err();
    assert_eq!(index, 1);
    assert!(matches!(err, PipelineError::Settings(_)), "{err}");
    assert!(
        err.to_string().contains("does not fit in the video"),
        "{err}"
    );
    assert_eq!(done, vec![0]);
    assert!(good.is_file() && !bad.exists());
}
