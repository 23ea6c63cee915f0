//! A BERT sentence encoder (all-MiniLM-L6-v2 and kin): on the CPU the packed, padding-free forward
//! (`packed_bert`); elsewhere (CUDA) candle-transformers' BERT on right-padded batches with an attention mask. Mean
//! or CLS pooling as `1_Pooling/config.json` says, truncation at sentence-transformers'
//! `max_seq_length` (not the tokenizer file's own 128). Weights from a safetensors folder or, dequantized, from a
//! `drbench quantize` int8 file.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config, HiddenAct, PositionEmbeddingType};
use drbench_harness::batching::encode_in_batches;
use drbench_harness::bert::{BertConfig, Pooling};
use drbench_harness::encoder::{EncodeError, Encoder, Role, l2_normalize_rows};
use drbench_harness::qweights::QWeights;
use serde::Deserialize;
use tokenizers::Tokenizer;

use super::error::{ModelError, Result};
use super::packed_bert::PackedBert;
use super::signature::Signed;

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
    signature: Signed,
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
    config: BertConfig,
    tensors: HashMap<String, Tensor>,
    pooling: Pooling,
    max_len: usize,
    source: PathBuf,
}

/// The pooling a sentence-transformers folder declares (`1_Pooling/config.json`; mean when absent).
pub fn folder_pooling(dir: &Path) -> Pooling {
    std::fs::read_to_string(dir.join("1_Pooling/config.json"))
        .map_or(Pooling::Mean, |text| Pooling::from_sentence_transformers(&text))
}

/// The `max_seq_length` a sentence-transformers folder declares (`sentence_bert_config.json`; 512 when absent).
pub fn folder_max_len(dir: &Path) -> Result<usize> {
    #[derive(Deserialize)]
    struct SentenceBertConfig {
        max_seq_length: Option<usize>,
    }
    let path = dir.join("sentence_bert_config.json");
    let Ok(text) = std::fs::read_to_string(&path) else { return Ok(512) };
    let c: SentenceBertConfig =
        serde_json::from_str(&text).map_err(|e| ModelError::file(&path, format!("bad JSON: {e}")))?;
    Ok(c.max_seq_length.unwrap_or(512))
}

/// The folder's `config.json` as a checked BERT config.
pub fn folder_config(dir: &Path) -> Result<BertConfig> {
    let path = dir.join("config.json");
    let text = std::fs::read_to_string(&path).map_err(|e| ModelError::file(&path, e.to_string()))?;
    BertConfig::from_json(&text).map_err(|e| ModelError::file(&path, e))
}

/// candle-transformers' config for the same model (its BERT runs the forward off the CPU).
fn candle_config(c: &BertConfig) -> std::result::Result<Config, String> {
    let hidden_act = match c.hidden_act.as_str() {
        "gelu" => HiddenAct::Gelu,
        "gelu_new" | "gelu_pytorch_tanh" | "gelu_approximate" => HiddenAct::GeluApproximate,
        "relu" => HiddenAct::Relu,
        other => return Err(format!("hidden_act {other:?} is not implemented")),
    };
    if c.position_embedding_type != "absolute" {
        return Err(format!("position_embedding_type {:?} is not implemented", c.position_embedding_type));
    }
    Ok(Config {
        vocab_size: c.vocab_size,
        hidden_size: c.hidden_size,
        num_hidden_layers: c.num_hidden_layers,
        num_attention_heads: c.num_attention_heads,
        intermediate_size: c.intermediate_size,
        hidden_act,
        hidden_dropout_prob: 0.0,
        max_position_embeddings: c.max_position_embeddings,
        type_vocab_size: c.type_vocab_size,
        initializer_range: 0.02,
        layer_norm_eps: c.layer_norm_eps,
        pad_token_id: 0,
        position_embedding_type: PositionEmbeddingType::Absolute,
        use_cache: false,
        classifier_dropout: None,
        model_type: c.model_type.clone(),
    })
}

impl BertEncoder {
    /// Loads config.json, model.safetensors and tokenizer.json from `dir`.
    pub fn load(dir: &Path, opts: BertOptions, device: &Device, signature: Signed) -> Result<Self> {
        let config = folder_config(dir)?;
        let weights = dir.join("model.safetensors");
        let tensors =
            candle_core::safetensors::load(&weights, device).map_err(|e| ModelError::file(&weights, e.to_string()))?;
        let pooling = opts.pooling.unwrap_or_else(|| folder_pooling(dir));
        let max_len = match opts.max_len {
            Some(n) => n,
            None => folder_max_len(dir)?,
        };
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
        signature: Signed,
    ) -> Result<Self> {
        let bytes = std::fs::read(file).map_err(|e| ModelError::file(file, e.to_string()))?;
        let q = QWeights::from_bytes(&bytes).map_err(|e| ModelError::file(file, e.to_string()))?;
        let mut tensors = HashMap::new();
        for t in &q.tensors {
            tensors.insert(t.name.clone(), Tensor::from_vec(t.to_f32(), t.shape.clone(), device)?);
        }
        let pooling = opts.pooling.unwrap_or(q.config.pooling);
        let max_len = opts.max_len.unwrap_or(q.config.max_seq_length);
        let parts = Parts { config: q.config.bert, tensors, pooling, max_len, source: file.to_path_buf() };
        Self::from_parts(parts, &tokenizer_dir.join("tokenizer.json"), opts, device, signature)
    }

    fn from_parts(p: Parts, tokenizer: &Path, opts: BertOptions, device: &Device, signature: Signed) -> Result<Self> {
        let config = p.config;
        if p.max_len == 0 || p.max_len > config.max_position_embeddings {
            return Err(ModelError::file(
                &p.source,
                format!(
                    "max length {} must be 1 to the model's max_position_embeddings ({})",
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
                let candle = candle_config(&config).map_err(|e| ModelError::file(&p.source, e))?;
                let vb = VarBuilder::from_tensors(p.tensors, DType::F32, device);
                Model::Candle(BertModel::load(vb, &candle).map_err(|e| ModelError::file(&p.source, e.to_string()))?)
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

    /// Token ids of `text` with [CLS]/[SEP], cut to the maximum length (keeping [SEP] last); of a long text only
    /// a prefix that holds enough tokens is tokenized.
    pub fn token_ids(&self, text: &str) -> Result<Vec<u32>> {
        let enc = super::tokenize::encode_enough(&self.tokenizer, text, self.max_len, true)?;
        let mut ids = enc.get_ids().to_vec();
        drbench_harness::encoder::truncate_keeping_last(&mut ids, self.max_len);
        Ok(ids)
    }

    /// Pooled (unnormalised) embeddings of a batch, row after row.
    fn forward(&self, batch: &[&Vec<u32>]) -> Result<Vec<f32>> {
        let model = match &self.model {
            Model::Packed(m) => {
                return m.forward(batch, self.pooling).map_err(|e| ModelError::Unsupported(e.to_string()));
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
        self.signature.canonical.clone()
    }

    fn legacy_signature(&self) -> Option<String> {
        self.signature.legacy.clone()
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
