//! Qwen2's inference forward on the CPU without padding: the sequences of a batch are packed row after row into
//! one `tokens × hidden` matrix (each at positions 0, 1, …, as transformers gives a left-padded row), so every
//! projection is one matrix product over real tokens only (`cpu::linear`: f32 gemm on candle's own f32 weights, or
//! bf16 panels), attention runs causally per sequence and head (`cpu::attention`), and RMSNorm, RoPE and SwiGLU are
//! vectorised passes (`cpu::ops`). The residual stream, norms, RoPE and attention stay f32 in a bf16 model: only the
//! inputs of the projections are rounded to bf16. A LoRA adapter runs unmerged beside the projections it adapts.
//! The MLP runs over blocks of rows so that its wide activations stay in cache.

use candle_core::{CpuStorage, DType, Storage, Tensor};
use drbench_harness::matmul::{MatView, Threads, matmul};
use drbench_harness::packed::PackedBatch;

use super::super::cpu::attention::{Heads, attention};
use super::super::cpu::linear::{Weights, linear};
use super::super::cpu::ops;
use super::super::error::{ModelError, Result};
use super::super::lora::{Adapter, Target};
use super::{CpuForward, Layer, Linear, Pass, Qwen2, f32_values, rope_angles};

/// Rows of one block of the MLP per rayon thread (its gate and up activations are `rows × intermediate` each).
const MLP_ROWS_PER_THREAD: usize = 256;

/// The activation buffers of the packed forward, kept between batches (fresh ones cost page faults and zeroing).
#[derive(Debug, Default)]
pub struct Scratch {
    x: Vec<f32>,
    normed: Vec<f32>,
    q: Vec<f32>,
    k: Vec<f32>,
    v: Vec<f32>,
    context: Vec<f32>,
    gate: Vec<f32>,
    up: Vec<f32>,
    low: Vec<f32>,
}

/// Whether the packed forward runs this model in this pass: CPU, f32 or bf16, every projection dense in the
/// model's dtype, inference (no gradients, no dropout), and not switched off.
pub fn applies(model: &Qwen2, pass: &Pass<'_>) -> bool {
    model.cpu_forward == CpuForward::Packed
        && model.device.is_cpu()
        && matches!(model.dtype, DType::F32 | DType::BF16)
        && !pass.differentiable
        && pass.dropout_seeds.is_none()
        && model.layers.iter().all(|l| {
            [&l.q, &l.k, &l.v, &l.o, &l.gate, &l.up, &l.down]
                .iter()
                .all(|lin| lin.dense_weight().is_some_and(|w| w.dtype() == model.dtype && w.is_contiguous()))
        })
}

/// A projection ready for the packed forward: its bias and LoRA pair as f32 vectors.
struct Projection<'a> {
    linear: &'a Linear,
    bias: Option<Vec<f32>>,
    /// `A` (`rank × inputs`), `B` (`outputs × rank`) and the scale of an unmerged adapter.
    lora: Option<(Vec<f32>, Vec<f32>, usize, f32)>,
}

impl<'a> Projection<'a> {
    fn new(linear: &'a Linear, adapter: Option<&Adapter>, layer: usize, target: Target) -> Result<Self> {
        let bias = linear.bias.as_ref().map(f32_values).transpose()?;
        let lora = match adapter.and_then(|a| a.layers.get(layer)?[target.index()].as_ref().map(|p| (a, p))) {
            Some((adapter, pair)) => {
                let rank = pair.a.dim(0)?;
                Some((f32_values(&pair.a)?, f32_values(&pair.b)?, rank, adapter.cfg.scale() as f32))
            }
            None => None,
        };
        Ok(Projection { linear, bias, lora })
    }

    /// `out = x · Wᵀ + b (+ scale · x·Aᵀ·Bᵀ)`, or `out +=` that with `accumulate`.
    fn forward(&self, x: &[f32], out: &mut [f32], accumulate: bool, low: &mut Vec<f32>) -> Result<()> {
        let w = self.linear.dense_weight().expect("checked by `applies`");
        let (outputs, inputs) = w.dims2()?;
        if w.dtype() == DType::BF16 {
            let panels = self.linear.cpu_bf16_panels()?.expect("a dense bf16 weight on the CPU has panels");
            linear(x, Weights::Bf16(panels), self.bias.as_deref(), out, accumulate);
        } else {
            let (storage, layout) = w.storage_and_layout();
            let (Storage::Cpu(CpuStorage::F32(data)), Some((from, to))) = (&*storage, layout.contiguous_offsets())
            else {
                return Err(ModelError::Unsupported("the packed forward needs contiguous f32 weights".into()));
            };
            linear(x, Weights::F32 { data: &data[from..to], inputs, outputs }, self.bias.as_deref(), out, accumulate);
        }
        if let Some((a, b, rank, scale)) = &self.lora {
            let rows = x.len() / inputs;
            low.resize(rows * rank, 0.0);
            let x = MatView::row_major(x, rows, inputs);
            matmul(low, *rank, x, MatView::row_major(a, *rank, inputs).t(), 1.0, false, Threads::Pool);
            let low = MatView::row_major(low, rows, *rank);
            matmul(out, outputs, low, MatView::row_major(b, outputs, *rank).t(), *scale, true, Threads::Pool);
        }
        Ok(())
    }
}

/// Grows `buf` to at least `len` elements and returns those (every element is written before it is read).
fn take(buf: &mut Vec<f32>, len: usize) -> &mut [f32] {
    if buf.len() < len {
        buf.resize(len, 0.0);
    }
    &mut buf[..len]
}

/// Final-norm hidden states at the last token of each sequence, `seqs.len() × hidden` (f32).
pub fn last_hidden<S: AsRef<[u32]>>(model: &Qwen2, seqs: &[S], adapter: Option<&Adapter>) -> Result<Vec<f32>> {
    let cfg = &model.cfg;
    let (h, inter) = (cfg.hidden_size, cfg.intermediate_size);
    let heads =
        Heads { query: cfg.num_attention_heads, kv: cfg.num_key_value_heads, dim: cfg.head_dim(), causal: true };
    let (qw, kvw) = (heads.query * heads.dim, heads.kv * heads.dim);
    // Qwen2 has no position table: RoPE takes any position, so the only length limit is memory.
    let batch =
        PackedBatch::new(seqs, usize::MAX, cfg.vocab_size).map_err(|e| ModelError::Unsupported(e.to_string()))?;
    let (ids, offsets, rows) = (batch.ids(), batch.offsets(), batch.rows());
    let positions: Vec<u32> = batch.tokens().map(|(_, pos, _)| pos as u32).collect();
    let longest = seqs.iter().map(|s| s.as_ref().len()).max().unwrap_or(0);
    let (cos, sin) = rope_angles(&(0..longest as u32).collect::<Vec<_>>(), heads.dim, cfg.rope_base());

    let mut scratch = model.scratch.lock().unwrap_or_else(|e| e.into_inner());
    let Scratch { x, normed, q, k, v, context, gate, up, low } = &mut *scratch;
    let x = take(x, rows * h);
    let embedded = model.embed.embedding(&Tensor::new(ids, &model.device)?)?;
    x.copy_from_slice(&f32_values(&embedded)?);
    let (normed, q, k, v, context) = (
        take(normed, rows * h),
        take(q, rows * qw),
        take(k, rows * kvw),
        take(v, rows * kvw),
        take(context, rows * qw),
    );
    let block = MLP_ROWS_PER_THREAD * rayon::current_num_threads();
    let (gate, up) = (take(gate, block.min(rows) * inter), take(up, block.min(rows) * inter));

    for (i, layer) in model.layers.iter().enumerate() {
        let Layer { input_norm, post_norm, .. } = layer;
        ops::rms_norm(x, normed, h, &f32_values(&input_norm.weight)?, input_norm.eps as f32);
        Projection::new(&layer.q, adapter, i, Target::Q)?.forward(normed, q, false, low)?;
        Projection::new(&layer.k, adapter, i, Target::K)?.forward(normed, k, false, low)?;
        Projection::new(&layer.v, adapter, i, Target::V)?.forward(normed, v, false, low)?;
        ops::rope(q, heads.query, heads.dim, &positions, &cos, &sin);
        ops::rope(k, heads.kv, heads.dim, &positions, &cos, &sin);
        let (qv, kv, vv) =
            (MatView::row_major(q, rows, qw), MatView::row_major(k, rows, kvw), MatView::row_major(v, rows, kvw));
        attention(qv, kv, vv, offsets, heads, context);
        // Only the last token of each sequence is read after the last layer: its output projection and MLP run
        // on those rows alone, moved to the front.
        let live = if i + 1 == model.layers.len() {
            compact(x, h, offsets);
            compact(context, qw, offsets);
            seqs.len()
        } else {
            rows
        };
        let (x, context, normed) = (&mut x[..live * h], &context[..live * qw], &mut normed[..live * h]);
        Projection::new(&layer.o, adapter, i, Target::O)?.forward(context, x, true, low)?;
        ops::rms_norm(x, normed, h, &f32_values(&post_norm.weight)?, post_norm.eps as f32);
        let (pg, pu, pd) = (
            Projection::new(&layer.gate, adapter, i, Target::Gate)?,
            Projection::new(&layer.up, adapter, i, Target::Up)?,
            Projection::new(&layer.down, adapter, i, Target::Down)?,
        );
        for start in (0..live).step_by(block) {
            let n = block.min(live - start);
            let (g, u) = (&mut gate[..n * inter], &mut up[..n * inter]);
            pg.forward(&normed[start * h..(start + n) * h], g, false, low)?;
            pu.forward(&normed[start * h..(start + n) * h], u, false, low)?;
            ops::silu_mul(g, u);
            pd.forward(g, &mut x[start * h..(start + n) * h], true, low)?;
        }
    }
    if model.layers.is_empty() {
        compact(x, h, offsets);
    }
    let mut out = vec![0f32; seqs.len() * h];
    ops::rms_norm(&x[..seqs.len() * h], &mut out, h, &f32_values(&model.norm.weight)?, model.norm.eps as f32);
    Ok(out)
}

/// Moves the last row of each sequence (`width` wide; sequences end at `offsets[1..]`) to the front of `buf`, in
/// order. Row `j`'s source is at or after row `j`, and after every earlier source, so nothing is overwritten before
/// it is moved.
fn compact(buf: &mut [f32], width: usize, offsets: &[usize]) {
    for (j, &end) in offsets[1..].iter().enumerate() {
        buf.copy_within((end - 1) * width..end * width, j * width);
    }
}
