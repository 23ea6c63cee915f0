//! Checksums recorded at a dataset's first verified fetch, for files the registry cannot pin (MS MARCO's
//! collection: Microsoft publishes only the archive's MD5): `.drbench-recorded.json` in the cache folder, written
//! with the extracted files before the folder is renamed into place, and checked (size, sha256) at every later use.

use std::io::Write;
use std::path::Path;

use drbench_datasets::FileSpec;
use drbench_harness::io::atomic::write_atomic;
use serde::{Deserialize, Serialize};

use super::error::{Result, StoreError};
use super::verify::{sha256_file, verify_file_against};

/// The record's file name inside the dataset folder.
pub const RECORDED_FILE: &str = ".drbench-recorded.json";

/// What was checked when the files were fetched, and their checksums since.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recorded {
    /// The archive's URL.
    pub source_url: String,
    /// The archive's sha256, as downloaded.
    pub archive_sha256: String,
    /// The published checksum the archive matched (`md5:…`), when there is one.
    pub archive_checked_against: Option<String>,
    /// Every extracted file not pinned by the registry.
    pub files: Vec<FileSpec>,
}

impl Recorded {
    /// Hashes `paths` inside `folder` into a record and writes it there.
    pub fn write(folder: &Path, paths: &[&str], source: (&str, &str, Option<String>)) -> Result<Recorded> {
        let mut files = Vec::new();
        for p in paths {
            let path = folder.join(p);
            let size = std::fs::metadata(&path).map_err(|e| StoreError::io(&path, e))?.len();
            files.push(FileSpec { path: p.to_string(), size, sha256: sha256_file(&path)? });
        }
        let (url, sha, checked) = source;
        let rec =
            Recorded { source_url: url.into(), archive_sha256: sha.into(), archive_checked_against: checked, files };
        let text = serde_json::to_string_pretty(&rec).expect("plain data serialises");
        let path = folder.join(RECORDED_FILE);
        write_atomic(&path, |w| w.write_all(text.as_bytes())).map_err(|e| StoreError::Unavailable(e.to_string()))?;
        Ok(rec)
    }

    /// The record in `folder`, None when there is none.
    pub fn read(folder: &Path) -> Result<Option<Recorded>> {
        let path = folder.join(RECORDED_FILE);
        if !path.is_file() {
            return Ok(None);
        }
        let text = std::fs::read_to_string(&path).map_err(|e| StoreError::io(&path, e))?;
        serde_json::from_str(&text).map(Some).map_err(|e| StoreError::Mismatch {
            path: path.display().to_string(),
            message: format!("line {}: {e}", e.line()),
        })
    }

    /// Checks every recorded file of `folder` (size, then sha256); the error says what it was checked against.
    pub fn verify(&self, folder: &Path) -> Result<()> {
        let says = format!("recorded at its first fetch in {}:", folder.join(RECORDED_FILE).display());
        self.files.iter().try_for_each(|f| verify_file_against(&folder.join(&f.path), f, &says))
    }
}
