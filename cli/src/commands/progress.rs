//! Progress bars (indicatif) on stderr, hidden when stderr is not a terminal: the binary's
//! `drbench_pipeline::progress::Progress`.

use std::sync::Mutex;

use drbench_pipeline::progress::Progress;
use indicatif::{ProgressBar, ProgressStyle};

/// A bar for `len` items labelled `what`.
pub fn bar(len: u64, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template("{msg:>10} {bar:40} {pos}/{len} {per_sec} eta {eta}").expect("valid template"),
    );
    bar.set_message(what.to_string());
    bar
}

/// One bar per phase the pipeline reports.
#[derive(Debug, Default)]
pub struct Bars {
    current: Mutex<Option<ProgressBar>>,
}

impl Progress for Bars {
    fn start(&self, label: &str, total: u64) {
        let mut current = self.current.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(old) = current.take() {
            old.finish_and_clear();
        }
        *current = Some(bar(total, label));
    }

    fn advance(&self, n: u64) {
        if let Some(b) = self.current.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
            b.inc(n);
        }
    }

    fn finish(&self) {
        if let Some(b) = self.current.lock().unwrap_or_else(|e| e.into_inner()).take() {
            b.finish_and_clear();
        }
    }
}
