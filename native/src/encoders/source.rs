//! Where model files come from: a Hugging Face folder, a GGUF file, the mirror (`DRBENCH_MIRROR/models/NAME`),
//! or the Hugging Face hub at a revision (`hf:ORG/NAME@REV` or `hf://ORG/NAME@REV`, through the standard Hugging
//! Face cache; every file checked against its blob name before use).

use std::path::{Path, PathBuf};

use super::error::{ModelError, Result};
use crate::store::hub::{HubRef, RepoKind};
use crate::store::model_files::fetch_model_file;
use crate::store::{Mirror, Store};

/// The files a model folder may have; the first three are required (plus weights).
const HUB_FILES: [(&str, bool); 8] = [
    ("config.json", true),
    ("tokenizer.json", true),
    ("tokenizer_config.json", true),
    ("model.safetensors", false),
    ("model.safetensors.index.json", false),
    ("sentence_bert_config.json", false),
    ("1_Pooling/config.json", false),
    ("chat_template.jinja", false),
];

/// A resolved model location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelFiles {
    /// A Hugging Face folder (config.json, safetensors, tokenizer).
    Folder(PathBuf),
    /// A GGUF file.
    Gguf(PathBuf),
}

impl ModelFiles {
    /// The folder holding tokenizer files by default (the GGUF's own folder for a GGUF).
    pub fn default_tokenizer_dir(&self) -> PathBuf {
        self.folder()
    }

    /// The folder holding the model (the folder itself, or the GGUF file's folder).
    pub fn folder(&self) -> PathBuf {
        match self {
            ModelFiles::Folder(d) => d.clone(),
            ModelFiles::Gguf(f) => f.parent().map(Path::to_path_buf).unwrap_or_default(),
        }
    }

    /// The weights' identity in drbench ≤ 0.1's cache signature (path, size and modification time of config.json
    /// and the weight file); kept only to find caches of that version (`signature::legacy_v1`).
    pub fn legacy_identity(&self) -> String {
        let describe = |p: &Path| -> String {
            let m = std::fs::metadata(p).ok();
            let size = m.as_ref().map_or(0, |m| m.len());
            let mtime = m
                .and_then(|m| m.modified().ok())
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_secs());
            let canonical = std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
            format!("{}:{size}:{mtime}", canonical.display())
        };
        match self {
            ModelFiles::Gguf(f) => describe(f),
            ModelFiles::Folder(d) => {
                let mut parts = vec![describe(&d.join("config.json"))];
                for w in ["model.safetensors", "model.safetensors.index.json"] {
                    if d.join(w).exists() {
                        parts.push(describe(&d.join(w)));
                    }
                }
                parts.join(",")
            }
        }
    }
}

/// Resolves `spec`: a folder or `.gguf` path, `registry:NAME` (a model file the registry pins, fetched into the
/// cache and checked), `cache:PATH` (under the drbench cache), `mirror:NAME` (or a bare NAME present in the
/// mirror), or `hf:ORG/NAME@REVISION` / `hf://ORG/NAME@REVISION`.
pub fn resolve_model(spec: &str, store: &Store) -> Result<ModelFiles> {
    if let Some(name) = spec.strip_prefix("registry:") {
        let entry = store.registry.model(name).map_err(|e| ModelError::Unsupported(e.to_string()))?;
        let path = fetch_model_file(store, entry).map_err(|e| ModelError::Unsupported(e.to_string()))?;
        return resolve_model(&path.to_string_lossy(), store);
    }
    if let Some(rel) = spec.strip_prefix("cache:") {
        let path = store.cache.join(rel);
        if !path.exists() {
            return Err(ModelError::file(&path, format!("{spec}: not in the cache")));
        }
        return resolve_model(&path.to_string_lossy(), store);
    }
    let p = Path::new(spec);
    if p.is_dir() {
        return Ok(ModelFiles::Folder(p.to_path_buf()));
    }
    if p.is_file() {
        return if spec.ends_with(".gguf") {
            Ok(ModelFiles::Gguf(p.to_path_buf()))
        } else {
            Err(ModelError::file(p, "a model file must be a .gguf (or give a Hugging Face folder)"))
        };
    }
    if HubRef::looks_like(spec) {
        return fetch_hub(spec, store);
    }
    let name = spec.strip_prefix("mirror:").unwrap_or(spec);
    match &store.mirror {
        Some(Mirror::Dir(root)) if root.join("models").join(name).is_dir() => {
            Ok(ModelFiles::Folder(root.join("models").join(name)))
        }
        _ => Err(ModelError::Unsupported(format!(
            "model {spec:?}: not a folder or .gguf file, not in the mirror (DRBENCH_MIRROR/models/{name}); \
             for the hub use hf://ORG/NAME@REVISION"
        ))),
    }
}

/// A model repository at a revision, through the standard Hugging Face cache (shared with Python tools):
/// `config.json` and the tokenizer files are required, the weights (one file or an index and its shards) and the
/// sentence-transformers / chat-template files fetched when the repository has them; every file checked against
/// its blob's sha256 (LFS) or git sha1 before use.
fn fetch_hub(spec: &str, store: &Store) -> Result<ModelFiles> {
    let r = HubRef::parse(spec).map_err(|e| ModelError::Unsupported(e.to_string()))?;
    if r.kind != RepoKind::Model {
        return Err(ModelError::Unsupported(format!("{spec}: a dataset reference, not a model")));
    }
    let hub = store.hub().map_err(|e| ModelError::Unsupported(e.to_string()))?;
    let dir = hub.model_folder(&r, &HUB_FILES).map_err(|e| ModelError::Unsupported(e.to_string()))?;
    if !dir.join("model.safetensors").is_file() && !dir.join("model.safetensors.index.json").is_file() {
        return Err(ModelError::file(
            &dir,
            format!("{spec}: the repository has no model.safetensors(.index.json) at this revision"),
        ));
    }
    Ok(ModelFiles::Folder(dir))
}
