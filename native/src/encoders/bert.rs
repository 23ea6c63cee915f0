//! A BERT sentence encoder (all-MiniLM-L6-v2 and kin): on the CPU the packed, padding-free forward
//! (`packed_bert`); elsewhere (CUDA) candle-transformers' BERT on right-padded batches with an attention mask. Mean
//! or CLS pooling as `1_Pooling/config.json` says, truncation at sentence-transformers'
//! `max_seq_length` (not the tokenizer file's own 128). Weights from a safetensors folder or, dequantized, from a
//! `drbench quantize` int8 file.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config};
use drbench_harness::encoder::{EncodeError, Encoder, Role, l2_normalize_rows};
use drbench_harness::qweights::QWeights;
use tokenizers::Tokenizer;

use super::batching::encode_in_batches;
use super::error::{ModelError, Result};
use super::packed_bert::PackedBert;

/// How token states become one vector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Pooling {
    /// Mean over non-padding tokens (specials included), as sentence-transformers.
    Mean,
    /// The first ([CLS]) token.
    Cls,
}

/// Settings of a BERT encoder.
#[derive(Debug, Clone)]
pub struct BertOptions {
    /// Pooling (None: from the model's 1_Pooling/config.json, else mean).
    pub pooling: Option<Pooling>,
    /// Maximum tokens including [CLS]/[SEP] (None: sentence_bert_config.json's max_seq_length, else 512).
    pub max_len: Option<usize>,
    /// L2-normalise.
    pub normalize: bool,
    /// Token budget per forward pass.
    pub max_batch_tokens: usize,
    /// Which forward pass runs (default: packed on the CPU, candle elsewhere).
    pub forward: Option<BertForward>,
    /// bf16 linear layers (packed forward only; `cpu::bf16`).
    pub bf16: bool,
}

/// The two implementations of the BERT forward pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BertForward {
    /// candle-transformers' BERT on padded batches (any device).
    Candle,
    /// `packed_bert`: sequences packed without padding, CPU only.
    Packed,
}

impl Default for BertOptions {
    fn default() -> Self {
        BertOptions {
            pooling: None,
            max_len: None,
            normalize: true,
            max_batch_tokens: 16_384,
            forward: None,
            bf16: false,
        }
    }
}

/// A loaded BERT encoder.
pub struct BertEncoder {
    model: Model,
    tokenizer: Tokenizer,
    pooling: Pooling,
    max_len: usize,
    normalize: bool,
    max_batch_tokens: usize,
    dim: usize,
    device: Device,
    signature: String,
    tokens: u64,
}

/// The loaded forward pass.
enum Model {
    Candle(BertModel),
    Packed(PackedBert),
}

impl std::fmt::Debug for BertEncoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BertEncoder").field("signature", &self.signature).field("max_len", &self.max_len).finish()
    }
}

/// What a BERT encoder is built from, whatever the weight file.
struct Parts {
    config: serde_json::Value,
    tensors: HashMap<String, Tensor>,
    pooling: Pooling,
    max_len: usize,
    source: PathBuf,
}

/// The pooling a sentence-transformers folder declares (`1_Pooling/config.json`; mean when absent).
pub fn folder_pooling(dir: &Path) -> Pooling {
    match read_json(&dir.join("1_Pooling/config.json")) {
        Ok(v) if v["pooling_mode_cls_token"].as_bool() == Some(true) => Pooling::Cls,
        _ => Pooling::Mean,
    }
}

/// The `max_seq_length` a sentence-transformers folder declares (512 when absent).
pub fn folder_max_len(dir: &Path) -> usize {
    read_json(&dir.join("sentence_bert_config.json"))
        .ok()
        .and_then(|v| v["max_seq_length"].as_u64())
        .map_or(512, |v| v as usize)
}

/// A JSON file, naming the file on error.
pub fn read_json(path: &Path) -> Result<serde_json::Value> {
    let text = std::fs::read_to_string(path).map_err(|e| ModelError::file(path, e.to_string()))?;
    serde_json::from_str(&text).map_err(|e| ModelError::file(path, format!("bad JSON: {e}")))
}

impl BertEncoder {
    /// Loads config.json, model.safetensors and tokenizer.json from `dir`.
    pub fn load(dir: &Path, opts: BertOptions, device: &Device, signature: String) -> Result<Self> {
        let cfg_path = dir.join("config.json");
        let config = read_json(&cfg_path)?;
        let weights = dir.join("model.safetensors");
        let tensors =
            candle_core::safetensors::load(&weights, device).map_err(|e| ModelError::file(&weights, e.to_string()))?;
        let pooling = opts.pooling.unwrap_or_else(|| folder_pooling(dir));
        let max_len = opts.max_len.unwrap_or_else(|| folder_max_len(dir));
        let parts = Parts { config, tensors, pooling, max_len, source: weights };
        Self::from_parts(parts, &dir.join("tokenizer.json"), opts, device, signature)
    }

    /// Loads a `drbench quantize` int8 file, dequantized to f32 (the reference the int8 runners are held to),
    /// with tokenizer.json from `tokenizer_dir`.
    pub fn load_int8(
        file: &Path,
        tokenizer_dir: &Path,
        opts: BertOptions,
        device: &Device,
        signature: String,
    ) -> Result<Self> {
        let bytes = std::fs::read(file).map_err(|e| ModelError::file(file, e.to_string()))?;
        let q = QWeights::from_bytes(&bytes).map_err(|e| ModelError::file(file, e.to_string()))?;
        if q.config["architecture"] != "bert" {
            return Err(ModelError::file(
                file,
                format!("architecture {}, expected \"bert\"", q.config["architecture"]),
            ));
        }
        let mut tensors = HashMap::new();
        for t in &q.tensors {
            tensors.insert(t.name.clone(), Tensor::from_vec(t.to_f32(), t.shape.clone(), device)?);
        }
        let pooling = opts.pooling.unwrap_or(if q.config["pooling"] == "cls" { Pooling::Cls } else { Pooling::Mean });
        let max_len = opts.max_len.unwrap_or(q.config["max_seq_length"].as_u64().unwrap_or(512) as usize);
        let parts = Parts { config: q.config["bert"].clone(), tensors, pooling, max_len, source: file.to_path_buf() };
        Self::from_parts(parts, &tokenizer_dir.join("tokenizer.json"), opts, device, signature)
    }

    fn from_parts(p: Parts, tokenizer: &Path, opts: BertOptions, device: &Device, signature: String) -> Result<Self> {
        let config: Config = serde_json::from_value(p.config)
            .map_err(|e| ModelError::file(&p.source, format!("not a BERT config: {e}")))?;
        if p.max_len > config.max_position_embeddings {
            return Err(ModelError::file(
                &p.source,
                format!(
                    "max length {} exceeds the model's max_position_embeddings ({})",
                    p.max_len, config.max_position_embeddings
                ),
            ));
        }
        let forward = opts.forward.unwrap_or(if device.is_cpu() { BertForward::Packed } else { BertForward::Candle });
        let model = match forward {
            BertForward::Packed if !device.is_cpu() => {
                return Err(ModelError::file(&p.source, "the packed BERT forward runs on the CPU only"));
            }
            BertForward::Packed => Model::Packed(
                PackedBert::new(&config, &p.tensors, opts.bf16).map_err(|e| ModelError::file(&p.source, e))?,
            ),
            BertForward::Candle if opts.bf16 => {
                return Err(ModelError::file(&p.source, "bf16 BERT runs on the packed CPU forward only"));
            }
            BertForward::Candle => {
                let vb = VarBuilder::from_tensors(p.tensors, DType::F32, device);
                Model::Candle(BertModel::load(vb, &config).map_err(|e| ModelError::file(&p.source, e.to_string()))?)
            }
        };
        let tokenizer = super::tokenize::load_tokenizer(tokenizer)?;
        Ok(BertEncoder {
            model,
            tokenizer,
            pooling: p.pooling,
            max_len: p.max_len,
            normalize: opts.normalize,
            max_batch_tokens: opts.max_batch_tokens,
            dim: config.hidden_size,
            device: device.clone(),
            signature,
            tokens: 0,
        })
    }

    /// Token ids of `text` with [CLS]/[SEP], cut to the maximum length (keeping [SEP] last).
    pub fn token_ids(&self, text: &str) -> Result<Vec<u32>> {
        let mut ids = super::tokenize::ids(&self.tokenizer, text, true)?;
        drbench_harness::encoder::truncate_keeping_last(&mut ids, self.max_len);
        Ok(ids)
    }

    /// Pooled (unnormalised) embeddings of a batch, row after row.
    fn forward(&self, batch: &[&Vec<u32>]) -> Result<Vec<f32>> {
        let model = match &self.model {
            Model::Packed(m) => {
                let seqs: Vec<&[u32]> = batch.iter().map(|s| s.as_slice()).collect();
                return Ok(m.forward(&seqs, self.pooling));
            }
            Model::Candle(m) => m,
        };
        let (b, t) = (batch.len(), batch.iter().map(|r| r.len()).max().unwrap_or(0));
        let mut ids = vec![0u32; b * t];
        let mut mask = vec![0u32; b * t];
        for (r, row) in batch.iter().enumerate() {
            ids[r * t..r * t + row.len()].copy_from_slice(row);
            mask[r * t..r * t + row.len()].iter_mut().for_each(|m| *m = 1);
        }
        let ids = Tensor::from_vec(ids, (b, t), &self.device)?;
        let mask = Tensor::from_vec(mask, (b, t), &self.device)?;
        let types = ids.zeros_like()?;
        let hidden = model.forward(&ids, &types, Some(&mask))?;
        let pooled = match self.pooling {
            Pooling::Cls => hidden.narrow(1, 0, 1)?.squeeze(1)?,
            Pooling::Mean => {
                let m = mask.to_dtype(DType::F32)?.unsqueeze(2)?;
                let summed = hidden.broadcast_mul(&m)?.sum(1)?;
                summed.broadcast_div(&m.sum(1)?)?
            }
        };
        Ok(pooled.flatten_all()?.to_vec1::<f32>()?)
    }

    fn encode_inner(&mut self, texts: &[&str]) -> Result<Vec<f32>> {
        let prepared: Vec<Vec<u32>> = texts.iter().map(|t| self.token_ids(t)).collect::<Result<_>>()?;
        let dim = self.dim;
        let (mut out, tokens) =
            encode_in_batches(&prepared, dim, self.max_batch_tokens, usize::MAX, |batch| self.forward(batch))?;
        self.tokens += tokens;
        if self.normalize {
            l2_normalize_rows(&mut out, dim);
        }
        Ok(out)
    }
}

impl Encoder for BertEncoder {
    fn signature(&self) -> String {
        self.signature.clone()
    }

    fn dim(&self) -> usize {
        self.dim
    }

    fn encode(&mut self, texts: &[&str], _role: Role) -> std::result::Result<Vec<f32>, EncodeError> {
        Ok(self.encode_inner(texts)?)
    }

    fn tokens_processed(&self) -> u64 {
        self.tokens
    }
}
