//! One repository file into the Hugging Face cache, never read unverified: a blob named by a sha256 (LFS files)
//! is checked against it, one named by a git sha1 against git's blob hash, before it is linked or handed out. A
//! damaged or truncated blob is fetched again (online) or refused with its path (offline). Downloads go to
//! `blobs/<etag>.incomplete`, huggingface_hub's own partial file, and resume from its length with `Range`, so a
//! transfer interrupted here or in Python continues where it stopped.

use std::path::{Path, PathBuf};

use sha1::Sha1;
use sha2::{Digest, Sha256};

use super::super::MAX_DOWNLOAD_BYTES;
use super::super::error::{Result, StoreError};
use super::super::http::{Failure, append_body};
use super::cache::HubCache;
use super::client::HubClient;
use super::reference::HubRef;

/// How a blob's name checks its bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Check {
    /// 64 hex digits: sha256 of the content (LFS).
    Sha256,
    /// 40 hex digits: git's blob sha1 (`blob <len>\0` + content).
    GitSha1,
}

fn check_of(etag: &str) -> Option<Check> {
    let hex = etag.bytes().all(|b| b.is_ascii_hexdigit());
    match etag.len() {
        64 if hex => Some(Check::Sha256),
        40 if hex => Some(Check::GitSha1),
        _ => None,
    }
}

/// A running digest of the kind a blob name asks for.
enum Hasher {
    Sha256(Sha256),
    GitSha1(Sha1),
    None,
}

impl Hasher {
    fn new(check: Option<Check>, size: u64) -> Hasher {
        match check {
            Some(Check::Sha256) => Hasher::Sha256(Sha256::new()),
            Some(Check::GitSha1) => {
                let mut h = Sha1::new();
                h.update(format!("blob {size}\0").as_bytes());
                Hasher::GitSha1(h)
            }
            None => Hasher::None,
        }
    }

    fn update(&mut self, b: &[u8]) {
        match self {
            Hasher::Sha256(h) => h.update(b),
            Hasher::GitSha1(h) => h.update(b),
            Hasher::None => {}
        }
    }

    fn finish(self) -> Option<String> {
        match self {
            Hasher::Sha256(h) => Some(hex::encode(h.finalize())),
            Hasher::GitSha1(h) => Some(hex::encode(h.finalize())),
            Hasher::None => None,
        }
    }
}

/// Checks the blob at `path` against its name `etag` (and `size` when known); the message says what differs.
pub fn verify_blob(path: &Path, etag: &str, size: Option<u64>) -> Result<()> {
    let len = std::fs::metadata(path).map_err(|e| StoreError::io(path, e))?.len();
    if let Some(want) = size.filter(|&s| s != len) {
        return Err(StoreError::Mismatch {
            path: path.display().to_string(),
            message: format!("damaged blob: {len} bytes, expected {want}"),
        });
    }
    let mut hasher = Hasher::new(check_of(etag), len);
    super::super::verify::for_each_chunk(path, |b| hasher.update(b))?;
    match hasher.finish() {
        Some(got) if got != etag => Err(StoreError::Mismatch {
            path: path.display().to_string(),
            message: format!("damaged blob: its hash is {got}, its name says {etag}"),
        }),
        _ => Ok(()),
    }
}

/// The snapshot path of `file` at `commit`, downloaded when needed and verified either way.
pub fn fetch_file(client: &HubClient, cache: &HubCache, r: &HubRef, commit: &str, file: &str) -> Result<PathBuf> {
    let link = cache.snapshot_dir(r, commit).join(file);
    if let Ok(blob) = std::fs::canonicalize(&link) {
        let etag = blob.file_name().and_then(|n| n.to_str()).unwrap_or("").to_string();
        match verify_blob(&blob, &etag, None) {
            Ok(()) => return Ok(link),
            Err(e) if client.settings.offline => {
                return Err(StoreError::Mismatch {
                    path: format!("{file} of {r}"),
                    message: format!("{e}; HF_HUB_OFFLINE is set, so it cannot be fetched again"),
                });
            }
            Err(e) => {
                eprintln!("drbench: {e}; fetching it again");
                let _ = std::fs::remove_file(&blob);
            }
        }
    }
    if client.settings.offline {
        return Err(StoreError::Unavailable(format!(
            "{r}: HF_HUB_OFFLINE is set and {file} is not in the Hugging Face cache ({}); run once online or unset \
             HF_HUB_OFFLINE",
            link.display()
        )));
    }
    let meta = client.file_meta(r, commit, file)?;
    if meta.etag.is_empty() || meta.etag.contains(['/', '\\']) || meta.etag.starts_with('.') {
        return Err(StoreError::Http {
            url: client.file_url(r, commit, file),
            message: format!("unusable ETag {:?}", meta.etag),
        });
    }
    let blob = cache.blob_path(r, &meta.etag);
    if blob.is_file() {
        match verify_blob(&blob, &meta.etag, meta.size) {
            Ok(()) => return cache.link(r, commit, file, &meta.etag),
            Err(e) => {
                eprintln!("drbench: {e}; fetching it again");
                let _ = std::fs::remove_file(&blob);
            }
        }
    }
    download_blob(client, r, &client.file_url(r, commit, file), &blob, &meta.etag, meta.size, file)?;
    cache.link(r, commit, file, &meta.etag)
}

/// Downloads into `<blob>.incomplete` (resuming it), checks size and hash, renames it to `blob`. Up to three
/// attempts, each resuming where the last stopped.
fn download_blob(
    client: &HubClient,
    r: &HubRef,
    url: &str,
    blob: &Path,
    etag: &str,
    size: Option<u64>,
    file: &str,
) -> Result<()> {
    let partial = PathBuf::from(format!("{}.incomplete", blob.display()));
    let dir = blob.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| StoreError::io(dir, e))?;
    if let Some(n) = size.filter(|&n| n > MAX_DOWNLOAD_BYTES * 8) {
        return Err(StoreError::Http {
            url: url.into(),
            message: format!("announces {n} bytes, more than drbench accepts"),
        });
    }
    let mut last = None;
    for _ in 0..3 {
        match transfer(client, r, url, &partial, size, file) {
            Ok(()) => {
                last = None;
                break;
            }
            Err(e @ StoreError::Http { .. }) if e.to_string().contains("interrupted") => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    if let Some(e) = last {
        return Err(e);
    }
    if let Err(e) = verify_blob(&partial, etag, size) {
        let _ = std::fs::remove_file(&partial);
        return Err(StoreError::Mismatch {
            path: format!("{file} ({url})"),
            message: format!("{e}; the partial file was removed"),
        });
    }
    std::fs::rename(&partial, blob).map_err(|e| StoreError::io(blob, e))
}

/// One GET appended to `partial` from its current length, with a progress bar (bytes, rate, ETA).
fn transfer(client: &HubClient, r: &HubRef, url: &str, partial: &Path, size: Option<u64>, file: &str) -> Result<()> {
    let have = std::fs::metadata(partial).map_or(0, |m| m.len());
    if size.is_some_and(|s| have == s) {
        return Ok(());
    }
    let from = if size.is_some_and(|s| have > s) { 0 } else { have };
    let mut resp = client.get_from(r, url, from)?;
    let http = |message: String| StoreError::Http { url: url.to_string(), message };
    let resumed = resp.status() == reqwest::StatusCode::PARTIAL_CONTENT && from > 0;
    if resp.status() == reqwest::StatusCode::RANGE_NOT_SATISFIABLE {
        // The partial file is longer than the file or already whole: start over.
        let _ = std::fs::remove_file(partial);
        return Err(http("transfer interrupted: the server refused the resumed range; starting over".into()));
    }
    let start = if resumed { from } else { 0 };
    let total = size.or_else(|| resp.content_length().map(|n| n + start));
    if total.is_some_and(|t| t > MAX_DOWNLOAD_BYTES * 8) {
        return Err(http("announces more bytes than drbench accepts".into()));
    }
    let label = file.rsplit('/').next().unwrap_or(file);
    append_body(&mut resp, partial, start, total, MAX_DOWNLOAD_BYTES * 8, label, url).map_err(Failure::into_error)
}
