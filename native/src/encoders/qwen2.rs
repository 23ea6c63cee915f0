//! Qwen2 (Qwen2.5 base/instruct/coder/math, DeepSeek-R1-Distill-Qwen, and the text path of Qwen2.5-VL) as a
//! retriever backbone: the decoder stack up to the final RMSNorm, for batches with left padding, a causal +
//! padding mask and per-row position ids (`cumsum(mask) - 1`). Weights are dense tensors or quantized GGUF
//! blocks behind one linear type; nothing here depends on where they came from.

use candle_core::quantized::QMatMul;
use candle_core::{D, DType, Device, Module, Tensor};
use serde::Deserialize;

use super::error::Result;

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
}

impl Linear {
    /// From a weight (`out × in`) and optional bias.
    pub fn new(weight: QMatMul, bias: Option<Tensor>) -> Self {
        Linear { weight, bias }
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let y = self.weight.forward(x)?;
        Ok(match &self.bias {
            Some(b) => y.broadcast_add(b)?,
            None => y,
        })
    }
}

/// RMSNorm computed in f32.
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
        let x = x.to_dtype(DType::F32)?;
        let var = x.sqr()?.mean_keepdim(D::Minus1)?;
        let x = x.broadcast_div(&(var + self.eps)?.sqrt()?)?;
        Ok(x.broadcast_mul(&self.weight.to_dtype(DType::F32)?)?.to_dtype(dtype)?)
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
}

impl Qwen2 {
    /// Final-norm hidden states at the last position of each row, `(batch, hidden)` in f32.
    ///
    /// `ids` is `(batch, seq)` left-padded; `mask` is 1 on tokens and 0 on pads (same shape).
    pub fn last_hidden<S: AsRef<[u32]>>(&self, ids: &[S], pad_id: u32) -> Result<Tensor> {
        let b = ids.len();
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
        for layer in &self.layers {
            x = self.layer_forward(layer, &x, &cos, &sin, &attn_mask)?;
        }
        let last = x.narrow(1, t - 1, 1)?.squeeze(1)?;
        Ok(self.norm.forward(&last)?.to_dtype(DType::F32)?)
    }

    /// cos/sin of shape `(batch, seq, head_dim/2)` for each row's own positions (rotate-half layout).
    fn rope_tables(&self, positions: &[u32], b: usize, t: usize) -> Result<(Tensor, Tensor)> {
        let half = self.cfg.head_dim() / 2;
        let (cos, sin) = rope_angles(positions, self.cfg.head_dim(), self.cfg.rope_base());
        let cos = Tensor::from_vec(cos, (b, t, half), &self.device)?.to_dtype(self.dtype)?;
        let sin = Tensor::from_vec(sin, (b, t, half), &self.device)?.to_dtype(self.dtype)?;
        Ok((cos, sin))
    }

    /// Additive mask `(batch, 1, seq, seq)`: 0 where query i may see key j (j ≤ i and j is a token), else the
    /// most negative float (not -inf, so that rows of pads stay finite, as in transformers). Kept in f32 whatever
    /// the model's dtype: f32::MIN would round to -inf in bf16 and turn rows of pads into NaN.
    fn attention_mask(&self, mask: &[u8], b: usize, t: usize) -> Result<Tensor> {
        let mut m = vec![0f32; b * t * t];
        for r in 0..b {
            let row = &mask[r * t..(r + 1) * t];
            for i in 0..t {
                for j in 0..t {
                    if j > i || row[j] == 0 {
                        m[(r * t + i) * t + j] = f32::MIN;
                    }
                }
            }
        }
        Ok(Tensor::from_vec(m, (b, 1, t, t), &self.device)?)
    }

    fn layer_forward(&self, l: &Layer, x: &Tensor, cos: &Tensor, sin: &Tensor, mask: &Tensor) -> Result<Tensor> {
        let (b, t, _) = x.dims3()?;
        let (nh, nkv, hd) = (self.cfg.num_attention_heads, self.cfg.num_key_value_heads, self.cfg.head_dim());
        let h = l.input_norm.forward(x)?;
        let q = l.q.forward(&h)?.reshape((b, t, nh, hd))?.transpose(1, 2)?.contiguous()?;
        let k = l.k.forward(&h)?.reshape((b, t, nkv, hd))?.transpose(1, 2)?.contiguous()?;
        let v = l.v.forward(&h)?.reshape((b, t, nkv, hd))?.transpose(1, 2)?.contiguous()?;
        let q = candle_nn::rotary_emb::rope(&q, cos, sin)?;
        let k = candle_nn::rotary_emb::rope(&k, cos, sin)?;
        let rep = nh / nkv;
        let k = repeat_kv(k, rep)?;
        let v = repeat_kv(v, rep)?;
        let scale = 1.0 / (hd as f64).sqrt();
        let scores = (q.matmul(&k.t()?)? * scale)?.to_dtype(DType::F32)?.broadcast_add(mask)?;
        let probs = candle_nn::ops::softmax_last_dim(&scores)?.to_dtype(self.dtype)?;
        let attn = probs.matmul(&v)?.transpose(1, 2)?.reshape((b, t, nh * hd))?;
        let x = (x + l.o.forward(&attn)?)?;
        let h = l.post_norm.forward(&x)?;
        let mlp = l.down.forward(&(candle_nn::ops::silu(&l.gate.forward(&h)?)? * l.up.forward(&h)?)?)?;
        Ok((x + mlp)?)
    }
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
