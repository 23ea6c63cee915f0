//! The BERT encoder on the CPU (WebAssembly SIMD in the browser, plain Rust natively) from the same int8 weight
//! file as the wgpu encoder: integer matmuls (int16-quantized activations × int8 weights, see [`super::gemm`]),
//! f32 everywhere else; sequences are packed without padding, so no work is spent on pad tokens.

use drbench_harness::bert::{Pooling, pool_packed};
use drbench_harness::encoder::l2_normalize_rows;
use drbench_harness::packed::PackedBatch;

use crate::bert_weights::{BertShape, BertWeights, layer_names};
use crate::error::GpuError;

use super::gemm::{Epilogue, PackedLinear, QuantizedRows};
use super::simd::axpy;

/// gamma and beta of a LayerNorm.
#[derive(Debug)]
struct Norm {
    gamma: Vec<f32>,
    beta: Vec<f32>,
}

impl Norm {
    fn load(w: &BertWeights, prefix: &str) -> Result<Norm, GpuError> {
        let (gamma, beta) = w.norm(prefix)?;
        Ok(Norm { gamma: gamma.to_vec(), beta: beta.to_vec() })
    }

    /// Normalises every `width`-long row of `x` into `out`.
    fn apply(&self, x: &[f32], eps: f32, out: &mut [f32]) {
        let width = self.gamma.len();
        for (row, dst) in x.chunks_exact(width).zip(out.chunks_exact_mut(width)) {
            let mean = row.iter().sum::<f32>() / width as f32;
            let var = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / width as f32;
            let inv = 1.0 / (var + eps).sqrt();
            for (((d, v), g), b) in dst.iter_mut().zip(row).zip(&self.gamma).zip(&self.beta) {
                *d = (v - mean) * inv * g + b;
            }
        }
    }
}

#[derive(Debug)]
struct Layer {
    /// q, k and v stacked: one product of width 3·hidden.
    qkv: PackedLinear,
    o: PackedLinear,
    attn_norm: Norm,
    up: PackedLinear,
    down: PackedLinear,
    out_norm: Norm,
}

/// The encoder: int16 weight panels in memory.
#[derive(Debug)]
pub struct CpuBert {
    shape: BertShape,
    /// Word embeddings stay int8 (most of the file), dequantized per token.
    word: Vec<i8>,
    word_scales: Vec<f32>,
    /// Position embeddings plus token type 0 (BERT's single-segment input), dequantized.
    position_and_type: Vec<f32>,
    embed_norm: Norm,
    layers: Vec<Layer>,
    pooling: Pooling,
    /// The weight file's `max_seq_length` (sentence-transformers truncation, special tokens included).
    pub max_seq_length: usize,
    /// Bytes of the weight file.
    pub weight_bytes: usize,
}

fn linear(w: &BertWeights, prefix: &str, rows: usize, cols: usize) -> Result<PackedLinear, GpuError> {
    PackedLinear::new(w.int8(&format!("{prefix}.weight"), rows, cols)?, w.f32s(&format!("{prefix}.bias"), rows)?)
}

impl CpuBert {
    /// Loads a BERT from the bytes of a drbench int8 weight file (checksum verified).
    pub fn from_bytes(bytes: &[u8]) -> Result<CpuBert, GpuError> {
        let w = BertWeights::from_bytes(bytes)?;
        let shape = w.shape.clone();
        let (h, m) = (shape.hidden, shape.intermediate);
        let (vocab, positions, types) = w.embedding_rows()?;
        let word = w.int8("embeddings.word_embeddings.weight", vocab, h)?;
        let position = w.int8("embeddings.position_embeddings.weight", positions, h)?;
        let token_type = w.int8("embeddings.token_type_embeddings.weight", types, h)?;
        if types == 0 {
            return Err(GpuError::Model("embeddings.token_type_embeddings.weight has no rows".into()));
        }
        let mut position_and_type = Vec::with_capacity(positions * h);
        for (row, s) in position.q.chunks_exact(h).zip(position.scales) {
            let type0 = token_type.q[..h].iter().map(|&q| f32::from(q) * token_type.scales[0]);
            position_and_type.extend(row.iter().zip(type0).map(|(&q, t)| f32::from(q) * s + t));
        }
        let mut layers = Vec::with_capacity(shape.layers);
        for i in 0..shape.layers {
            let [q, k, v, o, attn_norm, up, down, out_norm] = layer_names(i);
            let part = |p: &str| -> Result<_, GpuError> {
                Ok((w.int8(&format!("{p}.weight"), h, h)?, w.f32s(&format!("{p}.bias"), h)?))
            };
            layers.push(Layer {
                qkv: PackedLinear::stack(&[part(&q)?, part(&k)?, part(&v)?])?,
                o: linear(&w, &o, h, h)?,
                attn_norm: Norm::load(&w, &attn_norm)?,
                up: linear(&w, &up, m, h)?,
                down: linear(&w, &down, h, m)?,
                out_norm: Norm::load(&w, &out_norm)?,
            });
        }
        Ok(CpuBert {
            word: word.q.to_vec(),
            word_scales: word.scales.to_vec(),
            position_and_type,
            embed_norm: Norm::load(&w, "embeddings.LayerNorm")?,
            layers,
            pooling: w.pooling,
            max_seq_length: w.max_seq_length,
            weight_bytes: bytes.len(),
            shape,
        })
    }

    /// Embedding width.
    pub fn dim(&self) -> usize {
        self.shape.hidden
    }

    /// Embeddings of one batch of token id sequences (each with its special tokens, at most `max_seq_length`
    /// long), `batch × dim` row-major, pooled and (if `normalize`) L2-normalised.
    pub fn embed_batch<S: AsRef<[u32]>>(&self, batch: &[S], normalize: bool) -> Result<Vec<f32>, GpuError> {
        let packed = PackedBatch::new(batch, self.max_seq_length, self.word_scales.len())
            .map_err(|e| GpuError::Model(e.to_string()))?;
        let lens: Vec<usize> = packed.ranges().map(|r| r.len()).collect();
        let (h, eps) = (self.shape.hidden, self.shape.eps);
        let rows = packed.rows();
        let mut x = vec![0f32; rows * h];
        let mut tmp = vec![0f32; rows * h];
        for (row, p, id) in packed.tokens() {
            let (id, s) = (id as usize, self.word_scales[id as usize]);
            let word = &self.word[id * h..(id + 1) * h];
            let pos = &self.position_and_type[p * h..(p + 1) * h];
            for ((d, &q), &pt) in tmp[row * h..(row + 1) * h].iter_mut().zip(word).zip(pos) {
                *d = f32::from(q) * s + pt;
            }
        }
        self.embed_norm.apply(&tmp, eps, &mut x);
        let mut qkv = vec![0f32; rows * 3 * h];
        let mut ctx = vec![0f32; rows * h];
        let mut inter = vec![0f32; rows * self.shape.intermediate];
        let s = &mut QuantizedRows::default();
        for l in &self.layers {
            l.qkv.forward(&x, rows, Epilogue::None, &mut qkv, s);
            self.attention(&qkv, &lens, &mut ctx);
            l.o.forward(&ctx, rows, Epilogue::Residual(&x), &mut tmp, s);
            l.attn_norm.apply(&tmp, eps, &mut x);
            l.up.forward(&x, rows, Epilogue::Gelu, &mut inter, s);
            l.down.forward(&inter, rows, Epilogue::Residual(&x), &mut tmp, s);
            l.out_norm.apply(&tmp, eps, &mut x);
        }
        let mut pooled = pool_packed(&x, &packed, h, self.pooling);
        if normalize {
            l2_normalize_rows(&mut pooled, h);
        }
        Ok(pooled)
    }

    /// Softmax attention of every sequence with itself (no mask: sequences are packed without padding).
    /// `qkv` rows are `[q | k | v]`, each `hidden` wide, heads side by side.
    fn attention(&self, qkv: &[f32], lens: &[usize], ctx: &mut [f32]) {
        let (h, heads, hd) = (self.shape.hidden, self.shape.heads, self.shape.head_dim());
        let scale = 1.0 / (hd as f32).sqrt();
        let mut start = 0;
        let mut kt = Vec::new();
        let mut scores = Vec::new();
        for &t in lens {
            let row = |i: usize| &qkv[(start + i) * 3 * h..(start + i + 1) * 3 * h];
            for head in 0..heads {
                let off = head * hd;
                // kᵀ of this head (`hd × t`), so that a query's scores are `hd` vector updates of length t.
                kt.clear();
                kt.resize(hd * t, 0.0);
                for j in 0..t {
                    for (d, &v) in row(j)[h + off..h + off + hd].iter().enumerate() {
                        kt[d * t + j] = v;
                    }
                }
                for i in 0..t {
                    scores.clear();
                    scores.resize(t, 0.0);
                    for (d, &q) in row(i)[off..off + hd].iter().enumerate() {
                        axpy(q * scale, &kt[d * t..(d + 1) * t], &mut scores);
                    }
                    let max = scores.iter().fold(f32::NEG_INFINITY, |m, &s| m.max(s));
                    let mut sum = 0.0;
                    for s in scores.iter_mut() {
                        *s = (*s - max).exp();
                        sum += *s;
                    }
                    let out = &mut ctx[(start + i) * h + off..(start + i) * h + off + hd];
                    out.fill(0.0);
                    for (j, &p) in scores.iter().enumerate() {
                        axpy(p / sum, &row(j)[2 * h + off..2 * h + off + hd], out);
                    }
                }
            }
            start += t;
        }
    }
}
