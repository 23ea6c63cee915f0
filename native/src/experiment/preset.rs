//! Experiment presets: a TOML file naming the models (BM25 or dense, with their settings) and tasks of an
//! experiment, e.g. `experiments/default.toml`. Parsing checks every name and value and reports the file and
//! line of a bad entry.

use std::path::{Path, PathBuf};

use drbench_harness::data::SubsetSpec;
use drbench_harness::metrics::Measure;
use serde::{Deserialize, Serialize};

/// What can be wrong with a preset.
#[derive(Debug, thiserror::Error)]
pub enum PresetError {
    /// The file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// TOML syntax or schema error (the message carries line and column).
    #[error("{path}: {message}")]
    Toml {
        /// The file.
        path: PathBuf,
        /// toml's message, with line and column.
        message: String,
    },
    /// A value that parses but makes no sense.
    #[error("{path}: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

/// Which retriever a model entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ModelKind {
    /// Pyserini-equal BM25.
    Bm25,
    /// A dense retriever on candle (LLM or encoder).
    Dense,
}

/// One model (column of the result table).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelEntry {
    /// Label in tables and the folder name of its results.
    pub name: String,
    /// BM25 or dense.
    pub kind: ModelKind,
    /// Setting label (e.g. `zero-shot`, `supervised`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub setting: Option<String>,
    /// Tasks for this model only (default: the preset's tasks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tasks: Option<Vec<String>>,
    /// BM25: `flat` or `multifield`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fields: Option<String>,
    /// BM25 k1 (default 0.9).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub k1: Option<f32>,
    /// BM25 b (default 0.4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub b: Option<f32>,
    /// Dense: model source (folder, .gguf, `cache:PATH`, `mirror:NAME`, `hf:ORG/NAME@REV`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Dense: tokenizer folder or `mirror:NAME` when it is not beside the model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokenizer: Option<String>,
    /// Dense: promptreps, eos, mean or cls.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    /// Dense: max text tokens (LLMs) or sequence length (encoders).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_length: Option<usize>,
    /// Dense: f32, bf16 or f16.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dtype: Option<String>,
    /// Dense GGUF: quantized or dequantized.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gguf_weights: Option<String>,
    /// Dense: sequences per forward pass.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_size: Option<usize>,
    /// Dense: token budget per forward pass (batch × longest sequence).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_batch_tokens: Option<usize>,
    /// Dense: a LoRA adapter folder (PEFT layout) applied to the model (supervised setting).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adapter: Option<String>,
    /// Dense: merge the adapter into the (dense) weights at load instead of running it beside them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merge_adapter: Option<bool>,
    /// Printed when the model's files cannot be found (how to get them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

/// A whole preset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Preset {
    /// Preset name.
    pub name: String,
    /// What it is for and what it costs.
    #[serde(default)]
    pub description: String,
    /// Tasks (registry names or BEIR folders), in table order.
    pub tasks: Vec<String>,
    /// Model the others are tested against in the report.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<String>,
    /// Measures written per cell (default: nDCG@10, RR@10, R@100, R@1000, AP, P@10); the first is the main one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub measures: Option<Vec<String>>,
    /// Hits per query (default 1000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub k: Option<usize>,
    /// Run on a fixed subset of every task instead of the whole task.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subset: Option<SubsetSpec>,
    /// The models, in column order.
    pub model: Vec<ModelEntry>,
}

/// The measures a cell writes by default.
pub const DEFAULT_MEASURES: &str = "nDCG@10,RR@10,R@100,R@1000,AP,P@10";

impl Preset {
    /// Reads and checks a preset file.
    pub fn load(path: &Path) -> Result<Preset, PresetError> {
        let text = std::fs::read_to_string(path).map_err(|source| PresetError::Io { path: path.into(), source })?;
        Preset::parse(&text, path)
    }

    /// Parses and checks a preset text; `path` names it in errors.
    pub fn parse(text: &str, path: &Path) -> Result<Preset, PresetError> {
        let preset: Preset =
            toml::from_str(text).map_err(|e| PresetError::Toml { path: path.into(), message: e.to_string() })?;
        preset.check().map_err(|message| PresetError::Invalid { path: path.into(), message })?;
        Ok(preset)
    }

    /// The measures of every cell; the first is the main score.
    pub fn measures(&self) -> Vec<Measure> {
        let list = self.measures.as_ref().map_or(DEFAULT_MEASURES.to_string(), |m| m.join(","));
        Measure::parse_list(&list).expect("checked at load")
    }

    /// Every (model, task) cell, in table order (models outer).
    pub fn cells(&self) -> Vec<(&ModelEntry, &str)> {
        self.model
            .iter()
            .flat_map(|m| m.tasks.as_ref().unwrap_or(&self.tasks).iter().map(move |t| (m, t.as_str())))
            .collect()
    }

    fn check(&self) -> Result<(), String> {
        if self.tasks.is_empty() && self.model.iter().all(|m| m.tasks.is_none()) {
            return Err("no tasks".into());
        }
        if self.model.is_empty() {
            return Err("no [[model]] entries".into());
        }
        if let Some(m) = &self.measures {
            Measure::parse_list(&m.join(",")).map_err(|e| format!("measures: {e}"))?;
        }
        let mut names = std::collections::BTreeSet::new();
        for m in &self.model {
            let bad = |what: String| format!("model {:?}: {what}", m.name);
            if m.name.is_empty() || m.name.contains(['/', '\\']) || m.name.starts_with('.') {
                return Err(bad("a name must be non-empty, without slashes, not starting with '.'".into()));
            }
            if !names.insert(m.name.as_str()) {
                return Err(bad("given twice".into()));
            }
            match m.kind {
                ModelKind::Bm25 => {
                    if let Some(f) = &m.fields
                        && !matches!(f.as_str(), "flat" | "multifield")
                    {
                        return Err(bad(format!("fields = {f:?}: expected flat or multifield")));
                    }
                    if m.source.is_some() || m.mode.is_some() {
                        return Err(bad("bm25 takes fields, k1 and b, not source or mode".into()));
                    }
                }
                ModelKind::Dense => {
                    if m.source.is_none() {
                        return Err(bad("a dense model needs `source`".into()));
                    }
                    let mode = m.mode.as_deref().ok_or_else(|| bad("a dense model needs `mode`".into()))?;
                    check_enum::<crate::encoders::build::Mode>("mode", mode).map_err(bad)?;
                    if let Some(d) = &m.dtype {
                        check_enum::<crate::encoders::device::Precision>("dtype", d).map_err(bad)?;
                    }
                    if let Some(g) = &m.gguf_weights {
                        check_enum::<crate::encoders::weights::GgufWeights>("gguf_weights", g).map_err(bad)?;
                    }
                }
            }
        }
        if let Some(b) = &self.baseline
            && !names.contains(b.as_str())
        {
            return Err(format!("baseline {b:?} is not one of the models"));
        }
        Ok(())
    }
}

fn check_enum<E: clap::ValueEnum>(field: &str, value: &str) -> Result<E, String> {
    E::from_str(value, true).map_err(|_| {
        let names: Vec<String> = E::value_variants()
            .iter()
            .filter_map(|v| v.to_possible_value())
            .map(|p| p.get_name().to_string())
            .collect();
        format!("{field} = {value:?}: expected one of {}", names.join(", "))
    })
}

/// Parses a checked enum value of a model entry.
pub fn parse_enum<E: clap::ValueEnum>(field: &str, value: &str) -> Result<E, String> {
    check_enum(field, value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Preset, PresetError> {
        Preset::parse(text, Path::new("p.toml"))
    }

    #[test]
    fn the_shipped_presets_parse() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../experiments");
        for name in ["default", "smoke", "paper"] {
            let p = Preset::load(&dir.join(format!("{name}.toml"))).unwrap();
            assert_eq!(p.name, name);
            assert!(!p.cells().is_empty());
        }
        let paper = Preset::load(&dir.join("paper.toml")).unwrap();
        assert_eq!(
            paper
                .model
                .iter()
                .filter(|m| m.kind == ModelKind::Dense && m.setting.as_deref() == Some("zero-shot"))
                .count(),
            8
        );
        assert_eq!(paper.model.iter().filter(|m| m.setting.as_deref() == Some("supervised")).count(), 8);
        assert_eq!(paper.tasks.iter().filter(|t| t.starts_with("beir/")).count(), 6);
        assert_eq!(paper.tasks.iter().filter(|t| t.starts_with("coir/")).count(), 10);
    }

    #[test]
    fn bad_presets_name_file_line_and_entry() {
        let e =
            parse("name = \"x\"\ntasks = [\"beir/scifact\"]\n[[model]]\nname = \"m\"\nkind = \"bm26\"\n").unwrap_err();
        assert!(e.to_string().starts_with("p.toml: ") && e.to_string().contains("line 5"), "{e}");
        let e = parse("name = \"x\"\ntasks = [\"t\"]\n[[model]]\nname = \"m\"\nkind = \"dense\"\nsource = \"s\"\nmode = \"max\"\n")
            .unwrap_err();
        assert!(
            e.to_string().contains("model \"m\": mode = \"max\": expected one of promptreps, eos, mean, cls"),
            "{e}"
        );
        let e = parse("name = \"x\"\ntasks = [\"t\"]\nbaseline = \"z\"\n[[model]]\nname = \"m\"\nkind = \"bm25\"\n")
            .unwrap_err();
        assert!(e.to_string().contains("baseline \"z\""), "{e}");
        let e =
            parse("name = \"x\"\ntasks = [\"t\"]\nmeasures = [\"nDCG@x\"]\n[[model]]\nname = \"m\"\nkind = \"bm25\"\n")
                .unwrap_err();
        assert!(e.to_string().contains("measures"), "{e}");
    }
}
