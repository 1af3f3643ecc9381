//! `clipforge clip` and `clipforge render` end to end on a real talk: the files a user
//! gets, their sizes and lengths, stages reused on a re-run, and clear errors.

mod common;

use std::path::Path;
use std::time::Duration;

use clipforge_media::Runner;
use common::{clipforge, fixture, model_dir};
use serde_json::Value;

/// Video and audio stream lengths and the frame size, from ffprobe.
async fn streams(path: &Path) -> (f64, f64, u32, u32) {
    let out = Runner::new(1)
        .command("ffprobe")
        .args(["-v", "error", "-show_streams", "-of", "json"])
        .arg(path)
        .timeout(Duration::from_secs(60))
        .run()
        .await
        .unwrap();
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    let (mut v, mut a, mut size) = (0.0, 0.0, (0, 0));
    for s in json["streams"].as_array().unwrap() {
        let d: f64 = s["duration"].as_str().unwrap().parse().unwrap();
        if s["codec_type"] == "video" {
            v = d;
            size = (
                s["width"].as_u64().unwrap() as u32,
                s["height"].as_u64().unwrap() as u32,
            );
        } else if s["codec_type"] == "audio" {
            a = d;
        }
    }
    (v, a, size.0, size.1)
}

/// Width and height of an image.
async fn image_size(path: &Path) -> (u32, u32) {
    let out = Runner::new(1)
        .command("ffprobe")
        .args([
            "-v",
            "error",
            "-show_entries",
            "stream=width,height",
            "-of",
            "csv=p=0",
        ])
        .arg(path)
        .timeout(Duration::from_secs(30))
        .run()
        .await
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let (w, h) = text.trim().split_once(',').unwrap();
    (w.parse().unwrap(), h.parse().unwrap())
}

fn modified(path: &Path) -> std::time::SystemTime {
    std::fs::metadata(path).unwrap().modified().unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_talk_becomes_clips_and_a_rerun_redoes_only_what_changed() {
    let video = fixture("talk-3m.mp4");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("clips");
    let model = model_dir();
    let args = |template: &'static str| {
        vec![
            "clip".to_string(),
            video.to_str().unwrap().into(),
            "-o".into(),
            out.to_str().unwrap().into(),
            "--clips".into(),
            "2".into(),
            "--quality".into(),
            "draft".into(),
            "--template".into(),
            template.into(),
            "--model".into(),
            model.to_str().unwrap().into(),
        ]
    };
    let run = |template| {
        let a = args(template);
        async move {
            let refs: Vec<&str> = a.iter().map(String::as_str).collect();
            clipforge(&refs, &[]).await
        }
    };
    let first = run("bold-pop").await;
    assert!(first.ok, "{}", first.stderr);
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("clips.json")).unwrap()).unwrap();
    let clips = report["clips"].as_array().unwrap();
    assert_eq!(clips.len(), 2, "{report}");
    for name in ["transcript.json", "transcript.srt"] {
        assert!(out.join(name).is_file(), "{name} missing");
    }
    for clip in clips {
        let file = out.join(clip["file"].as_str().unwrap());
        let planned = clip["end"].as_f64().unwrap() - clip["start"].as_f64().unwrap();
        let (v, a, w, h) = streams(&file).await;
        let frame = 1.0 / 30.0 + 1e-6;
        assert_eq!((w, h), (540, 960), "{}", file.display());
        assert!(
            (v - planned).abs() <= frame,
            "video {v} vs planned {planned}"
        );
        assert!((a - v).abs() <= frame, "audio {a} vs video {v}");
        let thumb = out.join(clip["thumbnail"].as_str().unwrap());
        assert_eq!(image_size(&thumb).await, (540, 960));
        for field in ["score", "breakdown", "reason", "title", "hook"] {
            assert!(!clip[field].is_null(), "{field} missing in {clip}");
        }
        assert!(
            std::fs::read(&file)
                .unwrap()
                .windows(4)
                .take(64)
                .any(|w| w == b"moov"),
            "moov must come first (+faststart)"
        );
    }
    let first_clip = out.join("clip-01.mp4");
    let stamp = modified(&first_clip);

    // The same command again: every stage is reused.
    let again = run("bold-pop").await;
    assert!(again.ok, "{}", again.stderr);
    assert!(
        again.stderr.contains("transcript: reused"),
        "{}",
        again.stderr
    );
    assert_eq!(
        again.stderr.matches("(reused)").count(),
        2,
        "{}",
        again.stderr
    );
    assert_eq!(modified(&first_clip), stamp);

    // A new template: the transcript and the moments stay, the clips are made again.
    let restyled = run("karaoke").await;
    assert!(restyled.ok, "{}", restyled.stderr);
    assert!(
        restyled.stderr.contains("transcript: reused"),
        "{}",
        restyled.stderr
    );
    assert!(
        restyled.stderr.contains("moments: reused"),
        "{}",
        restyled.stderr
    );
    assert_eq!(
        restyled.stderr.matches("(reused)").count(),
        0,
        "{}",
        restyled.stderr
    );
    assert_ne!(modified(&first_clip), stamp);
}

#[tokio::test(flavor = "multi_thread")]
async fn one_clip_and_one_preview_frame_by_hand() {
    let video = fixture("talk-3m.mp4");
    let dir = tempfile::tempdir().unwrap();
    let model = model_dir();
    let clip = dir.path().join("one.mp4");
    let common = [
        "render",
        video.to_str().unwrap(),
        "--start",
        "12.5",
        "--end",
        "27.5",
        "--aspect",
        "1:1",
        "--quality",
        "draft",
        "--title",
        "A {\\b1} title",
        "--model",
        model.to_str().unwrap(),
    ];
    let mut args = common.to_vec();
    args.extend(["-o", clip.to_str().unwrap()]);
    let run = clipforge(&args, &[]).await;
    assert!(run.ok, "{}", run.stderr);
    let (v, a, w, h) = streams(&clip).await;
    assert_eq!((w, h), (540, 540));
    assert!((v - 15.0).abs() <= 1.0 / 30.0 + 1e-6, "{v}");
    assert!((a - v).abs() <= 1.0 / 30.0 + 1e-6, "{a} vs {v}");

    let frame = dir.path().join("at-4.png");
    let mut args = common.to_vec();
    args.extend(["--preview-frame", "4", "-o", frame.to_str().unwrap()]);
    let run = clipforge(&args, &[]).await;
    assert!(run.ok, "{}", run.stderr);
    assert_eq!(image_size(&frame).await, (540, 540));
}

#[tokio::test(flavor = "multi_thread")]
async fn several_clips_by_hand_in_one_run() {
    let video = fixture("talk-3m.mp4");
    let dir = tempfile::tempdir().unwrap();
    let model = model_dir();
    let out = dir.path().join("clips");
    let run = clipforge(
        &[
            "render",
            video.to_str().unwrap(),
            "--start",
            "12.5",
            "--end",
            "20",
            "--start",
            "40",
            "--end",
            "46",
            "--title",
            "First",
            "--title",
            "Second",
            "--quality",
            "draft",
            "--model",
            model.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ],
        &[],
    )
    .await;
    assert!(run.ok, "{}", run.stderr);
    for (name, length) in [
        ("talk-3m-12.5-20.0.mp4", 7.5),
        ("talk-3m-40.0-46.0.mp4", 6.0),
    ] {
        let (v, a, w, h) = streams(&out.join(name)).await;
        assert_eq!((w, h), (540, 960), "{name}");
        assert!((v - length).abs() <= 1.0 / 30.0 + 1e-6, "{name}: {v}");
        assert!((a - v).abs() <= 1.0 / 30.0 + 1e-6, "{name}: {a} vs {v}");
        assert!(run.stderr.contains(name), "{}", run.stderr);
    }

    let v = video.to_str().unwrap();
    for (args, expected) in [
        (
            vec!["--start", "1", "--start", "5", "--end", "4"],
            "2 --start but 1 --end",
        ),
        (
            vec![
                "--start", "1", "--end", "4", "--start", "5", "--end", "9", "--title", "a",
                "--title", "b", "--title", "c",
            ],
            "3 titles for 2 clips",
        ),
        (
            vec![
                "--start",
                "1",
                "--end",
                "4",
                "--start",
                "5",
                "--end",
                "9",
                "--preview-frame",
                "1",
            ],
            "--preview-frame renders a frame of one clip",
        ),
    ] {
        let mut all = vec!["render", v, "--no-captions"];
        all.extend(args);
        let run = clipforge(&all, &[]).await;
        assert!(!run.ok);
        assert!(run.stderr.contains(expected), "{}", run.stderr);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_inputs_and_settings_get_clear_errors() {
    let video = fixture("talk-3m.mp4");
    let v = video.to_str().unwrap();
    let run = clipforge(&["clip", v, "--template", "comic-sans"], &[]).await;
    assert!(!run.ok);
    assert!(run.stderr.contains("bold-pop"), "{}", run.stderr);
    let run = clipforge(
        &["render", v, "--start", "30", "--end", "20", "--no-captions"],
        &[],
    )
    .await;
    assert!(!run.ok);
    assert!(
        run.stderr.contains("end must come after the start") || run.stderr.contains("does not fit"),
        "{}",
        run.stderr
    );
    let run = clipforge(
        &[
            "render",
            v,
            "--start",
            "170",
            "--end",
            "400",
            "--no-captions",
        ],
        &[],
    )
    .await;
    assert!(!run.ok);
    assert!(
        run.stderr.contains("does not fit in the video"),
        "{}",
        run.stderr
    );
    let wav = fixture("espeak/welcome.wav");
    let run = clipforge(&["clip", wav.to_str().unwrap()], &[]).await;
    assert!(!run.ok);
    assert!(run.stderr.contains("no video stream"), "{}", run.stderr);
    let run = clipforge(&["clip", "/nonexistent/talk.mp4"], &[]).await;
    assert!(!run.ok);
    assert!(run.stderr.contains("does not exist"), "{}", run.stderr);
}
