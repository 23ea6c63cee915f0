//! `drbench datasets list | fetch | verify`.

use std::io::Write;

use anyhow::bail;
use clap::Subcommand;
use drbench_native::store::{Origin, Store, model_files, verify};

#[derive(Debug, Subcommand)]
pub enum DatasetsCommand {
    /// List registered datasets and model files, and whether a copy is available locally.
    List,
    /// Make a dataset available (cache → mirror → official source), verify it and print its folder.
    Fetch {
        /// Registry name, e.g. beir/scifact (or scifact).
        name: String,
        /// Allow downloading an official archive whose sha256 the registry does not pin.
        #[arg(long)]
        allow_unpinned: bool,
    },
    /// Check every registered file (size and sha256) of the local copies of a dataset.
    Verify {
        /// Registry name.
        name: String,
    },
}

pub fn run(cmd: DatasetsCommand) -> anyhow::Result<std::process::ExitCode> {
    let mut store = Store::from_env();
    let mut out = std::io::stdout().lock();
    match cmd {
        DatasetsCommand::List => {
            writeln!(out, "{:<24} {:<9} {:<16} {:>9} {:>8}  local copy", "name", "files", "splits", "docs", "MB")?;
            for spec in store.registry.datasets() {
                let local = match store.local_copy(spec) {
                    Some((_, Origin::Cache)) => "cache",
                    Some(_) => "mirror",
                    None => "-",
                };
                writeln!(
                    out,
                    "{:<24} {:<9} {:<16} {:>9} {:>8.1}  {local}",
                    spec.name,
                    if !spec.is_pinned() {
                        "unpinned"
                    } else if spec.complete {
                        "complete"
                    } else {
                        "partial"
                    },
                    spec.splits.join(","),
                    spec.counts.get("docs").map_or("?".into(), |d| d.to_string()),
                    spec.total_size() as f64 / 1e6,
                )?;
            }
            writeln!(out, "\n{:<36} {:>8}  local copy (model files: `registry:NAME`)", "model file", "MB")?;
            for m in store.registry.models() {
                let local = if model_files::cached_path(&store, m).is_file() { "cache" } else { "-" };
                writeln!(out, "{:<36} {:>8.1}  {local}", m.name, m.size as f64 / 1e6)?;
            }
        }
        DatasetsCommand::Fetch { name, allow_unpinned } => {
            store.allow_unpinned = allow_unpinned;
            let spec = store.registry.get(&name)?.clone();
            let r = store.fetch(&spec)?;
            let how = match r.origin {
                Origin::Cache => "cache",
                Origin::MirrorDir => "mirror folder (used in place)",
                Origin::MirrorUrl => "downloaded from the mirror",
                Origin::Official => "downloaded from the official source",
                Origin::Path => "path",
            };
            eprintln!("{}: {} files verified ({how})", spec.name, spec.files.len());
            if !spec.note.is_empty() {
                eprintln!("note: {}", spec.note);
            }
            writeln!(out, "{}", r.folder.display())?;
        }
        DatasetsCommand::Verify { name } => {
            let spec = store.registry.get(&name)?.clone();
            let mut any = false;
            let mut bad = 0;
            for (folder, what) in [(Some(store.cache_folder(&spec)), "cache"), (store.mirror_folder(&spec), "mirror")] {
                let Some(folder) = folder else { continue };
                if !folder.is_dir() {
                    continue;
                }
                any = true;
                writeln!(out, "{} ({what}: {})", spec.name, folder.display())?;
                for f in &spec.files {
                    let path = folder.join(&f.path);
                    match verify::verify_file(&path, f) {
                        Ok(()) => writeln!(out, "  ok       {}  {} bytes  sha256 {}", f.path, f.size, &f.sha256[..16])?,
                        Err(e) => {
                            bad += 1;
                            writeln!(out, "  FAILED   {e}")?;
                        }
                    }
                }
            }
            if !any {
                bail!(
                    "{}: no local copy (cache {}; mirror {:?}); run `drbench datasets fetch {}`",
                    spec.name,
                    store.cache_folder(&spec).display(),
                    store.mirror,
                    spec.name
                );
            }
            if bad > 0 {
                bail!("{}: {bad} file(s) failed verification", spec.name);
            }
        }
    }
    Ok(std::process::ExitCode::SUCCESS)
}
