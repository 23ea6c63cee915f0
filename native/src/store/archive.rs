//! Safe archive extraction, zip and tar.gz (streamed: MS MARCO's 3 GB archive is never held or seeked): entries
//! that would escape the target directory (absolute paths, `..`) and links are refused, and every entry is
//! size-capped. Extraction goes into a staging folder the caller removes on error.

use std::fs::File;
use std::io::Read;
use std::path::{Component, Path, PathBuf};

use super::error::{Result, StoreError};

/// Extracts the entries of `archive` under `root_in_zip/` (all entries when empty) into `target`,
/// dropping the `root_in_zip` prefix. Returns the extracted relative paths.
pub fn extract_zip(archive: &Path, root_in_zip: &str, target: &Path, max_entry_bytes: u64) -> Result<Vec<PathBuf>> {
    let bad = |message: String| StoreError::Archive { archive: archive.to_path_buf(), message };
    let file = File::open(archive).map_err(|e| StoreError::io(archive, e))?;
    let mut zip = zip::ZipArchive::new(file).map_err(|e| bad(format!("not a readable zip: {e}")))?;
    // First pass: refuse the whole archive if any entry is unsafe, before writing anything.
    for i in 0..zip.len() {
        let entry = zip.by_index(i).map_err(|e| bad(format!("entry {i}: {e}")))?;
        let name = entry.name().to_string();
        if !is_safe_relative(Path::new(&name)) || entry.enclosed_name().is_none() {
            return Err(bad(format!("entry {name:?} would be written outside the target directory")));
        }
        if entry.size() > max_entry_bytes {
            return Err(bad(format!("entry {name:?} is {} bytes, over the cap of {max_entry_bytes}", entry.size())));
        }
    }
    let prefix = Path::new(root_in_zip);
    let mut written = Vec::new();
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i).map_err(|e| bad(format!("entry {i}: {e}")))?;
        let name = entry.enclosed_name().expect("checked above");
        let Ok(rel) = name.strip_prefix(prefix) else {
            continue;
        };
        if rel.as_os_str().is_empty() {
            continue;
        }
        let out_path = target.join(rel);
        if entry.is_dir() {
            std::fs::create_dir_all(&out_path).map_err(|e| StoreError::io(&out_path, e))?;
            continue;
        }
        if let Some(dir) = out_path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| StoreError::io(dir, e))?;
        }
        let mut out = File::create(&out_path).map_err(|e| StoreError::io(&out_path, e))?;
        let copied = std::io::copy(&mut (&mut entry).take(max_entry_bytes.saturating_add(1)), &mut out)
            .map_err(|e| bad(format!("entry {}: {e}", rel.display())))?;
        if copied > max_entry_bytes {
            return Err(bad(format!("entry {} inflates past the cap of {max_entry_bytes} bytes", rel.display())));
        }
        written.push(rel.to_path_buf());
    }
    Ok(written)
}

/// Whether `url_or_name` names an archive [`extract`] unpacks.
pub fn is_supported(url_or_name: &str) -> bool {
    [".zip", ".tar.gz", ".tgz"].iter().any(|s| url_or_name.ends_with(s))
}

/// Extracts a zip or tar.gz (by its name) — see [`extract_zip`] and [`extract_tar_gz`] — into `target`: every
/// file, or only the relative paths in `only` when it is not empty (an archive lacking one is an error naming it;
/// a tar.gz is still read in one pass, the other entries skipped as they stream by).
pub fn extract(archive: &Path, root: &str, target: &Path, max_entry_bytes: u64, only: &[&str]) -> Result<Vec<PathBuf>> {
    let name = archive.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let written = if name.ends_with(".zip") {
        let all = extract_zip(archive, root, target, max_entry_bytes)?;
        let (keep, drop): (Vec<PathBuf>, Vec<PathBuf>) =
            all.into_iter().partition(|p| only.is_empty() || only.iter().any(|o| Path::new(o) == p));
        for p in drop {
            let _ = std::fs::remove_file(target.join(p));
        }
        keep
    } else {
        extract_tar_gz(archive, root, target, max_entry_bytes, only)?
    };
    if let Some(missing) = only.iter().find(|o| !written.iter().any(|w| w == Path::new(o))) {
        return Err(StoreError::Archive {
            archive: archive.to_path_buf(),
            message: format!(
                "has no {missing}{}",
                if root.is_empty() { String::new() } else { format!(" under {root}/") }
            ),
        });
    }
    Ok(written)
}

/// Extracts the regular files of the gzip-compressed tar `archive` under `root/` (all when empty; only those in
/// `only` when it is not empty) into `target`, dropping the prefix, in one streaming pass. Links, devices and unsafe paths stop it with the
/// entry named (what was written so far is in `target`, for the caller to remove). Returns the relative paths.
fn extract_tar_gz(
    archive: &Path,
    root: &str,
    target: &Path,
    max_entry_bytes: u64,
    only: &[&str],
) -> Result<Vec<PathBuf>> {
    let bad = |message: String| StoreError::Archive { archive: archive.to_path_buf(), message };
    let file = File::open(archive).map_err(|e| StoreError::io(archive, e))?;
    let gz = flate2::read::MultiGzDecoder::new(std::io::BufReader::with_capacity(1 << 20, file));
    let mut tar = tar::Archive::new(gz);
    let entries = tar.entries().map_err(|e| bad(format!("not a readable tar.gz: {e}")))?;
    let prefix = Path::new(root.trim_end_matches('/'));
    let mut written = Vec::new();
    for (i, entry) in entries.enumerate() {
        let mut entry = entry.map_err(|e| bad(format!("entry {i}: not a readable tar.gz: {e}")))?;
        let name = entry.path().map_err(|e| bad(format!("entry {i}: {e}")))?.into_owned();
        if !is_safe_relative(&name) {
            return Err(bad(format!("entry {:?} would be written outside the target directory", name.display())));
        }
        let kind = entry.header().entry_type();
        let Ok(rel) = name.strip_prefix(prefix) else { continue };
        let rel = rel.components().filter(|c| !matches!(c, Component::CurDir)).collect::<PathBuf>();
        if rel.as_os_str().is_empty() || kind.is_dir() {
            continue;
        }
        if !only.is_empty() && !only.iter().any(|o| Path::new(o) == rel) {
            continue;
        }
        if !kind.is_file() {
            return Err(bad(format!(
                "entry {:?} is a link or special file; only regular files are unpacked",
                name.display()
            )));
        }
        let size = entry.header().size().map_err(|e| bad(format!("entry {:?}: {e}", name.display())))?;
        if size > max_entry_bytes {
            return Err(bad(format!("entry {:?} is {size} bytes, over the cap of {max_entry_bytes}", name.display())));
        }
        let out_path = target.join(&rel);
        if let Some(dir) = out_path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| StoreError::io(dir, e))?;
        }
        let mut out = File::create(&out_path).map_err(|e| StoreError::io(&out_path, e))?;
        let copied = std::io::copy(&mut (&mut entry).take(max_entry_bytes.saturating_add(1)), &mut out)
            .map_err(|e| bad(format!("entry {}: {e}", rel.display())))?;
        if copied != size {
            return Err(bad(format!("entry {}: {copied} bytes of {size} (truncated archive)", rel.display())));
        }
        written.push(rel);
    }
    Ok(written)
}

fn is_safe_relative(p: &Path) -> bool {
    p.components().all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
}
