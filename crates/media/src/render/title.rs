//! The intro title as a picture: libass draws it once onto a transparent frame, the rows it
//! covers are cut out, and the render lays that picture over the clip's first seconds with
//! an alpha fade. Blending the same big text into every frame through libass cost about a
//! third of all the caption work of a clip.

use std::path::{Path, PathBuf};

use crate::context::work_timeout;
use crate::{MediaError, RunContext};

use super::{ffmpeg_in, RenderSpec};

/// The title's ASS document inside the render's work folder.
const TITLE_ASS: &str = "title.ass";
/// The whole frame as libass drew it (RGBA), before cropping.
const TITLE_FRAME: &str = "title-frame.rgba";
/// The cropped title picture the render reads (RGBA, the frame's width).
pub const TITLE_FILE: &str = "title.rgba";

/// An intro title to show from the clip's start.
#[derive(Debug, Clone, PartialEq)]
pub struct TitleCard {
    /// An ASS document holding only the title, fully opaque (no fades of its own).
    pub ass: String,
    /// Seconds on screen, fades included.
    pub duration: f64,
    /// Seconds of fade in, and of fade out.
    pub fade: f64,
}

/// Where the drawn title picture goes on the frame: rows `y..y + height`, full width.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TitlePlacement {
    /// First row.
    pub y: u32,
    /// Rows covered (even).
    pub height: u32,
}

/// A title drawn for one render: the picture's file and where it goes.
#[derive(Debug)]
pub(super) struct DrawnTitle {
    pub path: PathBuf,
    pub place: TitlePlacement,
}

/// Draws the spec's title into [`TITLE_FILE`] in `work`; `None` when there is no title or
/// it draws nothing.
pub(super) async fn draw_title(
    spec: &RenderSpec,
    ctx: &RunContext,
    work: &Path,
) -> Result<Option<DrawnTitle>, MediaError> {
    let Some(title) = &spec.title else {
        return Ok(None);
    };
    let (w, h) = spec.frame;
    let ass = work.join(TITLE_ASS);
    tokio::fs::write(&ass, &title.ass)
        .await
        .map_err(|e| MediaError::io(format!("writing {}", ass.display()), e))?;
    let args = [
        "-f".to_string(),
        "lavfi".into(),
        "-i".into(),
        format!("color=c=black@0:s={w}x{h}:r=1:d=1,format=rgba"),
        "-vf".into(),
        format!("ass={TITLE_ASS}:alpha=1"),
        "-frames:v".into(),
        "1".into(),
        "-f".into(),
        "rawvideo".into(),
        "-pix_fmt".into(),
        "rgba".into(),
        TITLE_FRAME.into(),
    ];
    ffmpeg_in(
        ctx,
        work,
        args.into_iter().map(Into::into).collect(),
        work_timeout(0.0),
        "error",
    )
    .run()
    .await?;
    let frame_path = work.join(TITLE_FRAME);
    let frame = tokio::fs::read(&frame_path)
        .await
        .map_err(|e| MediaError::io(format!("reading {}", frame_path.display()), e))?;
    let Some((placement, picture)) = crop_rows(&frame, w, h) else {
        return Ok(None);
    };
    let path = work.join(TITLE_FILE);
    tokio::fs::write(&path, picture)
        .await
        .map_err(|e| MediaError::io(format!("writing {}", path.display()), e))?;
    Ok(Some(DrawnTitle {
        path,
        place: placement,
    }))
}

/// The rows of an RGBA `frame` (`w`×`h`) that hold anything visible, widened to even
/// bounds for 4:2:0 video, and their pixels; `None` when nothing is visible.
fn crop_rows(frame: &[u8], w: u32, h: u32) -> Option<(TitlePlacement, &[u8])> {
    let row = w as usize * 4;
    if row == 0 || frame.len() < row * h as usize {
        return None;
    }
    let visible = |y: &usize| {
        frame[y * row..(y + 1) * row]
            .chunks_exact(4)
            .any(|p| p[3] > 0)
    };
    let first = (0..h as usize).find(visible)?;
    let last = (0..h as usize).rev().find(visible)?;
    let top = first & !1;
    let bottom = ((last + 2) & !1).min(h as usize);
    let placement = TitlePlacement {
        y: top as u32,
        height: (bottom - top) as u32,
    };
    Some((placement, &frame[top * row..bottom * row]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_visible_rows_are_kept_on_even_bounds() {
        let (w, h) = (4u32, 10u32);
        let mut frame = vec![0u8; (w * h * 4) as usize];
        for y in [3usize, 6] {
            frame[y * 16 + 7] = 200; // alpha of the second pixel
        }
        let (place, pixels) = crop_rows(&frame, w, h).unwrap();
        assert_eq!(place, TitlePlacement { y: 2, height: 6 });
        assert_eq!(pixels.len(), 6 * 16);
        assert_eq!(pixels[16 + 7], 200);
        assert!(crop_rows(&vec![0u8; (w * h * 4) as usize], w, h).is_none());
        let mut bottom = vec![0u8; (w * h * 4) as usize];
        bottom[9 * 16 + 3] = 1;
        assert_eq!(
            crop_rows(&bottom, w, h).unwrap().0,
            TitlePlacement { y: 8, height: 2 }
        );
    }
}
