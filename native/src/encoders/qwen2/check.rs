//! A Qwen2's hyper-parameters checked against themselves and against the shapes of its tensors before anything is
//! built from them: a config that does not describe its weights is an error naming the file and the field, and no
//! size read from a config reaches an allocation unless the weights (which are in the file) agree with it.

use std::path::Path;

use super::super::error::{ModelError, Result};
use super::Qwen2Config;

/// `model_type` values of the models read as Qwen2 (Qwen2.5 and its VL models' text stack).
const QWEN2_TYPES: &[&str] = &["qwen2", "qwen2_vl", "qwen2_5_vl", "qwen2_vl_text", "qwen2_5_vl_text"];

/// Refuses a config that cannot describe a Qwen2: zero sizes, heads that do not divide the width, key/value
/// heads that do not divide the query heads, an odd head size, a non-finite epsilon or RoPE base, another model
/// (`model_type`, `architectures`).
pub fn check_config(cfg: &Qwen2Config, path: &Path) -> Result<()> {
    let bad = |field: &str, why: String| Err(ModelError::file(path, format!("{field}: {why}")));
    for (field, v) in [
        ("hidden_size", cfg.hidden_size),
        ("intermediate_size", cfg.intermediate_size),
        ("num_hidden_layers", cfg.num_hidden_layers),
        ("num_attention_heads", cfg.num_attention_heads),
        ("num_key_value_heads", cfg.num_key_value_heads),
        ("vocab_size", cfg.vocab_size),
    ] {
        if v == 0 {
            return bad(field, "must be at least 1, not 0".into());
        }
    }
    if let Some(t) = cfg.model_type.as_deref().filter(|t| !QWEN2_TYPES.contains(t)) {
        return bad("model_type", format!("{t:?} is not a Qwen2 model ({})", QWEN2_TYPES.join(", ")));
    }
    if let Some(archs) = &cfg.architectures
        && !archs.iter().any(|a| a.starts_with("Qwen2"))
    {
        return bad("architectures", format!("{archs:?} names no Qwen2 class (Qwen2ForCausalLM, Qwen2Model, ...)"));
    }
    if cfg.max_position_embeddings == Some(0) {
        return bad("max_position_embeddings", "must be at least 1, not 0".into());
    }
    if !cfg.hidden_size.is_multiple_of(cfg.num_attention_heads) {
        let (h, n) = (cfg.hidden_size, cfg.num_attention_heads);
        return bad("num_attention_heads", format!("{n} heads do not divide hidden_size {h}"));
    }
    if !cfg.num_attention_heads.is_multiple_of(cfg.num_key_value_heads) {
        let (q, kv) = (cfg.num_attention_heads, cfg.num_key_value_heads);
        return bad("num_key_value_heads", format!("{kv} key/value heads do not divide the {q} query heads"));
    }
    if !cfg.head_dim().is_multiple_of(2) {
        return bad("num_attention_heads", format!("the head size {} is odd; RoPE rotates pairs", cfg.head_dim()));
    }
    if !(cfg.rms_norm_eps.is_finite() && cfg.rms_norm_eps > 0.0) {
        return bad("rms_norm_eps", format!("must be a finite number > 0, not {}", cfg.rms_norm_eps));
    }
    let base = cfg.rope_base();
    if !(base.is_finite() && base > 0.0) {
        return bad("rope_theta", format!("must be a finite number > 0, not {base}"));
    }
    Ok(())
}

/// Every tensor a Qwen2 of `cfg` has, by its Hugging Face name (no `model.` prefix), with its shape.
pub fn expected_shapes(cfg: &Qwen2Config) -> Vec<(String, Vec<usize>)> {
    let (h, i, kv) = (cfg.hidden_size, cfg.intermediate_size, cfg.num_key_value_heads * cfg.head_dim());
    let mut out = vec![("embed_tokens.weight".to_string(), vec![cfg.vocab_size, h]), ("norm.weight".into(), vec![h])];
    for l in 0..cfg.num_hidden_layers {
        for (name, shape) in [
            ("input_layernorm.weight", vec![h]),
            ("post_attention_layernorm.weight", vec![h]),
            ("self_attn.q_proj.weight", vec![h, h]),
            ("self_attn.q_proj.bias", vec![h]),
            ("self_attn.k_proj.weight", vec![kv, h]),
            ("self_attn.k_proj.bias", vec![kv]),
            ("self_attn.v_proj.weight", vec![kv, h]),
            ("self_attn.v_proj.bias", vec![kv]),
            ("self_attn.o_proj.weight", vec![h, h]),
            ("mlp.gate_proj.weight", vec![i, h]),
            ("mlp.up_proj.weight", vec![i, h]),
            ("mlp.down_proj.weight", vec![h, i]),
        ] {
            out.push((format!("layers.{l}.{name}"), shape));
        }
    }
    out
}

/// Checks the tensors' shapes (`shape_of` a Hugging Face name; `None` when absent) against `cfg`, and that the
/// weights hold exactly `num_hidden_layers` layers, before any tensor is built from the config's sizes.
pub fn check_shapes(cfg: &Qwen2Config, path: &Path, shape_of: &dyn Fn(&str) -> Option<Vec<usize>>) -> Result<()> {
    let layers = cfg.num_hidden_layers;
    // The layer count first: it sizes everything else, and a huge one must not become a huge list of names.
    if shape_of(&format!("layers.{}.input_layernorm.weight", layers - 1)).is_none() {
        return Err(ModelError::file(
            path,
            format!("num_hidden_layers is {layers}, but the weights have no layer {}", layers - 1),
        ));
    }
    if shape_of(&format!("layers.{layers}.input_layernorm.weight")).is_some() {
        return Err(ModelError::file(path, format!("num_hidden_layers is {layers}, but the weights hold more layers")));
    }
    for (name, want) in expected_shapes(cfg) {
        match shape_of(&name) {
            None => return Err(ModelError::file(path, format!("missing tensor {name}"))),
            Some(got) if got != want => {
                return Err(ModelError::file(
                    path,
                    format!(
                        "tensor {name} has shape {got:?}, but the config (hidden_size {}, intermediate_size {}, \
                         {} heads, {} key/value heads, vocab_size {}) says {want:?}",
                        cfg.hidden_size,
                        cfg.intermediate_size,
                        cfg.num_attention_heads,
                        cfg.num_key_value_heads,
                        cfg.vocab_size
                    ),
                ));
            }
            Some(_) => {}
        }
    }
    Ok(())
}
