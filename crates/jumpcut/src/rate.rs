//! Frame rates as exact rationals, and conversions between seconds and frame numbers.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::JumpcutError;

/// Slack, in frames, when turning seconds into frame numbers: times computed as
/// `frame * den / num` in floating point must map back to the same frame.
const FRAME_EPSILON: f64 = 1e-6;

/// An output frame rate as an exact fraction `num / den` frames per second (e.g.
/// `30000/1001` for 29.97), always reduced. Serialized as the string `"30000/1001"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct FrameRate {
    num: u32,
    den: u32,
}

impl FrameRate {
    /// 24000/1001 (23.976) frames per second.
    pub const FPS_23_976: Self = Self {
        num: 24000,
        den: 1001,
    };
    /// 24 frames per second.
    pub const FPS_24: Self = Self { num: 24, den: 1 };
    /// 25 frames per second.
    pub const FPS_25: Self = Self { num: 25, den: 1 };
    /// 30000/1001 (29.97) frames per second.
    pub const FPS_29_97: Self = Self {
        num: 30000,
        den: 1001,
    };
    /// 30 frames per second.
    pub const FPS_30: Self = Self { num: 30, den: 1 };
    /// 50 frames per second.
    pub const FPS_50: Self = Self { num: 50, den: 1 };
    /// 60000/1001 (59.94) frames per second.
    pub const FPS_59_94: Self = Self {
        num: 60000,
        den: 1001,
    };
    /// 60 frames per second.
    pub const FPS_60: Self = Self { num: 60, den: 1 };

    /// `num / den` frames per second, reduced; both must be positive and the rate at most
    /// 1000 fps.
    pub fn new(num: u32, den: u32) -> Result<Self, JumpcutError> {
        if num == 0 || den == 0 {
            return Err(JumpcutError::input(
                "frame_rate",
                format!("{num}/{den} is not a positive frame rate"),
            ));
        }
        if f64::from(num) / f64::from(den) > 1000.0 {
            return Err(JumpcutError::input(
                "frame_rate",
                format!("{num}/{den} is above 1000 frames per second"),
            ));
        }
        let g = gcd(u64::from(num), u64::from(den)) as u32;
        Ok(Self {
            num: num / g,
            den: den / g,
        })
    }

    /// The rate nearest to `fps`: whole rates and the NTSC rates (23.976, 29.97, 47.952,
    /// 59.94, 119.88) within 0.001 are exact; anything else is rounded to 1/1000 fps.
    pub fn from_fps(fps: f64) -> Result<Self, JumpcutError> {
        if !fps.is_finite() || fps <= 0.0 {
            return Err(JumpcutError::input(
                "frame_rate",
                format!("{fps} is not a positive frame rate"),
            ));
        }
        if fps > 1000.0 {
            return Err(JumpcutError::input(
                "frame_rate",
                format!("{fps} is above 1000 frames per second"),
            ));
        }
        if (fps - fps.round()).abs() < 1e-3 {
            return Self::new(fps.round() as u32, 1);
        }
        for base in [24u32, 30, 48, 60, 120] {
            if (fps - f64::from(base) * 1000.0 / 1001.0).abs() < 1e-3 {
                return Self::new(base * 1000, 1001);
            }
        }
        Self::new((fps * 1000.0).round() as u32, 1000)
    }

    /// Numerator of the reduced fraction.
    pub fn num(self) -> u32 {
        self.num
    }

    /// Denominator of the reduced fraction.
    pub fn den(self) -> u32 {
        self.den
    }

    /// Frames per second as a float.
    pub fn fps(self) -> f64 {
        f64::from(self.num) / f64::from(self.den)
    }

    /// The whole-number rate timecode counts in (30 for 29.97, 24 for 23.976).
    pub fn nominal(self) -> u32 {
        (f64::from(self.num) / f64::from(self.den)).round().max(1.0) as u32
    }

    /// Whether SMPTE drop-frame timecode exists for this rate (29.97 and 59.94 only).
    pub fn has_drop_frame(self) -> bool {
        self.den == 1001 && (self.num == 30000 || self.num == 60000)
    }

    /// The start time of `frame`, in seconds.
    pub fn seconds(self, frame: u64) -> f64 {
        frame as f64 * f64::from(self.den) / f64::from(self.num)
    }

    /// The last frame boundary at or before `seconds` (negative times give 0).
    pub fn frame_floor(self, seconds: f64) -> u64 {
        (self.frames_f64(seconds) + FRAME_EPSILON).floor().max(0.0) as u64
    }

    /// The first frame boundary at or after `seconds` (negative times give 0).
    pub fn frame_ceil(self, seconds: f64) -> u64 {
        (self.frames_f64(seconds) - FRAME_EPSILON).ceil().max(0.0) as u64
    }

    /// The nearest frame boundary to `seconds` (negative times give 0).
    pub fn frame_round(self, seconds: f64) -> u64 {
        self.frames_f64(seconds).round().max(0.0) as u64
    }

    fn frames_f64(self, seconds: f64) -> f64 {
        seconds * f64::from(self.num) / f64::from(self.den)
    }
}

impl fmt::Display for FrameRate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.den == 1 {
            write!(f, "{}", self.num)
        } else {
            write!(f, "{}/{}", self.num, self.den)
        }
    }
}

impl FromStr for FrameRate {
    type Err = JumpcutError;

    /// Parses `"30000/1001"`, `"30"` or `"29.97"`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad =
            || JumpcutError::input("frame_rate", format!("cannot read {s:?} as a frame rate"));
        match s.trim().split_once('/') {
            Some((n, d)) => Self::new(
                n.trim().parse().map_err(|_| bad())?,
                d.trim().parse().map_err(|_| bad())?,
            ),
            None => Self::from_fps(s.trim().parse().map_err(|_| bad())?),
        }
    }
}

impl TryFrom<String> for FrameRate {
    type Error = JumpcutError;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<FrameRate> for String {
    fn from(rate: FrameRate) -> Self {
        format!("{}/{}", rate.num, rate.den)
    }
}

/// Greatest common divisor (`gcd(0, n) == n`).
pub(crate) fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_reduces_and_rejects_zero() {
        let r = FrameRate::new(60, 2).unwrap();
        assert_eq!((r.num(), r.den()), (30, 1));
        assert!(FrameRate::new(0, 1).is_err());
        assert!(FrameRate::new(30, 0).is_err());
        assert!(FrameRate::new(5000, 1).is_err());
    }

    #[test]
    fn from_fps_recognizes_ntsc_rates() {
        assert_eq!(FrameRate::from_fps(29.97).unwrap(), FrameRate::FPS_29_97);
        assert_eq!(
            FrameRate::from_fps(30000.0 / 1001.0).unwrap(),
            FrameRate::FPS_29_97
        );
        assert_eq!(FrameRate::from_fps(23.976).unwrap(), FrameRate::FPS_23_976);
        assert_eq!(FrameRate::from_fps(59.94).unwrap(), FrameRate::FPS_59_94);
        assert_eq!(FrameRate::from_fps(25.0).unwrap(), FrameRate::FPS_25);
        assert_eq!(
            FrameRate::from_fps(12.5).unwrap(),
            FrameRate::new(25, 2).unwrap()
        );
        assert!(FrameRate::from_fps(f64::NAN).is_err());
        assert!(FrameRate::from_fps(-30.0).is_err());
    }

    #[test]
    fn parses_and_prints_rationals() {
        let r: FrameRate = "30000/1001".parse().unwrap();
        assert_eq!(r, FrameRate::FPS_29_97);
        assert_eq!(r.to_string(), "30000/1001");
        assert_eq!("30".parse::<FrameRate>().unwrap(), FrameRate::FPS_30);
        assert_eq!(FrameRate::FPS_30.to_string(), "30");
        assert!("abc".parse::<FrameRate>().is_err());
        let json = serde_json::to_string(&FrameRate::FPS_59_94).unwrap();
        assert_eq!(json, "\"60000/1001\"");
        let back: FrameRate = serde_json::from_str(&json).unwrap();
        assert_eq!(back, FrameRate::FPS_59_94);
        assert!(serde_json::from_str::<FrameRate>("\"0/1\"").is_err());
    }

    #[test]
    fn frame_conversions_round_trip_on_the_grid() {
        for rate in [
            FrameRate::FPS_29_97,
            FrameRate::FPS_24,
            FrameRate::FPS_59_94,
        ] {
            for frame in [0u64, 1, 2, 999, 1798, 1800, 107_892, 1_000_000] {
                let s = rate.seconds(frame);
                assert_eq!(rate.frame_floor(s), frame, "{rate} {frame}");
                assert_eq!(rate.frame_ceil(s), frame, "{rate} {frame}");
                assert_eq!(rate.frame_round(s), frame, "{rate} {frame}");
            }
        }
        let r = FrameRate::FPS_30;
        assert_eq!(r.frame_floor(1.01), 30);
        assert_eq!(r.frame_ceil(1.01), 31);
        assert_eq!(r.frame_round(1.02), 31);
        assert_eq!(r.frame_floor(-1.0), 0);
        assert_eq!(FrameRate::FPS_29_97.nominal(), 30);
        assert_eq!(FrameRate::FPS_23_976.nominal(), 24);
        assert!(FrameRate::FPS_29_97.has_drop_frame());
        assert!(!FrameRate::FPS_23_976.has_drop_frame());
    }
}
