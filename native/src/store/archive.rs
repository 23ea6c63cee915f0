//! Safe zip extraction: entries that would escape the target directory (absolute paths, `..`) are refused,
//! and every entry is size-capped.

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
        let copied = std::io::copy(&mut (&mut entry).take(max_entry_bytes + 1), &mut out)
            .map_err(|e| bad(format!("entry {}: {e}", rel.display())))?;
        if copied > max_entry_bytes {
            return Err(bad(format!("entry {} inflates past the cap of {max_entry_bytes} bytes", rel.display())));
        }
        written.push(rel.to_path_buf());
    }
    Ok(written)
}

fn is_safe_relative(p: &Path) -> bool {
    p.components().all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
}
