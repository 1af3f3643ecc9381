//! ASS text primitives: colours, times, escaping user text, emoji and a rough measure of
//! how wide a line will be.

use clipforge_core::Rgba;

/// An ASS colour, `&HAABBGGRR` with alpha inverted (00 is opaque).
pub fn ass_color(c: Rgba) -> String {
    format!("&H{:02X}{:02X}{:02X}{:02X}", 255 - c.a, c.b, c.g, c.r)
}

/// User text made safe for an ASS event, so it shows exactly as typed: libass reads `\{`
/// and `\}` as literal braces (an unescaped `{` would open an override block), and a
/// backslash is followed by a word joiner (U+2060, drawn as nothing) so that `\N`, `\n`
/// and `\h` in the text stay visible instead of breaking the line. Line breaks become
/// spaces. Checked against libass 0.17.1 by `tests/render.rs`.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\u{2060}"),
            '{' => out.push_str("\\{"),
            '}' => out.push_str("\\}"),
            '\n' | '\r' => out.push(' '),
            _ => out.push(c),
        }
    }
    out
}

/// Centiseconds for an ASS time, rounded up so an event never starts before the moment it
/// stands for (the 1e-6 keeps 1.23 at 123 despite binary fractions).
pub(super) fn centis(seconds: f64) -> u64 {
    if !seconds.is_finite() || seconds <= 0.0 {
        return 0;
    }
    (seconds * 100.0 - 1e-6).ceil().max(0.0) as u64
}

/// ASS time `H:MM:SS.cc`, rounded up to the next centisecond.
pub(super) fn ass_time(seconds: f64) -> String {
    let cs = centis(seconds);
    format!(
        "{}:{:02}:{:02}.{:02}",
        cs / 360_000,
        cs / 6000 % 60,
        cs / 100 % 60,
        cs % 100
    )
}

/// Emoji added after a few common keywords when a style asks for them.
///
/// libass 0.17.1 (Debian 12's ffmpeg 5.1) cannot draw them: its fontconfig provider only
/// accepts outline fonts, so Noto Color Emoji (bitmap CBDT glyphs) is never chosen, not
/// even as a fallback or by `\fn`; pictographs such as 🔥 or 💰 come out as the main font's
/// empty-box glyph, and only the few symbols with a monochrome outline glyph elsewhere
/// (❤ in DejaVu Sans) show, as flat white shapes. So no template turns `emoji` on.
pub(super) const EMOJI: &[(&str, &str)] = &[
    ("money", "💰"),
    ("cash", "💰"),
    ("fire", "🔥"),
    ("love", "❤️"),
    ("idea", "💡"),
    ("time", "⏰"),
    ("sleep", "😴"),
    ("win", "🏆"),
    ("growth", "📈"),
    ("secret", "🤫"),
    ("mistake", "❌"),
    ("happy", "😄"),
];

/// The emoji for a word, if it is one of the keywords ("Money," counts).
pub(super) fn emoji_for(word: &str) -> Option<&'static str> {
    let key: String = word
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect();
    EMOJI.iter().find(|(k, _)| *k == key).map(|(_, e)| *e)
}

/// Rough advance of `text` in ems for a bold sans-serif (Inter, Roboto, Open Sans), a
/// little generous so that a line judged to fit does fit.
pub(super) fn width_em(text: &str) -> f64 {
    text.chars()
        .map(|c| match c {
            ' ' => 0.28,
            'i' | 'l' | 'j' | 'I' | '1' | '.' | ',' | ':' | ';' | '\'' | '!' | '|' => 0.32,
            'f' | 't' | 'r' => 0.45,
            'm' | 'w' | 'M' | 'W' | '@' => 0.95,
            'A'..='Z' => 0.74,
            '0'..='9' => 0.64,
            'a'..='z' => 0.6,
            '\u{2060}' => 0.0,
            c if c >= '\u{2E80}' => 1.05,
            _ => 0.66,
        })
        .sum()
}
