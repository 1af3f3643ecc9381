//! Burns generated ASS into a black picture with the real ffmpeg (libass) and checks
//! what a viewer would see: the spoken word lighting up on time, nothing before the first
//! word, text kept inside the safe area, and user text shown literally.

use std::time::Duration;

use clipforge_captions::{ass_document, template, IntroTitle};
use clipforge_core::{CaptionStyle, Word};
use clipforge_media::Runner;

const W: usize = 360;
const H: usize = 640;
const FPS: f64 = 30.0;

/// One decoded frame, RGB24.
struct Frame(Vec<u8>);

impl Frame {
    fn pixels(&self) -> impl Iterator<Item = (usize, usize, [u8; 3])> + '_ {
        self.0
            .chunks_exact(3)
            .enumerate()
            .map(|(i, p)| (i % W, i / W, [p[0], p[1], p[2]]))
    }

    /// Pixels of any caption: anything clearly brighter than the black background.
    fn text(&self) -> Vec<(usize, usize)> {
        self.pixels()
            .filter(|(_, _, p)| p.iter().any(|&c| c > 60))
            .map(|(x, y, _)| (x, y))
            .collect()
    }

    /// Mean x of the pixels in the highlight colour (bold-pop's yellow), if enough show.
    fn highlight_x(&self) -> Option<f64> {
        let xs: Vec<usize> = self
            .pixels()
            .filter(|(_, _, [r, g, b])| *r > 180 && *g > 140 && *b < 90)
            .map(|(x, _, _)| x)
            .collect();
        (xs.len() > 30).then(|| xs.iter().sum::<usize>() as f64 / xs.len() as f64)
    }
}

/// Renders `doc` over `seconds` of black at 30 fps and returns every frame.
async fn render(doc: &str, seconds: f64) -> Vec<Frame> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("captions.ass"), doc).unwrap();
    let output = Runner::shared()
        .command("ffmpeg")
        .args([
            "-hide_banner",
            "-nostdin",
            "-v",
            "error",
            "-f",
            "lavfi",
            "-i",
        ])
        .arg(format!("color=black:s={W}x{H}:r={FPS}:d={seconds}"))
        .args([
            "-vf",
            "format=rgb24,ass=captions.ass",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "rgb24",
            "pipe:1",
        ])
        .current_dir(dir.path())
        .timeout(Duration::from_secs(60))
        .run()
        .await
        .expect("ffmpeg renders the captions");
    let frames: Vec<Frame> = output
        .stdout
        .chunks_exact(W * H * 3)
        .map(|c| Frame(c.to_vec()))
        .collect();
    assert_eq!(frames.len(), (seconds * FPS).round() as usize);
    frames
}

fn word(text: &str, start: f64, end: f64) -> Word {
    Word {
        start,
        end,
        text: text.into(),
        confidence: 1.0,
    }
}

/// The first frame shown at or after `t`.
fn frame_at(t: f64) -> usize {
    (t * FPS - 1e-9).ceil() as usize
}

#[tokio::test]
async fn each_word_lights_up_within_a_frame_of_its_start_and_nothing_shows_before() {
    // Starts between frames on purpose; one run of speech, two captions of two words.
    let words = [
        word("we", 0.37, 0.62),
        word("go", 0.71, 0.98),
        word("so", 1.13, 1.40),
        word("far", 1.52, 1.80),
    ];
    let style = template("bold-pop").unwrap();
    let doc = ass_document(&words, &style, (W as u32, H as u32), None);
    let frames = render(&doc, 2.0).await;

    let first = frame_at(words[0].start);
    for (i, frame) in frames.iter().enumerate().take(first) {
        assert!(
            frame.text().is_empty(),
            "caption pixels in frame {i}, before the first word"
        );
    }
    assert!(
        !frames[first + 1].text().is_empty(),
        "no caption a frame after the first word"
    );

    // Runs of frames in which the highlight stays on one word.
    let mut runs: Vec<(usize, f64)> = Vec::new();
    for (i, frame) in frames.iter().enumerate() {
        let Some(x) = frame.highlight_x() else {
            continue;
        };
        match runs.last() {
            Some(&(_, last)) if (x - last).abs() < 12.0 => runs.last_mut().unwrap().1 = x,
            _ => runs.push((i, x)),
        }
    }
    let starts: Vec<usize> = runs.iter().map(|r| r.0).collect();
    let expected: Vec<usize> = words.iter().map(|w| frame_at(w.start)).collect();
    assert_eq!(
        starts.len(),
        words.len(),
        "highlight runs start at {starts:?}"
    );
    for (k, (&got, &want)) in starts.iter().zip(&expected).enumerate() {
        assert!(
            got == want || got == want + 1,
            "word {k} ({}) lit at frame {got}, spoken from frame {want}",
            words[k].text
        );
    }

    // Everything inside the safe area: above the bottom 20 %, inside the side margins
    // (less the outline, which may spill over them).
    let outline = style.outline * style.size * H as f64;
    for (x, y) in frames.iter().flat_map(Frame::text) {
        assert!((y as f64) < 0.8 * H as f64, "caption pixel at row {y}");
        let (x, side) = (x as f64, 0.06 * W as f64 - outline - 1.0);
        assert!(
            x >= side && x <= W as f64 - side,
            "caption pixel at column {x}"
        );
    }
}

/// Rows and count of the text pixels of one caption frame.
async fn render_text(text: &str) -> (usize, usize) {
    let style = CaptionStyle {
        max_words: 10,
        ..template("minimal").unwrap()
    };
    let doc = ass_document(&[word(text, 0.0, 0.5)], &style, (W as u32, H as u32), None);
    let frames = render(&doc, 0.2).await;
    let pixels = frames[3].text();
    let rows =
        pixels.iter().map(|p| p.1).max().unwrap() - pixels.iter().map(|p| p.1).min().unwrap();
    (rows, pixels.len())
}

#[tokio::test]
async fn tags_and_line_breaks_in_user_text_render_as_visible_characters() {
    let (plain_rows, plain) = render_text("Hxy").await;
    let (rows, injected) = render_text("H{\\b1}x\\Ny").await;
    // `{\b1}` and `\N` drawn as glyphs: many more pixels, and still a single line.
    assert!(
        injected as f64 > 1.8 * plain as f64,
        "{injected} text pixels against {plain} without the tags"
    );
    assert!(
        (rows as f64) < 1.5 * plain_rows as f64,
        "{rows} rows against {plain_rows}: the text was broken into lines"
    );
}

#[tokio::test]
async fn the_intro_title_wraps_inside_eighty_percent_of_the_width() {
    let title = IntroTitle {
        text: "This title is far too long to fit on a single line",
        duration: 1.0,
    };
    let style = template("bold-pop").unwrap();
    let doc = ass_document(&[], &style, (W as u32, H as u32), Some(&title));
    let frames = render(&doc, 1.0).await;
    // Fully faded in at the middle of its time.
    let pixels = frames[15].text();
    assert!(!pixels.is_empty());
    let outline = 0.09 * 0.065 * H as f64;
    let (left, right) = (
        pixels.iter().map(|p| p.0).min().unwrap() as f64,
        pixels.iter().map(|p| p.0).max().unwrap() as f64,
    );
    assert!(
        left >= 0.1 * W as f64 - outline - 1.0,
        "title from column {left}"
    );
    assert!(
        right <= 0.9 * W as f64 + outline + 1.0,
        "title to column {right}"
    );
    let (top, bottom) = (
        pixels.iter().map(|p| p.1).min().unwrap() as f64,
        pixels.iter().map(|p| p.1).max().unwrap() as f64,
    );
    assert!(
        top >= 0.1 * H as f64,
        "title from row {top}, in the reserved top"
    );
    assert!(
        bottom - top > 2.0 * 0.065 * H as f64,
        "title not wrapped: rows {top}..{bottom}"
    );
    // Faded out by the time it ends, and dark in the very first frame.
    assert!(frames[0].text().len() < pixels.len() / 10);
}
