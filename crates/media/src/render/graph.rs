//! The ffmpeg filter graph of one clip, as text: framing (crop path, stack, fit), scale,
//! logo, captions, and the audio chain (music under speech with ducking, loudness). Pure
//! string building, so every shape of graph is unit-tested without running ffmpeg.

use std::fmt::Write as _;

use clipforge_core::{CropPath, Framing};

use super::{Corner, RenderSpec, TitlePlacement};

/// Name of the captions file inside the render's work folder; ffmpeg runs there, so the
/// filter graph never has to quote a user's path.
pub const CAPTIONS_FILE: &str = "captions.ass";

/// What the graph needs to know about the inputs besides the spec.
#[derive(Debug, Clone, Copy)]
pub struct Inputs {
    /// Input index of the logo image, when there is one.
    pub logo: Option<usize>,
    /// Input index of the music, when there is some.
    pub music: Option<usize>,
    /// Input index of the audio (the source itself, or generated silence).
    pub audio: usize,
    /// Input index of the drawn intro title, and where it goes.
    pub title: Option<(usize, TitlePlacement)>,
}

/// Which parts of the graph to build.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Parts {
    /// Burn in captions (and the intro title) from [`CAPTIONS_FILE`].
    pub captions: bool,
    /// Build the audio chain.
    pub audio: bool,
    /// Gain in dB that brings the clip to its loudness target, measured beforehand by
    /// [`loudness_graph`]; a peak limiter follows it.
    pub gain_db: Option<f64>,
    /// Seconds of the clip before the first frame ffmpeg decodes: a single-frame preview
    /// seeks to its time, and the graph shifts timestamps back so the crop path and the
    /// captions see the same clock as in the export.
    pub offset: f64,
}

/// A number for an ffmpeg expression: short, and never in exponent notation.
fn num(x: f64) -> String {
    let s = format!("{x:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" || s.is_empty() {
        "0".into()
    } else {
        s.into()
    }
}

/// A crop coordinate over time as a flat ffmpeg expression of `t`: the first key's value
/// plus one clipped ramp per moving segment and one step per cut. Flat sums evaluate fast
/// and never hit the parser's nesting limits, however long the path.
pub fn path_expression(
    path: &CropPath,
    coordinate: impl Fn(&clipforge_core::CropKey) -> f64,
) -> String {
    let Some(first) = path.keys.first() else {
        return "0".into();
    };
    let mut expr = num(coordinate(first).round());
    for pair in path.keys.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        let delta = coordinate(b) - coordinate(a);
        if delta.abs() < 0.5 {
            continue;
        }
        let span = b.time - a.time;
        if span <= 1e-6 {
            let _ = write!(expr, "+{}*gte(t,{})", num(delta), num(b.time));
        } else {
            let _ = write!(
                expr,
                "+{}*clip(t-{},0,{})",
                num(delta / span),
                num(a.time),
                num(span)
            );
        }
    }
    expr
}

/// `crop=...` for a path, clamped inside the source so rounding can never push the
/// window off the picture. The window moves in steps of two pixels: at an odd offset the
/// 4:2:0 colour planes would sit half a pixel off the brightness, and a pan that
/// alternates between the two costs the encoder about 8 % more bits.
fn crop_filter(path: &CropPath) -> String {
    let x = path_expression(path, |k| k.x);
    let y = path_expression(path, |k| k.y);
    format!(
        "crop=w={w}:h={h}:x='clip(2*floor(({x})/2),0,iw-{w})':y='clip(2*floor(({y})/2),0,ih-{h})':exact=1",
        w = path.width,
        h = path.height,
    )
}

/// Sample peak ceiling of the limiter after the loudness gain: -2 dBFS.
const LIMIT: f64 = 0.794;

/// The clip's audio as it will be mixed (speech, music, ducking), through ffmpeg's EBU R128
/// meter into `[a]`: the meter's summary gives the loudness the gain is computed from.
pub fn loudness_graph(spec: &RenderSpec, inputs: Inputs) -> String {
    let mut g = String::new();
    audio_chain(&mut g, spec, inputs);
    g.push_str(",ebur128=framelog=verbose[a]");
    g
}

/// The audio before any gain: resampled to 48 kHz stereo, with music mixed under it.
fn audio_chain(g: &mut String, spec: &RenderSpec, inputs: Inputs) {
    let a = inputs.audio;
    let _ = write!(g, "[{a}:a]aresample=48000,aformat=channel_layouts=stereo");
    if let (Some(music), Some(m)) = (&spec.music, inputs.music) {
        // Speech keys a compressor on the music: the music dips while someone
        // talks and comes back up in the pauses.
        let _ = write!(
            g,
            ",asplit[speech][key];[{m}:a]aresample=48000,aformat=channel_layouts=stereo,\
             volume={}dB[music];",
            num(music.volume_db)
        );
        if music.duck {
            g.push_str(
                "[music][key]sidechaincompress=threshold=0.03:ratio=8:attack=20:release=350[ducked];\
                 [speech][ducked]amix=inputs=2:duration=first:normalize=0",
            );
        } else {
            g.push_str("[key]anullsink;[speech][music]amix=inputs=2:duration=first:normalize=0");
        }
    }
}

/// The whole `-filter_complex` text; the outputs are `[v]` and, with audio, `[a]`.
pub fn filter_graph(spec: &RenderSpec, inputs: Inputs, parts: Parts) -> String {
    let (w, h) = spec.frame;
    let mut g = String::new();
    let fps = num(spec.fps);
    // Constant frame rate first: variable-rate phones and 60 fps sources become the
    // output rate before any per-frame work.
    let shift = if parts.offset > 0.0 {
        format!("setpts=PTS+{}/TB,", num(parts.offset))
    } else {
        String::new()
    };
    let _ = write!(g, "[0:v]{shift}fps={fps},setsar=1");
    match &spec.framing {
        Framing::Crop { path } => {
            let _ = write!(
                g,
                ",{},scale={w}:{h}:flags=bicubic[framed];",
                crop_filter(path)
            );
        }
        Framing::Stack { top, bottom } => {
            let half = h / 2;
            let _ = write!(
                g,
                ",split[top][bottom];[top]{},scale={w}:{half}:flags=bicubic[t];\
                 [bottom]{},scale={w}:{}:flags=bicubic[b];[t][b]vstack[framed];",
                crop_filter(top),
                crop_filter(bottom),
                h - half
            );
        }
        Framing::FitBlack => {
            let _ = write!(
                g,
                ",scale={w}:{h}:force_original_aspect_ratio=decrease:flags=bicubic,\
                 pad={w}:{h}:(ow-iw)/2:(oh-ih)/2:black,setsar=1[framed];"
            );
        }
        Framing::FitBlur => {
            // The background is blurred at an eighth of the size: the same look at a
            // fraction of the cost of blurring 1080×1920.
            let (bw, bh) = ((w / 16).max(1) * 2, (h / 16).max(1) * 2);
            let _ = write!(
                g,
                ",split[bg][fg];[bg]scale={bw}:{bh}:force_original_aspect_ratio=increase,\
                 crop={bw}:{bh},boxblur=6:2,scale={w}:{h},setsar=1[blur];\
                 [fg]scale={w}:{h}:force_original_aspect_ratio=decrease:flags=bicubic[front];\
                 [blur][front]overlay=(W-w)/2:(H-h)/2[framed];"
            );
        }
    }
    let mut last = "framed".to_string();
    if let (Some(logo), Some(index)) = (&spec.logo, inputs.logo) {
        let lw = ((f64::from(w) * logo.scale).round() as u32).max(2);
        let margin = (f64::from(w.min(h)) * 0.04).round() as u32;
        let (x, y) = match logo.corner {
            Corner::TopLeft => (format!("{margin}"), format!("{margin}")),
            Corner::TopRight => (format!("W-w-{margin}"), format!("{margin}")),
            Corner::BottomLeft => (format!("{margin}"), format!("H-h-{margin}")),
            Corner::BottomRight => (format!("W-w-{margin}"), format!("H-h-{margin}")),
        };
        let _ = write!(
            g,
            "[{index}:v]scale={lw}:-2,format=rgba,colorchannelmixer=aa={}[logo];\
             [{last}][logo]overlay={x}:{y}:format=auto[logoed];",
            num(logo.opacity.clamp(0.0, 1.0))
        );
        last = "logoed".into();
    }
    if parts.captions {
        let _ = write!(g, "[{last}]ass={CAPTIONS_FILE}[captioned];");
        last = "captioned".into();
    }
    if let (Some(title), Some((index, place))) = (&spec.title, inputs.title) {
        // One picture, repeated for the title's frames with a fade on its alpha; overlay
        // passes the clip through untouched once the title's frames run out.
        let frames = (title.duration * spec.fps).round().max(1.0);
        let fade = num(title.fade.clamp(0.0, title.duration / 2.0));
        let _ = write!(
            g,
            "[{index}:v]format=yuva420p,loop=loop={}:size=1:start=0,setpts=N/({fps}*TB),\
             fade=t=in:st=0:d={fade}:alpha=1,fade=t=out:st={}:d={fade}:alpha=1[title];\
             [{last}][title]overlay=0:{}:eof_action=pass:format=yuv420[titled];",
            frames - 1.0,
            num(title.duration - title.fade.clamp(0.0, title.duration / 2.0)),
            place.y
        );
        last = "titled".into();
    }
    let _ = write!(g, "[{last}]format=yuv420p[v]");

    if parts.audio {
        g.push(';');
        audio_chain(&mut g, spec, inputs);
        if let Some(gain) = parts.gain_db {
            // A static gain keeps speech dynamics as recorded (no pumping), and costs a
            // fraction of a dynamic normaliser; the limiter only catches the peaks the gain
            // pushes over -2 dBFS (about -1.5 dBTP). `latency` keeps audio on the frame.
            let _ = write!(
                g,
                ",volume={}dB,alimiter=limit={}:attack=5:release=50:level=false:latency=1",
                num(gain),
                num(LIMIT)
            );
        }
        g.push_str("[a]");
    }
    g
}

#[cfg(test)]
mod tests {
    use super::*;
    use clipforge_core::CropKey;

    #[test]
    fn numbers_are_short_and_plain() {
        assert_eq!(num(1.0), "1");
        assert_eq!(num(0.1234), "0.123");
        assert_eq!(num(-0.0001), "0");
        assert_eq!(num(1e-7), "0");
        assert_eq!(num(250.5), "250.5");
    }

    #[test]
    fn paths_become_flat_ramps_and_steps() {
        let path = CropPath {
            width: 608,
            height: 1080,
            keys: vec![
                CropKey {
                    time: 0.0,
                    x: 100.0,
                    y: 0.0,
                },
                CropKey {
                    time: 2.0,
                    x: 300.0,
                    y: 0.0,
                },
                CropKey {
                    time: 2.0,
                    x: 900.0,
                    y: 0.0,
                },
                CropKey {
                    time: 4.0,
                    x: 900.0,
                    y: 0.0,
                },
            ],
        };
        assert_eq!(
            path_expression(&path, |k| k.x),
            "100+100*clip(t-0,0,2)+600*gte(t,2)"
        );
        assert_eq!(path_expression(&path, |k| k.y), "0");
    }

    /// Evaluates a path expression the way ffmpeg would, for the few functions used.
    fn eval(expr: &str, t: f64) -> f64 {
        expr.split('+')
            .map(|term| {
                if let Some((k, rest)) = term.split_once("*clip(t-") {
                    let args: Vec<f64> = rest
                        .trim_end_matches(')')
                        .split(',')
                        .map(|x| x.parse().unwrap())
                        .collect();
                    k.parse::<f64>().unwrap() * (t - args[0]).clamp(args[1], args[2])
                } else if let Some((k, rest)) = term.split_once("*gte(t,") {
                    let at: f64 = rest.trim_end_matches(')').parse().unwrap();
                    if t >= at {
                        k.parse::<f64>().unwrap()
                    } else {
                        0.0
                    }
                } else {
                    term.parse().unwrap()
                }
            })
            .sum()
    }

    #[test]
    fn the_expression_follows_the_path_everywhere() {
        let keys: Vec<CropKey> = (0..40)
            .map(|i| CropKey {
                time: i as f64 * 0.37,
                x: 400.0 + 300.0 * (i as f64 * 0.5).sin(),
                y: 0.0,
            })
            .collect();
        let path = CropPath {
            width: 608,
            height: 1080,
            keys,
        };
        let expr = path_expression(&path, |k| k.x);
        for i in 0..300 {
            let t = i as f64 * 0.05;
            let (x, _) = path.at(t);
            assert!(
                (eval(&expr, t) - x).abs() < 1.0,
                "t={t}: {} vs {x}",
                eval(&expr, t)
            );
        }
    }
}
