//! The caption templates: named [`CaptionStyle`]s a user picks with `--template` and may
//! then adjust field by field.

use clipforge_core::{CaptionAnimation, CaptionPosition, CaptionStyle, Rgba};

/// Template names, the default first.
pub const TEMPLATES: &[&str] = &["bold-pop", "karaoke", "boxed", "minimal", "neon"];

const WHITE: Rgba = Rgba::rgb(255, 255, 255);
const BLACK: Rgba = Rgba::rgb(0, 0, 0);
const YELLOW: Rgba = Rgba::rgb(255, 214, 0);

/// The template called `name`, if there is one.
pub fn template(name: &str) -> Option<CaptionStyle> {
    let base = CaptionStyle {
        font: "Inter".into(),
        size: 0.055,
        bold: true,
        uppercase: false,
        color: WHITE,
        highlight: YELLOW,
        outline_color: BLACK,
        outline: 0.08,
        shadow: 0.0,
        background: None,
        position: CaptionPosition::Bottom,
        animation: CaptionAnimation::Grow,
        max_words: 3,
        max_lines: 1,
        // This libass cannot draw colour emoji (see `text::EMOJI`): off everywhere.
        emoji: false,
    };
    let style = match name.trim().to_ascii_lowercase().as_str() {
        // Big uppercase words, the spoken one yellow and bigger: the TikTok look. The
        // thick black outline carries the words on any picture; a drop shadow behind it
        // was barely visible and nearly doubled the cost of drawing the captions (each
        // layer libass draws is blended into every frame), so there is none.
        "bold-pop" => CaptionStyle {
            uppercase: true,
            size: 0.06,
            outline: 0.1,
            ..base
        },
        // Two lines that fill with colour word by word.
        "karaoke" => CaptionStyle {
            font: "Roboto".into(),
            size: 0.048,
            highlight: Rgba::rgb(0, 229, 255),
            animation: CaptionAnimation::Karaoke,
            max_words: 4,
            max_lines: 2,
            ..base
        },
        // White text on a dark box, the spoken word coloured: readable on any picture.
        "boxed" => CaptionStyle {
            font: "Open Sans".into(),
            size: 0.045,
            highlight: Rgba::rgb(255, 196, 0),
            outline: 0.25,
            background: Some(Rgba {
                r: 20,
                g: 20,
                b: 20,
                a: 200,
            }),
            animation: CaptionAnimation::Highlight,
            max_words: 4,
            max_lines: 2,
            ..base
        },
        // A quiet sentence-case line, no animation.
        "minimal" => CaptionStyle {
            size: 0.04,
            bold: false,
            outline: 0.06,
            shadow: 0.03,
            animation: CaptionAnimation::None,
            max_words: 7,
            max_lines: 1,
            ..base
        },
        // Glowing coloured outline, uppercase, the spoken word in hot pink.
        "neon" => CaptionStyle {
            font: "Roboto".into(),
            uppercase: true,
            color: Rgba::rgb(240, 255, 255),
            highlight: Rgba::rgb(255, 64, 200),
            outline_color: Rgba::rgb(0, 200, 255),
            outline: 0.07,
            shadow: 0.05,
            position: CaptionPosition::Center,
            animation: CaptionAnimation::Highlight,
            ..base
        },
        _ => return None,
    };
    Some(style)
}
