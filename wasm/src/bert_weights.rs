//! What both encoders (wgpu and CPU) read from a drbench int8 BERT weight file: the hyper-parameters, the
//! truncation length, and the tensors by name with their shapes checked.

use std::collections::HashMap;

use drbench_harness::bert::{BertConfig, Pooling};
use drbench_harness::qweights::{QData, QTensor, QWeights};

use crate::error::GpuError;

/// The BERT hyper-parameters (from the weight file's `config.bert`).
#[derive(Debug, Clone, PartialEq)]
pub struct BertShape {
    /// Model width.
    pub hidden: usize,
    /// Encoder layers.
    pub layers: usize,
    /// Attention heads.
    pub heads: usize,
    /// MLP width.
    pub intermediate: usize,
    /// LayerNorm epsilon.
    pub eps: f32,
    /// Position embeddings (the longest input).
    pub max_positions: usize,
}

/// Limits of the wgpu kernels (workgroup arrays); the CPU encoder keeps them too, so both truncate alike.
pub const MAX_HIDDEN: usize = 1024;
/// Longest sequence the kernels take.
pub const MAX_SEQ: usize = 512;
/// Widest attention head the kernels take.
pub const MAX_HEAD_DIM: usize = 128;

impl BertShape {
    fn from_config(bert: &BertConfig) -> Result<BertShape, GpuError> {
        bert.packed_support().map_err(GpuError::Model)?;
        let s = BertShape {
            hidden: bert.hidden_size,
            layers: bert.num_hidden_layers,
            heads: bert.num_attention_heads,
            intermediate: bert.intermediate_size,
            eps: bert.layer_norm_eps as f32,
            max_positions: bert.max_position_embeddings,
        };
        let hd = bert.head_dim();
        if s.hidden > MAX_HIDDEN || hd > MAX_HEAD_DIM || !hd.is_multiple_of(4) {
            return Err(GpuError::Model(format!(
                "hidden {} with {} heads: the kernels take hidden ≤ {MAX_HIDDEN} split into heads (a multiple of 4) of ≤ \
                 {MAX_HEAD_DIM}",
                s.hidden, s.heads
            )));
        }
        Ok(s)
    }

    /// Width of one attention head.
    pub fn head_dim(&self) -> usize {
        self.hidden / self.heads
    }
}

/// A parsed BERT weight file: shape, pooling, truncation and the tensors by name.
#[derive(Debug)]
pub struct BertWeights {
    /// Hyper-parameters.
    pub shape: BertShape,
    /// How token states become one vector.
    pub pooling: Pooling,
    /// The weight file's `max_seq_length` (sentence-transformers truncation, special tokens included), capped by
    /// the position table and [`MAX_SEQ`].
    pub max_seq_length: usize,
    tensors: HashMap<String, QTensor>,
}

/// An int8 matrix: `rows × cols` values, row-major, one scale per row.
#[derive(Debug, Clone, Copy)]
pub struct Int8Matrix<'a> {
    /// Quantized values.
    pub q: &'a [i8],
    /// Per-row scales.
    pub scales: &'a [f32],
    /// Rows (output channels).
    pub rows: usize,
    /// Columns (inputs).
    pub cols: usize,
}

impl BertWeights {
    /// Parses the bytes of a drbench int8 weight file (checksum verified) holding a BERT.
    pub fn from_bytes(bytes: &[u8]) -> Result<BertWeights, GpuError> {
        let q = QWeights::from_bytes(bytes)?;
        let shape = BertShape::from_config(&q.config.bert)?;
        let max_seq_length = q.config.max_seq_length.min(shape.max_positions).min(MAX_SEQ);
        Ok(BertWeights {
            pooling: q.config.pooling,
            shape,
            max_seq_length,
            tensors: q.tensors.into_iter().map(|t| (t.name.clone(), t)).collect(),
        })
    }

    fn get(&self, name: &str) -> Result<&QTensor, GpuError> {
        self.tensors.get(name).ok_or_else(|| GpuError::Model(format!("tensor {name} is missing")))
    }

    /// The f32 tensor `name`, which must hold `len` values.
    pub fn f32s(&self, name: &str, len: usize) -> Result<&[f32], GpuError> {
        let t = self.get(name)?;
        match &t.data {
            QData::F32(v) if v.len() == len => Ok(v),
            _ => Err(GpuError::Model(format!("{name}: expected {len} f32 values, found shape {:?}", t.shape))),
        }
    }

    /// Rows of the int8 matrix `name` (its width must be `cols`, a multiple of 4).
    pub fn rows_of(&self, name: &str, cols: usize) -> Result<usize, GpuError> {
        let t = self.get(name)?;
        match t.shape[..] {
            [rows, c] if c == cols && cols.is_multiple_of(4) => Ok(rows),
            _ => Err(GpuError::Model(format!("{name}: shape {:?}, expected [rows, {cols}]", t.shape))),
        }
    }

    /// The int8 matrix `name`, which must be `rows × cols` with `cols` a multiple of 4.
    pub fn int8(&self, name: &str, rows: usize, cols: usize) -> Result<Int8Matrix<'_>, GpuError> {
        let t = self.get(name)?;
        let QData::I8Rows { q, scales } = &t.data else {
            return Err(GpuError::Model(format!("{name}: expected an int8 matrix")));
        };
        if t.shape != [rows, cols] || !cols.is_multiple_of(4) || q.len() != rows * cols || scales.len() != rows {
            return Err(GpuError::Model(format!("{name}: shape {:?}, expected [{rows}, {cols}]", t.shape)));
        }
        Ok(Int8Matrix { q, scales, rows, cols })
    }

    /// gamma and beta of the LayerNorm `prefix`.
    pub fn norm(&self, prefix: &str) -> Result<(&[f32], &[f32]), GpuError> {
        let h = self.shape.hidden;
        Ok((self.f32s(&format!("{prefix}.weight"), h)?, self.f32s(&format!("{prefix}.bias"), h)?))
    }

    /// Sizes of the three embedding tables (word, position, token type), checked against the model width.
    pub fn embedding_rows(&self) -> Result<(usize, usize, usize), GpuError> {
        let h = self.shape.hidden;
        Ok((
            self.rows_of("embeddings.word_embeddings.weight", h)?,
            self.rows_of("embeddings.position_embeddings.weight", h)?,
            self.rows_of("embeddings.token_type_embeddings.weight", h)?,
        ))
    }
}

/// Tensor name prefixes of encoder layer `i`, in the order q, k, v, attention output, attention LayerNorm, MLP
/// up, MLP down, output LayerNorm.
pub fn layer_names(i: usize) -> [String; 8] {
    let p = format!("encoder.layer.{i}");
    [
        format!("{p}.attention.self.query"),
        format!("{p}.attention.self.key"),
        format!("{p}.attention.self.value"),
        format!("{p}.attention.output.dense"),
        format!("{p}.attention.output.LayerNorm"),
        format!("{p}.intermediate.dense"),
        format!("{p}.output.dense"),
        format!("{p}.output.LayerNorm"),
    ]
}
