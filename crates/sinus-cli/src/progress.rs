//! Progress bars for work that takes more than about a second; hidden by `--quiet` and when
//! standard error is not a terminal (indicatif's default), so scripts see clean output.

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::time::Duration;

/// Factory for the bars of one command run.
pub struct Progress {
    multi: MultiProgress,
    quiet: bool,
}

impl Progress {
    /// Whether progress output is hidden (`--quiet`).
    pub fn is_hidden(&self) -> bool {
        self.quiet
    }

    /// Bars drawn on stderr unless `quiet`.
    pub fn new(quiet: bool) -> Self {
        let target = if quiet {
            ProgressDrawTarget::hidden()
        } else {
            ProgressDrawTarget::stderr()
        };
        Progress {
            multi: MultiProgress::with_draw_target(target),
            quiet,
        }
    }

    /// Whether bars are suppressed.
    #[allow(dead_code)]
    pub fn quiet(&self) -> bool {
        self.quiet
    }

    /// A bar counting `len` items.
    pub fn bar(&self, len: u64, what: &str) -> ProgressBar {
        let bar = self.multi.add(ProgressBar::new(len));
        bar.set_style(
            ProgressStyle::with_template("{prefix:>10} [{bar:30}] {pos}/{len} {msg} ({eta})")
                .expect("static template")
                .progress_chars("=> "),
        );
        bar.set_prefix(what.to_string());
        bar
    }

    /// A bar counting bytes.
    pub fn bytes(&self, len: u64) -> ProgressBar {
        let bar = self.multi.add(ProgressBar::new(len));
        bar.set_style(
            ProgressStyle::with_template(
                "{prefix:>10} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} {msg}",
            )
            .expect("static template")
            .progress_chars("=> "),
        );
        bar
    }

    /// A spinner for work of unknown length.
    pub fn spinner(&self, msg: &str) -> ProgressBar {
        let bar = self.multi.add(ProgressBar::new_spinner());
        bar.set_message(msg.to_string());
        bar.enable_steady_tick(Duration::from_millis(120));
        bar
    }

    /// Remove every bar (before printing an error).
    pub fn clear(&self) {
        let _ = self.multi.clear();
    }
}
