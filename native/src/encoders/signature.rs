//! What an encoder's embeddings depend on, as a typed record: the identity of the weight and tokenizer files and
//! every setting that changes a vector. Its canonical form — `serde_json` of [`EncoderSignature`], fields in
//! declaration order, absent options left out — keys the embedding cache (`drbench_harness::embed_cache`) and is
//! recorded in results.
//!
//! Stability rules: a field is only ever added as an option that is left out when unset (so every existing
//! signature, hence every cache key, stays the same); [`SIGNATURE_VERSION`] is bumped only when the same settings
//! would give different embeddings. Caches keyed by the string of drbench ≤ 0.1 (format 1: `{:?}` output of the
//! settings) are found through [`legacy_v1`] and adopted when the settings are equal.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::device::Precision;
use super::error::{ModelError, Result};
use super::source::ModelFiles;
use super::spec::{EncoderSpec, Mode};
use super::weights::GgufWeights;

/// The schema version of [`EncoderSignature`].
pub const SIGNATURE_VERSION: u32 = 2;

/// Files up to this size are identified by content (sha256); larger ones (multi-GB weight shards) by path, size
/// and modification time, which costs no read.
pub const HASHED_FILE_LIMIT: u64 = 1 << 30;

/// How one input file is identified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FileIdentity {
    /// By content: moving or touching the file keeps the identity.
    Sha256 {
        /// File name relative to the model's folder (not the full path, so that moved files keep their identity).
        name: String,
        /// Lowercase hex.
        sha256: String,
    },
    /// By location and stamp (files over [`HASHED_FILE_LIMIT`]).
    Stamp {
        /// Canonical path.
        path: String,
        /// Bytes.
        size: u64,
        /// Modification time, seconds since the epoch.
        mtime: u64,
    },
}

impl FileIdentity {
    /// The identity of `path`, named relative to `folder` when it lies inside it (else by its file name).
    pub fn of(folder: &Path, path: &Path) -> Result<FileIdentity> {
        let meta = std::fs::metadata(path).map_err(|e| ModelError::file(path, e.to_string()))?;
        if meta.len() <= HASHED_FILE_LIMIT {
            let sha256 = crate::store::verify::sha256_file(path).map_err(|e| ModelError::file(path, e.to_string()))?;
            let relative = path.strip_prefix(folder).ok().filter(|r| !r.as_os_str().is_empty());
            let name = relative.map_or_else(
                || path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
                |r| r.to_string_lossy().into_owned(),
            );
            return Ok(FileIdentity::Sha256 { name, sha256 });
        }
        let mtime =
            meta.modified().ok().and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok()).map_or(0, |d| d.as_secs());
        let canonical = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        Ok(FileIdentity::Stamp { path: canonical.display().to_string(), size: meta.len(), mtime })
    }
}

/// A LoRA adapter in a signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdapterIdentity {
    /// sha256 of `adapter_model.safetensors`.
    pub sha256: String,
    /// Merged into the weights at load (else run beside them).
    pub merged: bool,
}

/// Everything an encoder's embeddings depend on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EncoderSignature {
    /// [`SIGNATURE_VERSION`].
    pub version: u32,
    /// Model config and weight files.
    pub weights: Vec<FileIdentity>,
    /// Tokenizer files (tokenizer.json and, for LLMs, the chat template's files).
    pub tokenizer: Vec<FileIdentity>,
    /// Pooling / prompt mode.
    pub mode: Mode,
    /// Text (LLM) or sequence (encoder) token limit; absent: the model's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_length: Option<usize>,
    /// Precision (never `auto`: resolved first).
    pub precision: Precision,
    /// How a GGUF file's weights are used (absent for Hugging Face folders).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gguf_weights: Option<GgufWeights>,
    /// L2-normalised.
    pub normalize: bool,
    /// A LoRA adapter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adapter: Option<AdapterIdentity>,
}

/// The two strings an embedding cache is looked up by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signed {
    /// The canonical signature (this version's cache key).
    pub canonical: String,
    /// The string drbench ≤ 0.1 keyed the same settings by, when there is one.
    pub legacy: Option<String>,
}

impl From<&str> for Signed {
    /// A plain label as the signature (throwaway encoders in tests), with no earlier cache to find.
    fn from(label: &str) -> Signed {
        Signed { canonical: label.to_string(), legacy: None }
    }
}

/// The files of a model folder or GGUF that identify its weights.
fn weight_files(files: &ModelFiles) -> Vec<std::path::PathBuf> {
    match files {
        ModelFiles::Gguf(f) => vec![f.clone()],
        ModelFiles::Folder(d) => {
            let mut out = vec![d.join("config.json")];
            let index = d.join("model.safetensors.index.json");
            if let Ok(text) = std::fs::read_to_string(&index) {
                out.push(index);
                #[derive(Deserialize)]
                struct Index {
                    weight_map: std::collections::BTreeMap<String, String>,
                }
                let shards: std::collections::BTreeSet<String> = serde_json::from_str::<Index>(&text)
                    .map(|i| i.weight_map.into_values().collect())
                    .unwrap_or_default();
                out.extend(shards.into_iter().map(|s| d.join(s)));
            }
            for w in ["model.safetensors", "sentence_bert_config.json", "1_Pooling/config.json"] {
                if d.join(w).is_file() {
                    out.push(d.join(w));
                }
            }
            out
        }
    }
}

fn identities(folder: &Path, paths: &[std::path::PathBuf]) -> Result<Vec<FileIdentity>> {
    paths.iter().map(|p| FileIdentity::of(folder, p)).collect()
}

/// The tokenizer files of `dir` that exist (tokenizer.json is required).
fn tokenizer_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = vec![dir.join("tokenizer.json")];
    for f in ["tokenizer_config.json", "chat_template.jinja"] {
        if dir.join(f).is_file() {
            out.push(dir.join(f));
        }
    }
    out
}

impl EncoderSignature {
    /// The signature of what `spec` builds (precision resolved by the caller: `auto` is refused).
    pub fn of_spec(spec: &EncoderSpec) -> Result<EncoderSignature> {
        if spec.precision == Precision::Auto {
            return Err(ModelError::Unsupported("a signature needs a resolved precision, not auto".into()));
        }
        let tokenizer_dir = spec.tokenizer.clone().unwrap_or_else(|| spec.files.default_tokenizer_dir());
        let adapter = match &spec.adapter {
            None => None,
            Some(dir) => {
                let path = dir.join("adapter_model.safetensors");
                let sha256 =
                    crate::store::verify::sha256_file(&path).map_err(|e| ModelError::file(&path, e.to_string()))?;
                Some(AdapterIdentity { sha256, merged: spec.merge_adapter })
            }
        };
        Ok(EncoderSignature {
            version: SIGNATURE_VERSION,
            weights: identities(&spec.files.folder(), &weight_files(&spec.files))?,
            tokenizer: identities(&tokenizer_dir, &tokenizer_files(&tokenizer_dir))?,
            mode: spec.mode,
            max_length: spec.max_length,
            precision: spec.precision,
            gguf_weights: matches!(spec.files, ModelFiles::Gguf(_)).then_some(spec.gguf),
            normalize: spec.normalize,
            adapter,
        })
    }

    /// The signature of a BERT encoder read from an int8 weight file, pooling as `mode` (the browser demo's
    /// reference), at the file's own truncation length.
    pub fn of_int8_bert(file: &Path, tokenizer_dir: &Path, mode: Mode) -> Result<EncoderSignature> {
        Ok(EncoderSignature {
            version: SIGNATURE_VERSION,
            weights: vec![FileIdentity::of(file.parent().unwrap_or(file), file)?],
            tokenizer: identities(tokenizer_dir, &tokenizer_files(tokenizer_dir))?,
            mode,
            max_length: None,
            precision: Precision::F32,
            gguf_weights: None,
            normalize: true,
            adapter: None,
        })
    }

    /// The canonical string (see the module documentation).
    pub fn canonical(&self) -> String {
        serde_json::to_string(self).expect("plain data serialises")
    }
}

impl Signed {
    /// The canonical and legacy strings of `spec`.
    pub fn of_spec(spec: &EncoderSpec) -> Result<Signed> {
        Ok(Signed { canonical: EncoderSignature::of_spec(spec)?.canonical(), legacy: legacy_v1(spec)? })
    }
}

/// The cache signature drbench ≤ 0.1 wrote for `spec` (`{identity}|mode=…|max=…|{precision}|{gguf}|norm=…`, built
/// from `{:?}` output then; frozen here, spelled out).
pub fn legacy_v1(spec: &EncoderSpec) -> Result<Option<String>> {
    let mode = match spec.mode {
        Mode::Promptreps => "Promptreps",
        Mode::Eos => "Eos",
        Mode::Mean => "Mean",
        Mode::Cls => "Cls",
    };
    let max = spec.max_length.map_or_else(|| "None".to_string(), |n| format!("Some({n})"));
    let gguf = match spec.gguf {
        GgufWeights::Quantized => "Quantized",
        GgufWeights::Dequantized => "Dequantized",
    };
    let mut s = format!(
        "{}|mode={mode}|max={max}|{}|{gguf}|norm={}",
        spec.files.legacy_identity(),
        spec.precision.name(),
        spec.normalize
    );
    if let Some(dir) = &spec.adapter {
        let path = dir.join("adapter_model.safetensors");
        let sha = crate::store::verify::sha256_file(&path).map_err(|e| ModelError::file(&path, e.to_string()))?;
        s.push_str(&format!("|adapter={sha}|merged={}", spec.merge_adapter));
    }
    Ok(Some(s))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encoders::device::DeviceKind;

    fn spec(dir: &Path) -> EncoderSpec {
        EncoderSpec {
            files: ModelFiles::Folder(dir.to_path_buf()),
            tokenizer: None,
            mode: Mode::Promptreps,
            max_length: Some(512),
            device: DeviceKind::Cpu,
            cuda_ordinal: 0,
            precision: Precision::Bf16,
            gguf: GgufWeights::Dequantized,
            normalize: true,
            batch_size: 16,
            max_batch_tokens: None,
            adapter: None,
            merge_adapter: false,
        }
    }

    fn model_dir() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in [("config.json", "{}"), ("model.safetensors", "weights"), ("tokenizer.json", "{}")] {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        dir
    }

    /// drbench 0.1 built its cache signature from `{:?}` output; the frozen spelling must give the same bytes.
    #[test]
    fn the_legacy_signature_is_drbench_0_1s_string() {
        let dir = model_dir();
        let s = spec(dir.path());
        let id = s.files.legacy_identity();
        assert_eq!(
            legacy_v1(&s).unwrap().unwrap(),
            format!("{id}|mode=Promptreps|max=Some(512)|bf16|Dequantized|norm=true")
        );
        let other = EncoderSpec {
            mode: Mode::Mean,
            max_length: None,
            precision: Precision::F32,
            gguf: GgufWeights::Quantized,
            normalize: false,
            ..s
        };
        assert_eq!(legacy_v1(&other).unwrap().unwrap(), format!("{id}|mode=Mean|max=None|f32|Quantized|norm=false"));
    }

    /// The canonical form is stable: the same settings give the same text, any setting that changes vectors
    /// changes it, and options left unset are left out (so adding one later keeps existing keys).
    #[test]
    fn the_canonical_signature_is_stable_and_complete() {
        let dir = model_dir();
        let s = spec(dir.path());
        let a = EncoderSignature::of_spec(&s).unwrap();
        assert_eq!(a.canonical(), EncoderSignature::of_spec(&s).unwrap().canonical());
        assert!(!a.canonical().contains("adapter") && !a.canonical().contains("gguf_weights"), "{}", a.canonical());
        assert_eq!(serde_json::from_str::<EncoderSignature>(&a.canonical()).unwrap(), a);
        let changed = [
            EncoderSpec { max_length: Some(256), ..s.clone() },
            EncoderSpec { precision: Precision::F32, ..s.clone() },
            EncoderSpec { mode: Mode::Eos, ..s.clone() },
            EncoderSpec { normalize: false, ..s.clone() },
        ];
        for c in changed {
            assert_ne!(EncoderSignature::of_spec(&c).unwrap().canonical(), a.canonical(), "{c:?}");
        }
        std::fs::write(dir.path().join("tokenizer.json"), "{\"changed\": 1}").unwrap();
        assert_ne!(EncoderSignature::of_spec(&s).unwrap().canonical(), a.canonical(), "the tokenizer is part of it");
        // Moving the folder keeps content-identified files' identity.
        let moved = tempfile::tempdir().unwrap();
        for f in ["config.json", "model.safetensors", "tokenizer.json"] {
            std::fs::copy(dir.path().join(f), moved.path().join(f)).unwrap();
        }
        assert_eq!(
            EncoderSignature::of_spec(&spec(moved.path())).unwrap().canonical(),
            EncoderSignature::of_spec(&s).unwrap().canonical()
        );
        assert!(EncoderSignature::of_spec(&EncoderSpec { precision: Precision::Auto, ..s }).is_err());
    }
}
