//! Turning ffprobe's JSON into [`MediaInfo`]. Pure, so it is tested against captured output.

use std::collections::HashMap;
use std::path::Path;

use serde::Deserialize;

use super::{AudioStream, MediaInfo, VideoStream};
use crate::MediaError;

/// ffmpeg's `AVPROBE_SCORE_RETRY`: below it a demuxer only guessed, e.g. from noise.
const MIN_PROBE_SCORE: i64 = 25;

/// Average and nominal frame rates further apart than this mean variable frame rate.
const VFR_TOLERANCE: f64 = 0.01;

#[derive(Debug, Deserialize)]
struct RawProbe {
    #[serde(default)]
    streams: Vec<RawStream>,
    format: Option<RawFormat>,
}

#[derive(Debug, Deserialize)]
struct RawFormat {
    format_name: Option<String>,
    duration: Option<String>,
    size: Option<String>,
    bit_rate: Option<String>,
    probe_score: Option<i64>,
}

#[derive(Debug, Deserialize)]
struct RawStream {
    index: u32,
    codec_type: Option<String>,
    codec_name: Option<String>,
    width: Option<u32>,
    height: Option<u32>,
    display_aspect_ratio: Option<String>,
    avg_frame_rate: Option<String>,
    r_frame_rate: Option<String>,
    channels: Option<u32>,
    sample_rate: Option<String>,
    bit_rate: Option<String>,
    duration: Option<String>,
    #[serde(default)]
    disposition: HashMap<String, i64>,
    #[serde(default)]
    tags: HashMap<String, String>,
    #[serde(default)]
    side_data_list: Vec<RawSideData>,
}

#[derive(Debug, Deserialize)]
struct RawSideData {
    rotation: Option<f64>,
}

impl RawStream {
    /// Tag lookup ignoring case: Matroska writes `DURATION`, MP4 `language`, some muxers
    /// `LANGUAGE`.
    fn tag(&self, name: &str) -> Option<&str> {
        self.tags
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn is_attached_picture(&self) -> bool {
        self.disposition.get("attached_pic").copied().unwrap_or(0) != 0
            || self
                .disposition
                .get("timed_thumbnails")
                .copied()
                .unwrap_or(0)
                != 0
    }

    /// The stream's own duration; Matroska keeps it in a `DURATION` tag instead.
    fn duration(&self) -> Option<f64> {
        self.duration
            .as_deref()
            .and_then(parse_number)
            .or_else(|| self.tag("DURATION").and_then(parse_clock))
            .filter(|d| *d > 0.0)
    }
}

/// Parses the JSON of `ffprobe -print_format json -show_format -show_streams` for `path`.
pub fn parse_probe(json: &str, path: &Path) -> Result<MediaInfo, MediaError> {
    let raw: RawProbe = serde_json::from_str(json).map_err(|e| MediaError::Parse {
        what: "ffprobe output".into(),
        detail: e.to_string(),
    })?;
    let not_media = |detail: &str| MediaError::NotMedia {
        path: path.to_owned(),
        detail: detail.to_owned(),
    };

    let Some(format) = raw.format else {
        return Err(not_media("ffprobe found no container format"));
    };
    let container = format.format_name.clone().unwrap_or_default();
    // `tty` is ffmpeg's ANSI-art demuxer: it accepts any text file, which is never what a
    // user meant by a video.
    if container == "tty" {
        return Err(not_media("it is a text file"));
    }
    if let Some(score) = format.probe_score.filter(|s| *s < MIN_PROBE_SCORE) {
        return Err(not_media(&format!(
            "ffprobe only guessed the format {container:?} (probe score {score})"
        )));
    }

    let video = raw
        .streams
        .iter()
        .find(|s| s.codec_type.as_deref() == Some("video") && !s.is_attached_picture())
        .map(video_stream);
    let audio: Vec<AudioStream> = raw
        .streams
        .iter()
        .filter(|s| s.codec_type.as_deref() == Some("audio"))
        .map(audio_stream)
        .collect();
    if video.is_none() && audio.is_empty() {
        return Err(not_media("it has no audio or video streams"));
    }

    let duration = format
        .duration
        .as_deref()
        .and_then(parse_number)
        .filter(|d| *d > 0.0)
        .or_else(|| {
            raw.streams
                .iter()
                .filter_map(RawStream::duration)
                .reduce(f64::max)
        })
        .filter(|d| d.is_finite() && *d > 0.0)
        .ok_or_else(|| MediaError::ZeroDuration {
            path: path.to_owned(),
        })?;

    Ok(MediaInfo {
        duration,
        container,
        size: format.size.as_deref().and_then(parse_u64).unwrap_or(0),
        bit_rate: format.bit_rate.as_deref().and_then(parse_u64),
        video,
        audio,
    })
}

fn video_stream(s: &RawStream) -> VideoStream {
    let avg_frame_rate = s.avg_frame_rate.as_deref().and_then(parse_rate);
    let r_frame_rate = s.r_frame_rate.as_deref().and_then(parse_rate);
    let variable_frame_rate = match (avg_frame_rate, r_frame_rate) {
        (Some(avg), Some(r)) => (avg - r).abs() > VFR_TOLERANCE * r,
        _ => false,
    };
    VideoStream {
        index: s.index,
        codec: s.codec_name.clone().unwrap_or_default(),
        width: s.width.unwrap_or(0),
        height: s.height.unwrap_or(0),
        rotation: rotation(s),
        display_aspect: s.display_aspect_ratio.as_deref().and_then(parse_aspect),
        avg_frame_rate,
        r_frame_rate,
        variable_frame_rate,
    }
}

fn audio_stream(s: &RawStream) -> AudioStream {
    AudioStream {
        index: s.index,
        codec: s.codec_name.clone().unwrap_or_default(),
        channels: s.channels.unwrap_or(0),
        sample_rate: s.sample_rate.as_deref().and_then(parse_u64).unwrap_or(0) as u32,
        bit_rate: s.bit_rate.as_deref().and_then(parse_u64).filter(|&b| b > 0),
        // "und" is ISO 639-2 for "undetermined", which MP4 muxers write by default.
        language: s
            .tag("language")
            .map(str::trim)
            .filter(|l| !l.is_empty() && *l != "und")
            .map(str::to_owned),
        duration: s.duration(),
    }
}

/// Clockwise degrees to turn the stored picture for display.
///
/// The display matrix rotation ffprobe prints is counter-clockwise (ffmpeg's own autorotate
/// negates it); the legacy `rotate` tag is already clockwise.
fn rotation(s: &RawStream) -> i32 {
    let degrees = s
        .side_data_list
        .iter()
        .find_map(|d| d.rotation)
        .map(|ccw| -ccw)
        .or_else(|| s.tag("rotate").and_then(parse_number));
    degrees.map_or(0, normalise_rotation)
}

/// Snaps any angle to 0, 90, 180 or 270.
fn normalise_rotation(degrees: f64) -> i32 {
    if !degrees.is_finite() {
        return 0;
    }
    let quarter_turns = (degrees / 90.0).round() as i64;
    (quarter_turns.rem_euclid(4) * 90) as i32
}

fn parse_number(s: &str) -> Option<f64> {
    s.trim().parse::<f64>().ok().filter(|v| v.is_finite())
}

fn parse_u64(s: &str) -> Option<u64> {
    s.trim().parse().ok()
}

/// `30000/1001` → 29.97; `0/0` (unknown) → None.
fn parse_rate(s: &str) -> Option<f64> {
    let rate = match s.split_once('/') {
        Some((n, d)) => {
            let (n, d) = (parse_number(n)?, parse_number(d)?);
            if d == 0.0 {
                return None;
            }
            n / d
        }
        None => parse_number(s)?,
    };
    (rate > 0.0).then_some(rate)
}

/// `16:9` → (16, 9); `0:1` and `N/A` (unknown) → None.
fn parse_aspect(s: &str) -> Option<(u32, u32)> {
    let (w, h) = s.split_once(':')?;
    let (w, h) = (w.trim().parse().ok()?, h.trim().parse().ok()?);
    (w > 0 && h > 0).then_some((w, h))
}

/// `00:00:02.023000000` → 2.023.
fn parse_clock(s: &str) -> Option<f64> {
    let mut parts = s.trim().split(':');
    let h = parse_number(parts.next()?)?;
    let m = parse_number(parts.next()?)?;
    let sec = parse_number(parts.next()?)?;
    parts
        .next()
        .is_none()
        .then_some(h * 3600.0 + m * 60.0 + sec)
}

#[cfg(test)]
mod tests {
    use super::*;

    macro_rules! fixture {
        ($name:literal) => {
            include_str!(concat!("../../tests/fixtures/ffprobe/", $name))
        };
    }

    fn parse(json: &str) -> MediaInfo {
        parse_probe(json, Path::new("in.mp4")).expect("fixture parses")
    }

    #[test]
    fn landscape_1080p_h264_aac() {
        let info = parse(fixture!("ffprobe-5.1-h264-aac-1080p.json"));
        assert_eq!(info.duration, 2.0);
        assert_eq!(info.container, "mov,mp4,m4a,3gp,3g2,mj2");
        assert_eq!(info.size, 3_883_065);
        assert_eq!(info.bit_rate, Some(15_532_260));
        let v = info.video.expect("video");
        assert_eq!((v.codec.as_str(), v.width, v.height), ("h264", 1920, 1080));
        assert_eq!(v.rotation, 0);
        assert_eq!(v.display_aspect, Some((16, 9)));
        assert_eq!(v.avg_frame_rate, Some(30.0));
        assert!(!v.variable_frame_rate);
        assert_eq!(v.display_size(), (1920, 1080));
        assert_eq!(
            info.audio,
            [AudioStream {
                index: 1,
                codec: "aac".into(),
                channels: 1,
                sample_rate: 48_000,
                bit_rate: Some(69_937),
                language: None,
                duration: Some(2.0),
            }]
        );
    }

    #[test]
    fn phone_portrait_video_is_rotated_for_display() {
        let info = parse(fixture!("ffprobe-5.1-h264-aac-rotated-portrait.json"));
        let v = info.video.expect("video");
        assert_eq!((v.width, v.height), (1280, 720));
        assert_eq!(v.rotation, 90);
        assert_eq!(v.display_size(), (720, 1280));
    }

    #[test]
    fn variable_frame_rate_without_audio() {
        let info = parse(fixture!("ffprobe-5.1-h264-vfr-no-audio.json"));
        assert!(info.audio.is_empty());
        assert!((info.duration - 13.934).abs() < 1e-9);
        let v = info.video.expect("video");
        assert_eq!(v.r_frame_rate, Some(30.0));
        assert!((v.avg_frame_rate.unwrap() - 2700.0 / 209.0).abs() < 1e-9);
        assert!(v.variable_frame_rate);
    }

    #[test]
    fn mp3_audio_only() {
        let info = parse(fixture!("ffprobe-5.1-mp3-audio-only.json"));
        assert!(info.video.is_none());
        assert_eq!(info.container, "mp3");
        assert!((info.duration - 3.030204).abs() < 1e-9);
        assert_eq!(info.audio.len(), 1);
        assert_eq!(info.audio[0].codec, "mp3");
        assert_eq!(info.audio[0].sample_rate, 44_100);
    }

    #[test]
    fn wav_audio_only() {
        let info = parse(fixture!("ffprobe-5.1-wav-pcm-audio-only.json"));
        assert!(info.video.is_none());
        assert_eq!(info.duration, 1.5);
        assert_eq!(info.audio[0].codec, "pcm_s16le");
        assert_eq!(info.audio[0].sample_rate, 22_050);
    }

    #[test]
    fn two_audio_streams_with_languages_in_matroska() {
        let info = parse(fixture!("ffprobe-5.1-mkv-two-audio-languages.json"));
        assert_eq!(info.container, "matroska,webm");
        assert_eq!(info.video.as_ref().map(|v| v.index), Some(0));
        let langs: Vec<_> = info.audio.iter().map(|a| a.language.as_deref()).collect();
        assert_eq!(langs, [Some("eng"), Some("spa")]);
        assert_eq!(info.audio[0].index, 1);
        assert_eq!(info.audio[1].index, 2);
        assert_eq!(info.audio[1].channels, 2);
        // Matroska has no per-stream duration field, only the DURATION tag.
        assert_eq!(info.audio[0].duration, Some(2.023));
    }

    #[test]
    fn cover_art_is_not_video() {
        let info = parse(fixture!("ffprobe-5.1-mp3-cover-art.json"));
        assert!(info.video.is_none());
        assert_eq!(info.audio.len(), 1);
    }

    #[test]
    fn media_info_round_trips_through_json() {
        let info = parse(fixture!("ffprobe-5.1-mkv-two-audio-languages.json"));
        let json = serde_json::to_string(&info).unwrap();
        let back: MediaInfo = serde_json::from_str(&json).unwrap();
        assert_eq!(back, info);
    }

    #[test]
    fn legacy_rotate_tag_is_clockwise() {
        let json = r#"{"streams":[{"index":0,"codec_type":"video","codec_name":"h264",
            "width":1920,"height":1080,"tags":{"rotate":"270"}}],
            "format":{"format_name":"mov","duration":"1.0","probe_score":100}}"#;
        let v = parse(json).video.unwrap();
        assert_eq!(v.rotation, 270);
        assert_eq!(v.display_size(), (1080, 1920));
    }

    #[test]
    fn rotation_snaps_to_quarter_turns() {
        assert_eq!(normalise_rotation(0.0), 0);
        assert_eq!(normalise_rotation(-90.0), 270);
        assert_eq!(normalise_rotation(90.0), 90);
        assert_eq!(normalise_rotation(-180.0), 180);
        assert_eq!(normalise_rotation(450.0), 90);
        assert_eq!(normalise_rotation(89.6), 90);
        assert_eq!(normalise_rotation(f64::NAN), 0);
    }

    #[test]
    fn duration_falls_back_to_streams_then_errors() {
        let json = r#"{"streams":[{"index":0,"codec_type":"audio","codec_name":"opus",
            "channels":2,"sample_rate":"48000","tags":{"DURATION":"00:01:00.500000000"}}],
            "format":{"format_name":"matroska,webm","probe_score":100}}"#;
        assert_eq!(parse(json).duration, 60.5);

        let json = r#"{"streams":[{"index":0,"codec_type":"audio","codec_name":"aac"}],
            "format":{"format_name":"mp4","duration":"0.000000","probe_score":100}}"#;
        let err = parse_probe(json, Path::new("in.mp4")).unwrap_err();
        assert!(matches!(err, MediaError::ZeroDuration { .. }), "{err}");
    }

    #[test]
    fn streamless_guessed_or_text_inputs_are_not_media() {
        for json in [
            r#"{}"#,
            r#"{"streams":[],"format":{"format_name":"mp3","duration":"1.0","probe_score":51}}"#,
            r#"{"streams":[{"index":0,"codec_type":"subtitle","codec_name":"webvtt"}],
                "format":{"format_name":"webvtt","duration":"1.0","probe_score":100}}"#,
            r#"{"streams":[{"index":0,"codec_type":"audio","codec_name":"mp3"}],
                "format":{"format_name":"mp3","duration":"1.0","probe_score":1}}"#,
            r#"{"streams":[{"index":0,"codec_type":"video","codec_name":"ansi"}],
                "format":{"format_name":"tty","duration":"1.0","probe_score":50}}"#,
        ] {
            let err = parse_probe(json, Path::new("in.mp4")).unwrap_err();
            assert!(matches!(err, MediaError::NotMedia { .. }), "{json}: {err}");
        }
    }

    #[test]
    fn malformed_json_is_a_parse_error() {
        let err = parse_probe("{", Path::new("in.mp4")).unwrap_err();
        assert!(matches!(err, MediaError::Parse { .. }), "{err}");
    }

    #[test]
    fn rates_and_aspects() {
        assert!((parse_rate("30000/1001").unwrap() - 29.97).abs() < 0.001);
        assert_eq!(parse_rate("0/0"), None);
        assert_eq!(parse_rate("25"), Some(25.0));
        assert_eq!(parse_aspect("16:9"), Some((16, 9)));
        assert_eq!(parse_aspect("0:1"), None);
        assert_eq!(parse_aspect("N/A"), None);
        assert_eq!(parse_clock("01:00:02.5"), Some(3602.5));
    }
}
