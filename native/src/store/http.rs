//! HTTP downloads: streamed into `<target>.part` (resumed with `Range` after an interruption, in this process or a
//! later one), size-capped, fsynced, size/sha256/MD5-checked, then renamed to the target. An interrupted or
//! corrupted transfer never leaves a file at the target path.

use std::fs::OpenOptions;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use sha2::{Digest, Sha256};

use super::error::{Result, StoreError};
use super::verify::for_each_chunk;

/// What a download must satisfy.
#[derive(Debug, Clone, Copy)]
pub struct Expect<'a> {
    /// Exact size in bytes, when known.
    pub size: Option<u64>,
    /// sha256 (lowercase hex), when known.
    pub sha256: Option<&'a str>,
    /// MD5 (lowercase hex), when that is all the publisher gives (MS MARCO's archives).
    pub md5: Option<&'a str>,
    /// Hard cap on bytes accepted (protects the disk from a misbehaving server).
    pub max_bytes: u64,
}

/// How long a transfer may go without a byte before it counts as stalled (`DRBENCH_HTTP_STALL_S`, default 60).
/// reqwest's blocking client applies it to the wait for the response head and to each read of the body, not to
/// the whole transfer: a slow multi-gigabyte download is fine, a dead connection is dropped and retried.
pub fn stall_timeout() -> Duration {
    std::env::var("DRBENCH_HTTP_STALL_S")
        .ok()
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s > 0.0)
        .map_or(Duration::from_secs(60), Duration::from_secs_f64)
}

/// A blocking HTTP client with sane timeouts: 30 s to connect, [`stall_timeout`] between bytes.
pub fn client() -> Result<reqwest::blocking::Client> {
    reqwest::blocking::Client::builder()
        .connect_timeout(Duration::from_secs(30))
        .timeout(stall_timeout())
        .user_agent(concat!("drbench/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| StoreError::Http { url: String::new(), message: format!("cannot build HTTP client: {e}") })
}

/// Attempts per request: a reset, a stall, a 5xx or a 429 is retried (a download keeps what arrived and resumes).
pub const ATTEMPTS: u32 = 3;

/// The wait before retry `attempt` (1, 2, ...): 1 s, then doubling — the one backoff of every HTTP client here.
pub fn backoff(attempt: u32) -> Duration {
    Duration::from_secs(1u64 << attempt.saturating_sub(1).min(6))
}

/// `<dest>.part`: where a download goes until it is whole and checked.
pub fn partial_path(dest: &Path) -> PathBuf {
    PathBuf::from(format!("{}.part", dest.display()))
}

/// Downloads `url` to `dest`; returns the sha256 of what was written. The bytes go into `<dest>.part`, resumed with
/// `Range` from where an earlier attempt — or an earlier process: `drbench datasets fetch` can be interrupted and
/// run again — stopped ([`ATTEMPTS`] per call, with backoff; resets, stalls, 5xx and 429 are retried); the whole file's size, sha256 and MD5 are checked before it is
/// renamed to `dest`, so `dest` never holds a partial or damaged file. A damaged file is removed; an interrupted
/// one is kept for the next call.
pub fn download(client: &reqwest::blocking::Client, url: &str, dest: &Path, expect: Expect<'_>) -> Result<String> {
    let partial = partial_path(dest);
    if let Some(dir) = dest.parent() {
        std::fs::create_dir_all(dir).map_err(|e| StoreError::io(dir, e))?;
    }
    let mut last = None;
    for attempt in 0..ATTEMPTS {
        if attempt > 0 {
            std::thread::sleep(backoff(attempt));
        }
        match transfer(client, url, &partial, expect) {
            Ok(()) => {
                last = None;
                break;
            }
            Err(Failure::Interrupted(e)) => last = Some(e),
            Err(Failure::Fatal(e)) => {
                let _ = std::fs::remove_file(&partial);
                return Err(e);
            }
        }
    }
    if let Some(e) = last {
        return Err(e);
    }
    match check_whole(&partial, url, expect) {
        Ok(sha) => {
            std::fs::rename(&partial, dest).map_err(|e| StoreError::io(dest, e))?;
            Ok(sha)
        }
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            Err(e)
        }
    }
}

/// How a transfer failed: interrupted (the partial file is kept and resumed), or for good.
pub(super) enum Failure {
    /// Resumable: what arrived is kept.
    Interrupted(StoreError),
    /// Not worth retrying.
    Fatal(StoreError),
}

impl Failure {
    /// The error, whichever kind.
    pub(super) fn into_error(self) -> StoreError {
        match self {
            Failure::Interrupted(e) | Failure::Fatal(e) => e,
        }
    }
}

/// One GET appended to `partial` from its current length (`Range`), with a progress bar (bytes, rate, ETA).
fn transfer(
    client: &reqwest::blocking::Client,
    url: &str,
    partial: &Path,
    expect: Expect<'_>,
) -> std::result::Result<(), Failure> {
    let http = |message: String| StoreError::Http { url: url.to_string(), message };
    let have = std::fs::metadata(partial).map_or(0, |m| m.len());
    if expect.size.is_some_and(|s| have == s) {
        return Ok(());
    }
    let from = if expect.size.is_some_and(|s| have > s) { 0 } else { have };
    let mut req = client.get(url);
    if from > 0 {
        req = req.header(reqwest::header::RANGE, format!("bytes={from}-"));
    }
    let mut resp =
        req.send().map_err(|e| Failure::Interrupted(http(format!("request failed (transfer interrupted?): {e}"))))?;
    if resp.status() == reqwest::StatusCode::RANGE_NOT_SATISFIABLE {
        let _ = std::fs::remove_file(partial);
        return Err(Failure::Interrupted(http("transfer interrupted: the server refused the resumed range".into())));
    }
    if resp.status().is_server_error() || resp.status() == reqwest::StatusCode::TOO_MANY_REQUESTS {
        return Err(Failure::Interrupted(http(format!("server answered {} ({ATTEMPTS} attempts)", resp.status()))));
    }
    if !resp.status().is_success() {
        return Err(Failure::Fatal(http(format!("server answered {}", resp.status()))));
    }
    let resumed = resp.status() == reqwest::StatusCode::PARTIAL_CONTENT && from > 0;
    let start = if resumed { from } else { 0 };
    let announced = resp.content_length().map(|n| n + start);
    if let Some(n) = announced {
        if n > expect.max_bytes {
            return Err(Failure::Fatal(http(format!(
                "announces {n} bytes, more than the cap of {}",
                expect.max_bytes
            ))));
        }
        if let Some(size) = expect.size.filter(|&s| s != n) {
            return Err(Failure::Fatal(http(format!("announces {n} bytes, expected {size}"))));
        }
    }
    let name = url.rsplit('/').next().unwrap_or(url);
    append_body(&mut resp, partial, start, announced.or(expect.size), expect.max_bytes, name, url)
}

/// Appends the body of `resp` to `partial` — after its first `start` bytes when resuming (`start > 0`), to an
/// emptied file otherwise — with a progress bar (bytes, rate, ETA) named `label`. `total` is the whole file's
/// expected length, `cap` a hard limit. A failed read or a short body is an interruption: what arrived is synced and
/// kept for the next attempt. The one body loop of the store's downloads (HTTP files here, hub blobs).
pub(super) fn append_body(
    resp: &mut reqwest::blocking::Response,
    partial: &Path,
    start: u64,
    total: Option<u64>,
    cap: u64,
    label: &str,
    url: &str,
) -> std::result::Result<(), Failure> {
    let http = |message: String| StoreError::Http { url: url.to_string(), message };
    let mut out = OpenOptions::new()
        .create(true)
        .write(true)
        .append(start > 0)
        .truncate(start == 0)
        .open(partial)
        .map_err(|e| Failure::Fatal(StoreError::io(partial, e)))?;
    let bar = indicatif::ProgressBar::new(total.unwrap_or(0));
    bar.set_style(
        indicatif::ProgressStyle::with_template("{msg} {bar:30} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}")
            .expect("valid template"),
    );
    bar.set_message(label.to_string());
    bar.set_position(start);
    let mut buf = vec![0u8; 1 << 16];
    let mut got = start;
    loop {
        let n = match resp.read(&mut buf) {
            Ok(n) => n,
            Err(e) => {
                let _ = out.sync_all();
                return Err(Failure::Interrupted(http(format!(
                    "transfer interrupted after {got} bytes (kept in {} for resuming): {e}",
                    partial.display()
                ))));
            }
        };
        if n == 0 {
            break;
        }
        got += n as u64;
        if got > cap {
            return Err(Failure::Fatal(http(format!("sent more than the cap of {cap} bytes"))));
        }
        if let Some(t) = total.filter(|&t| got > t) {
            return Err(Failure::Fatal(http(format!("sent more than the {t} bytes announced"))));
        }
        out.write_all(&buf[..n]).map_err(|e| Failure::Fatal(StoreError::io(partial, e)))?;
        bar.set_position(got);
    }
    out.sync_all().map_err(|e| Failure::Fatal(StoreError::io(partial, e)))?;
    bar.finish_and_clear();
    match total {
        Some(t) if got < t => Err(Failure::Interrupted(http(format!(
            "transfer interrupted: got {got} of {t} bytes (kept in {} for resuming)",
            partial.display()
        )))),
        _ => Ok(()),
    }
}

/// The whole downloaded file against the expected size, sha256 and MD5; returns its sha256.
fn check_whole(path: &Path, url: &str, expect: Expect<'_>) -> Result<String> {
    let mismatch = |message: String| StoreError::Mismatch { path: url.to_string(), message };
    let mut sha = Sha256::new();
    let mut md5 = md5::Md5::new();
    let mut total = 0u64;
    for_each_chunk(path, |b| {
        total += b.len() as u64;
        sha.update(b);
        if expect.md5.is_some() {
            md5.update(b);
        }
    })?;
    if let Some(size) = expect.size.filter(|&s| s != total) {
        return Err(mismatch(format!("got {total} bytes, expected {size}")));
    }
    let sha = hex::encode(sha.finalize());
    if let Some(want) = expect.sha256.filter(|w| *w != sha) {
        return Err(mismatch(format!("sha256 {sha}, expected {want}")));
    }
    if let Some(want) = expect.md5 {
        let got = hex::encode(md5.finalize());
        if got != want {
            return Err(mismatch(format!("MD5 {got}, expected {want}")));
        }
    }
    Ok(sha)
}
