//! Datasets and models from the Hugging Face hub, through the standard Hugging Face cache: a reference
//! (`hf://datasets/ORG/NAME@REV[#SUBSET]`) resolves to a commit (online: the hub's repository info, recorded
//! under `refs/`; offline: `refs/` alone), the dataset card and the file list give the layout, and each needed
//! file is fetched into `blobs/` (verified, resumable) and linked under `snapshots/<commit>/`. What comes out is a
//! [`DatasetFiles`] of snapshot paths the harness's readers take (parquet, JSONL, TSV).

pub mod cache;
pub mod client;
pub mod download;
pub mod layout;
pub mod reference;

use std::path::PathBuf;

use drbench_harness::io::{DataFile, DatasetFiles};

use super::error::{Result, StoreError};
pub use cache::{HubCache, default_hub_cache};
pub use client::{HubClient, HubSettings};
pub use layout::LayoutKind;
pub use reference::{HubRef, RepoKind};

/// One snapshot file's repository path and whether its blob checks.
pub type FileCheck = (String, Result<()>);

/// A hub client and the cache it fills.
#[derive(Debug, Clone)]
pub struct Hub {
    /// The HTTP side.
    pub client: HubClient,
    /// The Hugging Face cache.
    pub cache: HubCache,
}

/// A hub dataset ready to read.
#[derive(Debug, Clone)]
pub struct HubDataset {
    /// The reference at the commit it resolved to (what results record).
    pub resolved: HubRef,
    /// How its files were found.
    pub layout: LayoutKind,
    /// The qrels repository at its commit, when the qrels live in a `NAME-qrels` repository.
    pub qrels_repo: Option<HubRef>,
    /// Snapshot paths of its parts.
    pub files: DatasetFiles,
    /// The snapshot folder.
    pub snapshot: PathBuf,
}

impl Hub {
    /// A hub over `settings` filling the cache at `cache_root`.
    pub fn new(settings: HubSettings, cache_root: impl Into<PathBuf>) -> Result<Hub> {
        Ok(Hub { client: HubClient::new(settings)?, cache: HubCache::new(cache_root) })
    }

    /// The commit `r` stands for, and the repository's file list when the hub was asked (None offline).
    pub fn resolve(&self, r: &HubRef) -> Result<(String, Option<Vec<String>>)> {
        if self.client.settings.offline {
            let commit = self.cache.cached_commit(r).ok_or_else(|| {
                StoreError::Unavailable(format!(
                    "{r}: HF_HUB_OFFLINE is set and the Hugging Face cache ({}) has no snapshot of this revision; \
                     run once online or unset HF_HUB_OFFLINE",
                    self.cache.repo_dir(r.kind, &r.repo).display()
                ))
            })?;
            if self.cache.snapshot_files(r, &commit).is_empty() {
                // A ref written before a download that never finished (huggingface_hub does the same).
                return Err(StoreError::Unavailable(format!(
                    "{r}: HF_HUB_OFFLINE is set and the Hugging Face cache ({}) records revision {commit} but holds \
                     none of its files; run once online or unset HF_HUB_OFFLINE",
                    self.cache.repo_dir(r.kind, &r.repo).display()
                )));
            }
            return Ok((commit, None));
        }
        let info = self.client.repo_info(r)?;
        if !reference::is_commit(&info.sha) {
            return Err(StoreError::Http {
                url: self.client.settings.endpoint.clone(),
                message: format!("{r}: the hub answered a commit {:?} that is not 40 hex digits", info.sha),
            });
        }
        self.cache.write_ref(r, &info.sha)?;
        Ok((info.sha, Some(info.siblings.into_iter().map(|s| s.rfilename).collect())))
    }

    /// One file of a dataset repository (Tevatron's `train.jsonl.gz`), through the cache: fetched when needed,
    /// verified either way; a path the repository lacks is named with what it has.
    pub fn dataset_file(&self, r: &HubRef, path: &str) -> Result<PathBuf> {
        let (commit, listing) = self.resolve(r)?;
        let files = self.files(r, &commit, listing);
        if !files.iter().any(|f| f == path) {
            let mut have: Vec<&str> = files.iter().map(String::as_str).take(8).collect();
            if files.len() > 8 {
                have.push("…");
            }
            return Err(StoreError::Unavailable(format!(
                "{}: no file {path} (it has: {})",
                r.at(&commit),
                have.join(", ")
            )));
        }
        download::fetch_file(&self.client, &self.cache, r, &commit, path)
    }

    /// The files of `r` at `commit`: the hub's list, or (offline) what the snapshot holds.
    fn files(&self, r: &HubRef, commit: &str, listing: Option<Vec<String>>) -> Vec<String> {
        listing.unwrap_or_else(|| self.cache.snapshot_files(r, commit))
    }

    /// The dataset card's configs (empty without a README.md).
    fn configs(&self, r: &HubRef, commit: &str, files: &[String]) -> Result<layout::Configs> {
        if !files.iter().any(|f| f == "README.md") {
            return Ok(Default::default());
        }
        let path = download::fetch_file(&self.client, &self.cache, r, commit, "README.md")?;
        let text = std::fs::read_to_string(&path).map_err(|e| StoreError::io(&path, e))?;
        layout::card_configs(&text).map_err(|m| StoreError::Unavailable(format!("{r}: README.md: {m}")))
    }

    /// Resolves, lays out and fetches a dataset. Its qrels come from the repository itself, or else from
    /// `qrels_repo` (default: `ORG/NAME-qrels@main`, the older BeIR pair).
    pub fn dataset(&self, r: &HubRef, qrels_repo: Option<&HubRef>) -> Result<HubDataset> {
        if r.kind != RepoKind::Dataset {
            return Err(StoreError::Unavailable(format!("{r}: a model repository, not a dataset (hf://datasets/…)")));
        }
        let (commit, listing) = self.resolve(r)?;
        let resolved = r.at(&commit);
        let files = self.files(r, &commit, listing);
        let configs = self.configs(r, &commit, &files)?;
        let offline = self.client.settings.offline;
        let found = layout::detect(&files, &configs, r.subset.as_deref()).map_err(|m| {
            let hint = if offline {
                format!(
                    " (HF_HUB_OFFLINE is set: the cache holds {} files of this snapshot; run once online)",
                    files.len()
                )
            } else {
                String::new()
            };
            StoreError::Unavailable(format!("{resolved}: {m}{hint}"))
        })?;
        let fetch = |repo: &HubRef, c: &str, paths: &[String]| -> Result<Vec<DataFile>> {
            paths
                .iter()
                .map(|p| {
                    let local = download::fetch_file(&self.client, &self.cache, repo, c, p)?;
                    DataFile::from_path(local).map_err(|e| StoreError::Unavailable(e.to_string()))
                })
                .collect()
        };
        let mut out = DatasetFiles {
            corpus: fetch(r, &commit, &found.corpus)?,
            queries: fetch(r, &commit, &found.queries)?,
            qrels: Default::default(),
        };
        let mut qrels_at = None;
        if found.qrels.is_empty() {
            let q = match qrels_repo {
                Some(q) => q.clone(),
                None => HubRef {
                    kind: RepoKind::Dataset,
                    repo: format!("{}-qrels", r.repo),
                    revision: "main".into(),
                    subset: None,
                },
            };
            let (qc, ql) = self.resolve(&q).map_err(|e| {
                StoreError::Unavailable(format!(
                    "{resolved}: the repository holds no qrels, and its qrels repository failed: {e}"
                ))
            })?;
            let qfiles = self.files(&q, &qc, ql);
            let qconfigs = self.configs(&q, &qc, &qfiles)?;
            let splits = match qconfigs.get("default").or_else(|| qconfigs.values().next()) {
                Some(splits) => layout::matching_splits(&qfiles, splits)
                    .map_err(|m| StoreError::Unavailable(format!("{q}: {m}")))?,
                None => layout::qrels_by_name(&qfiles),
            };
            for (split, paths) in splits {
                out.qrels.insert(split, fetch(&q, &qc, &paths)?);
            }
            qrels_at = Some(q.at(&qc));
        } else {
            for (split, paths) in &found.qrels {
                out.qrels.insert(split.clone(), fetch(r, &commit, paths)?);
            }
        }
        if out.qrels.is_empty() {
            return Err(StoreError::Unavailable(format!("{resolved}: no qrels found")));
        }
        Ok(HubDataset {
            snapshot: self.cache.snapshot_dir(r, &commit),
            resolved,
            layout: found.kind,
            qrels_repo: qrels_at,
            files: out,
        })
    }

    /// Checks every file of the cached snapshot of `r` (offline: the revision as the cache records it) against
    /// its blob name; returns each repository path with its outcome.
    pub fn verify_snapshot(&self, r: &HubRef) -> Result<(HubRef, Vec<FileCheck>)> {
        let commit = self.cache.cached_commit(r).ok_or_else(|| {
            StoreError::Unavailable(format!(
                "{r}: not in the Hugging Face cache ({}); run `drbench datasets fetch {r}`",
                self.cache.repo_dir(r.kind, &r.repo).display()
            ))
        })?;
        let dir = self.cache.snapshot_dir(r, &commit);
        let results = self
            .cache
            .snapshot_files(r, &commit)
            .into_iter()
            .map(|f| {
                let link = dir.join(&f);
                let outcome = std::fs::canonicalize(&link).map_err(|e| StoreError::io(&link, e)).and_then(|blob| {
                    let etag = blob.file_name().and_then(|n| n.to_str()).unwrap_or("").to_string();
                    download::verify_blob(&blob, &etag, None)
                });
                (f, outcome)
            })
            .collect();
        Ok((r.at(&commit), results))
    }

    /// A model repository's snapshot folder holding `files` (required ones must exist; optional ones are skipped
    /// when the repository lacks them), plus the shards a `model.safetensors.index.json` names.
    pub fn model_folder(&self, r: &HubRef, files: &[(&str, bool)]) -> Result<PathBuf> {
        let (commit, listing) = self.resolve(r)?;
        let present = |f: &str| match &listing {
            Some(l) => l.iter().any(|x| x == f),
            None => self.cache.snapshot_dir(r, &commit).join(f).exists(),
        };
        let mut wanted: Vec<String> = Vec::new();
        for (f, required) in files {
            if present(f) {
                wanted.push(f.to_string());
            } else if *required {
                return Err(StoreError::Unavailable(format!(
                    "{}: {f} is missing{}",
                    r.at(&commit),
                    if listing.is_none() { " from the Hugging Face cache (HF_HUB_OFFLINE is set)" } else { "" }
                )));
            }
        }
        let mut i = 0;
        while i < wanted.len() {
            let f = wanted[i].clone();
            i += 1;
            let path = download::fetch_file(&self.client, &self.cache, r, &commit, &f)?;
            if f == "model.safetensors.index.json" {
                for shard in safetensors_shards(&path)? {
                    if !wanted.contains(&shard) {
                        wanted.push(shard);
                    }
                }
            }
        }
        Ok(self.cache.snapshot_dir(r, &commit))
    }
}

/// The shard files a safetensors index names (plain relative names only).
fn safetensors_shards(index: &std::path::Path) -> Result<Vec<String>> {
    #[derive(serde::Deserialize)]
    struct Index {
        weight_map: std::collections::BTreeMap<String, String>,
    }
    let text = std::fs::read_to_string(index).map_err(|e| StoreError::io(index, e))?;
    let parsed: Index = serde_json::from_str(&text)
        .map_err(|e| StoreError::Mismatch { path: index.display().to_string(), message: format!("bad index: {e}") })?;
    let mut shards: Vec<String> = parsed.weight_map.into_values().collect();
    shards.sort();
    shards.dedup();
    if let Some(bad) = shards.iter().find(|s| s.starts_with('/') || s.split('/').any(|c| c == ".." || c.is_empty())) {
        return Err(StoreError::Mismatch {
            path: index.display().to_string(),
            message: format!("shard {bad:?} leaves the repository"),
        });
    }
    Ok(shards)
}
