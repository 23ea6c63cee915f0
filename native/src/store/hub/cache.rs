//! The standard Hugging Face cache, laid out as huggingface_hub lays it out so that downloads are shared with
//! Python tools in both directions: `<root>/{datasets,models}--ORG--NAME/` holding `refs/<revision>` (the commit a
//! branch or tag pointed to), `blobs/<etag>` (the file's bytes, named by its sha256 for LFS files or its git
//! sha1 otherwise; `<etag>.incomplete` while downloading) and `snapshots/<commit>/<path>` (relative symlinks to
//! the blobs). The root is `HF_HUB_CACHE`, else `HUGGINGFACE_HUB_CACHE`, else `HF_HOME/hub`, else
//! `XDG_CACHE_HOME/huggingface/hub`, else `~/.cache/huggingface/hub`.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use drbench_harness::io::atomic::write_atomic;

use super::super::error::{Result, StoreError};
use super::reference::{HubRef, RepoKind, is_commit};

/// `HF_HOME`, else `XDG_CACHE_HOME/huggingface`, else `~/.cache/huggingface` (where the token file lives).
pub fn hf_home() -> PathBuf {
    let var = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty()).map(PathBuf::from);
    var("HF_HOME")
        .or_else(|| var("XDG_CACHE_HOME").map(|p| p.join("huggingface")))
        .or_else(|| var("HOME").map(|h| h.join(".cache/huggingface")))
        .unwrap_or_else(|| PathBuf::from(".cache/huggingface"))
}

/// The hub cache root, by huggingface_hub's precedence.
pub fn default_hub_cache() -> PathBuf {
    let var = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty()).map(PathBuf::from);
    var("HF_HUB_CACHE").or_else(|| var("HUGGINGFACE_HUB_CACHE")).unwrap_or_else(|| hf_home().join("hub"))
}

/// One cache root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HubCache {
    /// The root folder.
    pub root: PathBuf,
}

impl HubCache {
    /// A cache at `root`.
    pub fn new(root: impl Into<PathBuf>) -> HubCache {
        HubCache { root: root.into() }
    }

    /// `<root>/datasets--ORG--NAME` (or `models--…`).
    pub fn repo_dir(&self, kind: RepoKind, repo: &str) -> PathBuf {
        self.root.join(format!("{}--{}", kind.cache_prefix(), repo.replace('/', "--")))
    }

    /// The commit `r.revision` stands for, as far as the cache knows: the revision itself when it is a commit,
    /// else the content of `refs/<revision>`.
    pub fn cached_commit(&self, r: &HubRef) -> Option<String> {
        if is_commit(&r.revision) {
            return Some(r.revision.clone());
        }
        let text = std::fs::read_to_string(self.repo_dir(r.kind, &r.repo).join("refs").join(&r.revision)).ok()?;
        let commit = text.trim().to_string();
        is_commit(&commit).then_some(commit)
    }

    /// Records that `r.revision` points at `commit` (nothing to record when the revision is that commit).
    pub fn write_ref(&self, r: &HubRef, commit: &str) -> Result<()> {
        if r.revision == commit {
            return Ok(());
        }
        let path = self.repo_dir(r.kind, &r.repo).join("refs").join(&r.revision);
        write_atomic(&path, |w| w.write_all(commit.as_bytes())).map_err(|e| StoreError::io(&path, io_of(e)))
    }

    /// `snapshots/<commit>/` of a repository.
    pub fn snapshot_dir(&self, r: &HubRef, commit: &str) -> PathBuf {
        self.repo_dir(r.kind, &r.repo).join("snapshots").join(commit)
    }

    /// `blobs/<etag>` of a repository.
    pub fn blob_path(&self, r: &HubRef, etag: &str) -> PathBuf {
        self.repo_dir(r.kind, &r.repo).join("blobs").join(etag)
    }

    /// Points `snapshots/<commit>/<file>` at `blobs/<etag>` (a relative symlink, as huggingface_hub makes it).
    pub fn link(&self, r: &HubRef, commit: &str, file: &str, etag: &str) -> Result<PathBuf> {
        let link = self.snapshot_dir(r, commit).join(file);
        let parent = link.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(parent).map_err(|e| StoreError::io(parent, e))?;
        let depth = file.split('/').count() + 1;
        let target: PathBuf = std::iter::repeat_n("..", depth).collect::<PathBuf>().join("blobs").join(etag);
        if std::fs::symlink_metadata(&link).is_ok() {
            std::fs::remove_file(&link).map_err(|e| StoreError::io(&link, e))?;
        }
        make_link(&target, &link, &self.blob_path(r, etag))?;
        Ok(link)
    }

    /// The files present in a snapshot, as repository paths (`corpus/corpus-00000-of-00001.parquet`), sorted.
    pub fn snapshot_files(&self, r: &HubRef, commit: &str) -> Vec<String> {
        let root = self.snapshot_dir(r, commit);
        let mut out = Vec::new();
        let mut stack = vec![root.clone()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
                let p = e.path();
                if p.is_dir() {
                    stack.push(p);
                } else if let Ok(rel) = p.strip_prefix(&root) {
                    out.push(rel.to_string_lossy().replace('\\', "/"));
                }
            }
        }
        out.sort();
        out
    }
}

#[cfg(unix)]
fn make_link(target: &Path, link: &Path, _blob: &Path) -> Result<()> {
    std::os::unix::fs::symlink(target, link).map_err(|e| StoreError::io(link, e))
}

#[cfg(not(unix))]
fn make_link(_target: &Path, link: &Path, blob: &Path) -> Result<()> {
    // huggingface_hub copies when symlinks are unavailable; so do we, through the atomic writer.
    let bytes = std::fs::read(blob).map_err(|e| StoreError::io(blob, e))?;
    write_atomic(link, |w| w.write_all(&bytes)).map_err(|e| StoreError::io(link, io_of(e)))
}

fn io_of(e: drbench_harness::Error) -> std::io::Error {
    match e {
        drbench_harness::Error::Io { source, .. } => source,
        other => std::io::Error::other(other.to_string()),
    }
}
