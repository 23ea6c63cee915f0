//! HTTP downloads: streamed through the atomic writer (`drbench_harness::io::atomic`: a temporary file beside the
//! target, fsync, rename), size-capped, sha256-checked before the rename. An interrupted or corrupted transfer
//! never leaves a file at the target path.

use std::io::{Read, Write};
use std::path::Path;
use std::time::Duration;

use drbench_harness::io::atomic::write_atomic;
use sha2::{Digest, Sha256};

use super::error::{Result, StoreError};

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

/// Downloads `url` to `dest` atomically; returns the sha256 of what was written.
pub fn download(client: &reqwest::blocking::Client, url: &str, dest: &Path, expect: Expect<'_>) -> Result<String> {
    let mut outcome: Option<Result<String>> = None;
    let written = write_atomic(dest, |w| {
        let result = fetch_to(client, url, w, dest, expect);
        let failed = result.is_err();
        outcome = Some(result);
        if failed { Err(std::io::Error::other("download failed")) } else { Ok(()) }
    });
    match (outcome, written) {
        (Some(Err(e)), _) => Err(e),
        (_, Err(drbench_harness::Error::Io { path, source })) => Err(StoreError::Io { path, source }),
        (_, Err(e)) => Err(StoreError::Unavailable(e.to_string())),
        (Some(Ok(sha)), Ok(())) => Ok(sha),
        (None, Ok(())) => Err(StoreError::Unavailable(format!("{url}: the download did not run"))),
    }
}

/// Streams `url` into `out` (the temporary file of `dest`), checking size and sha256 as it goes.
fn fetch_to(
    client: &reqwest::blocking::Client,
    url: &str,
    out: &mut impl Write,
    dest: &Path,
    expect: Expect<'_>,
) -> Result<String> {
    let http = |message: String| StoreError::Http { url: url.to_string(), message };
    let mut resp = client.get(url).send().map_err(|e| http(format!("request failed: {e}")))?;
    if !resp.status().is_success() {
        return Err(http(format!("server answered {}", resp.status())));
    }
    let announced = resp.content_length();
    if let Some(n) = announced {
        if n > expect.max_bytes {
            return Err(http(format!("announces {n} bytes, more than the cap of {}", expect.max_bytes)));
        }
        if let Some(size) = expect.size.filter(|&s| s != n) {
            return Err(http(format!("announces {n} bytes, expected {size}")));
        }
    }
    let bar = indicatif::ProgressBar::new(announced.or(expect.size).unwrap_or(0));
    bar.set_style(
        indicatif::ProgressStyle::with_template("{msg} {bar:30} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}")
            .expect("valid template"),
    );
    bar.set_message(url.rsplit('/').next().unwrap_or(url).to_string());
    let mut hasher = Sha256::new();
    let mut md5 = expect.md5.map(|_| md5::Md5::new());
    let mut buf = vec![0u8; 1 << 16];
    let mut total: u64 = 0;
    loop {
        let n = resp.read(&mut buf).map_err(|e| http(format!("transfer interrupted after {total} bytes: {e}")))?;
        if n == 0 {
            break;
        }
        total += n as u64;
        if total > expect.max_bytes {
            return Err(http(format!("sent more than the cap of {} bytes", expect.max_bytes)));
        }
        hasher.update(&buf[..n]);
        if let Some(m) = md5.as_mut() {
            m.update(&buf[..n]);
        }
        out.write_all(&buf[..n]).map_err(|e| StoreError::io(dest, e))?;
        bar.set_position(total);
    }
    bar.finish_and_clear();
    if let Some(n) = announced.filter(|&n| n != total) {
        return Err(http(format!("transfer interrupted: got {total} of {n} bytes")));
    }
    if let Some(size) = expect.size.filter(|&s| s != total) {
        return Err(StoreError::Mismatch {
            path: url.to_string(),
            message: format!("got {total} bytes, expected {size}"),
        });
    }
    let sha = hex::encode(hasher.finalize());
    if let Some(want) = expect.sha256.filter(|w| *w != sha) {
        return Err(StoreError::Mismatch { path: url.to_string(), message: format!("sha256 {sha}, expected {want}") });
    }
    if let (Some(want), Some(m)) = (expect.md5, md5) {
        let got = hex::encode(m.finalize());
        if got != want {
            return Err(StoreError::Mismatch { path: url.to_string(), message: format!("MD5 {got}, expected {want}") });
        }
    }
    Ok(sha)
}
