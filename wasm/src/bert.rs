//! A BERT sentence encoder (all-MiniLM-L6-v2 and its kind) on wgpu, from drbench's int8 weight file: int8
//! matrices dequantized inside the matmul kernel (per-row scale, f32 accumulation), everything else f32, mean or
//! CLS pooling and L2 normalisation as sentence-transformers. Batches are right-padded; pads never enter a
//! softmax or a mean.

use drbench_harness::bert::Pooling;

use crate::bert_weights::{BertShape, BertWeights, layer_names};
use crate::error::GpuError;
use crate::gpu::{Gpu, rows_grid};

/// An int8 matrix on the GPU: rows packed four bytes per u32, per-row scales, and a bias.
#[derive(Debug)]
struct QLinear {
    weight: wgpu::Buffer,
    scale: wgpu::Buffer,
    bias: wgpu::Buffer,
    rows: usize,
    cols: usize,
}

/// gamma then beta of a LayerNorm, in one buffer.
#[derive(Debug)]
struct Norm(wgpu::Buffer);

#[derive(Debug)]
struct Layer {
    q: QLinear,
    k: QLinear,
    v: QLinear,
    o: QLinear,
    attn_norm: Norm,
    up: QLinear,
    down: QLinear,
    out_norm: Norm,
}

/// The encoder: weights resident on the GPU.
#[derive(Debug)]
pub struct GpuBert {
    gpu: Gpu,
    shape: BertShape,
    word: QLinear,
    position: QLinear,
    token_type: QLinear,
    embed_norm: Norm,
    /// Word, position and token type scales in one buffer (the embed kernel's 8-buffer budget).
    embed_scales: wgpu::Buffer,
    layers: Vec<Layer>,
    pooling: Pooling,
    /// The weight file's `max_seq_length` (sentence-transformers truncation, special tokens included).
    pub max_seq_length: usize,
    /// Bytes of weights uploaded.
    pub weight_bytes: usize,
}

fn pack_i8(q: &[i8]) -> Vec<u32> {
    q.chunks(4)
        .map(|c| {
            let mut b = [0u8; 4];
            for (d, s) in b.iter_mut().zip(c) {
                *d = *s as u8;
            }
            u32::from_le_bytes(b)
        })
        .collect()
}

/// Uploads an int8 matrix (and its bias, or zeros) for the matmul kernel.
fn linear(gpu: &Gpu, w: &BertWeights, prefix: &str, rows: usize, cols: usize, bias: bool) -> Result<QLinear, GpuError> {
    let name = format!("{prefix}.weight");
    let m = w.int8(&name, rows, cols)?;
    let bias = if bias { w.f32s(&format!("{prefix}.bias"), rows)?.to_vec() } else { vec![0.0; rows] };
    Ok(QLinear {
        weight: gpu.storage(&name, &pack_i8(m.q)),
        scale: gpu.storage(&name, m.scales),
        bias: gpu.storage(&name, &bias),
        rows,
        cols,
    })
}

/// Uploads a LayerNorm's gamma then beta.
fn norm(gpu: &Gpu, w: &BertWeights, prefix: &str) -> Result<Norm, GpuError> {
    let (gamma, beta) = w.norm(prefix)?;
    Ok(Norm(gpu.storage(prefix, &[gamma, beta].concat())))
}

/// What the matmul kernel does after the product (its `flags`).
#[derive(Clone, Copy)]
enum Epilogue<'a> {
    None,
    Gelu,
    Residual(&'a wgpu::Buffer),
}

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct U4(u32, u32, u32, u32);

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct AttnParams(u32, u32, u32, f32, u32, u32, u32, u32);

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct U8(u32, u32, u32, u32, u32, u32, u32, u32);

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct U2F(u32, u32, f32, u32);

impl GpuBert {
    /// Uploads a BERT from the bytes of a drbench int8 weight file (checksum verified).
    pub fn from_bytes(mut gpu: Gpu, bytes: &[u8]) -> Result<GpuBert, GpuError> {
        let w = BertWeights::from_bytes(bytes)?;
        let shape = w.shape.clone();
        gpu.compile("attention", &[("D4_VALUE", format!("{}u", shape.head_dim() / 4))]);
        let (h, m) = (shape.hidden, shape.intermediate);
        let (vocab, positions, types) = w.embedding_rows()?;
        let word = linear(&gpu, &w, "embeddings.word_embeddings", vocab, h, false)?;
        let position = linear(&gpu, &w, "embeddings.position_embeddings", positions, h, false)?;
        let token_type = linear(&gpu, &w, "embeddings.token_type_embeddings", types, h, false)?;
        let embed_norm = norm(&gpu, &w, "embeddings.LayerNorm")?;
        let mut scales = Vec::new();
        for (name, rows) in
            [("word_embeddings", vocab), ("position_embeddings", positions), ("token_type_embeddings", types)]
        {
            scales.extend_from_slice(w.int8(&format!("embeddings.{name}.weight"), rows, h)?.scales);
        }
        let embed_scales = gpu.storage("embedding scales", &scales);
        let mut layers = Vec::with_capacity(shape.layers);
        for i in 0..shape.layers {
            let [q, k, v, o, attn_norm, up, down, out_norm] = layer_names(i);
            layers.push(Layer {
                q: linear(&gpu, &w, &q, h, h, true)?,
                k: linear(&gpu, &w, &k, h, h, true)?,
                v: linear(&gpu, &w, &v, h, h, true)?,
                o: linear(&gpu, &w, &o, h, h, true)?,
                attn_norm: norm(&gpu, &w, &attn_norm)?,
                up: linear(&gpu, &w, &up, m, h, true)?,
                down: linear(&gpu, &w, &down, h, m, true)?,
                out_norm: norm(&gpu, &w, &out_norm)?,
            });
        }
        Ok(GpuBert {
            gpu,
            pooling: w.pooling,
            shape,
            word,
            position,
            token_type,
            embed_norm,
            embed_scales,
            layers,
            max_seq_length: w.max_seq_length,
            weight_bytes: bytes.len(),
        })
    }

    /// Embedding width.
    pub fn dim(&self) -> usize {
        self.shape.hidden
    }

    /// The adapter in use, for reports.
    pub fn adapter(&self) -> &str {
        &self.gpu.adapter
    }

    /// `out = epilogue(x · linᵀ)`: `Gelu` for the MLP's up projection, `Residual(r)` (+ r) before a LayerNorm.
    fn matmul(
        &self,
        enc: &mut wgpu::CommandEncoder,
        x: &wgpu::Buffer,
        lin: &QLinear,
        rows: usize,
        epilogue: Epilogue<'_>,
        out: &wgpu::Buffer,
    ) {
        let (flags, res) = match epilogue {
            Epilogue::None => (0, &lin.bias),
            Epilogue::Gelu => (1, &lin.bias),
            Epilogue::Residual(r) => (2, r),
        };
        let params = U4(rows as u32, lin.rows as u32, lin.cols as u32, flags);
        let groups = ((lin.rows as u32).div_ceil(32), (rows as u32).div_ceil(32), 1);
        self.gpu.dispatch(enc, "matmul_q8", &params, &[x, &lin.weight, &lin.scale, &lin.bias, res, out], groups);
    }

    fn layernorm(
        &self,
        enc: &mut wgpu::CommandEncoder,
        x: &wgpu::Buffer,
        norm: &Norm,
        rows: usize,
        out: &wgpu::Buffer,
    ) {
        let params = U2F(rows as u32, self.shape.hidden as u32, self.shape.eps, 0);
        self.gpu.dispatch(enc, "layernorm", &params, &[x, &norm.0, out], rows_grid(rows.div_ceil(64)));
    }

    /// Embeddings of one batch of token id sequences (each with its special tokens, at most `max_seq_length`
    /// long), `batch × dim` row-major, pooled and (if `normalize`) L2-normalised.
    pub async fn embed_batch<S: AsRef<[u32]>>(&self, batch: &[S], normalize: bool) -> Result<Vec<f32>, GpuError> {
        let b = batch.len();
        let t = batch.iter().map(|s| s.as_ref().len()).max().unwrap_or(0);
        if b == 0 || t == 0 {
            return Err(GpuError::Model("an empty batch or an empty sequence".into()));
        }
        if t > self.max_seq_length {
            return Err(GpuError::Model(format!("a sequence of {t} tokens (at most {})", self.max_seq_length)));
        }
        let vocab = self.word.rows as u32;
        if let Some(bad) = batch.iter().flat_map(|s| s.as_ref()).find(|&&id| id >= vocab) {
            return Err(GpuError::Model(format!("token id {bad} is outside the vocabulary ({vocab})")));
        }
        let (h, rows) = (self.shape.hidden, b * t);
        let mut ids = vec![0u32; rows];
        let mut mask = vec![0u32; rows];
        for (r, seq) in batch.iter().enumerate() {
            let seq = seq.as_ref();
            ids[r * t..r * t + seq.len()].copy_from_slice(seq);
            mask[r * t..r * t + seq.len()].iter_mut().for_each(|m| *m = 1);
        }
        let g = &self.gpu;
        let ids = g.storage("ids", &ids);
        let mask = g.storage("mask", &mask);
        let x = g.scratch("x", rows * h);
        let tmp = g.scratch("tmp", rows * h);
        let (q, k, v, ctx) =
            (g.scratch("q", rows * h), g.scratch("k", rows * h), g.scratch("v", rows * h), g.scratch("ctx", rows * h));
        let inter = g.scratch("inter", rows * self.shape.intermediate);
        let pooled = g.scratch("pooled", b * h);
        let mut enc = g.device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("bert") });
        let pos_off = self.word.rows as u32;
        let p = U8(rows as u32, t as u32, h as u32, pos_off, pos_off + self.position.rows as u32, 0, 0, 0);
        let tables = [&self.word.weight, &self.position.weight, &self.token_type.weight];
        let inputs = [&ids, tables[0], tables[1], tables[2], &self.embed_scales, &tmp];
        g.dispatch(&mut enc, "embed", &p, &inputs, rows_grid(rows));
        self.layernorm(&mut enc, &tmp, &self.embed_norm, rows, &x);
        let hd = h / self.shape.heads;
        for l in &self.layers {
            self.matmul(&mut enc, &x, &l.q, rows, Epilogue::None, &q);
            self.matmul(&mut enc, &x, &l.k, rows, Epilogue::None, &k);
            self.matmul(&mut enc, &x, &l.v, rows, Epilogue::None, &v);
            let heads = self.shape.heads;
            let ap = AttnParams(t as u32, heads as u32, hd as u32, 1.0 / (hd as f32).sqrt(), rows as u32, 0, 0, 0);
            let grid = rows_grid((rows * heads).div_ceil(64));
            g.dispatch(&mut enc, "attention", &ap, &[&q, &k, &v, &mask, &ctx], grid);
            self.matmul(&mut enc, &ctx, &l.o, rows, Epilogue::Residual(&x), &tmp);
            self.layernorm(&mut enc, &tmp, &l.attn_norm, rows, &x);
            self.matmul(&mut enc, &x, &l.up, rows, Epilogue::Gelu, &inter);
            self.matmul(&mut enc, &inter, &l.down, rows, Epilogue::Residual(&x), &tmp);
            self.layernorm(&mut enc, &tmp, &l.out_norm, rows, &x);
        }
        let pp = U4(t as u32, h as u32, u32::from(self.pooling == Pooling::Cls), u32::from(normalize));
        g.dispatch(&mut enc, "pool", &pp, &[&x, &mask, &pooled], (b as u32, 1, 1));
        g.finish_and_read(enc, &pooled).await
    }
}
