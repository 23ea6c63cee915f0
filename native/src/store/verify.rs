//! Checking files against their registered size and sha256.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use drbench_datasets::FileSpec;
use sha2::{Digest, Sha256};

use super::error::{Result, StoreError};

/// Feeds the bytes of the file at `path` to `consume`, 1 MiB at a time.
pub fn for_each_chunk(path: &Path, mut consume: impl FnMut(&[u8])) -> Result<()> {
    let mut f = File::open(path).map_err(|e| StoreError::io(path, e))?;
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).map_err(|e| StoreError::io(path, e))?;
        if n == 0 {
            return Ok(());
        }
        consume(&buf[..n]);
    }
}

/// The sha256 of a file, as lowercase hex.
pub fn sha256_file(path: &Path) -> Result<String> {
    let mut h = Sha256::new();
    for_each_chunk(path, |b| h.update(b))?;
    Ok(hex::encode(h.finalize()))
}

/// Checks `path` against `spec`: size first (cheap), then the sha256.
pub fn verify_file(path: &Path, spec: &FileSpec) -> Result<()> {
    verify_file_against(path, spec, "registry says")
}

/// [`verify_file`], the expected values introduced by `says` in the message (`registry says`, `recorded`).
pub fn verify_file_against(path: &Path, spec: &FileSpec, says: &str) -> Result<()> {
    let meta = std::fs::metadata(path).map_err(|e| StoreError::io(path, e))?;
    if meta.len() != spec.size {
        return Err(StoreError::Mismatch {
            path: path.display().to_string(),
            message: format!("size {} bytes, {says} {}", meta.len(), spec.size),
        });
    }
    let got = sha256_file(path)?;
    if got != spec.sha256 {
        return Err(StoreError::Mismatch {
            path: path.display().to_string(),
            message: format!("sha256 {got}, {says} {}", spec.sha256),
        });
    }
    Ok(())
}

/// Checks every registered file of a dataset folder; returns the first failure.
pub fn verify_folder(folder: &Path, files: &[FileSpec]) -> Result<()> {
    for f in files {
        verify_file(&folder.join(&f.path), f)?;
    }
    Ok(())
}
