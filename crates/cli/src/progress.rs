//! A progress bar on stderr when it is a terminal; silence otherwise.

use std::io::IsTerminal;

use clipforge_core::Progress;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Shows stage progress as a bar over seconds of media.
#[derive(Debug)]
pub struct TerminalProgress {
    bar: Option<ProgressBar>,
}

impl TerminalProgress {
    /// A bar when stderr is a terminal, else a no-op.
    pub fn new() -> Self {
        if !std::io::stderr().is_terminal() {
            return Self { bar: None };
        }
        let bar = ProgressBar::with_draw_target(Some(1000), ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template(
                "{msg:>14} [{bar:40}] {percent:>3}% {elapsed_precise} (eta {eta})",
            )
            .expect("static template is valid")
            .progress_chars("=> "),
        );
        Self { bar: Some(bar) }
    }

    /// Prints a line on stderr, above the bar when there is one.
    pub fn println(&self, line: &str) {
        match &self.bar {
            Some(bar) => bar.println(line),
            None => eprintln!("{line}"),
        }
    }

    /// Removes the bar.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

impl Progress for TerminalProgress {
    fn stage(&self, name: &str) {
        if let Some(bar) = &self.bar {
            bar.set_message(name.to_owned());
        }
    }

    fn update(&self, done: f64, total: f64) {
        if let Some(bar) = &self.bar {
            if total > 0.0 {
                bar.set_position(((done / total).clamp(0.0, 1.0) * 1000.0) as u64);
            }
        }
    }
}
