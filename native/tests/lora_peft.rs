//! LoRA adapters interoperate with PEFT: an adapter PEFT itself wrote for the tiny Qwen2
//! (datasets/fixtures/peft-tiny-qwen2, made by its make.py) loads, and drbench's EOS embeddings with it — run
//! beside the weights or merged into them — equal transformers + PEFT's to 1e-5; one drbench saves loads back
//! to the same embeddings.

mod common;

use std::path::PathBuf;

use drbench_harness::encoder::Role;
use drbench_native::encoders::build::build_encoder;
use drbench_native::encoders::device::{DeviceKind, Precision};
use drbench_native::encoders::lora::Adapter;
use drbench_native::encoders::source::ModelFiles;
use drbench_native::encoders::spec::{EncoderSpec, Mode};
use drbench_native::encoders::weights::GgufWeights;
use serde_json::Value;

const TOL: f32 = 1e-5;

fn fixture() -> PathBuf {
    common::root().join("datasets/fixtures/peft-tiny-qwen2")
}

fn spec(adapter: Option<PathBuf>, merge: bool) -> EncoderSpec {
    let shared = common::shared();
    EncoderSpec {
        files: ModelFiles::Folder(shared.join("golden/qwen2-tiny")),
        tokenizer: Some(shared.join("mirror/models/qwen2.5-coder-0.5b-instruct")),
        mode: Mode::Eos,
        max_length: None,
        device: DeviceKind::Cpu,
        cuda_ordinal: 0,
        precision: Precision::F32,
        gguf: GgufWeights::Dequantized,
        normalize: true,
        batch_size: 16,
        max_batch_tokens: None,
        adapter,
        merge_adapter: merge,
    }
}

fn max_diff(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

/// Encodes every fixture input with `spec`, alone and all of a role in one batch (packed without padding on the
/// CPU), and compares with `key`.
fn check(spec: EncoderSpec, key: &str) -> Vec<Vec<f32>> {
    let expected: Value =
        serde_json::from_str(&std::fs::read_to_string(fixture().join("expected.json")).unwrap()).unwrap();
    let mut enc = build_encoder(&spec).unwrap();
    let dim = enc.dim();
    let mut out = Vec::new();
    let rows = expected["inputs"].as_array().unwrap();
    let role = |row: &Value| if row["kind"] == "query" { Role::Query } else { Role::Passage };
    let want =
        |row: &Value| -> Vec<f32> { row[key].as_array().unwrap().iter().map(|x| x.as_f64().unwrap() as f32).collect() };
    for row in rows {
        let got = enc.encode(&[row["text"].as_str().unwrap()], role(row)).unwrap();
        assert_eq!(got.len(), dim);
        let d = max_diff(&got, &want(row));
        assert!(d <= TOL, "{key}, {:?}: max |diff| {d:e} > {TOL:e}", row["text"]);
        out.push(got);
    }
    for r in [Role::Query, Role::Passage] {
        let batch: Vec<&Value> = rows.iter().filter(|row| role(row) == r).collect();
        let texts: Vec<&str> = batch.iter().map(|row| row["text"].as_str().unwrap()).collect();
        let got = enc.encode(&texts, r).unwrap();
        for (row, got) in batch.iter().zip(got.chunks(dim)) {
            let d = max_diff(got, &want(row));
            assert!(d <= TOL, "{key}, {:?} in a batch of {}: max |diff| {d:e} > {TOL:e}", row["text"], texts.len());
        }
    }
    out
}

#[test]
fn peft_adapter_matches_transformers_unmerged_and_merged() {
    check(spec(None, false), "embedding_without_adapter");
    let unmerged = check(spec(Some(fixture()), false), "embedding");
    check(spec(Some(fixture()), true), "embedding_merged");

    // Saved by drbench (f32, PEFT names) and read back: the same adapter.
    let adapter = Adapter::load(&fixture(), 2, candle_core::DType::F32, &candle_core::Device::Cpu).unwrap();
    assert_eq!((adapter.cfg.r, adapter.cfg.alpha, adapter.cfg.targets.len()), (4, 8.0, 7));
    let dir = tempfile::tempdir().unwrap();
    adapter.save(dir.path(), "qwen2-tiny").unwrap();
    let again = check(spec(Some(dir.path().to_path_buf()), false), "embedding");
    assert_eq!(again, unmerged);
}

#[test]
fn unsupported_adapters_are_refused_with_the_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(fixture().join("adapter_model.safetensors"), dir.path().join("adapter_model.safetensors")).unwrap();
    let cfg: Value =
        serde_json::from_str(&std::fs::read_to_string(fixture().join("adapter_config.json")).unwrap()).unwrap();
    for (key, value, message) in [
        ("use_dora", Value::Bool(true), "use_dora is not supported"),
        ("alpha_pattern", serde_json::json!({"q_proj": 4}), "a non-empty alpha_pattern is not supported"),
        ("peft_type", Value::String("IA3".into()), "peft_type \"IA3\" (only LORA) is not supported"),
        ("r", serde_json::json!(8), "do not match r = 8"),
    ] {
        let mut c = cfg.clone();
        c[key] = value;
        std::fs::write(dir.path().join("adapter_config.json"), c.to_string()).unwrap();
        let err = Adapter::load(dir.path(), 2, candle_core::DType::F32, &candle_core::Device::Cpu).unwrap_err();
        let err = err.to_string();
        assert!(err.contains(message) && err.contains(&dir.path().display().to_string()), "{key}: {err}");
    }
}
