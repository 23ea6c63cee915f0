//! Where a preset's results go: `<out>/<model>/<task with '/' as '__'>/{results.json, per_query.json, run.trec}`.
//! `results.json` is written last, so its presence means the cell is complete.

use std::path::{Path, PathBuf};

/// The folder of one (model, task) cell.
pub fn cell_dir(out: &Path, model: &str, task: &str) -> PathBuf {
    let task = task.trim_end_matches('/').replace(['/', '\\'], "__").replace(':', "_");
    out.join(model).join(task)
}

/// The file whose presence marks a finished cell.
pub fn results_file(cell: &Path) -> PathBuf {
    cell.join("results.json")
}
