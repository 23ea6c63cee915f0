//! `drbench datasets list | fetch | pin | verify`.

use std::io::Write;

use anyhow::bail;
use clap::Subcommand;
use drbench_native::store::hub::HubRef;
use drbench_native::store::{Origin, Resolved, Store, model_files, verify};

#[derive(Debug, Subcommand)]
pub enum DatasetsCommand {
    /// List registered datasets and model files, and whether a copy is available locally.
    List,
    /// Make a dataset available (cache → mirror → hub or official source), verify it and print its folder.
    ///
    /// A hub dataset (`hf://datasets/ORG/NAME@REVISION[#SUBSET]`, or a registry entry with a hub source) goes
    /// into the standard Hugging Face cache (HF_HUB_CACHE / HF_HOME), shared with Python tools; an interrupted
    /// download resumes on the next call. HF_TOKEN for gated repositories, HF_HUB_OFFLINE=1 for the cache only.
    Fetch {
        /// Registry name (beir/scifact, or scifact), or a hub reference hf://datasets/ORG/NAME@REVISION.
        name: String,
        /// Allow downloading an official archive whose sha256 the registry does not pin.
        #[arg(long)]
        allow_unpinned: bool,
    },
    /// Print the registry's `hub_files` pins of a dataset with a hub source: fetched and verified as any use is,
    /// then each data file's size and sha256 as `[[dataset.hub_files]]` TOML for datasets/registry/registry.toml.
    ///
    /// The registry ships without them where its pins were made offline; run this where the hub is reachable and
    /// paste the output under the dataset's entry: from then on every fetch is checked against it.
    Pin {
        /// Registry name (a dataset scored per subset pins all its subsets; NAME#SUBSET one).
        name: String,
    },
    /// Check every registered file (size and sha256) of the local copies of a dataset; for a hub dataset, every
    /// cached file against its blob's sha256 (LFS) or git sha1.
    Verify {
        /// Registry name, or a hub reference.
        name: String,
    },
}

pub fn run(cmd: DatasetsCommand) -> anyhow::Result<std::process::ExitCode> {
    let mut store = Store::from_env();
    let mut out = std::io::stdout().lock();
    match cmd {
        DatasetsCommand::List => {
            writeln!(
                out,
                "{:<24} {:<9} {:<16} {:>9} {:>8}  {:<6}  source (pin)",
                "name", "files", "splits", "docs", "MB", "local"
            )?;
            for spec in store.registry.datasets() {
                let local = match store.local_copy(spec) {
                    Some((_, Origin::Cache)) => "cache",
                    Some(_) => "mirror",
                    None => "-",
                };
                let source = if spec.hub.is_empty() {
                    let pin = match (spec.source_sha256.is_empty(), spec.source_md5.is_empty()) {
                        (false, _) => "",
                        (true, false) => " (published MD5)",
                        (true, true) => " (no sha256 pin)",
                    };
                    let corpus = if spec.corpus_from.is_empty() {
                        String::new()
                    } else {
                        format!(" + corpus of {}", spec.corpus_from)
                    };
                    format!("{}{pin}{corpus}", spec.source_url)
                } else {
                    spec.hub.clone()
                };
                writeln!(
                    out,
                    "{:<24} {:<9} {:<16} {:>9} {:>8.1}  {local:<6}  {source}",
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
                if !spec.document_fields.is_empty() {
                    writeln!(out, "{:<24} documents: {}", "", spec.document_fields)?;
                }
            }
            writeln!(out, "\n{:<36} {:>8}  local copy (model files: `registry:NAME`)", "model file", "MB")?;
            for m in store.registry.models() {
                let local = if model_files::cached_path(&store, m).is_file() { "cache" } else { "-" };
                writeln!(out, "{:<36} {:>8.1}  {local}", m.name, m.size as f64 / 1e6)?;
            }
        }
        DatasetsCommand::Fetch { name, allow_unpinned } => {
            store.allow_unpinned = allow_unpinned;
            // A task scored per subset (CodeSearchNet's languages) is fetched subset by subset.
            let names = store.registry.expand_subsets(&name);
            let mut folders = Vec::new();
            for name in &names {
                let r = store.resolve(name)?;
                report_fetch(&r);
                for folder in std::iter::once(&r.folder).chain(r.corpus.as_ref().map(|c| &c.folder)) {
                    if !folders.contains(folder) {
                        folders.push(folder.clone());
                    }
                }
            }
            for folder in folders {
                writeln!(out, "{}", folder.display())?;
            }
        }
        DatasetsCommand::Pin { name } => {
            let pins = store.hub_pins(&name)?;
            let (spec, _) = store.registry.get_subset(&name)?;
            writeln!(out, "# {} at {} ({} files)", spec.name, spec.hub, pins.len())?;
            for p in &pins {
                writeln!(
                    out,
                    "[[dataset.hub_files]]\npath = {:?}\nsize = {}\nsha256 = {:?}",
                    p.path, p.size, p.sha256
                )?;
            }
        }
        DatasetsCommand::Verify { name } => {
            let hub_ref = if HubRef::looks_like(&name) {
                Some(name.clone())
            } else {
                let (spec, _) = store.registry.get_subset(&name)?;
                (!spec.hub.is_empty() && store.local_copy(spec).is_none()).then(|| spec.hub.clone())
            };
            if let Some(reference) = hub_ref {
                let (at, results) = store.hub()?.verify_snapshot(&HubRef::parse(&reference)?)?;
                writeln!(out, "{at} (Hugging Face cache: {})", store.hub_cache.display())?;
                let mut bad = 0;
                for (file, outcome) in &results {
                    match outcome {
                        Ok(()) => writeln!(out, "  ok       {file}")?,
                        Err(e) => {
                            bad += 1;
                            writeln!(out, "  FAILED   {file}: {e}")?;
                        }
                    }
                }
                if bad > 0 {
                    bail!("{at}: {bad} of {} file(s) failed verification", results.len());
                }
                return Ok(std::process::ExitCode::SUCCESS);
            }
            let spec = store.registry.get_subset(&name)?.0.clone();
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

/// What a fetch found and checked, on stderr (stdout keeps the folder alone).
fn report_fetch(r: &Resolved) {
    let Some(h) = &r.hub else {
        let how = match r.origin {
            Origin::Cache => "cache",
            Origin::MirrorDir => "mirror folder (used in place)",
            Origin::MirrorUrl => "downloaded from the mirror",
            Origin::Official => "downloaded from the official source",
            Origin::Path => "path",
            Origin::Hub => "the Hugging Face hub",
        };
        let files = r.spec.as_ref().map_or(0, |s| s.files.len());
        eprintln!("{}: {files} files verified ({how})", r.name());
        if let Some(note) = r.spec.as_ref().map(|s| &s.note).filter(|n| !n.is_empty()) {
            eprintln!("note: {note}");
        }
        if let Some(corpus) = &r.corpus {
            eprintln!("searches the corpus of:");
            report_fetch(corpus);
        }
        return;
    };
    let n = h.files.corpus.len() + h.files.queries.len() + h.files.qrels.values().map(Vec::len).sum::<usize>();
    eprintln!(
        "{}: {n} data files verified ({:?} layout; splits {})",
        h.resolved,
        h.layout,
        h.files.splits().join(", ")
    );
    if let Some(q) = &h.qrels_repo {
        eprintln!("qrels from {q}");
    }
    if let Some(note) = r.spec.as_ref().map(|s| &s.note).filter(|n| !n.is_empty()) {
        eprintln!("note: {note}");
    }
}
