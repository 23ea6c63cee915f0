//! LoRA adapters for Qwen2 in PEFT's file layout: `adapter_config.json` + `adapter_model.safetensors` with
//! tensors `base_model.model.layers.{i}.{self_attn|mlp}.{q,k,v,o,gate,up,down}_proj.lora_{A,B}.weight`
//! (A: r × in, B: out × r, delta W = alpha/r · B·A). Loaded for an unmerged forward or merged into the weights.

use std::collections::HashMap;
use std::io::Write as _;
use std::path::Path;

use candle_core::{DType, Device, Tensor};
use drbench_harness::io::atomic::write_atomic;
use serde::{Deserialize, Serialize};

use super::error::{ModelError, Result};

/// A projection LoRA can adapt, in the order adapters are stored in memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "snake_case")]
pub enum Target {
    /// Query projection.
    #[serde(rename = "q_proj")]
    #[cfg_attr(feature = "clap", value(name = "q"))]
    Q,
    /// Key projection.
    #[serde(rename = "k_proj")]
    #[cfg_attr(feature = "clap", value(name = "k"))]
    K,
    /// Value projection.
    #[serde(rename = "v_proj")]
    #[cfg_attr(feature = "clap", value(name = "v"))]
    V,
    /// Attention output projection.
    #[serde(rename = "o_proj")]
    #[cfg_attr(feature = "clap", value(name = "o"))]
    O,
    /// MLP gate.
    #[serde(rename = "gate_proj")]
    #[cfg_attr(feature = "clap", value(name = "gate"))]
    Gate,
    /// MLP up.
    #[serde(rename = "up_proj")]
    #[cfg_attr(feature = "clap", value(name = "up"))]
    Up,
    /// MLP down.
    #[serde(rename = "down_proj")]
    #[cfg_attr(feature = "clap", value(name = "down"))]
    Down,
}

impl Target {
    /// All targets, in storage order.
    pub const ALL: [Target; 7] = [Target::Q, Target::K, Target::V, Target::O, Target::Gate, Target::Up, Target::Down];

    /// Position in [`Target::ALL`].
    pub fn index(self) -> usize {
        Target::ALL.iter().position(|&t| t == self).expect("every target is in ALL")
    }

    /// PEFT / transformers module name (`q_proj`, ...).
    pub fn module_name(self) -> &'static str {
        match self {
            Target::Q => "q_proj",
            Target::K => "k_proj",
            Target::V => "v_proj",
            Target::O => "o_proj",
            Target::Gate => "gate_proj",
            Target::Up => "up_proj",
            Target::Down => "down_proj",
        }
    }

    /// Path inside a decoder layer (`self_attn.q_proj`, `mlp.up_proj`, ...).
    pub fn layer_path(self) -> String {
        let block = if matches!(self, Target::Gate | Target::Up | Target::Down) { "mlp" } else { "self_attn" };
        format!("{block}.{}", self.module_name())
    }

    fn from_module_name(name: &str) -> Option<Target> {
        Target::ALL.into_iter().find(|t| t.module_name() == name)
    }
}

/// LoRA hyper-parameters (PEFT's `LoraConfig` fields that matter here).
#[derive(Debug, Clone, PartialEq)]
pub struct LoraConfig {
    /// Rank.
    pub r: usize,
    /// Scaling numerator: delta = alpha / r · B·A.
    pub alpha: f64,
    /// Dropout on the adapter's input during training.
    pub dropout: f32,
    /// Adapted projections.
    pub targets: Vec<Target>,
}

impl LoraConfig {
    /// alpha / r.
    pub fn scale(&self) -> f64 {
        self.alpha / self.r as f64
    }
}

/// One adapted projection: `a` is `r × in`, `b` is `out × r`.
#[derive(Debug, Clone)]
pub struct LoraPair {
    /// Down-projection (PEFT `lora_A`).
    pub a: Tensor,
    /// Up-projection (PEFT `lora_B`).
    pub b: Tensor,
}

/// A LoRA adapter for every layer of a Qwen2.
#[derive(Debug, Clone)]
pub struct Adapter {
    /// Hyper-parameters.
    pub cfg: LoraConfig,
    /// Per layer, per [`Target`] (in [`Target::ALL`] order), the pair if adapted.
    pub layers: Vec<[Option<LoraPair>; 7]>,
}

/// `adapter_config.json` as PEFT writes it (the fields drbench reads and writes).
#[derive(Debug, Serialize, Deserialize)]
struct PeftConfig {
    peft_type: String,
    #[serde(default)]
    task_type: Option<String>,
    #[serde(default)]
    base_model_name_or_path: Option<String>,
    r: usize,
    lora_alpha: f64,
    #[serde(default)]
    lora_dropout: f32,
    target_modules: serde_json::Value,
    #[serde(default = "none_bias")]
    bias: String,
    #[serde(default)]
    fan_in_fan_out: bool,
    #[serde(default)]
    use_rslora: bool,
    #[serde(default)]
    use_dora: bool,
    #[serde(default)]
    inference_mode: bool,
    /// Per-module ranks / alphas (PEFT); drbench supports only the uniform r and alpha.
    #[serde(default, skip_serializing_if = "is_empty_or_null")]
    rank_pattern: serde_json::Value,
    #[serde(default, skip_serializing_if = "is_empty_or_null")]
    alpha_pattern: serde_json::Value,
    /// Fully trained extra modules (PEFT); not supported.
    #[serde(default, skip_serializing_if = "is_empty_or_null")]
    modules_to_save: serde_json::Value,
}

fn is_empty_or_null(v: &serde_json::Value) -> bool {
    match v {
        serde_json::Value::Null => true,
        serde_json::Value::Object(o) => o.is_empty(),
        serde_json::Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

fn none_bias() -> String {
    "none".to_string()
}

/// The tensor name PEFT gives layer `layer`'s `target` `A` or `B` matrix when the base is a `Qwen2Model`.
pub fn peft_tensor_name(layer: usize, target: Target, which: char) -> String {
    format!("base_model.model.layers.{layer}.{}.lora_{which}.weight", target.layer_path())
}

/// Parses `...layers.{i}.{block}.{module}.lora_{A|B}.weight` (any prefix: `Qwen2Model`, `Qwen2ForCausalLM` or
/// Qwen2.5-VL's `language_model`).
fn parse_tensor_name(name: &str) -> Option<(usize, Target, char)> {
    let rest = &name[name.find("layers.")? + "layers.".len()..];
    let (idx, rest) = rest.split_once('.')?;
    let layer = idx.parse().ok()?;
    let rest = rest.strip_prefix("self_attn.").or_else(|| rest.strip_prefix("mlp."))?;
    let (module, rest) = rest.split_once('.')?;
    let which = match rest {
        "lora_A.weight" | "lora_A.default.weight" => 'A',
        "lora_B.weight" | "lora_B.default.weight" => 'B',
        _ => return None,
    };
    Some((layer, Target::from_module_name(module)?, which))
}

impl Adapter {
    /// Reads a PEFT adapter folder for a model with `num_layers` layers; tensors in `dtype` on `device`.
    pub fn load(dir: &Path, num_layers: usize, dtype: DType, device: &Device) -> Result<Adapter> {
        let cfg_path = dir.join("adapter_config.json");
        let text = std::fs::read_to_string(&cfg_path).map_err(|e| ModelError::file(&cfg_path, e.to_string()))?;
        let pc: PeftConfig = serde_json::from_str(&text)
            .map_err(|e| ModelError::file(&cfg_path, format!("not a PEFT adapter config: {e}")))?;
        let unsupported = |what: &str| ModelError::file(&cfg_path, format!("{what} is not supported"));
        if pc.peft_type != "LORA" {
            return Err(unsupported(&format!("peft_type {:?} (only LORA)", pc.peft_type)));
        }
        if pc.use_dora {
            return Err(unsupported("use_dora"));
        }
        if pc.bias != "none" {
            return Err(unsupported(&format!("bias {:?}", pc.bias)));
        }
        if pc.fan_in_fan_out {
            return Err(unsupported("fan_in_fan_out"));
        }
        for (name, v) in [("rank_pattern", &pc.rank_pattern), ("alpha_pattern", &pc.alpha_pattern)] {
            if !is_empty_or_null(v) {
                return Err(unsupported(&format!("a non-empty {name}")));
            }
        }
        if !is_empty_or_null(&pc.modules_to_save) {
            return Err(unsupported("modules_to_save"));
        }
        let weights = dir.join("adapter_model.safetensors");
        let tensors = candle_core::safetensors::load(&weights, device)
            .map_err(|e| ModelError::file(&weights, format!("cannot read: {e}")))?;
        let mut layers: Vec<[Option<LoraPair>; 7]> = (0..num_layers).map(|_| Default::default()).collect();
        let mut halves: HashMap<(usize, Target), (Option<Tensor>, Option<Tensor>)> = HashMap::new();
        for (name, t) in tensors {
            let Some((layer, target, which)) = parse_tensor_name(&name) else {
                return Err(ModelError::file(&weights, format!("unexpected tensor {name}")));
            };
            if layer >= num_layers {
                return Err(ModelError::file(
                    &weights,
                    format!("tensor {name} is for layer {layer}, the model has {num_layers}"),
                ));
            }
            let slot = halves.entry((layer, target)).or_default();
            let t = t.to_dtype(dtype)?;
            if which == 'A' { slot.0 = Some(t) } else { slot.1 = Some(t) }
        }
        let mut targets: Vec<Target> = Vec::new();
        for ((layer, target), (a, b)) in halves {
            let (Some(a), Some(b)) = (a, b) else {
                return Err(ModelError::file(&weights, format!("layer {layer} {target:?}: lora_A or lora_B missing")));
            };
            if a.dim(0)? != pc.r || b.dim(1)? != pc.r {
                return Err(ModelError::file(
                    &weights,
                    format!(
                        "layer {layer} {target:?}: shapes {:?} / {:?} do not match r = {}",
                        a.dims(),
                        b.dims(),
                        pc.r
                    ),
                ));
            }
            if !targets.contains(&target) {
                targets.push(target);
            }
            layers[layer][target.index()] = Some(LoraPair { a, b });
        }
        targets.sort_by_key(|t| t.index());
        // rsLoRA scales by alpha / sqrt(r); express it as an equivalent alpha for `scale()`.
        let alpha = if pc.use_rslora { pc.lora_alpha * (pc.r as f64).sqrt() } else { pc.lora_alpha };
        Ok(Adapter { cfg: LoraConfig { r: pc.r, alpha, dropout: pc.lora_dropout, targets }, layers })
    }

    /// Writes the adapter as a PEFT folder (tensors in f32), each file atomically.
    pub fn save(&self, dir: &Path, base_model: &str) -> Result<()> {
        std::fs::create_dir_all(dir).map_err(|e| ModelError::file(dir, e.to_string()))?;
        let mut tensors: Vec<(String, Tensor)> = Vec::new();
        for (i, layer) in self.layers.iter().enumerate() {
            for target in Target::ALL {
                if let Some(p) = &layer[target.index()] {
                    tensors.push((peft_tensor_name(i, target, 'A'), p.a.to_dtype(DType::F32)?));
                    tensors.push((peft_tensor_name(i, target, 'B'), p.b.to_dtype(DType::F32)?));
                }
            }
        }
        let weights = dir.join("adapter_model.safetensors");
        save_safetensors_atomic(&tensors, &weights)?;
        let pc = PeftConfig {
            peft_type: "LORA".into(),
            task_type: Some("FEATURE_EXTRACTION".into()),
            base_model_name_or_path: Some(base_model.to_string()),
            r: self.cfg.r,
            lora_alpha: self.cfg.alpha,
            lora_dropout: self.cfg.dropout,
            target_modules: serde_json::json!(self.cfg.targets.iter().map(|t| t.module_name()).collect::<Vec<_>>()),
            bias: "none".into(),
            fan_in_fan_out: false,
            use_rslora: false,
            use_dora: false,
            inference_mode: true,
            rank_pattern: serde_json::Value::Null,
            alpha_pattern: serde_json::Value::Null,
            modules_to_save: serde_json::Value::Null,
        };
        let text = serde_json::to_string_pretty(&pc).map_err(|e| ModelError::Unsupported(e.to_string()))?;
        let config = dir.join("adapter_config.json");
        write_atomic(&config, |w| w.write_all(text.as_bytes()))
            .map_err(|e| ModelError::file(&config, e.to_string()))?;
        Ok(())
    }

    /// `scale · B·A` for layer `layer`'s `target`, if adapted (`out × in`).
    pub fn delta(&self, layer: usize, target: Target) -> Result<Option<Tensor>> {
        let Some(p) = self.layers.get(layer).and_then(|l| l[target.index()].as_ref()) else { return Ok(None) };
        Ok(Some((p.b.matmul(&p.a)? * self.cfg.scale())?))
    }
}

/// Writes named tensors as one safetensors file, atomically (`drbench_harness::io::atomic`).
pub fn save_safetensors_atomic(tensors: &[(String, Tensor)], path: &Path) -> Result<()> {
    let map: HashMap<&str, &Tensor> = tensors.iter().map(|(n, t)| (n.as_str(), t)).collect();
    let bytes = safetensors::tensor::serialize(map, None).map_err(|e| ModelError::file(path, e.to_string()))?;
    write_atomic(path, |w| w.write_all(&bytes)).map_err(|e| ModelError::file(path, e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tensor_names_round_trip_and_accept_other_prefixes() {
        for layer in [0, 27] {
            for t in Target::ALL {
                for which in ['A', 'B'] {
                    assert_eq!(parse_tensor_name(&peft_tensor_name(layer, t, which)), Some((layer, t, which)));
                }
            }
        }
        assert_eq!(peft_tensor_name(3, Target::Gate, 'A'), "base_model.model.layers.3.mlp.gate_proj.lora_A.weight");
        assert_eq!(
            parse_tensor_name("base_model.model.model.layers.1.self_attn.o_proj.lora_B.weight"),
            Some((1, Target::O, 'B'))
        );
        assert_eq!(parse_tensor_name("base_model.model.layers.1.self_attn.o_proj.weight"), None);
        assert_eq!(parse_tensor_name("base_model.model.layers.1.self_attn.x_proj.lora_A.weight"), None);
    }
}
