//! FCPXML 1.9 timelines for Final Cut Pro, DaVinci Resolve and Premiere.
//!
//! One `<asset-clip>` per piece on the primary storyline. Times are exact rationals on
//! the frame grid (`1001/30000s` steps at 29.97). Sped-up pieces carry a linear
//! `<timeMap>` whose adjusted clip time starts at the piece's source time, so every
//! value stays on the grid. The media URL sits on `<media-rep>`, where FCPXML 1.9 wants
//! it (a `src` on `<asset>` itself fails Final Cut's DTD check from 1.9 on).

use std::fmt::Write as _;

use super::{xml_escape, SourceInfo};
use crate::rate::gcd;
use crate::{FrameRate, JumpcutError, Plan};

/// The FCPXML version written.
pub const FCPXML_VERSION: &str = "1.9";

/// A rational time value `n/d s`, reduced (`0s`, `5s`, `1001/30000s`).
pub(crate) fn rational(n: u64, d: u64) -> String {
    if n == 0 {
        return "0s".into();
    }
    let g = gcd(n, d);
    let (n, d) = (n / g, d / g);
    if d == 1 {
        format!("{n}s")
    } else {
        format!("{n}/{d}s")
    }
}

/// The start time of `frame` as an FCPXML time value.
pub(crate) fn frame_time(frame: u64, rate: FrameRate) -> String {
    rational(frame * u64::from(rate.den()), u64::from(rate.num()))
}

/// The plan as an FCPXML document: one event and project named `title`, whose
/// sequence plays the pieces back to back. Errors when `source` is unusable (relative
/// path, zero frame size) or at another frame rate than the plan.
pub fn to_fcpxml(plan: &Plan, source: &SourceInfo, title: &str) -> Result<String, JumpcutError> {
    source.check(plan)?;
    let rate = plan.frame_rate;
    let url = source.url()?;
    let title = xml_escape(title);
    let name = xml_escape(source.file_name());
    let last_frame = plan.pieces.last().map_or(0, |p| p.end_frame);
    let asset_frames = rate.frame_ceil(source.duration).max(last_frame);
    let tc_format = if rate.has_drop_frame() { "DF" } else { "NDF" };

    let mut x = String::with_capacity(1024 + plan.pieces.len() * 200);
    x.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE fcpxml>\n\n");
    let _ = writeln!(x, "<fcpxml version=\"{FCPXML_VERSION}\">");
    x.push_str("    <resources>\n");
    let _ = write!(
        x,
        "        <format id=\"r1\" frameDuration=\"{}\"",
        rational(u64::from(rate.den()), u64::from(rate.num()))
    );
    if source.has_video {
        let _ = write!(
            x,
            " width=\"{}\" height=\"{}\"",
            source.width, source.height
        );
    }
    x.push_str("/>\n");
    let _ = write!(
        x,
        "        <asset id=\"r2\" name=\"{name}\" start=\"0s\" duration=\"{}\" format=\"r1\"",
        frame_time(asset_frames, rate)
    );
    if source.has_video {
        x.push_str(" hasVideo=\"1\"");
    }
    if source.has_audio {
        x.push_str(" hasAudio=\"1\" audioSources=\"1\"");
    }
    x.push_str(">\n");
    let _ = writeln!(
        x,
        "            <media-rep kind=\"original-media\" src=\"{}\"/>",
        xml_escape(&url)
    );
    x.push_str("        </asset>\n    </resources>\n    <library>\n");
    let _ = writeln!(x, "        <event name=\"{title}\">");
    let _ = writeln!(x, "            <project name=\"{title}\">");
    let _ = writeln!(
        x,
        "                <sequence format=\"r1\" duration=\"{}\" tcStart=\"0s\" tcFormat=\"{tc_format}\">",
        frame_time(plan.output_frames(), rate)
    );
    x.push_str("                    <spine>\n");
    for (piece, at) in plan.pieces.iter().zip(plan.output_start_frames()) {
        let _ = write!(
            x,
            "                        <asset-clip ref=\"r2\" name=\"{name}\" offset=\"{}\" start=\"{}\" duration=\"{}\" format=\"r1\" tcFormat=\"{tc_format}\"",
            frame_time(at, rate),
            frame_time(piece.start_frame, rate),
            frame_time(piece.output_frames, rate),
        );
        if piece.output_frames == piece.end_frame - piece.start_frame {
            x.push_str("/>\n");
            continue;
        }
        // The clip's adjusted time runs from its source start for `output_frames`,
        // mapped linearly onto the source frames it covers.
        x.push_str(">\n                            <timeMap>\n");
        for (time, value) in [
            (piece.start_frame, piece.start_frame),
            (piece.start_frame + piece.output_frames, piece.end_frame),
        ] {
            let _ = writeln!(
                x,
                "                                <timept time=\"{}\" value=\"{}\" interp=\"linear\"/>",
                frame_time(time, rate),
                frame_time(value, rate)
            );
        }
        x.push_str(
            "                            </timeMap>\n                        </asset-clip>\n",
        );
    }
    x.push_str("                    </spine>\n                </sequence>\n");
    x.push_str("            </project>\n        </event>\n    </library>\n</fcpxml>\n");
    Ok(x)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use quick_xml::events::Event;
    use quick_xml::Reader;

    use super::*;
    use crate::export::tests_support::sample_plan;

    /// Every element as (path from the root, attributes), parsing strictly.
    fn parse(xml: &str) -> Vec<(String, HashMap<String, String>)> {
        let mut reader = Reader::from_str(xml);
        let mut stack: Vec<String> = Vec::new();
        let mut out = Vec::new();
        loop {
            let event = reader.read_event().expect("well-formed XML");
            match &event {
                Event::Start(e) | Event::Empty(e) => {
                    let name = String::from_utf8(e.name().as_ref().to_vec()).unwrap();
                    let attrs = e
                        .attributes()
                        .map(|a| {
                            let a = a.unwrap();
                            (
                                String::from_utf8(a.key.as_ref().to_vec()).unwrap(),
                                a.unescape_value().unwrap().into_owned(),
                            )
                        })
                        .collect();
                    stack.push(name);
                    out.push((stack.join("/"), attrs));
                    if matches!(event, Event::Empty(_)) {
                        stack.pop();
                    }
                }
                Event::End(_) => {
                    stack.pop();
                }
                Event::Eof => break,
                _ => {}
            }
        }
        assert!(stack.is_empty(), "unclosed: {stack:?}");
        out
    }

    /// `"a/bs"` or `"as"` as (numerator, denominator).
    fn parse_time(t: &str) -> (u64, u64) {
        let t = t.strip_suffix('s').expect("time ends in s");
        match t.split_once('/') {
            Some((n, d)) => (n.parse().unwrap(), d.parse().unwrap()),
            None => (t.parse().unwrap(), 1),
        }
    }

    /// The time as a whole number of frames, failing when it is off the grid.
    fn frames_of(t: &str, rate: FrameRate) -> u64 {
        let (n, d) = parse_time(t);
        let (num, den) = (u64::from(rate.num()), u64::from(rate.den()));
        assert_eq!((n * num) % (d * den), 0, "{t} is not on the {rate} grid");
        n * num / (d * den)
    }

    proptest::proptest! {
        #[test]
        fn frame_times_read_back_as_the_same_frame(frame in 0u64..10_000_000, pick in 0usize..5) {
            let rate = [
                FrameRate::FPS_23_976,
                FrameRate::FPS_25,
                FrameRate::FPS_29_97,
                FrameRate::FPS_30,
                FrameRate::FPS_59_94,
            ][pick];
            proptest::prop_assert_eq!(frames_of(&frame_time(frame, rate), rate), frame);
        }
    }

    #[test]
    fn rational_times_are_reduced() {
        assert_eq!(rational(0, 30), "0s");
        assert_eq!(rational(60, 30), "2s");
        assert_eq!(rational(1001, 30000), "1001/30000s");
        assert_eq!(rational(2002, 60000), "1001/30000s");
        assert_eq!(frame_time(30, FrameRate::FPS_30), "1s");
        assert_eq!(frame_time(1, FrameRate::FPS_30), "1/30s");
        assert_eq!(frame_time(30, FrameRate::FPS_29_97), "1001/1000s");
        assert_eq!(frame_time(1, FrameRate::FPS_23_976), "1001/24000s");
    }

    #[test]
    fn timeline_is_well_formed_and_on_the_frame_grid() {
        let rate = FrameRate::FPS_29_97;
        let plan = sample_plan(rate, None);
        let source = SourceInfo::new("/media/My <Talk> & co.mp4", rate, 1920, 1080, 10.0);
        let xml = to_fcpxml(&plan, &source, "Talk \"cut\"").unwrap();
        let els = parse(&xml);
        let find = |path: &str| {
            els.iter()
                .filter(|(p, _)| p == path)
                .map(|(_, a)| a)
                .collect::<Vec<_>>()
        };
        assert_eq!(find("fcpxml")[0]["version"], "1.9");
        let format = find("fcpxml/resources/format")[0];
        assert_eq!(format["frameDuration"], "1001/30000s");
        assert_eq!(format["width"], "1920");
        let asset = find("fcpxml/resources/asset")[0];
        assert_eq!(asset["name"], "My <Talk> & co.mp4");
        assert_eq!(frames_of(&asset["duration"], rate), 300);
        let rep = find("fcpxml/resources/asset/media-rep")[0];
        assert_eq!(rep["src"], "file:///media/My%20%3CTalk%3E%20%26%20co.mp4");
        assert_eq!(find("fcpxml/library/event")[0]["name"], "Talk \"cut\"");
        let seq = find("fcpxml/library/event/project/sequence")[0];
        assert_eq!(seq["tcFormat"], "DF");
        assert_eq!(frames_of(&seq["duration"], rate), plan.output_frames());

        let clips = find("fcpxml/library/event/project/sequence/spine/asset-clip");
        assert_eq!(clips.len(), plan.pieces.len());
        let mut at = 0;
        for (clip, piece) in clips.iter().zip(&plan.pieces) {
            assert_eq!(clip["ref"], "r2");
            assert_eq!(frames_of(&clip["offset"], rate), at);
            assert_eq!(frames_of(&clip["start"], rate), piece.start_frame);
            assert_eq!(frames_of(&clip["duration"], rate), piece.output_frames);
            at += piece.output_frames;
        }
        assert_eq!(at, plan.output_frames());
        assert!(!xml.contains("timeMap"));
    }

    #[test]
    fn sped_up_pieces_get_a_linear_time_map() {
        let rate = FrameRate::FPS_25;
        let plan = sample_plan(rate, Some(4.0));
        let source = SourceInfo::new("/m/a.mp4", rate, 1280, 720, 10.0);
        let xml = to_fcpxml(&plan, &source, "t").unwrap();
        let els = parse(&xml);
        let maps: Vec<_> = els
            .iter()
            .filter(|(p, _)| p.ends_with("asset-clip/timeMap/timept"))
            .map(|(_, a)| a)
            .collect();
        let sped: Vec<_> = plan.pieces.iter().filter(|p| p.speed != 1.0).collect();
        assert_eq!(maps.len(), 2 * sped.len());
        for (pair, piece) in maps.chunks(2).zip(sped) {
            let (t0, v0) = (
                frames_of(&pair[0]["time"], rate),
                frames_of(&pair[0]["value"], rate),
            );
            let (t1, v1) = (
                frames_of(&pair[1]["time"], rate),
                frames_of(&pair[1]["value"], rate),
            );
            assert_eq!((t0, v0), (piece.start_frame, piece.start_frame));
            assert_eq!(t1 - t0, piece.output_frames);
            assert_eq!(v1, piece.end_frame);
            assert_eq!(pair[0]["interp"], "linear");
        }
    }

    #[test]
    fn refuses_relative_paths_and_other_rates() {
        let plan = sample_plan(FrameRate::FPS_25, None);
        let relative = SourceInfo::new("a.mp4", FrameRate::FPS_25, 1280, 720, 10.0);
        assert!(to_fcpxml(&plan, &relative, "t").is_err());
        let other = SourceInfo::new("/a.mp4", FrameRate::FPS_30, 1280, 720, 10.0);
        assert!(to_fcpxml(&plan, &other, "t").is_err());
    }
}
