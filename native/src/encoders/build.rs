//! Building an encoder from its spec (`spec.rs`): BERT folders become sentence encoders, Qwen2-family folders and
//! GGUF files become LLM retrievers, each carrying its typed signature (`signature.rs`).

use candle_core::DType;
use drbench_harness::bert::Pooling;
use drbench_harness::encoder::Encoder;

use super::bert::{BertEncoder, BertOptions};
use super::device::{Precision, device_at};
use super::error::{ModelError, Result};
use super::llm::{LlmEncoder, LlmOptions};
use super::lora::Adapter;
use super::prompt::PromptMode;
use super::signature::Signed;
use super::source::ModelFiles;
use super::spec::{EncoderSpec, Mode};
use super::weights::{load_gguf, load_hf};

fn model_type(dir: &std::path::Path) -> Result<String> {
    let path = dir.join("config.json");
    let text = std::fs::read_to_string(&path).map_err(|e| ModelError::file(&path, e.to_string()))?;
    let v: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| ModelError::file(&path, format!("bad JSON: {e}")))?;
    Ok(v["model_type"].as_str().unwrap_or("").to_string())
}

/// Builds the encoder (precision resolved first); its signature (`encoders::signature`) identifies the weights,
/// tokenizer and settings for caches and reports.
pub fn build_encoder(spec: &EncoderSpec) -> Result<Box<dyn Encoder>> {
    let spec = &spec.resolved();
    let dev = device_at(spec.device, spec.cuda_ordinal)?;
    if spec.adapter.is_some() && matches!(spec.mode, Mode::Mean | Mode::Cls) {
        return Err(ModelError::Unsupported("LoRA adapters are for LLM retrievers (promptreps or eos)".into()));
    }
    if spec.max_length == Some(0) {
        return Err(ModelError::Unsupported("max_length 0 leaves no token to encode; give at least 1".into()));
    }
    let signature = Signed::of_spec(spec)?;
    let tokenizer_dir = spec.tokenizer.clone().unwrap_or_else(|| spec.files.default_tokenizer_dir());
    let llm = |mode: PromptMode| -> Result<Box<dyn Encoder>> {
        let mut model = match &spec.files {
            ModelFiles::Folder(d) => load_hf(d, spec.precision.dtype(), &dev)?,
            ModelFiles::Gguf(f) => load_gguf(f, spec.gguf, spec.precision.dtype(), &dev)?,
        };
        let mut adapter = match &spec.adapter {
            Some(dir) => Some(Adapter::load(dir, model.layers.len(), DType::F32, &dev)?),
            None => None,
        };
        if spec.merge_adapter {
            let a = adapter.take().ok_or_else(|| ModelError::Unsupported("--merge needs --adapter".into()))?;
            model.merge_adapter(&a)?;
        }
        let opts = LlmOptions {
            mode,
            max_text_tokens: spec.max_length.unwrap_or(512),
            normalize: spec.normalize,
            batch_size: spec.batch_size,
            max_batch_tokens: spec.max_batch_tokens.unwrap_or(LlmOptions::default().max_batch_tokens),
        };
        Ok(Box::new(LlmEncoder::new(model, &tokenizer_dir, opts, signature.clone())?.with_adapter(adapter)))
    };
    match (spec.mode, &spec.files) {
        (Mode::Promptreps, _) => llm(PromptMode::Promptreps),
        (Mode::Eos, _) => llm(PromptMode::Eos),
        (Mode::Mean | Mode::Cls, ModelFiles::Folder(dir)) => {
            let kind = model_type(dir)?;
            if !matches!(kind.as_str(), "bert" | "roberta" | "xlm-roberta") && !kind.is_empty() {
                return Err(ModelError::Unsupported(format!(
                    "{}: model_type {kind:?} is not an encoder; use --mode promptreps or eos for LLMs",
                    dir.display()
                )));
            }
            if !matches!(spec.precision, Precision::F32 | Precision::Bf16) {
                return Err(ModelError::Unsupported(format!(
                    "{}: encoder (BERT) models run in f32 or bf16 (CPU); --dtype {} is for LLMs",
                    dir.display(),
                    spec.precision.name()
                )));
            }
            let pooling = if spec.mode == Mode::Cls { Pooling::Cls } else { Pooling::Mean };
            let opts = BertOptions {
                pooling: Some(pooling),
                max_len: spec.max_length,
                normalize: spec.normalize,
                max_batch_tokens: spec.max_batch_tokens.unwrap_or(BertOptions::default().max_batch_tokens),
                forward: None,
                bf16: spec.precision == Precision::Bf16,
            };
            Ok(Box::new(BertEncoder::load(dir, opts, &dev, signature)?))
        }
        (Mode::Mean | Mode::Cls, ModelFiles::Gguf(f)) => Err(ModelError::file(
            f,
            "mean/cls pooling needs an encoder folder; a GGUF is an LLM (use promptreps or eos)",
        )),
    }
}
