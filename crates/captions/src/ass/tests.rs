use super::group::{HOLD, PAUSE};
use super::*;
use clipforge_core::Segment;
use proptest::prelude::*;

fn words(spec: &[(&str, f64, f64)]) -> Vec<Word> {
    spec.iter()
        .map(|&(t, s, e)| Word {
            start: s,
            end: e,
            text: t.into(),
            confidence: 1.0,
        })
        .collect()
}

/// (start, end, style, text) of every event.
fn events(doc: &str) -> Vec<(f64, f64, String, String)> {
    doc.lines()
        .filter_map(|l| l.strip_prefix("Dialogue: "))
        .map(|l| {
            let f: Vec<&str> = l.splitn(10, ',').collect();
            assert_eq!(f.len(), 10, "{l}");
            (seconds(f[1]), seconds(f[2]), f[3].into(), f[9].into())
        })
        .collect()
}

fn captions(doc: &str) -> Vec<(f64, f64, String)> {
    events(doc)
        .into_iter()
        .filter(|e| e.2 == "Caption")
        .map(|(s, e, _, t)| (s, e, t))
        .collect()
}

fn seconds(t: &str) -> f64 {
    let p: Vec<f64> = t.split(':').map(|x| x.parse().unwrap()).collect();
    p[0] * 3600.0 + p[1] * 60.0 + p[2]
}

/// The text an event shows: override blocks removed, escapes resolved.
fn visible(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.peek() {
                Some('{' | '}') => out.push(chars.next().unwrap()),
                Some('N') => {
                    chars.next();
                    out.push('\n');
                }
                _ => out.push('\\'),
            },
            '{' => {
                for c in chars.by_ref() {
                    if c == '}' {
                        break;
                    }
                }
            }
            '\u{2060}' => {}
            _ => out.push(c),
        }
    }
    out
}

/// Structural checks a renderer relies on: the sections, styles with every field, and
/// override blocks that all close.
fn assert_parses(doc: &str) {
    for section in ["[Script Info]", "[V4+ Styles]", "[Events]"] {
        assert!(doc.contains(section), "{section} missing");
    }
    for line in doc.lines().filter(|l| l.starts_with("Style: ")) {
        assert_eq!(line.split(',').count(), 23, "{line}");
    }
    for (_, _, _, text) in events(doc) {
        let mut depth = 0;
        let mut chars = text.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' if depth == 0 => {
                    chars.next();
                }
                '{' => depth += 1,
                '}' => depth -= 1,
                _ => {}
            }
            assert!((0..=1).contains(&depth), "{text}");
        }
        assert_eq!(depth, 0, "{text}");
    }
}

fn fits_always(_: &[usize]) -> bool {
    true
}

fn limits(max_words: usize, max_lines: usize) -> Limits<'static> {
    Limits {
        max_words,
        max_lines,
        fits: &fits_always,
    }
}

#[test]
fn colours_are_bgr_with_inverted_alpha() {
    assert_eq!(ass_color(Rgba::rgb(255, 214, 0)), "&H0000D6FF");
    assert_eq!(ass_color(Rgba::rgb(0, 0, 0)), "&H00000000");
    assert_eq!(
        ass_color(Rgba {
            r: 1,
            g: 2,
            b: 3,
            a: 0
        }),
        "&HFF030201"
    );
    assert_eq!(
        ass_color(Rgba {
            r: 20,
            g: 20,
            b: 20,
            a: 200
        }),
        "&H37141414"
    );
}

#[test]
fn times_round_up_to_the_next_centisecond() {
    assert_eq!(ass_time(1.234), "0:00:01.24");
    assert_eq!(ass_time(1.23), "0:00:01.23");
    assert_eq!(ass_time(0.1 + 0.2), "0:00:00.30");
    assert_eq!(ass_time(3725.5), "1:02:05.50");
    assert_eq!(ass_time(-1.0), "0:00:00.00");
    assert_eq!(ass_time(f64::NAN), "0:00:00.00");
}

#[test]
fn user_text_cannot_inject_tags() {
    assert_eq!(escape("a{\\b1}b"), "a\\{\\\u{2060}b1\\}b");
    assert_eq!(escape("x\\Ny"), "x\\\u{2060}Ny");
    assert_eq!(escape("two\nlines"), "two lines");
    assert_eq!(visible(&escape("{\\fs200}Hi\\N}")), "{\\fs200}Hi\\N}");
    for name in TEMPLATES {
        let doc = ass_document(
            &words(&[("{\\fs200}Hi\\N", 0.0, 0.5), ("}{", 0.6, 0.9)]),
            &template(name).unwrap(),
            (540, 960),
            Some(&IntroTitle {
                text: "A {\\b1} title\\N",
                duration: 3.0,
            }),
        );
        assert_parses(&doc);
        for (_, _, style, text) in events(&doc) {
            let shown = visible(&text);
            if style == "Title" {
                assert_eq!(shown.to_lowercase(), "a {\\b1} title\\n", "{name}: {text}");
            }
        }
        let all: Vec<String> = captions(&doc).iter().map(|c| visible(&c.2)).collect();
        let all = all.join(" ").to_lowercase();
        assert!(
            all.contains("{\\fs200}hi\\n") && all.contains("}{"),
            "{name}: {all}"
        );
    }
}

#[test]
fn every_template_parses() {
    assert!(TEMPLATES.len() >= 5);
    assert_eq!(TEMPLATES[0], "bold-pop");
    for name in TEMPLATES {
        let s = template(name).unwrap_or_else(|| panic!("{name}"));
        assert!(
            s.max_words >= 1 && s.max_lines >= 1 && s.size > 0.0,
            "{name}"
        );
        assert!(
            ["Inter", "Roboto", "Open Sans"].contains(&s.font.as_str()),
            "{name}"
        );
        assert!(!s.emoji, "{name}: this libass draws no colour emoji");
        let doc = ass_document(
            &words(&[("hello", 0.1, 0.4), ("world.", 0.45, 0.8)]),
            &s,
            (1080, 1920),
            Some(&IntroTitle {
                text: "Title",
                duration: 2.0,
            }),
        );
        assert_parses(&doc);
        assert!(doc
            .contains("PlayResX: 1080\nPlayResY: 1920\nWrapStyle: 2\nScaledBorderAndShadow: yes"));
        let caps = captions(&doc);
        assert!(!caps.is_empty(), "{name}: {doc}");
        assert!(caps[0].0 >= 0.1, "{name}");
    }
    assert_eq!(template(" Bold-Pop "), template("bold-pop"));
    assert!(template("comic-sans").is_none());
    assert_eq!(
        template("minimal").unwrap().animation,
        CaptionAnimation::None
    );
    assert!(template("boxed").unwrap().background.is_some());
}

#[test]
fn templates_draw_their_looks() {
    let w = words(&[("make", 0.0, 0.3), ("money", 0.35, 0.7)]);
    let doc = |name: &str| ass_document(&w, &template(name).unwrap(), (1080, 1920), None);
    // Bold-pop draws the spoken word bigger with no motion in between; the animated pop
    // is there for styles that ask for it.
    let bold = doc("bold-pop");
    assert!(
        bold.contains("{\\1c&H0000D6FF\\fscx112\\fscy112}MAKE{\\1c&H00FFFFFF\\fscx100\\fscy100}")
    );
    assert!(!bold.contains("\\t("));
    let popping = CaptionStyle {
        animation: CaptionAnimation::Pop,
        ..template("bold-pop").unwrap()
    };
    let pop = ass_document(&w, &popping, (1080, 1920), None);
    assert!(
        pop.contains("MAKE") && pop.contains("\\fscx125\\fscy125\\t(0,120,\\fscx112\\fscy112)")
    );
    assert!(doc("karaoke").contains("\\kf"));
    // One box behind the caption (BorderStyle 4) in the background colour, glyph
    // outlines invisible.
    let boxed = doc("boxed");
    let style = boxed
        .lines()
        .find(|l| l.starts_with("Style: Caption"))
        .unwrap();
    let f: Vec<&str> = style.split(',').collect();
    assert_eq!(
        (f[5], f[6], f[15]),
        ("&HFF141414", "&H37141414", "4"),
        "{style}"
    );
    let minimal = doc("minimal");
    assert_eq!(captions(&minimal).len(), 1);
    assert!(captions(&minimal)[0].2.starts_with("make money"));
    assert!(doc("neon").contains("\\blur"));
}

#[test]
fn lines_break_at_the_word_limit_pauses_and_sentence_ends() {
    let w = words(&[
        ("one", 0.0, 0.2),
        ("two", 0.25, 0.4),
        ("three", 0.45, 0.6),
        ("four", 0.65, 0.8),
        ("five.", 0.85, 1.0),
        ("six", 1.05, 1.2),
        ("seven", 1.25 + PAUSE, 2.0),
        ("eight", 2.0, 2.2),
    ]);
    let p = pages(&w, &limits(3, 1));
    let lines: Vec<Vec<usize>> = p.iter().flat_map(|p| p.lines.clone()).collect();
    // Five words before the full stop with at most three a line: 3 + 2.
    assert_eq!(lines, vec![vec![0, 1, 2], vec![3, 4], vec![5], vec![6, 7]]);
    for pair in p.windows(2) {
        assert!(pair[0].end <= pair[1].start + 1e-9, "{p:?}");
    }
    // Held into the pause, at most HOLD.
    assert!((p[2].end - (1.25 + PAUSE)).abs() < 1e-9);
    assert_eq!(p[3].end, 2.2 + HOLD);
    assert_eq!(p[0].start, 0.0);
    let p = pages(&w, &limits(4, 2));
    assert_eq!(p[0].lines, vec![vec![0, 1, 2], vec![3, 4]]);
}

#[test]
fn long_runs_split_into_even_lines() {
    let w: Vec<Word> = (0..4)
        .map(|i| Word {
            start: f64::from(i) * 0.3,
            end: f64::from(i) * 0.3 + 0.25,
            text: format!("w{i}"),
            confidence: 1.0,
        })
        .collect();
    let lines = |max| -> Vec<usize> {
        pages(&w, &limits(max, 1))
            .iter()
            .map(|p| p.lines[0].len())
            .collect()
    };
    assert_eq!(lines(3), vec![2, 2]);
    assert_eq!(lines(1), vec![1, 1, 1, 1]);
    assert_eq!(lines(9), vec![4]);
}

#[test]
fn one_pair_too_wide_does_not_break_the_whole_sentence_into_single_words() {
    // A real sentence from the bench talk: "PRUDENTLY" needs a line of its own and "HOW
    // MUCH THERE" is too wide for one bold-pop line at 1080 px, but the rest still shares
    // lines of up to three words.
    let text = "how much there might be prudently in his power to do for them.";
    let spec: Vec<(&str, f64, f64)> = text
        .split(' ')
        .enumerate()
        .map(|(i, t)| (t, i as f64 * 0.25, i as f64 * 0.25 + 0.25))
        .collect();
    let style = template("bold-pop").unwrap();
    let doc = ass_document(&words(&spec), &style, (1080, 1920), None);
    let mut shown: Vec<String> = Vec::new();
    for (_, _, t) in captions(&doc) {
        let line = visible(&t);
        if shown.last() != Some(&line) {
            shown.push(line);
        }
    }
    assert_eq!(
        shown,
        [
            "HOW MUCH",
            "THERE MIGHT",
            "BE",
            "PRUDENTLY",
            "IN HIS POWER",
            "TO DO",
            "FOR THEM."
        ],
        "{doc}"
    );
}

#[test]
fn lines_never_leave_the_safe_width() {
    let w = words(&[
        ("extraordinary", 0.0, 0.5),
        ("unbelievable", 0.5, 1.0),
        ("incomprehensibilities", 1.0, 1.5),
    ]);
    let style = template("bold-pop").unwrap();
    let doc = ass_document(&w, &style, (540, 960), None);
    let caps = captions(&doc);
    // Each long word on a line of its own, the overlong one shrunk to fit.
    let shown: Vec<String> = caps.iter().map(|c| visible(&c.2)).collect();
    assert!(shown.iter().all(|s| !s.contains(' ')), "{shown:?}");
    let last = &caps.last().unwrap().2;
    assert!(
        last.starts_with("{\\fscx") && !last.starts_with("{\\fscx100"),
        "{last}"
    );
}

#[test]
fn the_spoken_word_is_highlighted_from_its_start() {
    let w = words(&[("we", 1.234, 1.4), ("never", 1.45, 1.8), ("went", 1.9, 2.1)]);
    for name in ["bold-pop", "boxed"] {
        let style = template(name).unwrap();
        let doc = ass_document(&w, &style, (1080, 1920), None);
        let caps = captions(&doc);
        assert_eq!(caps.len(), 3, "{doc}");
        let on = ass_color(style.highlight);
        for (k, (start, end, text)) in caps.iter().enumerate() {
            assert!(*start >= w[k].start - 1e-9, "{start} before {}", w[k].start);
            assert!(start - w[k].start < 0.0101);
            assert!(end > start);
            // The active word alone carries the highlight; the others are plain.
            let word = ["we", "never", "went"][k];
            let word = if style.uppercase {
                word.to_uppercase()
            } else {
                word.into()
            };
            let marked = text.find(on.as_str()).unwrap();
            let after = &text[marked..];
            assert!(
                after[after.find('}').unwrap() + 1..].starts_with(&word),
                "{text}"
            );
            assert_eq!(text.matches(&on).count(), 1, "{text}");
        }
        // Back to back: the highlight moves, the caption never blinks.
        assert_eq!(caps[0].1, caps[1].0);
        assert_eq!(caps[1].1, caps[2].0);
        assert!((caps[2].1 - (2.1 + HOLD)).abs() < 0.011);
    }
}

#[test]
fn karaoke_fills_word_by_word() {
    let w = words(&[("a", 0.004, 0.2), ("b", 0.3, 0.5), ("c", 0.6, 0.9)]);
    let doc = ass_document(&w, &template("karaoke").unwrap(), (1080, 1920), None);
    let caps = captions(&doc);
    assert_eq!(caps.len(), 1);
    assert_eq!(caps[0].0, 0.01);
    // From the event's start (0.01) to b (0.30), to c (0.60), to c's end (0.90).
    assert_eq!(caps[0].2, "{\\kf29}a {\\kf30}b {\\kf30}c");
}

#[test]
fn no_animation_shows_whole_captions() {
    let w = words(&[
        ("Quiet", 0.5, 0.8),
        ("words.", 0.8, 1.2),
        ("More", 3.0, 3.4),
    ]);
    let doc = ass_document(&w, &template("minimal").unwrap(), (540, 960), None);
    let caps = captions(&doc);
    assert_eq!(caps.len(), 2);
    assert_eq!((caps[0].0, caps[0].1), (0.5, 1.8));
    assert_eq!(caps[0].2, "Quiet words.");
    assert_eq!(caps[1].0, 3.0);
}

#[test]
fn margins_keep_clear_of_the_platform_ui_at_every_size() {
    let style_line = |frame, position| {
        let style = CaptionStyle {
            position,
            ..template("bold-pop").unwrap()
        };
        let doc = ass_document(&[], &style, frame, None);
        let line = doc
            .lines()
            .find(|l| l.starts_with("Style: Caption"))
            .unwrap()
            .to_string();
        let f: Vec<f64> = line
            .split(',')
            .skip(18)
            .map(|x| x.parse().unwrap())
            .collect();
        (f[0] as u32, f[1], f[3]) // alignment, MarginL, MarginV
    };
    let (align, side, v) = style_line((1080, 1920), CaptionPosition::Bottom);
    assert_eq!(align, 2);
    assert!(side >= 0.06 * 1080.0 - 1.0);
    assert!(v >= 0.2 * 1920.0);
    let small = style_line((540, 960), CaptionPosition::Bottom);
    assert!((small.1 * 2.0 - side).abs() <= 2.0 && (small.2 * 2.0 - v).abs() <= 2.0);
    let (align, _, v) = style_line((1080, 1920), CaptionPosition::Top);
    assert_eq!(align, 8);
    assert!(v >= 0.1 * 1920.0);
    assert_eq!(style_line((1080, 1920), CaptionPosition::Center).0, 5);
}

#[test]
fn the_intro_title_fades_in_the_upper_third() {
    let title = IntroTitle {
        text: "How I paid off $40k",
        duration: 2.5,
    };
    let doc = ass_document(&[], &template("boxed").unwrap(), (1080, 1920), Some(&title));
    let ev = events(&doc);
    assert_eq!(ev.len(), 1);
    assert_eq!((ev[0].0, ev[0].1, ev[0].2.as_str()), (0.0, 2.5, "Title"));
    assert_eq!(ev[0].3, "{\\fad(300,300)\\q0}How I paid off $40k");
    let style = doc.lines().find(|l| l.starts_with("Style: Title")).unwrap();
    let f: Vec<&str> = style.split(',').collect();
    // Top-centred, 10 % margins (80 % wide), starting below the reserved top.
    assert_eq!((f[18], f[19], f[20]), ("8", "108", "108"));
    assert!(f[21].parse::<f64>().unwrap() < 1920.0 / 3.0 - 200.0);
    // Captions at the top push the title to the middle.
    let top = CaptionStyle {
        position: CaptionPosition::Top,
        ..template("boxed").unwrap()
    };
    let doc = ass_document(&[], &top, (1080, 1920), Some(&title));
    assert!(
        doc.contains("Style: Title")
            && doc
                .lines()
                .any(|l| l.starts_with("Style: Title") && l.split(',').nth(18) == Some("5"))
    );
    // Short titles fade faster; empty ones are left out.
    let short = IntroTitle {
        text: "Hi",
        duration: 0.8,
    };
    assert!(ass_document(&[], &top, (540, 960), Some(&short)).contains("\\fad(200,200)"));
    let empty = IntroTitle {
        text: " ",
        duration: 3.0,
    };
    assert!(events(&ass_document(&[], &top, (540, 960), Some(&empty))).is_empty());
}

#[test]
fn emoji_follow_keywords_only_when_asked() {
    let w = words(&[("Money,", 0.0, 0.4), ("moneys", 0.5, 0.9)]);
    let off = template("minimal").unwrap();
    let on = CaptionStyle {
        emoji: true,
        ..off.clone()
    };
    assert!(!ass_document(&w, &off, (540, 960), None).contains('💰'));
    let doc = ass_document(&w, &on, (540, 960), None);
    assert_eq!(captions(&doc)[0].2, "Money, 💰 moneys");
}

#[test]
fn a_small_document_matches_its_snapshot() {
    let w = words(&[("Hi", 0.5, 0.8), ("there!", 0.85, 1.3)]);
    let doc = ass_document(
        &w,
        &template("bold-pop").unwrap(),
        (540, 960),
        Some(&IntroTitle {
            text: "Hello",
            duration: 2.0,
        }),
    );
    let expected = "\
[Script Info]
ScriptType: v4.00+
PlayResX: 540
PlayResY: 960
WrapStyle: 2
ScaledBorderAndShadow: yes
YCbCr Matrix: TV.709

[V4+ Styles]
Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, Alignment, MarginL, MarginR, MarginV, Encoding
Style: Caption,Inter,58,&H00FFFFFF,&H0000D6FF,&H00000000,&H5F000000,-1,0,0,0,100,100,0,0,1,5.8,0.0,2,32,32,211,1
Style: Title,Inter,62,&H00FFFFFF,&H00FFFFFF,&H00000000,&H9B000000,-1,0,0,0,100,100,0,0,1,5.6,3.1,8,54,54,173,1

[Events]
Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text
Dialogue: 1,0:00:00.00,0:00:02.00,Title,,0,0,0,,{\\fad(300,300)\\q0}HELLO
Dialogue: 0,0:00:00.50,0:00:00.85,Caption,,0,0,0,,{\\1c&H0000D6FF\\fscx112\\fscy112}HI{\\1c&H00FFFFFF\\fscx100\\fscy100} THERE!
Dialogue: 0,0:00:00.85,0:00:01.90,Caption,,0,0,0,,HI {\\1c&H0000D6FF\\fscx112\\fscy112}THERE!{\\1c&H00FFFFFF\\fscx100\\fscy100}
";
    assert_eq!(doc, expected);
}

#[test]
fn clip_words_are_on_the_clip_clock() {
    let t = Transcript {
        language: "en".into(),
        duration: 20.0,
        segments: vec![Segment {
            start: 9.0,
            end: 13.0,
            text: "before inside ill-disposed after".into(),
            speaker: None,
            words: words(&[
                ("before", 9.0, 9.8),
                (" ", 10.0, 10.2),
                ("inside", 10.5, 11.0),
                ("ill", 11.1, 11.3),
                ("-disposed", 11.3, 11.8),
                ("partly", 11.9, 12.4),
                ("after", 12.5, 13.0),
            ]),
        }],
    };
    let w = clip_words(&t, 10.0, 12.0);
    let got: Vec<(&str, f64, f64)> = w
        .iter()
        .map(|w| {
            (
                w.text.as_str(),
                (w.start * 100.0).round() / 100.0,
                (w.end * 100.0).round() / 100.0,
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            ("inside", 0.5, 1.0),
            ("ill-disposed", 1.1, 1.8),
            ("partly", 1.9, 2.0)
        ]
    );
}

fn arb_words() -> impl Strategy<Value = Vec<Word>> {
    let word = (0.0f64..0.6, 0.02f64..0.8, "[a-z]{1,12}[.,!?]?");
    prop::collection::vec(word, 0..40).prop_map(|spec| {
        let mut t = 0.0;
        spec.into_iter()
            .map(|(gap, len, text)| {
                let start = t + gap;
                t = start + len;
                Word {
                    start,
                    end: t,
                    text,
                    confidence: 1.0,
                }
            })
            .collect()
    })
}

proptest! {
    #[test]
    fn captions_never_overlap_or_come_early(
        w in arb_words(),
        template_index in 0..5usize,
        max_words in 1..6usize,
        max_lines in 1..3usize,
    ) {
        let style = CaptionStyle {
            max_words,
            max_lines,
            ..template(TEMPLATES[template_index]).unwrap()
        };
        let doc = ass_document(&w, &style, (540, 960), None);
        let caps = captions(&doc);
        for pair in caps.windows(2) {
            prop_assert!(pair[0].1 <= pair[1].0 + 1e-9, "{:?}", pair);
        }
        for c in &caps {
            prop_assert!(c.1 > c.0);
        }
        if let Some(first) = w.first() {
            prop_assert!(caps[0].0 >= first.start - 1e-9);
            prop_assert!(caps[0].0 - first.start < 0.0101);
        }
        // Every word appears, and every caption starts at one of the words' starts.
        let all: String = caps.iter().map(|c| visible(&c.2)).collect::<Vec<_>>().join(" ");
        for word in &w {
            let shown = if style.uppercase { word.text.to_uppercase() } else { word.text.clone() };
            prop_assert!(all.contains(&shown));
        }
        for c in &caps {
            prop_assert!(w.iter().any(|word| c.0 >= word.start - 1e-9 && c.0 - word.start < 0.0101));
        }
        // No line of a caption holds more words than allowed.
        for c in &caps {
            for line in visible(&c.2).split('\n') {
                prop_assert!(line.split(' ').count() <= max_words, "{}", c.2);
            }
            prop_assert!(visible(&c.2).split('\n').count() <= max_lines);
        }
    }
}

#[test]
fn the_title_alone_is_opaque_and_fades_are_left_to_the_render() {
    let style = template("bold-pop").unwrap();
    let title = IntroTitle {
        text: "Why {\\b1} matters",
        duration: 3.0,
    };
    let doc = title_document(&title, &style, (1080, 1920)).unwrap();
    let events: Vec<&str> = doc.lines().filter(|l| l.starts_with("Dialogue:")).collect();
    assert_eq!(events.len(), 1, "{doc}");
    assert!(events[0].starts_with("Dialogue: 1,0:00:00.00,0:00:03.00,Title,"));
    assert!(!events[0].contains("\\fad"), "{doc}");
    assert!(!events[0].contains("{\\b1}"), "user text stays text: {doc}");
    assert_eq!(title.fade_seconds(), 0.3);
    let short = IntroTitle {
        text: "Hi",
        duration: 0.8,
    };
    assert_eq!(short.fade_seconds(), 0.2);
    let empty = IntroTitle {
        text: "  ",
        duration: 3.0,
    };
    assert!(title_document(&empty, &style, (1080, 1920)).is_none());
}
