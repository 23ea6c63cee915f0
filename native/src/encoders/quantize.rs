//! int8 weight files for the browser runner: a BERT sentence encoder's safetensors → `QWeights` (matrices and
//! embedding tables per-row int8, LayerNorm weights and biases f32; the pooler and position ids dropped), with the
//! model config, pooling and max sequence length in the header.

use std::path::Path;

use candle_core::{DType, Device};
use drbench_harness::bert::{Int8Architecture, Int8Header};
use drbench_harness::qweights::{QData, QTensor, QWeights, quantize_rows};

use super::bert::{folder_config, folder_max_len, folder_pooling};
use super::error::{ModelError, Result};

/// Quantizes the BERT encoder in `dir` (config.json, model.safetensors, sentence-transformers files).
pub fn quantize_bert(dir: &Path) -> Result<QWeights> {
    let bert = folder_config(dir)?;
    if bert.model_type.as_deref() != Some("bert") {
        return Err(ModelError::file(
            dir.join("config.json"),
            format!("model_type {:?}: only BERT encoders", bert.model_type.as_deref().unwrap_or("")),
        ));
    }
    let config = Int8Header {
        architecture: Int8Architecture::Bert,
        pooling: folder_pooling(dir),
        max_seq_length: folder_max_len(dir)?.min(bert.max_position_embeddings),
        quantization: "int8, symmetric per output row (embedding tables: per token), f32 accumulation".into(),
        bert,
    };
    config.check().map_err(|e| ModelError::file(dir, e))?;
    let weights = dir.join("model.safetensors");
    let tensors = candle_core::safetensors::load(&weights, &Device::Cpu)
        .map_err(|e| ModelError::file(&weights, e.to_string()))?;
    let mut names: Vec<&String> = tensors.keys().collect();
    names.sort();
    let mut out = Vec::new();
    for name in names {
        if name.starts_with("pooler.") || name.ends_with("position_ids") {
            continue;
        }
        let t = tensors[name].to_dtype(DType::F32)?;
        let shape = t.dims().to_vec();
        let values = t.flatten_all()?.to_vec1::<f32>()?;
        let data = if shape.len() == 2 && !name.contains("LayerNorm") {
            let (q, scales) = quantize_rows(&values, shape[0], shape[1]);
            QData::I8Rows { q, scales }
        } else {
            QData::F32(values)
        };
        out.push(QTensor { name: name.clone(), shape, data });
    }
    Ok(QWeights { config, tensors: out })
}
