//! Where model files come from: a Hugging Face folder, a GGUF file, the mirror (`DRBENCH_MIRROR/models/NAME`),
//! or the Hugging Face hub at a pinned revision (downloaded once into the cache; every file's sha256 is recorded
//! on first download and checked on every later use).

use std::io::Write as _;
use std::path::{Path, PathBuf};

use drbench_harness::io::atomic::write_atomic;

use super::error::{ModelError, Result};
use crate::store::model_files::fetch_model_file;
use crate::store::{Mirror, Store, http, verify};

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
/// mirror), or `hf:ORG/NAME@REVISION`.
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
    if let Some(repo) = spec.strip_prefix("hf:") {
        return fetch_hub(repo, store);
    }
    let name = spec.strip_prefix("mirror:").unwrap_or(spec);
    match &store.mirror {
        Some(Mirror::Dir(root)) if root.join("models").join(name).is_dir() => {
            Ok(ModelFiles::Folder(root.join("models").join(name)))
        }
        _ => Err(ModelError::Unsupported(format!(
            "model {spec:?}: not a folder or .gguf file, not in the mirror (DRBENCH_MIRROR/models/{name}); \
             for the hub use hf:ORG/NAME@REVISION"
        ))),
    }
}

/// The hub endpoint (`DRBENCH_HF_ENDPOINT`, default https://huggingface.co).
fn hub_endpoint() -> String {
    std::env::var("DRBENCH_HF_ENDPOINT")
        .unwrap_or_else(|_| "https://huggingface.co".into())
        .trim_end_matches('/')
        .to_string()
}

fn fetch_hub(repo_rev: &str, store: &Store) -> Result<ModelFiles> {
    let (repo, rev) = repo_rev.split_once('@').ok_or_else(|| {
        ModelError::Unsupported(format!(
            "hf:{repo_rev}: pin a revision (hf:ORG/NAME@COMMIT) so results stay reproducible"
        ))
    })?;
    if repo.split('/').count() != 2 || repo.contains("..") || rev.contains('/') || rev.is_empty() {
        return Err(ModelError::Unsupported(format!("hf:{repo_rev}: expected hf:ORG/NAME@REVISION")));
    }
    let dir = store.cache.join("models/hf").join(repo).join(rev);
    let sums_path = dir.join("SHA256SUMS");
    let mut sums: Vec<(String, String)> = std::fs::read_to_string(&sums_path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_once("  ").map(|(h, f)| (f.to_string(), h.to_string())))
        .collect();
    let client = http::client().map_err(|e| ModelError::Unsupported(e.to_string()))?;
    let mut wanted: Vec<String> = HUB_FILES.iter().map(|(f, _)| f.to_string()).collect();
    let mut i = 0;
    while i < wanted.len() {
        let file = wanted[i].clone();
        i += 1;
        let dest = dir.join(&file);
        let recorded = sums.iter().find(|(f, _)| *f == file).map(|(_, h)| h.clone());
        if dest.is_file() {
            if let Some(h) = &recorded {
                let got = verify::sha256_file(&dest).map_err(|e| ModelError::file(&dest, e.to_string()))?;
                if &got != h {
                    return Err(ModelError::file(&dest, format!("sha256 {got}, recorded {h} at first download")));
                }
            }
        } else {
            let url = format!("{}/{repo}/resolve/{rev}/{file}", hub_endpoint());
            let expect = http::Expect {
                size: None,
                sha256: recorded.as_deref(),
                max_bytes: crate::store::MAX_DOWNLOAD_BYTES * 4,
            };
            match http::download(&client, &url, &dest, expect) {
                Ok(sha) => {
                    if recorded.is_none() {
                        sums.push((file.clone(), sha));
                    }
                }
                Err(e) if !HUB_FILES.iter().any(|(f, req)| *f == file && *req) && e.to_string().contains("404") => {
                    continue;
                }
                Err(e) => return Err(ModelError::Unsupported(e.to_string())),
            }
        }
        if file == "model.safetensors.index.json" {
            let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&dest).unwrap_or_default())
                .map_err(|e| ModelError::file(&dest, format!("bad JSON: {e}")))?;
            let mut shards: Vec<String> = v["weight_map"]
                .as_object()
                .into_iter()
                .flatten()
                .filter_map(|(_, f)| f.as_str().map(str::to_string))
                .collect();
            shards.sort();
            shards.dedup();
            for s in shards {
                if !wanted.contains(&s) && !s.contains("..") && !s.starts_with('/') {
                    wanted.push(s);
                }
            }
        }
    }
    let text: String = sums.iter().map(|(f, h)| format!("{h}  {f}\n")).collect();
    write_atomic(&sums_path, |w| w.write_all(text.as_bytes()))
        .map_err(|e| ModelError::file(&sums_path, e.to_string()))?;
    if !dir.join("model.safetensors").is_file() && !dir.join("model.safetensors.index.json").is_file() {
        return Err(ModelError::file(
            &dir,
            "the hub repository has no model.safetensors(.index.json) at this revision",
        ));
    }
    Ok(ModelFiles::Folder(dir))
}
