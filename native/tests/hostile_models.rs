//! Issue "Hostile and careless input", its model cases: a copy of ../shared/golden/qwen2-tiny with one
//! config.json field (or one tensor) wrong must be refused at load, naming config.json and the field — never
//! panic, never allocate from the bad number.

mod common;

use std::collections::HashMap;
use std::path::Path;

use candle_core::{DType, Device, Tensor};
use drbench_native::encoders::weights::load_hf;

/// A copy of qwen2-tiny in a temporary folder with `edit` applied to its config.json.
fn tiny_with(edit: &dyn Fn(&mut serde_json::Value)) -> tempfile::TempDir {
    let golden = common::shared().join("golden/qwen2-tiny");
    let dir = tempfile::tempdir().unwrap();
    for f in ["config.json", "model.safetensors"] {
        std::fs::copy(golden.join(f), dir.path().join(f)).unwrap();
    }
    let path = dir.path().join("config.json");
    let mut cfg: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    edit(&mut cfg);
    std::fs::write(&path, serde_json::to_string(&cfg).unwrap()).unwrap();
    dir
}

fn load_error(dir: &Path) -> String {
    match load_hf(dir, DType::F32, &Device::Cpu) {
        Ok(_) => panic!("{} loaded", dir.display()),
        Err(e) => e.to_string(),
    }
}

#[test]
fn a_qwen2_config_that_does_not_describe_its_weights_is_refused_naming_the_field() {
    // (field, value, what the error says after "config.json: ")
    let cases: &[(&str, serde_json::Value, &str)] = &[
        ("num_attention_heads", 0.into(), "num_attention_heads: must be at least 1, not 0"),
        ("num_attention_heads", 7.into(), "num_attention_heads: 7 heads do not divide hidden_size 32"),
        ("num_key_value_heads", 3.into(), "num_key_value_heads: 3 key/value heads do not divide the 4 query heads"),
        ("hidden_size", 64.into(), "tensor embed_tokens.weight has shape [151936, 32], but the config"),
        ("hidden_size", (1u64 << 40).into(), "tensor embed_tokens.weight has shape [151936, 32]"),
        ("vocab_size", 1000.into(), "tensor embed_tokens.weight has shape [151936, 32]"),
        ("intermediate_size", 32.into(), "tensor layers.0.mlp.gate_proj.weight has shape [64, 32]"),
        (
            "num_hidden_layers",
            1_000_000_000.into(),
            "num_hidden_layers is 1000000000, but the weights have no layer 999999999",
        ),
        ("num_hidden_layers", 1.into(), "num_hidden_layers is 1, but the weights hold more layers"),
        ("model_type", "llama".into(), "model_type: \"llama\" is not a Qwen2 model"),
        (
            "architectures",
            serde_json::json!(["LlamaForCausalLM"]),
            "architectures: [\"LlamaForCausalLM\"] names no Qwen2 class",
        ),
        ("max_position_embeddings", 0.into(), "max_position_embeddings: must be at least 1, not 0"),
        ("rms_norm_eps", (-1.0).into(), "rms_norm_eps: must be a finite number > 0, not -1"),
        ("rope_theta", 0.0.into(), "rope_theta: must be a finite number > 0, not 0"),
    ];
    for (field, value, want) in cases {
        let dir = tiny_with(&|cfg| {
            cfg[*field] = value.clone();
            if *field == "rope_theta" {
                cfg["rope_parameters"]["rope_theta"] = value.clone();
            }
        });
        let err = load_error(dir.path());
        let config = dir.path().join("config.json").display().to_string();
        assert!(err.starts_with(&config) && err.contains(want), "{field} = {value}: {err}");
    }
}

#[test]
fn inputs_longer_than_max_position_embeddings_are_refused() {
    use drbench_harness::encoder::{Encoder, Role};
    use drbench_native::encoders::llm::{LlmEncoder, LlmOptions};
    let dir = tiny_with(&|cfg| cfg["max_position_embeddings"] = 8.into());
    let tokenizer_dir = common::shared().join("mirror/models/qwen2.5-coder-0.5b-instruct");
    let model = load_hf(dir.path(), DType::F32, &Device::Cpu).unwrap();
    let mut enc = LlmEncoder::new(model, &tokenizer_dir, LlmOptions::default(), "tiny".into()).unwrap();
    let err = enc.encode(&["a query about vitamin D and bone density"], Role::Query).unwrap_err().to_string();
    assert!(err.contains("is longer than the model's max_position_embeddings 8"), "{err}");
}

#[test]
fn a_transposed_gate_proj_is_refused_by_its_shape() {
    let dir = tiny_with(&|_| {});
    let path = dir.path().join("model.safetensors");
    let mut tensors: HashMap<String, Tensor> = candle_core::safetensors::load(&path, &Device::Cpu).unwrap();
    let key = "model.layers.0.mlp.gate_proj.weight";
    let t = tensors[key].t().unwrap().contiguous().unwrap();
    tensors.insert(key.into(), t);
    candle_core::safetensors::save(&tensors, &path).unwrap();
    let err = load_error(dir.path());
    assert!(err.contains("tensor layers.0.mlp.gate_proj.weight has shape [32, 64]"), "{err}");
}

#[test]
fn a_bert_config_with_a_billion_layers_is_refused_before_it_allocates() {
    use drbench_native::encoders::bert::{BertEncoder, BertForward, BertOptions};
    let src = common::shared().join("mirror/models/all-MiniLM-L6-v2");
    let dir = tempfile::tempdir().unwrap();
    for e in std::fs::read_dir(&src).unwrap() {
        let p = e.unwrap().path();
        if p.is_file() {
            std::fs::copy(&p, dir.path().join(p.file_name().unwrap())).unwrap();
        }
    }
    let path = dir.path().join("config.json");
    let mut cfg: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    cfg["num_hidden_layers"] = 1_000_000_000.into();
    std::fs::write(&path, serde_json::to_string(&cfg).unwrap()).unwrap();
    for forward in [BertForward::Packed, BertForward::Candle] {
        let opts = BertOptions { forward: Some(forward), ..BertOptions::default() };
        let Err(err) = BertEncoder::load(dir.path(), opts, &Device::Cpu, "x".into()) else {
            panic!("{forward:?} loaded")
        };
        let err = err.to_string();
        assert!(err.contains("layer"), "{forward:?}: {err}");
    }
}
