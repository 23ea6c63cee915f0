//! Output folders are drbench's own: a folder drbench creates gets a `.drbench` marker naming what it holds, and
//! an existing folder without one is written into only when it is empty, holds nothing but what drbench writes
//! there (a folder of an earlier version), or the user says `--force`.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use drbench_harness::io::atomic::write_atomic;
use serde::{Deserialize, Serialize};

use crate::error::{PipelineError, Result};

/// The marker file's name.
pub const MARKER: &str = ".drbench";

/// What kind of folder drbench writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OutKind {
    /// `drbench run --out`: one cell (run.trec, per_query.json, results.json).
    Cell,
    /// `drbench bench --out`: a preset's cells, one folder per model, and report.md.
    Bench,
    /// `drbench train --out`: a LoRA adapter, its checkpoints and log.
    Train,
    /// `drbench demo prepare --dir`: the browser demo.
    Demo,
}

impl OutKind {
    fn name(self) -> &'static str {
        match self {
            OutKind::Cell => "cell",
            OutKind::Bench => "bench",
            OutKind::Train => "train",
            OutKind::Demo => "demo",
        }
    }

    /// Whether an entry of a folder without a marker is one drbench writes into this kind of folder (a temporary
    /// file of an atomic write, `.NAME.tmp-PID`, interrupted or under way in another process, counts as NAME).
    fn writes(self, name: &str, is_dir: bool) -> bool {
        if let Some((base, pid)) = name.strip_prefix('.').and_then(|n| n.rsplit_once(".tmp-"))
            && !is_dir
            && !pid.is_empty()
            && pid.bytes().all(|b| b.is_ascii_digit())
        {
            // Another process's marker being written counts as the marker.
            return base == MARKER.trim_start_matches('.') || self.writes(base, false);
        }
        match self {
            OutKind::Cell => {
                !is_dir
                    && (["results.json", "per_query.json", "run.trec"].contains(&name)
                        || name.starts_with("run.shard-") && name.ends_with(".trec"))
            }
            OutKind::Bench => is_dir && !name.starts_with('.') || !is_dir && name == "report.md",
            OutKind::Train => {
                is_dir && (name.starts_with("checkpoint-") || name.starts_with(".checkpoint-"))
                    || !is_dir
                        && [
                            "adapter_config.json",
                            "adapter_model.safetensors",
                            "trainer_state.json",
                            "train_log.jsonl",
                            ".train-groups.jsonl",
                        ]
                        .contains(&name)
            }
            OutKind::Demo => {
                is_dir && ["data", "pkg"].contains(&name)
                    || !is_dir && ["index.html", "demo.js", "encode-worker.js", "demo.css"].contains(&name)
            }
        }
    }
}

/// The marker's content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Marker {
    /// What the folder holds.
    kind: OutKind,
    /// The drbench version that created it.
    drbench: String,
}

/// Whether drbench may write a folder of `kind` at `dir` (nothing is written): it does not exist, is empty, is
/// marked as drbench's (of this kind), or holds only what drbench writes there; otherwise only with `force`.
pub fn check_out_dir(dir: &Path, kind: OutKind, force: bool) -> Result<()> {
    if force {
        return if dir.exists() && !dir.is_dir() { Err(not_a_folder(dir)) } else { Ok(()) };
    }
    match std::fs::symlink_metadata(dir) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(PipelineError::io(dir, e)),
        Ok(_) if !dir.is_dir() => return Err(not_a_folder(dir)),
        Ok(_) => {}
    }
    let marker = dir.join(MARKER);
    if marker.exists() {
        let text = std::fs::read_to_string(&marker).map_err(|e| PipelineError::io(&marker, e))?;
        let found: Marker = serde_json::from_str(&text).map_err(|e| PipelineError::OutDir {
            dir: dir.to_path_buf(),
            message: format!("{MARKER} is not drbench's marker ({e}); pass --force to write into it anyway"),
        })?;
        if found.kind != kind {
            return Err(PipelineError::OutDir {
                dir: dir.to_path_buf(),
                message: format!(
                    "drbench made this a {} folder, and this command writes a {} folder; choose another folder \
                     (or pass --force)",
                    found.kind.name(),
                    kind.name()
                ),
            });
        }
        return Ok(());
    }
    let mut foreign = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| PipelineError::io(dir, e))? {
        let entry = entry.map_err(|e| PipelineError::io(dir, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let is_dir = entry.file_type().map_err(|e| PipelineError::io(entry.path(), e))?.is_dir();
        if !kind.writes(&name, is_dir) {
            foreign.push(name);
        }
    }
    foreign.sort();
    if let Some(first) = foreign.first() {
        let more = match foreign.len() - 1 {
            0 => String::new(),
            n => format!(" (and {n} more)"),
        };
        return Err(PipelineError::OutDir {
            dir: dir.to_path_buf(),
            message: format!(
                "this folder exists and holds {first:?}{more}, which drbench does not write into a {} folder; \
                 choose another folder, or pass --force to write into it anyway",
                kind.name()
            ),
        });
    }
    Ok(())
}

/// Checks `dir` as [`check_out_dir`] does, then creates it (with its parents) and marks it as drbench's.
pub fn claim_out_dir(dir: &Path, kind: OutKind, force: bool) -> Result<PathBuf> {
    check_out_dir(dir, kind, force)?;
    std::fs::create_dir_all(dir).map_err(|e| PipelineError::io(dir, e))?;
    let marker = dir.join(MARKER);
    let want = Marker { kind, drbench: env!("CARGO_PKG_VERSION").to_string() };
    let current = std::fs::read_to_string(&marker).ok().and_then(|t| serde_json::from_str::<Marker>(&t).ok());
    if current.is_none_or(|m| m.kind != kind) {
        let json = serde_json::to_string(&want).expect("plain data");
        write_atomic(&marker, |w| w.write_all(json.as_bytes()))?;
    }
    Ok(marker)
}

fn not_a_folder(dir: &Path) -> PipelineError {
    PipelineError::OutDir { dir: dir.to_path_buf(), message: "this is a file, not a folder".into() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_drbench_did_not_make_need_force() {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path();
        let make = |name: &str, files: &[&str]| -> PathBuf {
            let dir = d.join(name);
            std::fs::create_dir_all(&dir).unwrap();
            for f in files {
                let p = dir.join(f);
                if let Some(stripped) = f.strip_suffix('/') {
                    std::fs::create_dir_all(dir.join(stripped)).unwrap();
                } else {
                    std::fs::write(p, "x").unwrap();
                }
            }
            dir
        };
        std::fs::write(d.join("file"), "x").unwrap();
        // (folder, kind, allowed without --force)
        let cases: Vec<(PathBuf, OutKind, bool)> = vec![
            (d.join("missing/deeper"), OutKind::Cell, true),
            (make("empty", &[]), OutKind::Bench, true),
            (make("old-cell", &["results.json", "run.trec", "run.shard-0-of-2.trec"]), OutKind::Cell, true),
            (make("killed-cell", &["run.trec", ".results.json.tmp-4242"]), OutKind::Cell, true),
            (make("tmp-lookalike", &[".notes.tmp-1"]), OutKind::Cell, false),
            (make("other-shard", &["run.shard-1-of-2.trec", ".drbench.tmp-77"]), OutKind::Cell, true),
            (make("home", &["notes.txt", "results.json"]), OutKind::Cell, false),
            (make("old-bench", &["BM25/", "report.md"]), OutKind::Bench, true),
            (make("dotfiles", &["BM25/", ".ssh/"]), OutKind::Bench, false),
            (
                make("old-train", &["checkpoint-10/", ".checkpoint-20.partial/", "train_log.jsonl"]),
                OutKind::Train,
                true,
            ),
            (make("src", &["main.rs"]), OutKind::Train, false),
            (make("old-demo", &["data/", "pkg/", "index.html"]), OutKind::Demo, true),
            (make("site", &["index.html", ".env"]), OutKind::Demo, false),
            (d.join("file"), OutKind::Cell, false),
        ];
        for (dir, kind, ok) in &cases {
            assert_eq!(check_out_dir(dir, *kind, false).is_ok(), *ok, "{} as {kind:?}", dir.display());
        }
        let err = check_out_dir(&d.join("home"), OutKind::Cell, false).unwrap_err().to_string();
        assert!(err.contains("home") && err.contains("\"notes.txt\"") && err.contains("--force"), "{err}");
        let err = check_out_dir(&d.join("dotfiles"), OutKind::Bench, false).unwrap_err().to_string();
        assert!(err.contains("holds \".ssh\", which"), "{err}");
        // --force adopts a folder and marks it; from then on it is drbench's.
        claim_out_dir(&d.join("home"), OutKind::Cell, true).unwrap();
        assert!(check_out_dir(&d.join("home"), OutKind::Cell, false).is_ok());
        let err = check_out_dir(&d.join("home"), OutKind::Bench, false).unwrap_err().to_string();
        assert!(err.contains("a cell folder") && err.contains("a bench folder"), "{err}");
        assert!(claim_out_dir(&d.join("file"), OutKind::Cell, true).is_err(), "a file is never a folder");
        // A new folder is created and marked.
        let marker = claim_out_dir(&d.join("missing/deeper"), OutKind::Cell, false).unwrap();
        assert!(marker.is_file());
        std::fs::write(d.join("missing/deeper/notes.txt"), "x").unwrap();
        assert!(check_out_dir(&d.join("missing/deeper"), OutKind::Cell, false).is_ok(), "marked: drbench's own");
    }
}
