//! Parsing ffmpeg's machine-readable progress (`-progress pipe:1 -nostats`).
//!
//! ffmpeg writes blocks of `key=value` lines, each block closed by `progress=continue` or
//! `progress=end`. Only the keys every ffmpeg version writes are read; the rest are ignored so
//! new keys cannot break parsing.

use super::stderr::LineSplitter;

/// One progress report from a running ffmpeg.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FfmpegProgress {
    /// Position reached in the output, in seconds.
    pub out_time: f64,
    /// Processing speed as a multiple of real time, when ffmpeg knows it.
    pub speed: Option<f64>,
    /// True on the last report (`progress=end`).
    pub done: bool,
}

/// Incremental parser: feed it stdout bytes as they arrive, get one report per block.
#[derive(Debug, Default)]
pub struct ProgressParser {
    lines: LineSplitter,
    out_time_us: Option<f64>,
    out_time_ms: Option<f64>,
    out_time: Option<f64>,
    speed: Option<f64>,
    last_time: f64,
}

impl ProgressParser {
    /// Creates a parser with nothing seen yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds raw bytes; calls `report` once for every completed block.
    pub fn push(&mut self, bytes: &[u8], mut report: impl FnMut(FfmpegProgress)) {
        let mut lines = std::mem::take(&mut self.lines);
        lines.push(bytes, |line| {
            if let Some(p) = self.line(line) {
                report(p);
            }
        });
        self.lines = lines;
    }

    /// Parses one `key=value` line; returns a report when the line closes a block.
    pub fn line(&mut self, line: &str) -> Option<FfmpegProgress> {
        let (key, value) = line.split_once('=')?;
        let value = value.trim();
        match key.trim() {
            "out_time_us" => self.out_time_us = parse_micros(value),
            // Despite its name ffmpeg writes microseconds here too (a long-standing quirk).
            "out_time_ms" => self.out_time_ms = parse_micros(value),
            "out_time" => self.out_time = parse_clock(value),
            "speed" => self.speed = parse_speed(value),
            "progress" => return Some(self.finish_block(value == "end")),
            _ => {}
        }
        None
    }

    fn finish_block(&mut self, done: bool) -> FfmpegProgress {
        // Early blocks say N/A or a negative time; keep the last good time so reports never
        // jump backwards.
        let time = self
            .out_time_us
            .or(self.out_time_ms)
            .or(self.out_time)
            .filter(|t| t.is_finite())
            .map(|t| t.max(0.0));
        if let Some(t) = time {
            self.last_time = t;
        }
        let report = FfmpegProgress {
            out_time: self.last_time,
            speed: self.speed,
            done,
        };
        self.out_time_us = None;
        self.out_time_ms = None;
        self.out_time = None;
        self.speed = None;
        report
    }
}

fn parse_micros(value: &str) -> Option<f64> {
    value.parse::<i64>().ok().map(|us| us as f64 / 1e6)
}

/// Parses `HH:MM:SS.micro`, optionally negative (`-00:00:00.023220`).
fn parse_clock(value: &str) -> Option<f64> {
    let (sign, rest) = match value.strip_prefix('-') {
        Some(rest) => (-1.0, rest),
        None => (1.0, value),
    };
    let mut parts = rest.split(':');
    let h: f64 = parts.next()?.parse().ok()?;
    let m: f64 = parts.next()?.parse().ok()?;
    let s: f64 = parts.next()?.parse().ok()?;
    if parts.next().is_some() {
        return None;
    }
    Some(sign * (h * 3600.0 + m * 60.0 + s))
}

/// Parses `1.23x` (ffmpeg pads it with spaces: `speed= 821x`); `N/A` means unknown.
fn parse_speed(value: &str) -> Option<f64> {
    value
        .trim()
        .strip_suffix('x')?
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s > 0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_all(text: &str) -> Vec<FfmpegProgress> {
        let mut out = Vec::new();
        let mut parser = ProgressParser::new();
        // Feed in odd-sized pieces: pipe reads split lines anywhere.
        for chunk in text.as_bytes().chunks(7) {
            parser.push(chunk, |p| out.push(p));
        }
        out
    }

    #[test]
    fn parses_captured_audio_encode() {
        let text = include_str!("../../tests/fixtures/ffmpeg/ffmpeg-5.1-progress-audio.txt");
        let reports = parse_all(text);
        assert_eq!(reports.len(), 2);
        assert_eq!(
            reports[0],
            FfmpegProgress {
                out_time: 0.0,
                speed: None,
                done: false
            }
        );
        assert_eq!(
            reports[1],
            FfmpegProgress {
                out_time: 10.007813,
                speed: Some(821.0),
                done: true
            }
        );
    }

    #[test]
    fn parses_captured_video_encode() {
        let text = include_str!("../../tests/fixtures/ffmpeg/ffmpeg-5.1-progress-video.txt");
        let reports = parse_all(text);
        assert_eq!(reports.len(), 2, "{reports:?}");
        assert_eq!(
            reports[0],
            FfmpegProgress {
                out_time: 0.02322,
                speed: Some(9.2),
                done: false
            }
        );
        assert_eq!(
            reports[1],
            FfmpegProgress {
                out_time: 10.0078,
                speed: Some(34.6),
                done: true
            }
        );
    }

    #[test]
    fn falls_back_to_out_time_and_tolerates_na_and_negative() {
        let text = "out_time=-00:00:00.023220\nspeed=N/A\nprogress=continue\n\
                    out_time_us=N/A\nout_time=01:02:03.500000\nspeed=2.5x\nprogress=continue\n\
                    out_time=N/A\nprogress=end\n";
        let reports = parse_all(text);
        assert_eq!(
            reports,
            [
                FfmpegProgress {
                    out_time: 0.0,
                    speed: None,
                    done: false
                },
                FfmpegProgress {
                    out_time: 3723.5,
                    speed: Some(2.5),
                    done: false
                },
                FfmpegProgress {
                    out_time: 3723.5,
                    speed: None,
                    done: true
                },
            ]
        );
    }

    #[test]
    fn ignores_unknown_and_malformed_lines() {
        let reports = parse_all(
            "frame=12\ngarbage\nstream_0_0_q=28.0\nout_time_us=500000\nprogress=continue\n",
        );
        assert_eq!(reports.len(), 1);
        assert_eq!(reports[0].out_time, 0.5);
    }
}
