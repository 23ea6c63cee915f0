//! Building a [`Qwen2`] from its weights, whatever their source: a Hugging Face folder (config.json +
//! safetensors shards, Qwen2.5-VL's text weights included) or a GGUF file (quantized blocks kept quantized, or
//! dequantized to dense f32 for parity checks).

use std::collections::HashMap;
use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use candle_core::quantized::{QMatMul, QTensor, gguf_file};
use candle_core::{DType, Device, Tensor};

use super::error::{ModelError, Result};
use super::gguf_bounds::{check_alignment, check_tensor_bytes};
use super::qwen2::check::{check_config, check_shapes, expected_shapes};
use super::qwen2::{Layer, Linear, Qwen2, Qwen2Config, RmsNorm};

/// How GGUF weights are used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum GgufWeights {
    /// Quantized matmuls on the GGUF blocks (small; on the CPU slower than dequantized).
    Quantized,
    /// Every weight dequantized to dense weights in `--dtype` (f32: parity with PyTorch; fastest on the CPU).
    Dequantized,
}

/// Reads `config.json` of a Hugging Face folder (for Qwen2.5-VL, its `text_config` when present).
pub fn read_config(dir: &Path) -> Result<Qwen2Config> {
    let path = dir.join("config.json");
    let text = std::fs::read_to_string(&path).map_err(|e| ModelError::file(&path, e.to_string()))?;
    let mut v: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| ModelError::file(&path, format!("bad JSON: {e}")))?;
    if let Some(tc) = v.get("text_config").filter(|t| t.get("hidden_size").is_some()) {
        v = tc.clone();
    }
    serde_json::from_value(v).map_err(|e| ModelError::file(&path, format!("not a Qwen2 config: {e}")))
}

/// The safetensors files of a folder: `model.safetensors`, or the shards named in `model.safetensors.index.json`.
fn safetensors_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let single = dir.join("model.safetensors");
    if single.is_file() {
        return Ok(vec![single]);
    }
    let index = dir.join("model.safetensors.index.json");
    let text = std::fs::read_to_string(&index)
        .map_err(|_| ModelError::file(dir, "no model.safetensors or model.safetensors.index.json"))?;
    let v: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| ModelError::file(&index, format!("bad JSON: {e}")))?;
    let mut files: Vec<String> = v["weight_map"]
        .as_object()
        .ok_or_else(|| ModelError::file(&index, "no weight_map"))?
        .values()
        .filter_map(|f| f.as_str().map(str::to_string))
        .collect();
    files.sort();
    files.dedup();
    Ok(files.into_iter().map(|f| dir.join(f)).collect())
}

/// Loads a Qwen2 from a Hugging Face folder (dense weights, converted to `dtype`).
pub fn load_hf(dir: &Path, dtype: DType, device: &Device) -> Result<Qwen2> {
    let cfg = read_config(dir)?;
    let config_path = dir.join("config.json");
    check_config(&cfg, &config_path)?;
    let mut tensors: HashMap<String, Tensor> = HashMap::new();
    for f in safetensors_files(dir)? {
        let part = candle_core::safetensors::load(&f, device).map_err(|e| ModelError::file(&f, e.to_string()))?;
        tensors.extend(part);
    }
    // Qwen2.5-VL (newer transformers) keeps the language model under `model.language_model.`; a bare Qwen2Model
    // (e.g. a merged RepLLaMA/Tevatron checkpoint) has no prefix at all.
    let prefix = if tensors.contains_key("model.language_model.embed_tokens.weight") {
        "model.language_model."
    } else if tensors.contains_key("embed_tokens.weight") {
        ""
    } else {
        "model."
    };
    check_shapes(&cfg, &config_path, &|name| tensors.get(&format!("{prefix}{name}")).map(|t| t.dims().to_vec()))?;
    let mut take = |name: &str| -> Result<Tensor> {
        let key = format!("{prefix}{name}");
        tensors.remove(&key).ok_or_else(|| ModelError::file(dir, format!("missing tensor {key}")))
    };
    let eps = cfg.rms_norm_eps;
    let mut layers = Vec::with_capacity(cfg.num_hidden_layers);
    for i in 0..cfg.num_hidden_layers {
        let mut dense =
            |n: &str| -> Result<QMatMul> { Ok(QMatMul::Tensor(take(&format!("layers.{i}.{n}"))?.to_dtype(dtype)?)) };
        let q = dense("self_attn.q_proj.weight")?;
        let k = dense("self_attn.k_proj.weight")?;
        let v = dense("self_attn.v_proj.weight")?;
        let o = dense("self_attn.o_proj.weight")?;
        let gate = dense("mlp.gate_proj.weight")?;
        let up = dense("mlp.up_proj.weight")?;
        let down = dense("mlp.down_proj.weight")?;
        let mut vec_t = |n: &str| -> Result<Tensor> { Ok(take(&format!("layers.{i}.{n}"))?.to_dtype(dtype)?) };
        let (qb, kb, vb) =
            (vec_t("self_attn.q_proj.bias")?, vec_t("self_attn.k_proj.bias")?, vec_t("self_attn.v_proj.bias")?);
        let input_norm = RmsNorm::new(take(&format!("layers.{i}.input_layernorm.weight"))?, eps);
        let post_norm = RmsNorm::new(take(&format!("layers.{i}.post_attention_layernorm.weight"))?, eps);
        layers.push(Layer {
            input_norm,
            q: Linear::new(q, Some(qb)),
            k: Linear::new(k, Some(kb)),
            v: Linear::new(v, Some(vb)),
            o: Linear::new(o, None),
            post_norm,
            gate: Linear::new(gate, None),
            up: Linear::new(up, None),
            down: Linear::new(down, None),
        });
    }
    let embed = take("embed_tokens.weight")?.to_dtype(DType::F32)?;
    let norm = RmsNorm::new(take("norm.weight")?, eps);
    Qwen2::new(cfg, embed, layers, norm, dtype, device.clone())
}

/// Qwen2 hyper-parameters from GGUF metadata (`qwen2.*` keys).
fn gguf_config(path: &Path, content: &gguf_file::Content) -> Result<Qwen2Config> {
    let get = |k: &str| -> Result<&gguf_file::Value> {
        content.metadata.get(k).ok_or_else(|| ModelError::file(path, format!("GGUF metadata lacks {k}")))
    };
    let arch = get("general.architecture")?.to_string().map_err(|e| ModelError::file(path, e.to_string()))?.clone();
    if arch != "qwen2" {
        return Err(ModelError::file(path, format!("GGUF architecture {arch:?}, expected qwen2")));
    }
    let u = |k: &str| -> Result<usize> {
        get(k)?.to_u32().map(|v| v as usize).map_err(|e| ModelError::file(path, format!("{k}: {e}")))
    };
    let f = |k: &str| -> Result<f64> {
        get(k)?.to_f32().map(f64::from).map_err(|e| ModelError::file(path, format!("{k}: {e}")))
    };
    let vocab =
        content.tensor_infos.get("token_embd.weight").and_then(|t| t.shape.dims().first().copied()).unwrap_or(0);
    Ok(Qwen2Config {
        hidden_size: u("qwen2.embedding_length")?,
        intermediate_size: u("qwen2.feed_forward_length")?,
        num_hidden_layers: u("qwen2.block_count")?,
        num_attention_heads: u("qwen2.attention.head_count")?,
        num_key_value_heads: u("qwen2.attention.head_count_kv")?,
        rms_norm_eps: f("qwen2.attention.layer_norm_rms_epsilon")?,
        rope_theta: Some(f("qwen2.rope.freq_base")?),
        rope_parameters: None,
        vocab_size: vocab,
        model_type: None,
        architectures: None,
        max_position_embeddings: match content.metadata.get("qwen2.context_length") {
            Some(_) => Some(u("qwen2.context_length")?),
            None => None,
        },
    })
}

/// The GGUF name of a tensor named as in a Hugging Face folder (`layers.3.mlp.up_proj.weight` → `blk.3.ffn_up.weight`).
fn gguf_name(hf: &str) -> String {
    const PARTS: &[(&str, &str)] = &[
        ("input_layernorm", "attn_norm"),
        ("post_attention_layernorm", "ffn_norm"),
        ("self_attn.q_proj", "attn_q"),
        ("self_attn.k_proj", "attn_k"),
        ("self_attn.v_proj", "attn_v"),
        ("self_attn.o_proj", "attn_output"),
        ("mlp.gate_proj", "ffn_gate"),
        ("mlp.up_proj", "ffn_up"),
        ("mlp.down_proj", "ffn_down"),
    ];
    match hf {
        "embed_tokens.weight" => return "token_embd.weight".into(),
        "norm.weight" => return "output_norm.weight".into(),
        _ => {}
    }
    let Some(rest) = hf.strip_prefix("layers.") else { return hf.to_string() };
    let Some((layer, part)) = rest.split_once('.') else { return hf.to_string() };
    let (stem, kind) = part.rsplit_once('.').unwrap_or((part, ""));
    let stem = PARTS.iter().find(|(h, _)| *h == stem).map_or(stem, |(_, g)| g);
    format!("blk.{layer}.{stem}.{kind}")
}

/// Loads a Qwen2 from a GGUF file. `dtype` is the precision of the layers when the weights are dequantized
/// (quantized matmuls take f32 activations, so they need `DType::F32`).
pub fn load_gguf(path: &Path, mode: GgufWeights, dtype: DType, device: &Device) -> Result<Qwen2> {
    if mode == GgufWeights::Quantized && dtype != DType::F32 {
        return Err(ModelError::Unsupported(format!(
            "{}: quantized GGUF matmuls run on f32 activations; use --gguf-weights dequantized for {dtype:?}",
            path.display()
        )));
    }
    check_alignment(path)?;
    let file = File::open(path).map_err(|e| ModelError::file(path, e.to_string()))?;
    let file_len = file.metadata().map_err(|e| ModelError::file(path, e.to_string()))?.len();
    let mut reader = BufReader::new(file);
    let content =
        gguf_file::Content::read(&mut reader).map_err(|e| ModelError::file(path, format!("not a GGUF file: {e}")))?;
    let cfg = gguf_config(path, &content)?;
    check_config(&cfg, path)?;
    check_shapes(&cfg, path, &|name| content.tensor_infos.get(&gguf_name(name)).map(|t| t.shape.dims().to_vec()))?;
    // Every tensor's bytes inside the file before the first is read (the shapes come from the file's header).
    for (name, _) in expected_shapes(&cfg) {
        let name = gguf_name(&name);
        if let Some(info) = content.tensor_infos.get(&name) {
            check_tensor_bytes(path, &content, &name, info, file_len)?;
        }
    }
    let mut tensor = |name: &str| -> Result<QTensor> {
        content.tensor(&mut reader, name, device).map_err(|e| ModelError::file(path, format!("tensor {name}: {e}")))
    };
    let dense = |t: QTensor| -> Result<Tensor> { Ok(t.dequantize(device)?.to_dtype(dtype)?) };
    let matmul = |t: QTensor| -> Result<QMatMul> {
        Ok(match mode {
            GgufWeights::Quantized => QMatMul::from_qtensor(t)?,
            GgufWeights::Dequantized => QMatMul::Tensor(t.dequantize(device)?.to_dtype(dtype)?),
        })
    };
    let eps = cfg.rms_norm_eps;
    let mut layers = Vec::with_capacity(cfg.num_hidden_layers);
    for i in 0..cfg.num_hidden_layers {
        let p = format!("blk.{i}");
        layers.push(Layer {
            input_norm: RmsNorm::new(dense(tensor(&format!("{p}.attn_norm.weight"))?)?, eps),
            q: Linear::new(
                matmul(tensor(&format!("{p}.attn_q.weight"))?)?,
                Some(dense(tensor(&format!("{p}.attn_q.bias"))?)?),
            ),
            k: Linear::new(
                matmul(tensor(&format!("{p}.attn_k.weight"))?)?,
                Some(dense(tensor(&format!("{p}.attn_k.bias"))?)?),
            ),
            v: Linear::new(
                matmul(tensor(&format!("{p}.attn_v.weight"))?)?,
                Some(dense(tensor(&format!("{p}.attn_v.bias"))?)?),
            ),
            o: Linear::new(matmul(tensor(&format!("{p}.attn_output.weight"))?)?, None),
            post_norm: RmsNorm::new(dense(tensor(&format!("{p}.ffn_norm.weight"))?)?, eps),
            gate: Linear::new(matmul(tensor(&format!("{p}.ffn_gate.weight"))?)?, None),
            up: Linear::new(matmul(tensor(&format!("{p}.ffn_up.weight"))?)?, None),
            down: Linear::new(matmul(tensor(&format!("{p}.ffn_down.weight"))?)?, None),
        });
    }
    let embed = tensor("token_embd.weight")?.dequantize(device)?;
    let norm = RmsNorm::new(tensor("output_norm.weight")?.dequantize(device)?, eps);
    Qwen2::new(cfg, embed, layers, norm, dtype, device.clone())
}
