//! What a retriever is, as typed settings: Pyserini-equal BM25 with its fields and parameters, or a dense encoder
//! with every setting that changes its numbers. Presets parse into these, results record them, and a cell is
//! reused only when they are equal.

use std::path::PathBuf;

use drbench_harness::bm25::{Bm25Params, FieldMode};
use drbench_native::encoders::device::{DeviceKind, Precision};
use drbench_native::encoders::source::{ModelFiles, resolve_model};
use drbench_native::encoders::spec::{EncoderSpec, Mode};
use drbench_native::encoders::weights::GgufWeights;
use drbench_native::store::Store;
use serde::{Deserialize, Serialize};

use crate::error::{PipelineError, Result};

/// A retriever's settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum RetrieverSpec {
    /// Pyserini-equal BM25.
    Bm25(Bm25Spec),
    /// A dense encoder (LLM or BERT) on candle.
    Dense(DenseSpec),
}

/// BM25's settings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bm25Spec {
    /// Indexed fields.
    pub fields: FieldMode,
    /// Term-frequency saturation.
    pub k1: f32,
    /// Length normalisation.
    pub b: f32,
}

impl Default for Bm25Spec {
    fn default() -> Self {
        let p = Bm25Params::default();
        Bm25Spec { fields: FieldMode::Flat, k1: p.k1, b: p.b }
    }
}

impl Bm25Spec {
    /// The scoring parameters.
    pub fn params(&self) -> Bm25Params {
        Bm25Params { k1: self.k1, b: self.b }
    }
}

/// A dense encoder's settings: the model source as given and what changes its vectors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DenseSpec {
    /// Model source: folder, `.gguf`, `mirror:NAME`, `cache:PATH`, `registry:NAME`, `hf:ORG/NAME@REV`.
    pub source: String,
    /// Tokenizer folder or `mirror:NAME` when it is not beside the model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokenizer: Option<String>,
    /// Pooling / prompt mode.
    pub mode: Mode,
    /// Max text tokens (LLMs) or sequence length (encoders); absent: the model's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_length: Option<usize>,
    /// Precision (`auto` in a preset; resolved for the device before it is recorded).
    pub dtype: Precision,
    /// How GGUF weights are used.
    pub gguf_weights: GgufWeights,
    /// L2-normalised embeddings.
    pub normalize: bool,
    /// Sequences per forward pass (LLMs).
    pub batch_size: usize,
    /// Token budget per forward pass; absent: the encoder's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_batch_tokens: Option<usize>,
    /// A LoRA adapter folder (PEFT layout).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adapter: Option<String>,
    /// Merge the adapter into the weights at load.
    #[serde(default)]
    pub merge_adapter: bool,
}

impl DenseSpec {
    /// The spec with the defaults of `drbench run` for everything but source and mode.
    pub fn new(source: impl Into<String>, mode: Mode) -> DenseSpec {
        DenseSpec {
            source: source.into(),
            tokenizer: None,
            mode,
            max_length: None,
            dtype: Precision::F32,
            gguf_weights: GgufWeights::Quantized,
            normalize: true,
            batch_size: 16,
            max_batch_tokens: None,
            adapter: None,
            merge_adapter: false,
        }
    }

    /// The same settings with `auto` precision decided for `device`.
    pub fn resolved(&self, device: DeviceKind) -> DenseSpec {
        DenseSpec { dtype: self.dtype.resolve(device), ..self.clone() }
    }

    /// What `build_encoder` needs, with the model (and tokenizer) resolved through `store` (fetched if need be).
    pub fn encoder_spec(&self, store: &Store, device: DeviceKind) -> Result<EncoderSpec> {
        let files = resolve_model(&self.source, store)?;
        let tokenizer = match &self.tokenizer {
            None => None,
            Some(t) => match resolve_model(t, store)? {
                ModelFiles::Folder(d) => Some(d),
                ModelFiles::Gguf(f) => {
                    return Err(PipelineError::Invalid(format!(
                        "tokenizer {}: a GGUF file, not a folder with tokenizer.json",
                        f.display()
                    )));
                }
            },
        };
        Ok(EncoderSpec {
            files,
            tokenizer,
            mode: self.mode,
            max_length: self.max_length,
            device,
            cuda_ordinal: 0,
            precision: self.dtype.resolve(device),
            gguf: self.gguf_weights,
            normalize: self.normalize,
            batch_size: self.batch_size,
            max_batch_tokens: self.max_batch_tokens,
            adapter: self.adapter.as_ref().map(PathBuf::from),
            merge_adapter: self.merge_adapter,
        })
    }
}

impl RetrieverSpec {
    /// The run tag of its TREC files (`drbench-bm25`, `drbench-promptreps`, ...).
    pub fn run_tag(&self) -> String {
        match self {
            RetrieverSpec::Bm25(_) => "drbench-bm25".into(),
            RetrieverSpec::Dense(d) => format!("drbench-{}", d.mode.name()),
        }
    }
}
