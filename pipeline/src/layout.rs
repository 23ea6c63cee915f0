//! Where a preset's results go: `<out>/<model>/<task with '/' as '__'>/{results.json, per_query.json, run.trec}`.
//! `results.json` is written last, so its presence means the cell is complete.

use std::path::{Path, PathBuf};

/// The folder of one (model, task) cell.
pub fn cell_dir(out: &Path, model: &str, task: &str) -> PathBuf {
    let task = task.trim_end_matches('/').replace(['/', '\\'], "__").replace(':', "_");
    out.join(model).join(task)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_names_become_one_folder_name() {
        let out = Path::new("r");
        assert_eq!(cell_dir(out, "BM25", "beir/scifact"), Path::new("r/BM25/beir__scifact"));
        assert_eq!(cell_dir(out, "m", "/data/x/"), Path::new("r/m/__data__x"));
        assert_eq!(cell_dir(out, "m", "c:\\d"), Path::new("r/m/c___d"));
    }
}
