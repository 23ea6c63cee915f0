//! The int8 weight file the browser runner fetches (`drbench quantize` writes it): matrices quantized per output
//! row (symmetric, scale = max|row| / 127, f32 accumulation expected of readers), everything else f32, behind a
//! JSON header, with a sha256 trailer. Pure Rust over bytes, so the native and wasm runners read the same code.
//!
//! Layout: `b"DRBQINT8"` · u32 LE version (1) · u32 LE header length · header JSON · zero padding to a multiple
//! of 16 · tensor data (each blob 16-byte aligned, little-endian) · sha256 of everything before it (32 bytes).

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::bert::Int8Header;

/// File magic.
pub const MAGIC: &[u8; 8] = b"DRBQINT8";
/// Format version.
pub const VERSION: u32 = 1;

/// What is wrong with a weight file.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum QWeightsError {
    /// Not this format, another version, truncated, or a broken header.
    #[error("{0}")]
    Format(String),
    /// The sha256 trailer does not match the bytes.
    #[error("checksum mismatch: the file is corrupt or truncated")]
    Checksum,
}

/// One tensor's data.
#[derive(Debug, Clone, PartialEq)]
pub enum QData {
    /// Plain f32 values.
    F32(Vec<f32>),
    /// int8 values, row-major `rows × cols`, one f32 scale per row (value = q · scale).
    I8Rows {
        /// Quantized values.
        q: Vec<i8>,
        /// Per-row scales.
        scales: Vec<f32>,
    },
}

/// A named tensor.
#[derive(Debug, Clone, PartialEq)]
pub struct QTensor {
    /// Name (the source checkpoint's).
    pub name: String,
    /// Shape; int8 tensors are 2-D.
    pub shape: Vec<usize>,
    /// Values.
    pub data: QData,
}

impl QTensor {
    /// The f32 values (dequantized for int8 tensors).
    pub fn to_f32(&self) -> Vec<f32> {
        match &self.data {
            QData::F32(v) => v.clone(),
            QData::I8Rows { q, scales } => {
                let cols = self.shape.get(1).copied().unwrap_or(0).max(1);
                q.iter().enumerate().map(|(i, &v)| f32::from(v) * scales[i / cols]).collect()
            }
        }
    }
}

/// A whole weight file: the typed header (architecture, BERT config, pooling, truncation) and tensors.
#[derive(Debug, Clone, PartialEq)]
pub struct QWeights {
    /// Model configuration.
    pub config: Int8Header,
    /// Tensors, in file order.
    pub tensors: Vec<QTensor>,
}

#[derive(Serialize, Deserialize)]
struct Entry {
    name: String,
    shape: Vec<usize>,
    kind: String,
    offset: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    scales_offset: Option<usize>,
}

#[derive(Serialize, Deserialize)]
struct Header {
    config: Int8Header,
    tensors: Vec<Entry>,
}

/// Symmetric per-row int8 quantization of a row-major `rows × cols` matrix.
pub fn quantize_rows(w: &[f32], rows: usize, cols: usize) -> (Vec<i8>, Vec<f32>) {
    assert_eq!(w.len(), rows * cols, "matrix size");
    let mut q = Vec::with_capacity(w.len());
    let mut scales = Vec::with_capacity(rows);
    for row in w.chunks(cols.max(1)) {
        let max = row.iter().fold(0f32, |m, v| m.max(v.abs()));
        let scale = if max > 0.0 { max / 127.0 } else { 1.0 };
        scales.push(scale);
        q.extend(row.iter().map(|v| (v / scale).round().clamp(-127.0, 127.0) as i8));
    }
    (q, scales)
}

fn align16(n: usize) -> usize {
    n.div_ceil(16) * 16
}

impl QWeights {
    /// Serialises to the file layout.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut entries = Vec::new();
        let mut blobs: Vec<u8> = Vec::new();
        let push = |bytes: &[u8], blobs: &mut Vec<u8>| -> usize {
            let at = blobs.len();
            blobs.extend_from_slice(bytes);
            blobs.resize(align16(blobs.len()), 0);
            at
        };
        for t in &self.tensors {
            match &t.data {
                QData::F32(v) => {
                    let bytes: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
                    let offset = push(&bytes, &mut blobs);
                    entries.push(Entry {
                        name: t.name.clone(),
                        shape: t.shape.clone(),
                        kind: "f32".into(),
                        offset,
                        scales_offset: None,
                    });
                }
                QData::I8Rows { q, scales } => {
                    let bytes: Vec<u8> = q.iter().map(|&x| x as u8).collect();
                    let offset = push(&bytes, &mut blobs);
                    let sbytes: Vec<u8> = scales.iter().flat_map(|x| x.to_le_bytes()).collect();
                    let scales_offset = Some(push(&sbytes, &mut blobs));
                    entries.push(Entry {
                        name: t.name.clone(),
                        shape: t.shape.clone(),
                        kind: "i8_rows".into(),
                        offset,
                        scales_offset,
                    });
                }
            }
        }
        let header = serde_json::to_vec(&Header { config: self.config.clone(), tensors: entries })
            .expect("plain structs serialise");
        let mut out = Vec::with_capacity(16 + header.len() + blobs.len() + 48);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&VERSION.to_le_bytes());
        out.extend_from_slice(&(header.len() as u32).to_le_bytes());
        out.extend_from_slice(&header);
        out.resize(align16(out.len()), 0);
        out.extend_from_slice(&blobs);
        let digest = Sha256::digest(&out);
        out.extend_from_slice(&digest);
        out
    }

    /// Parses and checks a file's bytes (magic, version, checksum, every tensor in bounds).
    pub fn from_bytes(bytes: &[u8]) -> Result<QWeights, QWeightsError> {
        let bad = |m: &str| QWeightsError::Format(m.to_string());
        if bytes.len() < 16 + 32 || &bytes[..8] != MAGIC {
            return Err(bad("not a drbench int8 weight file (magic DRBQINT8)"));
        }
        let version = u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes"));
        if version != VERSION {
            return Err(QWeightsError::Format(format!("format version {version}, this reader knows {VERSION}")));
        }
        let (body, trailer) = bytes.split_at(bytes.len() - 32);
        if Sha256::digest(body).as_slice() != trailer {
            return Err(QWeightsError::Checksum);
        }
        let hlen = u32::from_le_bytes(bytes[12..16].try_into().expect("4 bytes")) as usize;
        let header_bytes = body.get(16..16 + hlen).ok_or_else(|| bad("header runs past the end"))?;
        let header: Header =
            serde_json::from_slice(header_bytes).map_err(|e| QWeightsError::Format(format!("header: {e}")))?;
        header.config.check().map_err(|e| QWeightsError::Format(format!("header: {e}")))?;
        let data = body.get(align16(16 + hlen)..).ok_or_else(|| bad("no data section"))?;
        let slice = |at: usize, len: usize, name: &str| {
            at.checked_add(len)
                .and_then(|end| data.get(at..end))
                .map(<[u8]>::to_vec)
                .ok_or_else(|| QWeightsError::Format(format!("tensor {name}: data out of bounds")))
        };
        let mut tensors = Vec::with_capacity(header.tensors.len());
        for e in header.tensors {
            let n =
                e.shape.iter().try_fold(1usize, |n, &d| n.checked_mul(d)).ok_or_else(|| {
                    QWeightsError::Format(format!("tensor {}: shape {:?} overflows", e.name, e.shape))
                })?;
            let too_big = || QWeightsError::Format(format!("tensor {}: data out of bounds", e.name));
            let data = match e.kind.as_str() {
                "f32" => {
                    let raw = slice(e.offset, n.checked_mul(4).ok_or_else(too_big)?, &e.name)?;
                    QData::F32(raw.chunks_exact(4).map(|c| f32::from_le_bytes(c.try_into().expect("4"))).collect())
                }
                "i8_rows" if e.shape.len() == 2 => {
                    let q = slice(e.offset, n, &e.name)?.into_iter().map(|b| b as i8).collect();
                    let so = e.scales_offset.ok_or_else(|| bad("int8 tensor without scales"))?;
                    let raw = slice(so, e.shape[0].checked_mul(4).ok_or_else(too_big)?, &e.name)?;
                    let scales = raw.chunks_exact(4).map(|c| f32::from_le_bytes(c.try_into().expect("4"))).collect();
                    QData::I8Rows { q, scales }
                }
                other => {
                    return Err(QWeightsError::Format(format!(
                        "tensor {}: kind {other:?} with shape {:?}",
                        e.name, e.shape
                    )));
                }
            };
            tensors.push(QTensor { name: e.name, shape: e.shape, data });
        }
        Ok(QWeights { config: header.config, tensors })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> QWeights {
        let w: Vec<f32> = (0..12).map(|i| (i as f32 - 5.5) / 3.0).collect();
        let (q, scales) = quantize_rows(&w, 3, 4);
        QWeights {
            config: Int8Header {
                architecture: crate::bert::Int8Architecture::Bert,
                bert: crate::bert::BertConfig::from_json(
                    r#"{"vocab_size": 3, "hidden_size": 4, "num_hidden_layers": 1, "num_attention_heads": 1,
                        "intermediate_size": 4, "max_position_embeddings": 8}"#,
                )
                .unwrap(),
                pooling: crate::bert::Pooling::Mean,
                max_seq_length: 8,
                quantization: "test".into(),
            },
            tensors: vec![
                QTensor { name: "w".into(), shape: vec![3, 4], data: QData::I8Rows { q, scales } },
                QTensor { name: "b".into(), shape: vec![3], data: QData::F32(vec![0.5, -1.0, 2.0]) },
                QTensor {
                    name: "zero".into(),
                    shape: vec![1, 3],
                    data: QData::I8Rows { q: vec![0; 3], scales: vec![1.0] },
                },
            ],
        }
    }

    #[test]
    fn round_trip_and_dequantization_error_is_half_a_step() {
        let file = sample();
        let bytes = file.to_bytes();
        assert_eq!(QWeights::from_bytes(&bytes).unwrap(), file);
        let w: Vec<f32> = (0..12).map(|i| (i as f32 - 5.5) / 3.0).collect();
        let back = file.tensors[0].to_f32();
        let QData::I8Rows { scales, .. } = &file.tensors[0].data else { unreachable!() };
        for (i, (a, b)) in w.iter().zip(&back).enumerate() {
            assert!((a - b).abs() <= scales[i / 4] / 2.0 + 1e-6, "{a} vs {b}");
        }
        // The row maximum is exact.
        assert_eq!(back[0], w[0]);
    }

    #[test]
    fn damaged_files_are_refused() {
        let bytes = sample().to_bytes();
        let mut flipped = bytes.clone();
        flipped[40] ^= 1;
        assert_eq!(QWeights::from_bytes(&flipped), Err(QWeightsError::Checksum));
        assert_eq!(QWeights::from_bytes(&bytes[..bytes.len() - 1]), Err(QWeightsError::Checksum));
        let mut other = bytes.clone();
        other[8] = 2;
        assert!(QWeights::from_bytes(&other).unwrap_err().to_string().contains("format version 2"));
        assert!(
            QWeights::from_bytes(b"GGUF and more bytes than that, surely enough bytes to be checked here")
                .unwrap_err()
                .to_string()
                .contains("magic")
        );
    }
}
