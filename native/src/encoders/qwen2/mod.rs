//! Qwen2 (Qwen2.5 base/instruct/coder/math, DeepSeek-R1-Distill-Qwen, and the text path of Qwen2.5-VL) as a
//! retriever backbone: the decoder stack up to the final RMSNorm, in candle ops for batches with left padding, a
//! causal + padding mask and per-row position ids (`cumsum(mask) - 1`) — the path of training, quantized weights,
//! f16 and CUDA — and, for inference on the CPU, the packed forward of `packed` on the same weights. Weights are
//! dense tensors or quantized GGUF blocks behind one linear type; nothing here depends on where they came from.

pub mod check;
mod packed;

use std::sync::{Mutex, OnceLock};

use candle_core::quantized::QMatMul;
use candle_core::{D, DType, Device, Module, Tensor};
use rayon::prelude::*;
use serde::Deserialize;

use super::cpu::bf16::Bf16Weights;
use super::cpu::ops;
use super::error::{ModelError, Result};
use super::lora::{Adapter, Target};

/// The parts of `config.json` (or GGUF metadata) the encoder needs.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Qwen2Config {
    /// Model width.
    pub hidden_size: usize,
    /// MLP width.
    pub intermediate_size: usize,
    /// Decoder layers.
    pub num_hidden_layers: usize,
    /// Query heads.
    pub num_attention_heads: usize,
    /// Key/value heads (grouped-query attention).
    pub num_key_value_heads: usize,
    /// RMSNorm epsilon.
    pub rms_norm_eps: f64,
    /// RoPE base (top level, or under `rope_parameters` in transformers 5 configs).
    #[serde(default)]
    pub rope_theta: Option<f64>,
    /// transformers 5 layout of the RoPE settings.
    #[serde(default)]
    pub rope_parameters: Option<serde_json::Value>,
    /// Vocabulary size.
    pub vocab_size: usize,
    /// The model family (`qwen2`; absent in some bare configs).
    #[serde(default)]
    pub model_type: Option<String>,
    /// The transformers classes the weights are for (`Qwen2ForCausalLM`, ...; absent in some configs).
    #[serde(default)]
    pub architectures: Option<Vec<String>>,
    /// The longest sequence the model was trained for (GGUF: `qwen2.context_length`); longer inputs are refused.
    #[serde(default)]
    pub max_position_embeddings: Option<usize>,
}

impl Qwen2Config {
    /// The RoPE base, wherever the config keeps it (default 10,000 as transformers).
    pub fn rope_base(&self) -> f64 {
        self.rope_theta
            .or_else(|| self.rope_parameters.as_ref().and_then(|p| p.get("rope_theta")).and_then(|v| v.as_f64()))
            .unwrap_or(10_000.0)
    }

    /// Per-head dimension.
    pub fn head_dim(&self) -> usize {
        self.hidden_size / self.num_attention_heads
    }
}

/// A linear layer whose weight is dense or quantized; optional bias.
#[derive(Debug)]
pub struct Linear {
    weight: QMatMul,
    bias: Option<Tensor>,
    /// A dense bf16 weight on the CPU in the panels of `cpu::bf16`, for the packed forward (made at load by
    /// `Qwen2::new`, or at first use after a LoRA merge).
    cpu_bf16: OnceLock<Bf16Weights>,
}

impl Linear {
    /// From a weight (`out × in`) and optional bias.
    pub fn new(weight: QMatMul, bias: Option<Tensor>) -> Self {
        Linear { weight, bias, cpu_bf16: OnceLock::new() }
    }

    /// The weight in bf16 panels, when it is dense bf16 on the CPU (made on the first call).
    fn cpu_bf16_panels(&self) -> Result<Option<&Bf16Weights>> {
        let Some(w) = self.dense_weight() else { return Ok(None) };
        if !w.device().is_cpu() || w.dtype() != DType::BF16 {
            return Ok(None);
        }
        if self.cpu_bf16.get().is_none() {
            let (out, inp) = w.dims2()?;
            let _ = self.cpu_bf16.set(Bf16Weights::new(&f32_values(w)?, inp, out));
        }
        Ok(self.cpu_bf16.get())
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        // Dense weights: one 2-D GEMM over all rows (candle's QMatMul would broadcast the weight into a batched
        // GEMM per sequence).
        let y = match self.dense_weight() {
            Some(w) => matmul_t(x, w)?,
            None => self.weight.forward(x)?,
        };
        Ok(match &self.bias {
            Some(b) => y.broadcast_add(b)?,
            None => y,
        })
    }

    /// The dense weight (`out × in`), or None when it is quantized.
    pub fn dense_weight(&self) -> Option<&Tensor> {
        match &self.weight {
            QMatMul::Tensor(w) | QMatMul::TensorF16(w) => Some(w),
            QMatMul::QTensor(_) => None,
        }
    }

    /// Replaces a dense weight by `w + delta` (LoRA merge); quantized weights cannot be merged.
    pub fn merge(&mut self, delta: &Tensor) -> Result<()> {
        let Some(w) = self.dense_weight() else {
            return Err(ModelError::Unsupported(
                "a LoRA adapter can only be merged into dense weights; use --gguf-weights dequantized, or leave the \
                 adapter unmerged"
                    .into(),
            ));
        };
        let merged = (w.to_dtype(DType::F32)? + delta.to_dtype(DType::F32)?)?.to_dtype(w.dtype())?;
        self.weight = QMatMul::Tensor(merged);
        self.cpu_bf16 = OnceLock::new();
        Ok(())
    }

    /// The projection in a pass: in differentiable passes a 2-D matmul (no broadcast of the frozen weight), plus
    /// the LoRA path `scale · B·A·dropout(x)` when the pass carries an adapter for this projection.
    fn forward_in(&self, x: &Tensor, pass: &Pass<'_>, pads: &[usize], layer: usize, target: Target) -> Result<Tensor> {
        let y = match (pass.differentiable, self.dense_weight()) {
            (true, Some(w)) => {
                let y = super::frozen::frozen_matmul_t(x, w)?;
                match &self.bias {
                    Some(b) => y.broadcast_add(b)?,
                    None => y,
                }
            }
            _ => self.forward(x)?,
        };
        let Some(adapter) = pass.adapter else { return Ok(y) };
        let Some(pair) = adapter.layers.get(layer).and_then(|l| l[target.index()].as_ref()) else { return Ok(y) };
        let x = match pass.dropout_seeds {
            Some(seeds) if adapter.cfg.dropout > 0.0 => {
                let stream = (layer * Target::ALL.len() + target.index()) as u64;
                dropout(x, adapter.cfg.dropout, seeds, pads, stream)?
            }
            _ => x.clone(),
        };
        let low = matmul_t(&x, &pair.a.to_dtype(x.dtype())?)?;
        let delta = matmul_t(&low, &pair.b.to_dtype(x.dtype())?)?;
        Ok((y + (delta * adapter.cfg.scale())?)?)
    }
}

/// A tensor's values as a vector of f32 (row-major).
fn f32_values(t: &Tensor) -> Result<Vec<f32>> {
    Ok(t.to_dtype(DType::F32)?.flatten_all()?.to_vec1::<f32>()?)
}

/// Softmax over the last dimension for inference: on the CPU in f32 the vectorised rows of `cpu::ops`
/// (candle's CPU kernel calls the scalar `expf` per element), elsewhere candle's fused kernel.
fn softmax_last_dim(scores: &Tensor) -> Result<Tensor> {
    if !scores.device().is_cpu() || scores.dtype() != DType::F32 {
        return Ok(candle_nn::ops::softmax_last_dim(scores)?);
    }
    let width = scores.dim(D::Minus1)?;
    let mut v = scores.flatten_all()?.to_vec1::<f32>()?;
    v.par_chunks_mut(width).for_each(ops::softmax);
    Ok(Tensor::from_vec(v, scores.dims(), scores.device())?)
}

/// `x · wᵀ` with `x` of shape `(..., in)` flattened to 2-D, `w` of shape `(out, in)`.
fn matmul_t(x: &Tensor, w: &Tensor) -> Result<Tensor> {
    let dims = x.dims().to_vec();
    let inner = dims[dims.len() - 1];
    let rows = x.elem_count() / inner;
    let y = x.reshape((rows, inner))?.matmul(&w.t()?)?;
    let mut out_dims = dims;
    *out_dims.last_mut().expect("x has a last dimension") = w.dim(0)?;
    Ok(y.reshape(out_dims)?)
}

/// Inverted dropout on `x` `(batch, seq, in)` of left-padded rows: row `r`'s mask over its last
/// `seq - pads[r]` positions is drawn from ChaCha8(`seeds[r]`, stream `stream`). A sequence thus gets the same mask
/// whatever batch or chunk it is in, and a recomputed forward (chunked backward, resumed run) sees exactly the
/// dropout the first one saw.
///
/// On a GPU the masks are drawn there instead (a 7B model needs billions per step): the device generator is
/// seeded from all rows' seeds and the stream, so a recomputed forward over the same chunk sees the same mask,
/// but the mask depends on how rows are grouped into chunks.
fn dropout(x: &Tensor, p: f32, seeds: &[u64], pads: &[usize], stream: u64) -> Result<Tensor> {
    use rand::{Rng, SeedableRng};
    let (b, t, inner) = x.dims3()?;
    let keep = 1.0 / (1.0 - p);
    if !x.device().is_cpu() {
        let seed = seeds.iter().fold(stream.wrapping_mul(0x9E37_79B9_7F4A_7C15), |h, &s| {
            (h ^ s).wrapping_mul(0xBF58_476D_1CE4_E5B9).rotate_left(31)
        });
        x.device().set_seed(seed)?;
        let u = Tensor::rand(0f32, 1f32, (b, t, inner), x.device())?;
        let mask = (u.ge(f64::from(p))?.to_dtype(x.dtype())? * f64::from(keep))?;
        return Ok(x.mul(&mask)?);
    }
    let mut mask = vec![1f32; b * t * inner];
    for r in 0..b {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seeds[r]);
        rng.set_stream(stream);
        for m in &mut mask[(r * t + pads[r]) * inner..(r + 1) * t * inner] {
            *m = if rng.random::<f32>() < p { 0.0 } else { keep };
        }
    }
    let mask = Tensor::from_vec(mask, (b, t, inner), x.device())?.to_dtype(x.dtype())?;
    Ok(x.mul(&mask)?)
}

/// How a forward pass runs: plain inference, or with a LoRA adapter, differentiable ops and dropout (training).
#[derive(Debug, Clone, Copy, Default)]
pub struct Pass<'a> {
    /// LoRA adapter applied unmerged.
    pub adapter: Option<&'a Adapter>,
    /// Only ops candle can differentiate (composed softmax and RoPE instead of fused kernels).
    pub differentiable: bool,
    /// One seed per row for the LoRA dropout masks; None = no dropout (inference).
    pub dropout_seeds: Option<&'a [u64]>,
}

/// The dtype norms, softmax and the returned hidden states are computed in: f64 for f64 models (gradient
/// checks), f32 otherwise.
fn compute_dtype(dtype: DType) -> DType {
    if dtype == DType::F64 { DType::F64 } else { DType::F32 }
}

/// RMSNorm computed in f32 (f64 for f64 models).
#[derive(Debug)]
pub struct RmsNorm {
    weight: Tensor,
    eps: f64,
}

impl RmsNorm {
    /// From its weight.
    pub fn new(weight: Tensor, eps: f64) -> Self {
        RmsNorm { weight, eps }
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let dtype = x.dtype();
        let cd = compute_dtype(dtype);
        let x = x.to_dtype(cd)?;
        let var = x.sqr()?.mean_keepdim(D::Minus1)?;
        let x = x.broadcast_div(&(var + self.eps)?.sqrt()?)?;
        Ok(x.broadcast_mul(&self.weight.to_dtype(cd)?)?.to_dtype(dtype)?)
    }
}

/// One decoder layer's weights.
#[derive(Debug)]
pub struct Layer {
    /// Pre-attention norm.
    pub input_norm: RmsNorm,
    /// q, k, v projections (with bias) and output projection.
    pub q: Linear,
    /// Key projection.
    pub k: Linear,
    /// Value projection.
    pub v: Linear,
    /// Output projection.
    pub o: Linear,
    /// Pre-MLP norm.
    pub post_norm: RmsNorm,
    /// SwiGLU MLP.
    pub gate: Linear,
    /// Up projection.
    pub up: Linear,
    /// Down projection.
    pub down: Linear,
}

/// The decoder stack.
#[derive(Debug)]
pub struct Qwen2 {
    /// Configuration.
    pub cfg: Qwen2Config,
    /// Token embeddings (`vocab × hidden`, dense).
    pub embed: Tensor,
    /// Layers.
    pub layers: Vec<Layer>,
    /// Final norm.
    pub norm: RmsNorm,
    /// Activation dtype.
    pub dtype: DType,
    /// Device.
    pub device: Device,
    /// Which forward pass inference on the CPU runs (default: packed, where it applies).
    pub cpu_forward: CpuForward,
    /// The packed forward's activation buffers.
    scratch: Mutex<packed::Scratch>,
}

/// The two implementations of Qwen2's inference forward on the CPU.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CpuForward {
    /// Padding-free, f32 or bf16 dense weights, optional unmerged LoRA (`packed`); other cases fall back to candle.
    Packed,
    /// candle ops over the left-padded batch (the path of training, quantized weights, f16 and CUDA).
    Candle,
}

impl Qwen2 {
    /// A model from its parts (packed CPU forward by default). A bf16 model on the CPU gets its projections'
    /// bf16 panels here, at load, rather than in its first batch.
    pub fn new(
        cfg: Qwen2Config,
        embed: Tensor,
        layers: Vec<Layer>,
        norm: RmsNorm,
        dtype: DType,
        device: Device,
    ) -> Result<Self> {
        if device.is_cpu() && dtype == DType::BF16 {
            layers
                .par_iter()
                .flat_map(|l| [&l.q, &l.k, &l.v, &l.o, &l.gate, &l.up, &l.down])
                .try_for_each(|lin| lin.cpu_bf16_panels().map(drop))?;
        }
        Ok(Qwen2 {
            cfg,
            embed,
            layers,
            norm,
            dtype,
            device,
            cpu_forward: CpuForward::Packed,
            scratch: Mutex::default(),
        })
    }

    /// Final-norm hidden states at the last token of each sequence, `(batch, hidden)` in f32: the packed CPU forward
    /// where it applies (`packed::applies`), else candle's over the sequences left-padded with `pad_id`.
    pub fn last_hidden<S: AsRef<[u32]>>(&self, ids: &[S], pad_id: u32) -> Result<Tensor> {
        self.last_hidden_in(ids, pad_id, &Pass::default())
    }

    /// [`Qwen2::last_hidden`] in a given pass (adapter, differentiable ops, dropout); f64 for f64 models.
    pub fn last_hidden_in<S: AsRef<[u32]>>(&self, ids: &[S], pad_id: u32, pass: &Pass<'_>) -> Result<Tensor> {
        let b = ids.len();
        if packed::applies(self, pass) {
            let hidden = packed::last_hidden(self, ids, pass.adapter)?;
            return Ok(Tensor::from_vec(hidden, (b, self.cfg.hidden_size), &self.device)?);
        }
        let t = ids.iter().map(|r| r.as_ref().len()).max().unwrap_or(0);
        let mut flat_ids = Vec::with_capacity(b * t);
        let mut mask = Vec::with_capacity(b * t);
        let mut positions = Vec::with_capacity(b * t);
        for row in ids {
            let row = row.as_ref();
            let pad = t - row.len();
            flat_ids.extend(std::iter::repeat_n(pad_id, pad).chain(row.iter().copied()));
            mask.extend(std::iter::repeat_n(0u8, pad).chain(std::iter::repeat_n(1u8, row.len())));
            // transformers' generate(): cumsum(mask) - 1, pads set to 1.
            positions.extend(std::iter::repeat_n(1u32, pad).chain(0..row.len() as u32));
        }
        let dev = &self.device;
        let ids_t = Tensor::from_vec(flat_ids, (b, t), dev)?;
        let mut x =
            self.embed.embedding(&ids_t.flatten_all()?)?.reshape((b, t, self.cfg.hidden_size))?.to_dtype(self.dtype)?;
        let (cos, sin) = self.rope_tables(&positions, b, t)?;
        let attn_mask = self.attention_mask(&mask, b, t)?;
        if pass.dropout_seeds.is_some_and(|s| s.len() != b) {
            return Err(ModelError::Unsupported(format!("{b} rows but a different number of dropout seeds")));
        }
        let pads: Vec<usize> = ids.iter().map(|r| t - r.as_ref().len()).collect();
        for (i, layer) in self.layers.iter().enumerate() {
            x = self.layer_forward(layer, &x, &cos, &sin, &attn_mask, pass, &pads, i)?;
        }
        let last = x.narrow(1, t - 1, 1)?.squeeze(1)?;
        Ok(self.norm.forward(&last)?.to_dtype(compute_dtype(self.dtype))?)
    }

    /// cos/sin of shape `(batch, seq, head_dim/2)` for each row's own positions (rotate-half layout).
    fn rope_tables(&self, positions: &[u32], b: usize, t: usize) -> Result<(Tensor, Tensor)> {
        let half = self.cfg.head_dim() / 2;
        let (cos, sin) = rope_angles(positions, self.cfg.head_dim(), self.cfg.rope_base());
        let cos = Tensor::from_vec(cos, (b, t, half), &self.device)?.to_dtype(self.dtype)?;
        let sin = Tensor::from_vec(sin, (b, t, half), &self.device)?.to_dtype(self.dtype)?;
        Ok((cos, sin))
    }

    /// Additive mask `(batch, 1, seq, seq)`: 0 where query i may see key j (j ≤ i and j is a token), else very
    /// negative (finite, so that rows of pads stay finite, as in transformers). Built on the device as causal
    /// `(seq, seq)` + key padding `(batch, seq)`, each half of f32::MIN so that their sum stays finite: only
    /// `seq² + batch·seq` numbers cross from the host. Kept in f32 (f64 for f64 models) whatever the model's
    /// dtype: f32::MIN would round to -inf in bf16 and turn rows of pads into NaN.
    fn attention_mask(&self, mask: &[u8], b: usize, t: usize) -> Result<Tensor> {
        const MASKED: f32 = f32::MIN / 2.0;
        let causal: Vec<f32> = (0..t * t).map(|ij| if ij % t > ij / t { MASKED } else { 0.0 }).collect();
        let keys: Vec<f32> = mask.iter().map(|&m| if m == 0 { MASKED } else { 0.0 }).collect();
        let cd = compute_dtype(self.dtype);
        let causal = Tensor::from_vec(causal, (1, 1, t, t), &self.device)?.to_dtype(cd)?;
        let keys = Tensor::from_vec(keys, (b, 1, 1, t), &self.device)?.to_dtype(cd)?;
        Ok(causal.broadcast_add(&keys)?)
    }

    #[allow(clippy::too_many_arguments)]
    fn layer_forward(
        &self,
        l: &Layer,
        x: &Tensor,
        cos: &Tensor,
        sin: &Tensor,
        mask: &Tensor,
        pass: &Pass<'_>,
        pads: &[usize],
        i: usize,
    ) -> Result<Tensor> {
        let (b, t, _) = x.dims3()?;
        let (nh, nkv, hd) = (self.cfg.num_attention_heads, self.cfg.num_key_value_heads, self.cfg.head_dim());
        let cd = compute_dtype(self.dtype);
        let h = l.input_norm.forward(x)?;
        let q = l.q.forward_in(&h, pass, pads, i, Target::Q)?.reshape((b, t, nh, hd))?.transpose(1, 2)?.contiguous()?;
        let k =
            l.k.forward_in(&h, pass, pads, i, Target::K)?.reshape((b, t, nkv, hd))?.transpose(1, 2)?.contiguous()?;
        let v =
            l.v.forward_in(&h, pass, pads, i, Target::V)?.reshape((b, t, nkv, hd))?.transpose(1, 2)?.contiguous()?;
        let (q, k) = if pass.differentiable {
            (rope_composed(&q, cos, sin)?, rope_composed(&k, cos, sin)?)
        } else {
            (candle_nn::rotary_emb::rope(&q, cos, sin)?, candle_nn::rotary_emb::rope(&k, cos, sin)?)
        };
        let rep = nh / nkv;
        let scale = 1.0 / (hd as f64).sqrt();
        let scores = if self.dtype == cd {
            (q.matmul(&repeat_kv(k, rep)?.t()?)? * scale)?
        } else {
            // bf16/f16 models: scores from the half-precision q and k, but kept in f32 as fused attention kernels
            // keep them, instead of rounding the logits to bf16 before the softmax (on the H100's 7B-shape check,
            // drbench bf16 ends at cosine 0.9982 to f32, PyTorch sdpa bf16 at 0.9980).
            (q.to_dtype(cd)? * scale)?.matmul(&repeat_kv(k.to_dtype(cd)?, rep)?.t()?)?
        };
        let scores = scores.broadcast_add(mask)?;
        let v = repeat_kv(v, rep)?;
        let probs =
            if pass.differentiable { candle_nn::ops::softmax(&scores, D::Minus1)? } else { softmax_last_dim(&scores)? };
        let probs = probs.to_dtype(self.dtype)?;
        let attn = probs.matmul(&v)?.transpose(1, 2)?.reshape((b, t, nh * hd))?;
        let x = (x + l.o.forward_in(&attn, pass, pads, i, Target::O)?)?;
        let h = l.post_norm.forward(&x)?;
        let gate = candle_nn::ops::silu(&l.gate.forward_in(&h, pass, pads, i, Target::Gate)?)?;
        let mlp = l.down.forward_in(
            &(gate * l.up.forward_in(&h, pass, pads, i, Target::Up)?)?,
            pass,
            pads,
            i,
            Target::Down,
        )?;
        Ok((x + mlp)?)
    }

    /// Merges `adapter` into the dense weights (then no adapter is needed at inference).
    pub fn merge_adapter(&mut self, adapter: &Adapter) -> Result<()> {
        for (i, l) in self.layers.iter_mut().enumerate() {
            for target in Target::ALL {
                if let Some(delta) = adapter.delta(i, target)? {
                    let lin = match target {
                        Target::Q => &mut l.q,
                        Target::K => &mut l.k,
                        Target::V => &mut l.v,
                        Target::O => &mut l.o,
                        Target::Gate => &mut l.gate,
                        Target::Up => &mut l.up,
                        Target::Down => &mut l.down,
                    };
                    lin.merge(&delta)?;
                }
            }
        }
        Ok(())
    }

    /// Whether every projection weight is dense (training needs gradients through them; quantized matmuls have
    /// no backward).
    pub fn is_dense(&self) -> bool {
        self.layers
            .iter()
            .all(|l| [&l.q, &l.k, &l.v, &l.o, &l.gate, &l.up, &l.down].iter().all(|lin| lin.dense_weight().is_some()))
    }

    /// The `(out, in)` shape of layer projections, for building adapters.
    pub fn projection_shape(&self, target: Target) -> (usize, usize) {
        let (h, m) = (self.cfg.hidden_size, self.cfg.intermediate_size);
        let kv = self.cfg.num_key_value_heads * self.cfg.head_dim();
        match target {
            Target::Q | Target::O => (h, h),
            Target::K | Target::V => (kv, h),
            Target::Gate | Target::Up => (m, h),
            Target::Down => (h, m),
        }
    }
}

/// RoPE from differentiable ops (rotate-half layout): `x·cos + rotate_half(x)·sin`, with per-row tables
/// `(batch, seq, head_dim/2)` broadcast over heads.
fn rope_composed(x: &Tensor, cos: &Tensor, sin: &Tensor) -> Result<Tensor> {
    let cos = Tensor::cat(&[cos, cos], D::Minus1)?.unsqueeze(1)?;
    let sin = Tensor::cat(&[sin, sin], D::Minus1)?.unsqueeze(1)?;
    let half = x.dim(D::Minus1)? / 2;
    let rotated = Tensor::cat(&[&x.narrow(D::Minus1, half, half)?.neg()?, &x.narrow(D::Minus1, 0, half)?], D::Minus1)?;
    Ok((x.broadcast_mul(&cos)? + rotated.broadcast_mul(&sin)?)?)
}

/// Inverse frequencies of RoPE, as transformers computes them.
fn inv_freq(head_dim: usize, base: f64) -> Vec<f32> {
    (0..head_dim / 2).map(|i| (1.0 / base.powf((2 * i) as f64 / head_dim as f64)) as f32).collect()
}

/// cos and sin of `position × inv_freq` (f32, as transformers), `positions.len() × head_dim/2` each.
pub fn rope_angles(positions: &[u32], head_dim: usize, base: f64) -> (Vec<f32>, Vec<f32>) {
    let inv = inv_freq(head_dim, base);
    let mut cos = Vec::with_capacity(positions.len() * inv.len());
    let mut sin = Vec::with_capacity(positions.len() * inv.len());
    for &p in positions {
        for &f in &inv {
            let angle = p as f32 * f;
            cos.push(angle.cos());
            sin.push(angle.sin());
        }
    }
    (cos, sin)
}

/// Qwen2.5-VL's multimodal RoPE: the frequency slots are split into sections (`mrope_section`, e.g. [16, 24, 24])
/// that take their position from the temporal, height and width position ids respectively.
pub fn mrope_angles(
    t: &[u32],
    h: &[u32],
    w: &[u32],
    sections: &[usize],
    head_dim: usize,
    base: f64,
) -> (Vec<f32>, Vec<f32>) {
    let inv = inv_freq(head_dim, base);
    let mut owner = Vec::with_capacity(inv.len());
    for (s, &n) in sections.iter().enumerate() {
        owner.extend(std::iter::repeat_n(s % 3, n));
    }
    owner.resize(inv.len(), 0);
    let mut cos = Vec::with_capacity(t.len() * inv.len());
    let mut sin = Vec::with_capacity(t.len() * inv.len());
    for i in 0..t.len() {
        for (j, &f) in inv.iter().enumerate() {
            let p = [t[i], h[i], w[i]][owner[j]];
            let angle = p as f32 * f;
            cos.push(angle.cos());
            sin.push(angle.sin());
        }
    }
    (cos, sin)
}

fn repeat_kv(x: Tensor, n: usize) -> Result<Tensor> {
    if n == 1 {
        return Ok(x);
    }
    let (b, kv, t, d) = x.dims4()?;
    Ok(x.unsqueeze(2)?.expand((b, kv, n, t, d))?.reshape((b, kv * n, t, d))?)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// For text, Qwen2.5-VL gives every token the same temporal, height and width position, so its multimodal
    /// RoPE is exactly the ordinary RoPE the text path uses.
    #[test]
    fn mrope_with_equal_position_ids_is_ordinary_rope() {
        let positions: Vec<u32> = (0..300).collect();
        let (c1, s1) = rope_angles(&positions, 128, 1e6);
        let (c2, s2) = mrope_angles(&positions, &positions, &positions, &[16, 24, 24], 128, 1e6);
        assert_eq!((c1, s1), (c2, s2));
        // With different image positions the tables do differ (the test can fail).
        let h: Vec<u32> = positions.iter().map(|p| p / 2).collect();
        let (c3, _) = mrope_angles(&positions, &h, &positions, &[16, 24, 24], 128, 1e6);
        assert_ne!(rope_angles(&positions, 128, 1e6).0, c3);
    }
}
