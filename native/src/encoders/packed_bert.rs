//! BERT's forward pass on the CPU without padding: the sequences of a batch are packed row after row into one
//! `tokens × hidden` matrix, so every linear layer is one large matrix product (`cpu::linear`, all rayon threads)
//! over real tokens only, and attention runs per sequence and head on its own rows (`cpu::attention`). Bias, GELU,
//! residual and layer norm are separate vectorised passes (`cpu::ops`). Same weights and arithmetic as
//! candle-transformers' BERT (which the CUDA build keeps using), within f32 rounding.

use std::collections::HashMap;
use std::sync::Mutex;

use candle_core::Tensor;
use drbench_harness::bert::{BertConfig, Pooling, pool_packed};
use drbench_harness::matmul::MatView;
use drbench_harness::packed::{BatchError, PackedBatch};

use super::cpu::attention::{Heads, attention};
use super::cpu::bf16::Bf16Weights;
use super::cpu::linear::{Weights, linear};
use super::cpu::ops;

/// What can be wrong with a BERT checkpoint for the packed forward (the message names the tensor or setting).
pub type LoadError = String;

/// A dense layer: `y = x · Wᵀ + b`, `W` in PyTorch's `out × in` layout (f32), or its bf16 panels.
#[derive(Debug)]
struct Linear {
    weight: Vec<f32>,
    bf16: Option<Bf16Weights>,
    bias: Vec<f32>,
    inputs: usize,
    outputs: usize,
}

impl Linear {
    /// `out (rows × outputs) = x · Wᵀ + b`, or `out += x · Wᵀ + b` with `accumulate` (a residual already there).
    fn forward(&self, x: &[f32], out: &mut [f32], accumulate: bool) {
        let w = match &self.bf16 {
            Some(w) => Weights::Bf16(w),
            None => Weights::F32 { data: &self.weight, inputs: self.inputs, outputs: self.outputs },
        };
        linear(x, w, Some(&self.bias), out, accumulate);
    }

    /// Keeps the weights as bf16 panels only.
    fn into_bf16(self) -> Self {
        let bf16 = Some(Bf16Weights::new(&self.weight, self.inputs, self.outputs));
        Linear { weight: Vec::new(), bf16, ..self }
    }
}

/// Layer-norm parameters.
#[derive(Debug)]
struct Norm {
    weight: Vec<f32>,
    bias: Vec<f32>,
}

/// One transformer layer.
#[derive(Debug)]
struct Layer {
    /// Query, key and value stacked: `3·hidden` outputs.
    qkv: Linear,
    attention_out: Linear,
    attention_norm: Norm,
    up: Linear,
    down: Linear,
    output_norm: Norm,
}

/// BERT weights laid out for the packed forward.
#[derive(Debug)]
pub struct PackedBert {
    word: Vec<f32>,
    position: Vec<f32>,
    token_type: Vec<f32>,
    embedding_norm: Norm,
    layers: Vec<Layer>,
    hidden: usize,
    heads: usize,
    eps: f32,
    vocab: usize,
    max_positions: usize,
    /// Activation buffers kept between batches (fresh ones cost page faults and zeroing every batch).
    scratch: Mutex<Scratch>,
}

/// The forward pass's activation buffers.
#[derive(Debug, Default)]
struct Scratch {
    qkv: Vec<f32>,
    context: Vec<f32>,
    up: Vec<f32>,
}

/// Reads named f32 tensors.
struct Tensors<'a> {
    map: &'a HashMap<String, Tensor>,
    prefix: String,
}

impl Tensors<'_> {
    fn get(&self, name: &str, shape: &[usize]) -> Result<Vec<f32>, LoadError> {
        let full = format!("{}{name}", self.prefix);
        let t = self.map.get(&full).ok_or_else(|| format!("no tensor {full}"))?;
        if t.dims() != shape {
            return Err(format!("tensor {full} has shape {:?}, expected {shape:?}", t.dims()));
        }
        let t =
            t.to_dtype(candle_core::DType::F32).and_then(|t| t.flatten_all()).map_err(|e| format!("{full}: {e}"))?;
        t.to_vec1::<f32>().map_err(|e| format!("{full}: {e}"))
    }

    /// A layer norm saved as weight/bias or (older checkpoints) gamma/beta.
    fn norm(&self, name: &str, width: usize) -> Result<Norm, LoadError> {
        let has = |n: &str| self.map.contains_key(&format!("{}{name}.{n}", self.prefix));
        let (w, b) = if !has("weight") && has("gamma") { ("gamma", "beta") } else { ("weight", "bias") };
        Ok(Norm {
            weight: self.get(&format!("{name}.{w}"), &[width])?,
            bias: self.get(&format!("{name}.{b}"), &[width])?,
        })
    }

    fn linear(&self, name: &str, inputs: usize, outputs: usize) -> Result<Linear, LoadError> {
        Ok(Linear {
            weight: self.get(&format!("{name}.weight"), &[outputs, inputs])?,
            bias: self.get(&format!("{name}.bias"), &[outputs])?,
            bf16: None,
            inputs,
            outputs,
        })
    }
}

impl PackedBert {
    /// Takes the weights of a BERT checkpoint (names as in Hugging Face's `BertModel`, optionally under `bert.` or
    /// `{model_type}.`). Refuses what the packed forward does not implement (an activation other than exact GELU,
    /// relative position embeddings). With `bf16`, the linear layers multiply bf16-rounded weights and activations
    /// (f32 sums; `cpu::bf16`); embeddings, attention, norms and GELU stay f32.
    pub fn new(config: &BertConfig, tensors: &HashMap<String, Tensor>, bf16: bool) -> Result<Self, LoadError> {
        config.check()?;
        config.packed_support().map_err(|e| format!("the packed CPU forward: {e}"))?;
        let (h, i) = (config.hidden_size, config.intermediate_size);
        let mut prefixes = vec![String::new(), "bert.".to_string()];
        prefixes.extend(config.model_type.iter().map(|m| format!("{m}.")));
        let prefix = prefixes
            .into_iter()
            .find(|p| tensors.contains_key(&format!("{p}embeddings.word_embeddings.weight")))
            .ok_or("no tensor embeddings.word_embeddings.weight (nor under bert.)")?;
        // The layer count is checked against the weights before it sizes anything.
        let n = config.num_hidden_layers;
        let has_layer = |l: usize| tensors.contains_key(&format!("{prefix}encoder.layer.{l}.output.dense.weight"));
        if n == 0 || !has_layer(n - 1) || has_layer(n) {
            return Err(format!("num_hidden_layers is {n}, but the weights hold another number of layers"));
        }
        let t = Tensors { map: tensors, prefix };
        let mut layers = Vec::with_capacity(n);
        for l in 0..config.num_hidden_layers {
            let p = format!("encoder.layer.{l}");
            let (q, k, v) = (
                t.linear(&format!("{p}.attention.self.query"), h, h)?,
                t.linear(&format!("{p}.attention.self.key"), h, h)?,
                t.linear(&format!("{p}.attention.self.value"), h, h)?,
            );
            let qkv = Linear {
                weight: [q.weight, k.weight, v.weight].concat(),
                bias: [q.bias, k.bias, v.bias].concat(),
                bf16: None,
                inputs: h,
                outputs: 3 * h,
            };
            let mut layer = Layer {
                qkv,
                attention_out: t.linear(&format!("{p}.attention.output.dense"), h, h)?,
                attention_norm: t.norm(&format!("{p}.attention.output.LayerNorm"), h)?,
                up: t.linear(&format!("{p}.intermediate.dense"), h, i)?,
                down: t.linear(&format!("{p}.output.dense"), i, h)?,
                output_norm: t.norm(&format!("{p}.output.LayerNorm"), h)?,
            };
            if bf16 {
                layer.qkv = layer.qkv.into_bf16();
                layer.attention_out = layer.attention_out.into_bf16();
                layer.up = layer.up.into_bf16();
                layer.down = layer.down.into_bf16();
            }
            layers.push(layer);
        }
        Ok(PackedBert {
            word: t.get("embeddings.word_embeddings.weight", &[config.vocab_size, h])?,
            position: t.get("embeddings.position_embeddings.weight", &[config.max_position_embeddings, h])?,
            token_type: t.get("embeddings.token_type_embeddings.weight", &[config.type_vocab_size, h])?,
            embedding_norm: t.norm("embeddings.LayerNorm", h)?,
            layers,
            hidden: h,
            heads: config.num_attention_heads,
            eps: config.layer_norm_eps as f32,
            vocab: config.vocab_size,
            max_positions: config.max_position_embeddings,
            scratch: Mutex::default(),
        })
    }

    /// Pooled hidden states (`seqs.len() × hidden`, not normalised) of token-id sequences (token type 0), each
    /// 1 to `max_position_embeddings` tokens of the vocabulary (checked before anything is allocated).
    pub fn forward<S: AsRef<[u32]>>(&self, seqs: &[S], pooling: Pooling) -> Result<Vec<f32>, BatchError> {
        let batch = PackedBatch::new(seqs, self.max_positions, self.vocab)?;
        let (h, rows, offsets) = (self.hidden, batch.rows(), batch.offsets());
        let mut x = vec![0f32; rows * h];
        for (row, pos, id) in batch.tokens() {
            let id = id as usize;
            let dst = &mut x[row * h..(row + 1) * h];
            let (w, p) = (&self.word[id * h..(id + 1) * h], &self.position[pos * h..(pos + 1) * h]);
            for j in 0..h {
                dst[j] = w[j] + p[j] + self.token_type[j];
            }
        }
        let n = &self.embedding_norm;
        ops::layer_norm(&mut x, h, &n.weight, &n.bias, self.eps);

        let inter = self.layers.first().map_or(0, |l| l.up.outputs);
        let mut scratch = self.scratch.lock().unwrap_or_else(|e| e.into_inner());
        let Scratch { qkv, context, up } = &mut *scratch;
        // Every element is written before it is read (linear layers fill their output, attention every column).
        qkv.resize(rows * 3 * h, 0.0);
        context.resize(rows * h, 0.0);
        up.resize(rows * inter, 0.0);
        let (qkv, context, up) = (&mut qkv[..rows * 3 * h], &mut context[..rows * h], &mut up[..rows * inter]);
        for layer in &self.layers {
            layer.qkv.forward(&x, qkv, false);
            let all = MatView::row_major(qkv, rows, 3 * h);
            let (q, k, v) = (all.columns(0, h), all.columns(h, h), all.columns(2 * h, h));
            let heads = Heads { query: self.heads, kv: self.heads, dim: h / self.heads, causal: false };
            attention(q, k, v, offsets, heads, context);
            // x ← LayerNorm(x + context · Woᵀ + bo)
            layer.attention_out.forward(context, &mut x, true);
            ops::layer_norm(&mut x, h, &layer.attention_norm.weight, &layer.attention_norm.bias, self.eps);
            layer.up.forward(&x, up, false);
            ops::gelu(up);
            layer.down.forward(up, &mut x, true);
            ops::layer_norm(&mut x, h, &layer.output_norm.weight, &layer.output_norm.bias, self.eps);
        }
        Ok(pool_packed(&x, &batch, h, pooling))
    }
}
