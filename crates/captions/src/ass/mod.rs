//! Burned-in captions as ASS subtitles: the words of a clip grouped into short captions,
//! the word being spoken styled to stand out, an intro title, all placed inside the part
//! of a vertical frame that TikTok, Reels and Shorts leave clear of their buttons.

mod group;
mod templates;
mod text;

use std::fmt::Write as _;

use clipforge_core::{CaptionAnimation, CaptionPosition, CaptionStyle, Rgba, Transcript, Word};

use crate::cues::tokens;
use group::{pages, Limits, Page};
pub use templates::{template, TEMPLATES};
pub use text::{ass_color, escape};
use text::{ass_time, centis, emoji_for, width_em};

/// Shares of the frame kept clear of captions: the platforms' buttons and description at
/// the bottom, their header at the top, and a margin at the sides.
const SAFE_BOTTOM: f64 = 0.2;
const SAFE_TOP: f64 = 0.1;
const SAFE_SIDE: f64 = 0.06;
/// Space between the reserved areas and the captions, as a share of the frame height.
const GAP: f64 = 0.02;
/// How much bigger the active word is when it pops in, and where it settles.
const POP_FROM: f64 = 1.25;
const POP_TO: f64 = 1.12;
/// Milliseconds the pop takes to settle.
const POP_MS: u32 = 120;
/// Title font size as a share of the frame height, and its fade in and out (ms).
const TITLE_SIZE: f64 = 0.065;
const TITLE_FADE_MS: f64 = 300.0;

/// The words of the clip `start..end`, on the clip's clock (0 at `start`): words partly
/// outside are clamped to it, words outside are dropped, text is cleaned as for
/// subtitles (a hyphenated word timed in two halves is one word, empty words go).
pub fn clip_words(transcript: &Transcript, start: f64, end: f64) -> Vec<Word> {
    tokens(transcript)
        .into_iter()
        .filter(|t| t.end > start && t.start < end)
        .map(|t| Word {
            start: (t.start.max(start) - start).max(0.0),
            end: (t.end.min(end) - start).max(0.0),
            text: t.text,
            confidence: 1.0,
        })
        .collect()
}

/// A title over the first seconds of a clip.
#[derive(Debug, Clone, Copy)]
pub struct IntroTitle<'a> {
    pub text: &'a str,
    /// Seconds on screen, fades included.
    pub duration: f64,
}

impl IntroTitle<'_> {
    /// Seconds the title takes to fade in, and again to fade out: short titles fade
    /// faster so they are fully visible for at least half the time.
    pub fn fade_seconds(&self) -> f64 {
        (self.duration * 1000.0 / 4.0).min(TITLE_FADE_MS).round() / 1000.0
    }

    fn shown(&self) -> bool {
        !self.text.trim().is_empty() && self.duration > 0.0
    }
}

/// The intro title alone, fully opaque from 0 to `title.duration`, for drawing once as a
/// picture that the render fades in and out over the clip (cheaper than libass blending
/// the same text into every frame); `None` for an empty title.
pub fn title_document(
    title: &IntroTitle<'_>,
    style: &CaptionStyle,
    frame: (u32, u32),
) -> Option<String> {
    if !title.shown() {
        return None;
    }
    let mut doc = String::new();
    header(&mut doc, style, frame, &geometry(style, frame));
    title_event(&mut doc, title, style, false);
    Some(doc)
}

/// The title's dialogue line, with its fade when `fade`.
fn title_event(doc: &mut String, t: &IntroTitle<'_>, style: &CaptionStyle, fade: bool) {
    let text = if style.uppercase {
        t.text.trim().to_uppercase()
    } else {
        t.text.trim().to_string()
    };
    let fade = if fade {
        let ms = (t.fade_seconds() * 1000.0).round() as u32;
        format!("\\fad({ms},{ms})")
    } else {
        String::new()
    };
    // `\q0` wraps the title between its margins (captions never wrap: WrapStyle 2).
    let _ = writeln!(
        doc,
        "Dialogue: 1,{},{},Title,,0,0,0,,{{{fade}\\q0}}{}",
        ass_time(0.0),
        ass_time(t.duration),
        escape(&text)
    );
}

/// Sizes of `style` on a `frame`.
fn geometry(style: &CaptionStyle, frame: (u32, u32)) -> Geometry {
    let (w, h) = (f64::from(frame.0.max(1)), f64::from(frame.1.max(1)));
    let font_px = (style.size * h).round().max(8.0);
    Geometry {
        font_px,
        outline_px: (style.outline * font_px).max(0.0),
        line_px: w * (1.0 - 2.0 * SAFE_SIDE),
    }
}

/// Sizes in frame pixels for one style on one frame.
struct Geometry {
    font_px: f64,
    outline_px: f64,
    /// Room for a line between the side margins.
    line_px: f64,
}

/// A complete ASS document for a clip of `frame` size (width, height): the captions of
/// `words` (on the clip's clock, as [`clip_words`] gives them) in `style`, and the intro
/// title when given (in the style's font and colours, uppercased with it). Every caption
/// event starts at or after (within 10 ms of) the start of the word it shows first or
/// highlights; nothing shows before the first word.
pub fn ass_document(
    words: &[Word],
    style: &CaptionStyle,
    frame: (u32, u32),
    title: Option<&IntroTitle<'_>>,
) -> String {
    let geometry = geometry(style, frame);
    let font_px = geometry.font_px;
    let mut doc = String::new();
    header(&mut doc, style, frame, &geometry);
    if let Some(t) = title.filter(|t| t.shown()) {
        title_event(&mut doc, t, style, true);
    }
    let shown: Vec<String> = words.iter().map(|w| shown_word(&w.text, style)).collect();
    let pop_room = match style.animation {
        CaptionAnimation::Pop => POP_FROM,
        CaptionAnimation::Grow => POP_TO,
        _ => 1.0,
    };
    let line_width = |line: &[usize]| -> f64 {
        let text: Vec<&str> = line.iter().map(|&i| shown[i].as_str()).collect();
        let widest = line
            .iter()
            .map(|&i| width_em(&shown[i]))
            .fold(0.0, f64::max);
        (width_em(&text.join(" ")) + widest * (pop_room - 1.0)) * font_px
            + 2.0 * geometry.outline_px
    };
    let fits = |line: &[usize]| line_width(line) <= geometry.line_px;
    let limits = Limits {
        max_words: style.max_words,
        max_lines: style.max_lines,
        fits: &fits,
    };
    // A bright outline is blurred into a glow (the neon look); a dark one stays crisp.
    let glow = style.background.is_none() && luma(style.outline_color) > 100.0;
    let glow_tag = if glow {
        format!("\\blur{:.1}", (geometry.outline_px * 0.6).max(1.0))
    } else {
        String::new()
    };
    for page in pages(words, &limits) {
        // A word too wide for the frame on its own shrinks its whole caption.
        let widest = page.lines.iter().map(|l| line_width(l)).fold(0.0, f64::max);
        let scale = if widest > geometry.line_px {
            (geometry.line_px / widest * 100.0).floor().max(10.0)
        } else {
            100.0
        };
        let mut prefix = glow_tag.clone();
        if scale < 100.0 {
            let _ = write!(prefix, "\\fscx{scale}\\fscy{scale}");
        }
        let prefix = if prefix.is_empty() {
            prefix
        } else {
            format!("{{{prefix}}}")
        };
        page_events(&mut doc, &page, words, &shown, style, scale, &prefix);
    }
    doc
}

/// The events of one caption, by animation.
fn page_events(
    doc: &mut String,
    page: &Page,
    words: &[Word],
    shown: &[String],
    style: &CaptionStyle,
    scale: f64,
    prefix: &str,
) {
    let ids = page.words();
    match style.animation {
        CaptionAnimation::None => {
            let text = page_text(page, shown, |_, s| s.to_string());
            dialogue(doc, page.start, page.end, &format!("{prefix}{text}"));
        }
        CaptionAnimation::Karaoke => {
            // Durations add up from the event's (rounded) start so the fill never drifts
            // from the words; each word fills until the next one starts.
            let t0 = centis(page.start) as i64;
            let mut done = 0i64;
            let text = page_text(page, shown, |i, s| {
                let k = ids.iter().position(|&x| x == i).unwrap_or(0);
                let until = ids.get(k + 1).map_or(words[i].end, |&n| words[n].start);
                let target = (until * 100.0).round() as i64 - t0;
                let cs = (target - done).max(0);
                done += cs;
                format!("{{\\kf{cs}}}{s}")
            });
            dialogue(doc, page.start, page.end, &format!("{prefix}{text}"));
        }
        CaptionAnimation::Pop | CaptionAnimation::Grow | CaptionAnimation::Highlight => {
            let on = ass_color(Rgba {
                a: 255,
                ..style.highlight
            });
            let off = ass_color(Rgba {
                a: 255,
                ..style.color
            });
            for (k, &active) in ids.iter().enumerate() {
                let from = if k == 0 {
                    page.start
                } else {
                    words[active].start
                };
                let until = ids.get(k + 1).map_or(page.end, |&n| words[n].start);
                if centis(until) <= centis(from) {
                    continue;
                }
                let text = page_text(page, shown, |i, s| {
                    if i != active {
                        return s.to_string();
                    }
                    let settle = (scale * POP_TO).round();
                    if style.animation == CaptionAnimation::Pop {
                        let big = (scale * POP_FROM).round();
                        format!(
                            "{{\\1c{on}\\fscx{big}\\fscy{big}\\t(0,{POP_MS},\\fscx{settle}\\fscy{settle})}}{s}{{\\1c{off}\\fscx{scale}\\fscy{scale}}}"
                        )
                    } else if style.animation == CaptionAnimation::Grow {
                        format!(
                            "{{\\1c{on}\\fscx{settle}\\fscy{settle}}}{s}{{\\1c{off}\\fscx{scale}\\fscy{scale}}}"
                        )
                    } else {
                        format!("{{\\1c{on}}}{s}{{\\1c{off}}}")
                    }
                });
                dialogue(doc, from, until, &format!("{prefix}{text}"));
            }
        }
    }
}

/// `[Script Info]`, the two styles and the events header.
fn header(doc: &mut String, style: &CaptionStyle, frame: (u32, u32), g: &Geometry) {
    let (w, h) = (f64::from(frame.0.max(1)), f64::from(frame.1.max(1)));
    let side = (SAFE_SIDE * w).round();
    let (alignment, margin_v) = match style.position {
        CaptionPosition::Bottom => (2, ((SAFE_BOTTOM + GAP) * h).round()),
        CaptionPosition::Center => (5, 0.0),
        CaptionPosition::Top => (8, ((SAFE_TOP + GAP) * h).round()),
    };
    // Karaoke fills from the secondary colour to the primary one.
    let (primary, secondary) = match style.animation {
        CaptionAnimation::Karaoke => (style.highlight, style.color),
        _ => (style.color, style.highlight),
    };
    // BorderStyle 4 (libass 0.17+) draws one box behind the whole caption in the back
    // colour, the outline width being its padding; the glyph outlines are made invisible.
    // BorderStyle 3 would box every run of text between override tags on its own, and a
    // translucent box shows darker seams where those boxes overlap around the active word.
    let (border_style, outline_color, back_color) = match style.background {
        Some(bg) => (4, Rgba { a: 0, ..bg }, bg),
        None => (1, style.outline_color, Rgba { a: 160, ..BLACK }),
    };
    let font = font_name(&style.font);
    let title_px = (TITLE_SIZE * h).round().max(8.0);
    // The title sits in the upper third, below the reserved top; when the captions are at
    // the top themselves it moves to the middle instead.
    let (title_alignment, title_v) = match style.position {
        CaptionPosition::Top => (5, 0.0),
        _ => (8, ((SAFE_TOP + 0.08) * h).round()),
    };
    let _ = write!(
        doc,
        "[Script Info]\nScriptType: v4.00+\nPlayResX: {}\nPlayResY: {}\nWrapStyle: 2\n\
         ScaledBorderAndShadow: yes\nYCbCr Matrix: TV.709\n\n[V4+ Styles]\n\
         Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, \
         Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, \
         Shadow, Alignment, MarginL, MarginR, MarginV, Encoding\n",
        frame.0, frame.1
    );
    let _ = writeln!(
        doc,
        "Style: Caption,{font},{},{},{},{},{},{},0,0,0,100,100,0,0,{border_style},{:.1},{:.1},{alignment},{side},{side},{margin_v},1",
        g.font_px,
        ass_color(primary),
        ass_color(secondary),
        ass_color(outline_color),
        ass_color(back_color),
        if style.bold { -1 } else { 0 },
        g.outline_px,
        (style.shadow * g.font_px).max(0.0),
    );
    let _ = writeln!(
        doc,
        "Style: Title,{font},{title_px},{},{},{},{},-1,0,0,0,100,100,0,0,1,{:.1},{:.1},{title_alignment},{},{},{title_v},1",
        ass_color(style.color),
        ass_color(style.color),
        ass_color(style.outline_color),
        ass_color(Rgba { a: 100, ..BLACK }),
        0.09 * title_px,
        0.05 * title_px,
        (0.1 * w).round(),
        (0.1 * w).round(),
    );
    doc.push_str(
        "\n[Events]\nFormat: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\n",
    );
}

const BLACK: Rgba = Rgba::rgb(0, 0, 0);

/// Perceived brightness, 0 to 255.
fn luma(c: Rgba) -> f64 {
    0.2126 * f64::from(c.r) + 0.7152 * f64::from(c.g) + 0.0722 * f64::from(c.b)
}

/// A font name that cannot break the comma-separated style line.
fn font_name(font: &str) -> String {
    let name: String = font
        .chars()
        .filter(|c| !matches!(c, ',' | '\n' | '\r'))
        .collect();
    if name.trim().is_empty() {
        "Inter".into()
    } else {
        name.trim().into()
    }
}

fn dialogue(doc: &mut String, start: f64, end: f64, text: &str) {
    let _ = writeln!(
        doc,
        "Dialogue: 0,{},{},Caption,,0,0,0,,{text}",
        ass_time(start),
        ass_time(end)
    );
}

/// A word as displayed: uppercased by the style, with its emoji, escaped.
fn shown_word(text: &str, style: &CaptionStyle) -> String {
    let mut s = if style.uppercase {
        text.to_uppercase()
    } else {
        text.to_string()
    };
    if let Some(e) = emoji_for(text).filter(|_| style.emoji) {
        s.push(' ');
        s.push_str(e);
    }
    escape(&s)
}

/// The page's text, lines joined with `\N`, each word passed through `dress`.
fn page_text(
    page: &Page,
    shown: &[String],
    mut dress: impl FnMut(usize, &str) -> String,
) -> String {
    page.lines
        .iter()
        .map(|line| {
            line.iter()
                .map(|&i| dress(i, &shown[i]))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect::<Vec<_>>()
        .join("\\N")
}

#[cfg(test)]
mod tests;
