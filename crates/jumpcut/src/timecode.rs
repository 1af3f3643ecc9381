//! SMPTE timecode from frame counts, non-drop and drop-frame.

use crate::FrameRate;

/// `HH:MM:SS:FF` for `frame` counted at `rate`. With `drop_frame` (only honoured at
/// 29.97 and 59.94, see [`FrameRate::has_drop_frame`]) the labels skip frames 0 and 1
/// (0–3 at 59.94) of every minute not divisible by ten, so the clock tracks real time,
/// and the frame field is separated by `;`. Hours wrap at 24.
pub fn timecode(frame: u64, rate: FrameRate, drop_frame: bool) -> String {
    let base = u64::from(rate.nominal());
    let drop = drop_frame && rate.has_drop_frame();
    let label = if drop {
        let dropped = base / 15; // 2 at 30, 4 at 60
        let per_minute = base * 60 - dropped;
        let per_ten_minutes = per_minute * 10 + dropped;
        let tens = frame / per_ten_minutes;
        let rest = frame % per_ten_minutes;
        let mut label = frame + 9 * dropped * tens;
        if rest > dropped {
            label += dropped * ((rest - dropped) / per_minute);
        }
        label
    } else {
        frame
    };
    let ff = label % base;
    let total_seconds = label / base;
    let (hh, mm, ss) = (
        (total_seconds / 3600) % 24,
        (total_seconds / 60) % 60,
        total_seconds % 60,
    );
    let sep = if drop { ';' } else { ':' };
    format!("{hh:02}:{mm:02}:{ss:02}{sep}{ff:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_drop_counts_at_the_nominal_rate() {
        let r = FrameRate::FPS_25;
        assert_eq!(timecode(0, r, false), "00:00:00:00");
        assert_eq!(timecode(24, r, false), "00:00:00:24");
        assert_eq!(timecode(25, r, false), "00:00:01:00");
        assert_eq!(timecode(25 * 3661 + 7, r, false), "01:01:01:07");
        // 23.976 has no drop-frame form: it counts 24 a second.
        assert_eq!(timecode(24, FrameRate::FPS_23_976, true), "00:00:01:00");
        // 29.97 non-drop counts 30 a second and drifts from the clock.
        assert_eq!(timecode(1800, FrameRate::FPS_29_97, false), "00:01:00:00");
        assert_eq!(timecode(25 * 86_400, r, false), "00:00:00:00");
    }

    #[test]
    fn drop_frame_at_29_97() {
        let r = FrameRate::FPS_29_97;
        let tc = |f| timecode(f, r, true);
        assert_eq!(tc(0), "00:00:00;00");
        assert_eq!(tc(1799), "00:00:59;29");
        assert_eq!(tc(1800), "00:01:00;02");
        assert_eq!(tc(1801), "00:01:00;03");
        assert_eq!(tc(3597), "00:01:59;29");
        assert_eq!(tc(3598), "00:02:00;02");
        // Every tenth minute keeps its first frames.
        assert_eq!(tc(17_981), "00:09:59;29");
        assert_eq!(tc(17_982), "00:10:00;00");
        assert_eq!(tc(17_983), "00:10:00;01");
        // One hour of 29.97 is 107,892 frames and reads exactly 01:00:00;00.
        assert_eq!(tc(107_892), "01:00:00;00");
    }

    #[test]
    fn drop_frame_at_59_94() {
        let r = FrameRate::FPS_59_94;
        let tc = |f| timecode(f, r, true);
        assert_eq!(tc(3599), "00:00:59;59");
        assert_eq!(tc(3600), "00:01:00;04");
        assert_eq!(tc(35_964), "00:10:00;00");
        assert_eq!(tc(215_784), "01:00:00;00");
    }

    #[test]
    fn drop_frame_labels_never_repeat_or_use_dropped_numbers() {
        let r = FrameRate::FPS_29_97;
        let mut last = String::new();
        for f in 0..40_000u64 {
            let tc = timecode(f, r, true);
            assert!(tc > last, "{f}: {tc} after {last}");
            let (mm, ss, ff) = (&tc[3..5], &tc[6..8], &tc[9..11]);
            if ss == "00" && (ff == "00" || ff == "01") {
                assert_eq!(mm.parse::<u32>().unwrap() % 10, 0, "{tc}");
            }
            last = tc;
        }
    }
}
