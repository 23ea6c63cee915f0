//! Experiment presets: a TOML file naming the models (BM25 or dense, with their settings) and tasks of an
//! experiment, e.g. `experiments/default.toml`, parsed once into typed values ([`Preset`], whose models carry a
//! [`RetrieverSpec`]). Parsing checks every name and value and reports the file, the line of a bad value and the
//! entry it belongs to. The shipped presets are compiled in, so `--preset NAME` works from anywhere.

use std::path::Path;

use drbench_harness::bm25::FieldMode;
use drbench_harness::data::SubsetSpec;
use drbench_harness::metrics::Measure;
use drbench_native::encoders::device::Precision;
use drbench_native::encoders::spec::Mode;
use drbench_native::encoders::weights::GgufWeights;
use serde::Deserialize;

pub use crate::error::PresetError;
use crate::retriever::{Bm25Spec, DenseSpec, RetrieverSpec};

/// The presets shipped in `experiments/`.
pub const SHIPPED: [(&str, &str); 4] = [
    ("default", include_str!("../../experiments/default.toml")),
    ("smoke", include_str!("../../experiments/smoke.toml")),
    ("paper", include_str!("../../experiments/paper.toml")),
    ("train-demo", include_str!("../../experiments/train-demo.toml")),
];

/// The measures a cell writes by default; the first is the main score.
pub const DEFAULT_MEASURES: [Measure; 6] = crate::cell::RUN_MEASURES;

/// Hits per query by default.
pub const DEFAULT_K: usize = 1000;

/// Which retriever a model entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
enum ModelKind {
    Bm25,
    Dense,
}

/// One `[[model]]` entry as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ModelEntry {
    name: String,
    kind: ModelKind,
    setting: Option<String>,
    tasks: Option<Vec<String>>,
    fields: Option<FieldMode>,
    k1: Option<f32>,
    b: Option<f32>,
    source: Option<String>,
    tokenizer: Option<String>,
    mode: Option<Mode>,
    max_length: Option<usize>,
    dtype: Option<Precision>,
    gguf_weights: Option<GgufWeights>,
    normalize: Option<bool>,
    batch_size: Option<usize>,
    max_batch_tokens: Option<usize>,
    adapter: Option<String>,
    merge_adapter: Option<bool>,
    tokens_per_s: Option<Speed>,
    hint: Option<String>,
}

/// Expected encoding speed per precision, real tokens per second on the reference machine (2 cores):
/// `tokens_per_s = { f32 = 470, bf16 = 990 }`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Speed {
    /// In f32.
    pub f32: Option<f64>,
    /// In bf16.
    pub bf16: Option<f64>,
    /// In f16.
    pub f16: Option<f64>,
}

impl Speed {
    /// The figure for `precision` (resolved: `auto` has none).
    pub fn at(&self, precision: Precision) -> Option<f64> {
        match precision {
            Precision::F32 => self.f32,
            Precision::Bf16 => self.bf16,
            Precision::F16 => self.f16,
            Precision::Auto => None,
        }
    }

    fn check(&self) -> Result<(), String> {
        let bad = [self.f32, self.bf16, self.f16].into_iter().flatten().any(|t| !(t.is_finite() && t > 0.0));
        if bad { Err("tokens_per_s: every figure must be a positive number".into()) } else { Ok(()) }
    }
}

/// A preset file as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct PresetFile {
    name: String,
    #[serde(default)]
    description: String,
    tasks: Vec<String>,
    baseline: Option<String>,
    measures: Option<Vec<Measure>>,
    k: Option<usize>,
    subset: Option<SubsetSpec>,
    model: Vec<ModelEntry>,
}

/// One model of a preset (a column of its table).
#[derive(Debug, Clone, PartialEq)]
pub struct ModelSpec {
    /// Label in tables and the folder name of its results.
    pub name: String,
    /// Setting label (`zero-shot`, `supervised`).
    pub setting: Option<String>,
    /// Tasks for this model only (default: the preset's tasks).
    pub tasks: Option<Vec<String>>,
    /// The retriever.
    pub retriever: RetrieverSpec,
    /// Expected encoding speed on the reference machine (2 cores), per precision: for the time estimate only,
    /// never a setting.
    pub tokens_per_s: Option<Speed>,
    /// Printed when the model's files cannot be found (how to get them).
    pub hint: Option<String>,
}

/// A whole preset, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Preset {
    /// Preset name.
    pub name: String,
    /// What it is for and what it costs.
    pub description: String,
    /// Tasks (registry names or BEIR folders), in table order.
    pub tasks: Vec<String>,
    /// Model the others are tested against in the report.
    pub baseline: Option<String>,
    /// Measures of every cell; the first is the main score.
    pub measures: Vec<Measure>,
    /// Hits per query.
    pub k: usize,
    /// A fixed subset of every task instead of the whole task.
    pub subset: Option<SubsetSpec>,
    /// The models, in column order.
    pub models: Vec<ModelSpec>,
}

impl Preset {
    /// A shipped preset by name, or a preset file.
    pub fn find(name_or_path: &str) -> Result<Preset, PresetError> {
        if let Some((n, text)) = SHIPPED.iter().find(|(n, _)| *n == name_or_path) {
            return Preset::parse(text, Path::new(&format!("experiments/{n}.toml")));
        }
        let path = Path::new(name_or_path);
        if !path.is_file() {
            return Err(PresetError::Unknown(name_or_path.to_string()));
        }
        Preset::load(path)
    }

    /// Reads and checks a preset file.
    pub fn load(path: &Path) -> Result<Preset, PresetError> {
        let text = std::fs::read_to_string(path).map_err(|source| PresetError::Io { path: path.into(), source })?;
        Preset::parse(&text, path)
    }

    /// Parses and checks a preset text; `path` names it in errors.
    pub fn parse(text: &str, path: &Path) -> Result<Preset, PresetError> {
        let file: PresetFile =
            toml::from_str(text).map_err(|e| PresetError::Toml { path: path.into(), message: e.to_string() })?;
        file.check().map_err(|message| PresetError::Invalid { path: path.into(), message })
    }

    /// Every (model, task) cell, in table order (models outer).
    pub fn cells(&self) -> Vec<(&ModelSpec, &str)> {
        self.models
            .iter()
            .flat_map(|m| m.tasks.as_ref().unwrap_or(&self.tasks).iter().map(move |t| (m, t.as_str())))
            .collect()
    }

    /// The model called `name`.
    pub fn model(&self, name: &str) -> Option<&ModelSpec> {
        self.models.iter().find(|m| m.name == name)
    }
}

impl PresetFile {
    fn check(self) -> Result<Preset, String> {
        if self.tasks.is_empty() && self.model.iter().all(|m| m.tasks.is_none()) {
            return Err("no tasks".into());
        }
        if self.model.is_empty() {
            return Err("no [[model]] entries".into());
        }
        let measures = self.measures.unwrap_or_else(|| DEFAULT_MEASURES.to_vec());
        if measures.is_empty() {
            return Err("measures: empty".into());
        }
        if self.k == Some(0) {
            return Err("k = 0: expected at least one hit per query".into());
        }
        let mut names = std::collections::BTreeSet::new();
        let mut models = Vec::with_capacity(self.model.len());
        for m in self.model {
            let bad = |what: &str| format!("model {:?}: {what}", m.name);
            if m.name.is_empty() || m.name.contains(['/', '\\']) || m.name.starts_with('.') {
                return Err(bad("a name must be non-empty, without slashes, not starting with '.'"));
            }
            if !names.insert(m.name.clone()) {
                return Err(bad("given twice"));
            }
            let retriever = m.retriever().map_err(|e| bad(&e))?;
            models.push(ModelSpec {
                name: m.name,
                setting: m.setting,
                tasks: m.tasks,
                retriever,
                tokens_per_s: m.tokens_per_s,
                hint: m.hint,
            });
        }
        if let Some(b) = &self.baseline
            && !names.contains(b)
        {
            return Err(format!("baseline {b:?} is not one of the models"));
        }
        Ok(Preset {
            name: self.name,
            description: self.description,
            tasks: self.tasks,
            baseline: self.baseline,
            measures,
            k: self.k.unwrap_or(DEFAULT_K),
            subset: self.subset,
            models,
        })
    }
}

impl ModelEntry {
    /// The typed retriever, with the fields its kind takes (and no others).
    fn retriever(&self) -> Result<RetrieverSpec, String> {
        let dense_fields = [
            ("source", self.source.is_some()),
            ("tokenizer", self.tokenizer.is_some()),
            ("mode", self.mode.is_some()),
            ("max_length", self.max_length.is_some()),
            ("dtype", self.dtype.is_some()),
            ("gguf_weights", self.gguf_weights.is_some()),
            ("normalize", self.normalize.is_some()),
            ("batch_size", self.batch_size.is_some()),
            ("max_batch_tokens", self.max_batch_tokens.is_some()),
            ("adapter", self.adapter.is_some()),
            ("merge_adapter", self.merge_adapter.is_some()),
            ("tokens_per_s", self.tokens_per_s.is_some()),
        ];
        match self.kind {
            ModelKind::Bm25 => {
                if let Some((f, _)) = dense_fields.iter().find(|(_, set)| *set) {
                    return Err(format!("bm25 takes fields, k1 and b, not {f}"));
                }
                let d = Bm25Spec::default();
                let spec = Bm25Spec {
                    fields: self.fields.unwrap_or(d.fields),
                    k1: self.k1.unwrap_or(d.k1),
                    b: self.b.unwrap_or(d.b),
                };
                spec.params().check()?;
                Ok(RetrieverSpec::Bm25(spec))
            }
            ModelKind::Dense => {
                if self.fields.is_some() || self.k1.is_some() || self.b.is_some() {
                    return Err("fields, k1 and b are BM25's; a dense model takes source, mode, ...".into());
                }
                let source = self.source.clone().ok_or("a dense model needs `source`")?;
                let mode = self.mode.ok_or("a dense model needs `mode`")?;
                if self.merge_adapter == Some(true) && self.adapter.is_none() {
                    return Err("merge_adapter needs an adapter".into());
                }
                if self.batch_size == Some(0) || self.max_batch_tokens == Some(0) {
                    return Err("batch_size and max_batch_tokens must be at least 1".into());
                }
                if let Some(speed) = &self.tokens_per_s {
                    speed.check()?;
                }
                let d = DenseSpec::new(source, mode);
                Ok(RetrieverSpec::Dense(DenseSpec {
                    tokenizer: self.tokenizer.clone(),
                    max_length: self.max_length,
                    dtype: self.dtype.unwrap_or(d.dtype),
                    gguf_weights: self.gguf_weights.unwrap_or(d.gguf_weights),
                    normalize: self.normalize.unwrap_or(d.normalize),
                    batch_size: self.batch_size.unwrap_or(d.batch_size),
                    max_batch_tokens: self.max_batch_tokens,
                    adapter: self.adapter.clone(),
                    merge_adapter: self.merge_adapter.unwrap_or(false),
                    ..d
                }))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Preset, PresetError> {
        Preset::parse(text, Path::new("p.toml"))
    }

    #[test]
    fn the_shipped_presets_parse() {
        for (name, _) in SHIPPED {
            let p = Preset::find(name).unwrap();
            assert_eq!(p.name, name);
            assert!(!p.cells().is_empty());
        }
        let paper = Preset::find("paper").unwrap();
        let dense = |m: &&ModelSpec| matches!(m.retriever, RetrieverSpec::Dense(_));
        let zero_shot = paper.models.iter().filter(dense).filter(|m| m.setting.as_deref() == Some("zero-shot"));
        assert_eq!(zero_shot.count(), 8);
        assert_eq!(paper.models.iter().filter(|m| m.setting.as_deref() == Some("supervised")).count(), 8);
        assert_eq!(paper.tasks.iter().filter(|t| t.starts_with("beir/")).count(), 6);
        assert_eq!(paper.tasks.iter().filter(|t| t.starts_with("coir/")).count(), 10);
        let default = Preset::find("default").unwrap();
        let RetrieverSpec::Dense(qwen) = &default.model("Qwen2.5-Coder-0.5B-Instruct").unwrap().retriever else {
            panic!("the default preset's LLM is dense")
        };
        assert_eq!((qwen.dtype, qwen.gguf_weights), (Precision::Auto, GgufWeights::Dequantized));
    }

    /// (preset text after the header, what the error must say).
    const BAD: [(&str, &str); 9] = [
        ("[[model]]\nname = \"m\"\nkind = \"bm26\"\n", "line 5"),
        ("[[model]]\nname = \"m\"\nkind = \"dense\"\nsource = \"s\"\nmode = \"max\"\n", "unknown variant `max`"),
        ("[[model]]\nname = \"m\"\nkind = \"dense\"\nsource = \"s\"\nmode = \"max\"\n", "line 7"),
        ("[[model]]\nname = \"m\"\nkind = \"dense\"\nmode = \"mean\"\n", "model \"m\": a dense model needs `source`"),
        (
            "[[model]]\nname = \"m\"\nkind = \"bm25\"\nmode = \"mean\"\n",
            "model \"m\": bm25 takes fields, k1 and b, not mode",
        ),
        ("[[model]]\nname = \"m\"\nkind = \"dense\"\nsource = \"s\"\nmode = \"eos\"\nk1 = 1.0\n", "BM25's"),
        ("[[model]]\nname = \"a/b\"\nkind = \"bm25\"\n", "without slashes"),
        ("measures = [\"nDCG@x\"]\n[[model]]\nname = \"m\"\nkind = \"bm25\"\n", "unknown measure \"nDCG@x\""),
        ("baseline = \"z\"\n[[model]]\nname = \"m\"\nkind = \"bm25\"\n", "baseline \"z\""),
    ];

    #[test]
    fn bad_presets_name_file_line_and_entry() {
        for (body, want) in BAD {
            let err = parse(&format!("name = \"x\"\ntasks = [\"t\"]\n{body}")).unwrap_err().to_string();
            assert!(err.starts_with("p.toml: ") && err.contains(want), "{body:?}: {err}");
        }
        assert!(Preset::find("nope").unwrap_err().to_string().contains("not a shipped preset"));
    }
}
