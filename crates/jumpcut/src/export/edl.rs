//! CMX3600 edit decision lists.
//!
//! One event per piece, reel `AX` (a file, not a tape) with the file named in
//! `* FROM CLIP NAME:` and `* SOURCE FILE:` comments, which is how Premiere and Resolve
//! relink. The record side starts at 00:00:00:00. 29.97 and 59.94 plans are written in
//! drop-frame timecode (`FCM: DROP FRAME`, `;` before the frames); every other rate in
//! non-drop at its whole-number rate (23.976 counts 24 a second). Sped-up pieces get an
//! `M2` motion line with the playback rate in source frames per second. Lists past 999
//! events keep counting with four digits, which Resolve and Premiere read.

use std::fmt::Write as _;

use super::SourceInfo;
use crate::timecode::timecode;
use crate::{JumpcutError, Plan};

/// The plan as a CMX3600 EDL titled `title` (control characters dropped, cut to 70
/// characters). Errors when `source` is at another frame rate than the plan.
pub fn to_edl(plan: &Plan, source: &SourceInfo, title: &str) -> Result<String, JumpcutError> {
    source.check(plan)?;
    let rate = plan.frame_rate;
    let drop = rate.has_drop_frame();
    let tc = |frame| timecode(frame, rate, drop);
    let title: String = title.chars().filter(|c| !c.is_control()).take(70).collect();
    let channels = match (source.has_video, source.has_audio) {
        (true, true) => "AA/V",
        (true, false) => "V",
        _ => "AA",
    };
    let name = source.file_name();

    let mut edl = String::with_capacity(256 + plan.pieces.len() * 160);
    let _ = writeln!(edl, "TITLE: {}", title.trim());
    let fcm = if drop { "DROP FRAME" } else { "NON-DROP FRAME" };
    let _ = writeln!(edl, "FCM: {fcm}\n");
    for (i, (piece, at)) in plan
        .pieces
        .iter()
        .zip(plan.output_start_frames())
        .enumerate()
    {
        let _ = writeln!(
            edl,
            "{:03}  {:<8} {:<5} C        {} {} {} {}",
            i + 1,
            "AX",
            channels,
            tc(piece.start_frame),
            tc(piece.end_frame),
            tc(at),
            tc(at + piece.output_frames),
        );
        if piece.output_frames != piece.end_frame - piece.start_frame {
            let _ = writeln!(
                edl,
                "M2   {:<8}     {:05.1}                {}",
                "AX",
                rate.fps() * piece.speed,
                tc(piece.start_frame)
            );
        }
        let _ = writeln!(edl, "* FROM CLIP NAME: {name}");
        let _ = writeln!(edl, "* SOURCE FILE: {}\n", source.path);
    }
    Ok(edl)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::tests_support::sample_plan;
    use crate::{plan, FrameRate, Input, Mode, Settings};

    fn events(edl: &str) -> Vec<Vec<&str>> {
        edl.lines()
            .filter(|l| l.starts_with(|c: char| c.is_ascii_digit()))
            .map(|l| l.split_whitespace().collect())
            .collect()
    }

    #[test]
    fn one_event_per_piece_at_25_fps() {
        let plan = sample_plan(FrameRate::FPS_25, None);
        let source = SourceInfo::new("/m/talk.mp4", FrameRate::FPS_25, 1920, 1080, 10.0);
        let edl = to_edl(&plan, &source, "My talk\n").unwrap();
        let mut lines = edl.lines();
        assert_eq!(lines.next(), Some("TITLE: My talk"));
        assert_eq!(lines.next(), Some("FCM: NON-DROP FRAME"));
        assert_eq!(lines.next(), Some(""));
        assert_eq!(
            lines.next(),
            Some("001  AX       AA/V  C        00:00:00:21 00:00:02:07 00:00:00:00 00:00:01:11")
        );
        assert_eq!(lines.next(), Some("* FROM CLIP NAME: talk.mp4"));
        assert_eq!(lines.next(), Some("* SOURCE FILE: /m/talk.mp4"));
        let ev = events(&edl);
        assert_eq!(ev.len(), 2);
        assert_eq!(
            ev[1],
            vec![
                "002",
                "AX",
                "AA/V",
                "C",
                "00:00:04:21",
                "00:00:06:07",
                "00:00:01:11",
                "00:00:02:22"
            ]
        );
    }

    #[test]
    fn drop_frame_timecode_at_29_97() {
        let rate = FrameRate::FPS_29_97;
        let settings = Settings {
            mode: Mode::Speech,
            ..Settings::default()
        };
        let plan = plan(&settings, &Input::new(120.0, rate).speech(&[(59.0, 61.0)])).unwrap();
        let source = SourceInfo::new("/m/a.mov", rate, 1920, 1080, 120.0);
        let edl = to_edl(&plan, &source, "t").unwrap();
        assert!(edl.contains("FCM: DROP FRAME\n"), "{edl}");
        // Source frames 1763..1836 cross the minute, where ;00 and ;01 do not exist.
        assert_eq!(
            events(&edl)[0][4..],
            ["00:00:58;23", "00:01:01;08", "00:00:00;00", "00:00:02;13"]
        );
    }

    #[test]
    fn sped_up_pieces_get_m2_lines_and_record_time_is_contiguous() {
        let plan = sample_plan(FrameRate::FPS_25, Some(4.0));
        let mut source = SourceInfo::new("/m/a.mp4", FrameRate::FPS_25, 1920, 1080, 10.0);
        source.has_audio = false;
        let edl = to_edl(&plan, &source, "t").unwrap();
        let m2: Vec<&str> = edl.lines().filter(|l| l.starts_with("M2")).collect();
        assert_eq!(m2.len(), 3, "{edl}");
        // The first silence is 21 frames played in 5: 4.2x, 105 frames a second.
        assert_eq!(
            m2[0].split_whitespace().collect::<Vec<_>>(),
            ["M2", "AX", "105.0", "00:00:00:00"]
        );
        let ev = events(&edl);
        assert_eq!(ev.len(), plan.pieces.len());
        assert!(ev.iter().all(|e| e[2] == "V"));
        for pair in ev.windows(2) {
            assert_eq!(pair[0][7], pair[1][6], "record out/in must meet");
            assert_eq!(pair[0][5], pair[1][4], "every source frame is used");
        }
        assert_eq!(ev.last().unwrap()[7], "00:00:04:16"); // 116 frames
    }
}
