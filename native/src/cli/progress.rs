//! Progress bars (indicatif) on stderr; hidden when stderr is not a terminal.

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
