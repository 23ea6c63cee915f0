//! Encoder parity with PyTorch (../shared/golden): the tiny random Qwen2 (prompts, token ids, embeddings, alone
//! and as one left-padded batch) and all-MiniLM-L6-v2 (token ids, embeddings), each to 1e-4, on the CPU through
//! both the packed forward and candle's. Every body runs on each device compiled in (`common::devices`: the CPU,
//! and CUDA in a `--features cuda` build).

mod common;

use std::path::{Path, PathBuf};

use candle_core::{DType, Device};
use drbench_harness::encoder::{Encoder, Role};
use drbench_native::encoders::bert::{BertEncoder, BertForward, BertOptions};
use drbench_native::encoders::cpu;
use drbench_native::encoders::llm::{LlmEncoder, LlmOptions};
use drbench_native::encoders::prompt::PromptMode;
use drbench_native::encoders::qwen2::CpuForward;
use drbench_native::encoders::weights::load_hf;
use serde_json::Value;

const TOL: f32 = 1e-4;

use common::{devices, shared, slow_tier};

fn json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))).unwrap()
}

fn floats(v: &Value) -> Vec<f32> {
    v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap() as f32).collect()
}

fn ints(v: &Value) -> Vec<u32> {
    v.as_array().unwrap().iter().map(|x| x.as_u64().unwrap() as u32).collect()
}

fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

/// The golden `inputs` as id → (kind, text).
fn inputs_by_id(expected: &Value) -> std::collections::HashMap<String, (String, String)> {
    expected["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (i["id"].as_str().unwrap().into(), (i["kind"].as_str().unwrap().into(), i["text"].as_str().unwrap().into()))
        })
        .collect()
}

fn role(kind: &str) -> Role {
    if kind == "query" { Role::Query } else { Role::Passage }
}

fn mode(name: &str) -> PromptMode {
    match name {
        "promptreps" => PromptMode::Promptreps,
        "eos" => PromptMode::Eos,
        other => panic!("unknown mode {other}"),
    }
}

/// The Qwen2 forwards a device runs: on the CPU the packed one and candle's, elsewhere candle's.
fn qwen2_forwards(dev: &Device) -> &'static [CpuForward] {
    if dev.is_cpu() { &[CpuForward::Packed, CpuForward::Candle] } else { &[CpuForward::Candle] }
}

#[test]
fn qwen2_tiny_equals_transformers_alone_and_left_padded() {
    let golden = shared().join("golden/qwen2-tiny");
    let tokenizer_dir = shared().join("mirror/models/qwen2.5-coder-0.5b-instruct");
    let expected = json(&golden.join("expected.json"));
    let texts = inputs_by_id(&expected);
    let runs = devices().into_iter().flat_map(|(name, dev)| {
        qwen2_forwards(&dev).iter().flat_map(move |&f| {
            let name = format!("{name} {f:?}");
            [(name.clone(), dev.clone(), f, "promptreps"), (name, dev.clone(), f, "eos")]
        })
    });
    for (dev_name, dev, forward, mode_name) in runs {
        let mut model = load_hf(&golden, DType::F32, &dev).unwrap();
        model.cpu_forward = forward;
        let opts =
            LlmOptions { mode: mode(mode_name), max_text_tokens: 4096, normalize: false, ..LlmOptions::default() };
        let enc = LlmEncoder::new(model, &tokenizer_dir, opts, "qwen2-tiny".into()).unwrap();
        let cases: Vec<&Value> =
            expected["cases"].as_array().unwrap().iter().filter(|c| c["mode"] == mode_name).collect();
        let mut batch = Vec::new();
        for c in &cases {
            let id = c["input_id"].as_str().unwrap();
            let (kind, text) = &texts[id];
            let p = enc.prepare(text, role(kind)).unwrap();
            assert_eq!(p.prompt, c["prompt"].as_str().unwrap(), "{mode_name} {id}: prompt");
            assert_eq!(p.ids, ints(&c["token_ids"]), "{mode_name} {id}: token ids");
            let alone = enc.embed_ids(std::slice::from_ref(&p.ids)).unwrap();
            let d = max_abs_diff(&alone, &floats(&c["embedding"]));
            assert!(d <= TOL, "{dev_name} {mode_name} {id}: alone, max abs diff {d}");
            batch.push(p.ids);
        }
        let together = enc.embed_ids(&batch).unwrap();
        for (i, c) in cases.iter().enumerate() {
            let d = max_abs_diff(&together[i * 32..(i + 1) * 32], &floats(&c["embedding"]));
            assert!(d <= TOL, "{dev_name} {mode_name} {}: in a left-padded batch, max abs diff {d}", c["input_id"]);
        }
    }
}

/// bf16 keeps the attention mask in f32: f32::MIN rounds to -inf in bf16, which turned rows of pads into NaN and
/// poisoned every row of a left-padded batch (regression). Each embedding stays close to transformers' f32 one.
#[test]
fn qwen2_tiny_bf16_left_padded_batch_stays_finite_and_close() {
    let golden = shared().join("golden/qwen2-tiny");
    let tokenizer_dir = shared().join("mirror/models/qwen2.5-coder-0.5b-instruct");
    let expected = json(&golden.join("expected.json"));
    let texts = inputs_by_id(&expected);
    for (dev_name, dev, forward) in devices()
        .into_iter()
        .flat_map(|(n, d)| qwen2_forwards(&d).iter().map(move |&f| (format!("{n} {f:?}"), d.clone(), f)))
    {
        let mut model = load_hf(&golden, DType::BF16, &dev).unwrap();
        model.cpu_forward = forward;
        let opts =
            LlmOptions { mode: PromptMode::Eos, max_text_tokens: 4096, normalize: false, ..LlmOptions::default() };
        let enc = LlmEncoder::new(model, &tokenizer_dir, opts, "qwen2-tiny-bf16".into()).unwrap();
        let cases: Vec<&Value> = expected["cases"].as_array().unwrap().iter().filter(|c| c["mode"] == "eos").collect();
        let batch: Vec<Vec<u32>> = cases
            .iter()
            .map(|c| {
                let (kind, text) = &texts[c["input_id"].as_str().unwrap()];
                enc.prepare(text, role(kind)).unwrap().ids
            })
            .collect();
        assert!(batch.iter().map(Vec::len).min() < batch.iter().map(Vec::len).max(), "the batch needs padding");
        let together = enc.embed_ids(&batch).unwrap();
        assert!(together.iter().all(|x| x.is_finite()), "{dev_name}: bf16 batch produced non-finite values");
        for (i, c) in cases.iter().enumerate() {
            let cos = cosine(&together[i * 32..(i + 1) * 32], &floats(&c["embedding"]));
            assert!(cos >= 0.99, "{dev_name} {}: bf16 cosine {cos} to transformers f32", c["input_id"]);
        }
    }
}

#[test]
fn minilm_equals_sentence_transformers() {
    let dir = shared().join("mirror/models/all-MiniLM-L6-v2");
    let expected = json(&shared().join("golden/minilm/expected.json"));
    let runs = devices().into_iter().flat_map(|(name, dev)| {
        let forwards: &[BertForward] =
            if dev.is_cpu() { &[BertForward::Packed, BertForward::Candle] } else { &[BertForward::Candle] };
        forwards.iter().map(move |&f| (format!("{name} {f:?}"), dev.clone(), f))
    });
    for (dev_name, dev, forward) in runs {
        let opts = BertOptions { forward: Some(forward), ..BertOptions::default() };
        let mut enc = BertEncoder::load(&dir, opts, &dev, "minilm".into()).unwrap();
        let cases = expected["cases"].as_array().unwrap();
        for c in cases {
            let ids = enc.token_ids(c["text"].as_str().unwrap()).unwrap();
            assert_eq!(ids, ints(&c["token_ids"]), "{}", c["input_id"]);
        }
        let texts: Vec<&str> = cases.iter().map(|c| c["text"].as_str().unwrap()).collect();
        let got = enc.encode(&texts, Role::Passage).unwrap();
        for (i, c) in cases.iter().enumerate() {
            let d = max_abs_diff(&got[i * 384..(i + 1) * 384], &floats(&c["embedding"]));
            assert!(d <= TOL, "{dev_name} {}: max abs diff {d}", c["input_id"]);
        }
    }
}

/// bf16 linear layers (packed CPU forward): every golden MiniLM embedding within cosine 0.999 of
/// sentence-transformers' f32 one; and bf16 is refused where it is not implemented (candle's padded forward).
#[test]
fn minilm_bf16_stays_within_cosine_0999_of_f32() {
    let dir = shared().join("mirror/models/all-MiniLM-L6-v2");
    let expected = json(&shared().join("golden/minilm/expected.json"));
    let opts = BertOptions { bf16: true, ..BertOptions::default() };
    let mut enc = BertEncoder::load(&dir, opts, &Device::Cpu, "minilm-bf16".into()).unwrap();
    let cases = expected["cases"].as_array().unwrap();
    let texts: Vec<&str> = cases.iter().map(|c| c["text"].as_str().unwrap()).collect();
    let got = enc.encode(&texts, Role::Passage).unwrap();
    let mut worst = 1f64;
    for (i, c) in cases.iter().enumerate() {
        let cos = cosine(&got[i * 384..(i + 1) * 384], &floats(&c["embedding"]));
        assert!(cos >= 0.999, "{}: bf16 cosine {cos} to sentence-transformers f32", c["input_id"]);
        worst = worst.min(cos);
    }
    eprintln!(
        "MiniLM bf16 (packed, {:?}): min cosine {worst:.6} over {} texts",
        cpu::bf16::Kernel::detect(),
        cases.len()
    );
    let candle = BertOptions { bf16: true, forward: Some(BertForward::Candle), ..BertOptions::default() };
    let err = BertEncoder::load(&dir, candle, &Device::Cpu, "x".into()).unwrap_err().to_string();
    assert!(err.contains("packed CPU forward only"), "{err}");
    // A maximum length past the position table is refused at load, naming the file, not a panic mid-corpus.
    let long = BertOptions { max_len: Some(513), ..BertOptions::default() };
    let err = BertEncoder::load(&dir, long, &Device::Cpu, "x".into()).unwrap_err().to_string();
    assert!(err.contains("max_position_embeddings (512)") && err.contains("model.safetensors"), "{err}");
}

/// The real Qwen2.5-Coder-0.5B-Instruct GGUF (fetched by ../shared/tools/fetch-qwen2.5-coder-0.5b-gguf.sh;
/// `.ci/run` does it): `$DRBENCH_QWEN_GGUF`, else the script's default destination.
fn qwen_gguf() -> PathBuf {
    let path = std::env::var_os("DRBENCH_QWEN_GGUF").map(PathBuf::from).unwrap_or_else(|| {
        let cache = std::env::var_os("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cache"));
        cache.join("drbench/models/qwen2.5-coder-0.5b-instruct-gguf/model.gguf")
    });
    assert!(path.is_file(), "{} is missing: run ../shared/tools/fetch-qwen2.5-coder-0.5b-gguf.sh", path.display());
    path
}

fn cosine(a: &[f32], b: &[f32]) -> f64 {
    let dot: f64 = a.iter().zip(b).map(|(x, y)| f64::from(*x) * f64::from(*y)).sum();
    let na: f64 = a.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>().sqrt();
    let nb: f64 = b.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>().sqrt();
    dot / (na * nb)
}

/// The real 0.5B model from its GGUF: dequantized to f32 equal to transformers to 1e-4 (normalised embeddings); in
/// bf16 (the projections on bf16 panels) within cosine 0.999 of it; with quantized matmuls within 0.999 (promptreps)
/// and 0.995 (eos). Every golden input runs dequantized; candle's quantized matmuls (the CPU's slow path: ~10 minutes
/// for all 16 cases on 2 cores) run on each mode's queries by default (4 of 8 inputs, ~10% of the tokens), on every
/// input with `DRBENCH_SLOW=1`.
#[test]
fn qwen25_coder_05b_gguf_dequantized_and_quantized() {
    use drbench_native::encoders::weights::{GgufWeights, load_gguf};
    let expected = json(&shared().join("golden/qwen2.5-coder-0.5b/expected.json"));
    let tokenizer_dir = shared().join("mirror/models/qwen2.5-coder-0.5b-instruct");
    let texts = inputs_by_id(&expected);
    let path = qwen_gguf();
    for (dev_name, dev) in devices() {
        let variants = [
            (GgufWeights::Dequantized, DType::F32),
            (GgufWeights::Dequantized, DType::BF16),
            (GgufWeights::Quantized, DType::F32),
        ];
        for (weights, dtype, mode_name) in variants.into_iter().flat_map(|(w, t)| [(w, t, "promptreps"), (w, t, "eos")])
        {
            let model = load_gguf(&path, weights, dtype, &dev).unwrap();
            let opts =
                LlmOptions { mode: mode(mode_name), max_text_tokens: 4096, normalize: true, ..LlmOptions::default() };
            let mut enc = LlmEncoder::new(model, &tokenizer_dir, opts, "qwen0.5b".into()).unwrap();
            let cases: Vec<&Value> =
                expected["cases"].as_array().unwrap().iter().filter(|c| c["mode"] == mode_name).collect();
            let runs = |c: &&Value| {
                weights == GgufWeights::Dequantized
                    || slow_tier()
                    || texts[c["input_id"].as_str().unwrap()].0 == "query"
            };
            for c in cases.iter().filter(|c| runs(c)) {
                let id = c["input_id"].as_str().unwrap();
                let (kind, text) = &texts[id];
                let p = enc.prepare(text, role(kind)).unwrap();
                assert_eq!(p.ids, ints(&c["token_ids"]), "{mode_name} {id}: token ids");
                let got = enc.encode(&[text.as_str()], role(kind)).unwrap();
                let want = floats(&c["embedding_normalized"]);
                match (weights, dtype) {
                    (GgufWeights::Dequantized, DType::F32) => {
                        let d = max_abs_diff(&got, &want);
                        assert!(d <= TOL, "{dev_name} dequantized {mode_name} {id}: max abs diff {d} (normalized)");
                    }
                    (GgufWeights::Dequantized, _) => {
                        let cos = cosine(&got, &want);
                        assert!(cos >= 0.999, "{dev_name} bf16 {mode_name} {id}: cosine {cos} to transformers f32");
                    }
                    (GgufWeights::Quantized, _) => {
                        let min = if mode_name == "promptreps" { 0.999 } else { 0.995 };
                        let cos = cosine(&got, &want);
                        assert!(cos >= min, "{dev_name} quantized {mode_name} {id}: cosine {cos} < {min}");
                    }
                }
            }
        }
    }
}

/// Qwen2.5-VL checkpoints keep the language model under `model.language_model.` with vision weights beside it
/// and the text hyper-parameters in `text_config`: the text path must load from that layout and give the same
/// embeddings as the plain Qwen2 it is.
#[test]
fn qwen25_vl_layout_loads_the_text_path() {
    let golden = shared().join("golden/qwen2-tiny");
    let tensors = candle_core::safetensors::load(golden.join("model.safetensors"), &Device::Cpu).unwrap();
    let mut renamed: std::collections::HashMap<String, candle_core::Tensor> = tensors
        .into_iter()
        .map(|(k, v)| (k.strip_prefix("model.").map_or(k.clone(), |rest| format!("model.language_model.{rest}")), v))
        .collect();
    renamed.insert(
        "visual.blocks.0.attn.qkv.weight".into(),
        candle_core::Tensor::zeros((3, 3), DType::F32, &Device::Cpu).unwrap(),
    );
    let dir = tempfile::tempdir().unwrap();
    candle_core::safetensors::save(&renamed, dir.path().join("model.safetensors")).unwrap();
    let text_config = json(&golden.join("config.json"));
    let vl = serde_json::json!({"model_type": "qwen2_5_vl", "text_config": text_config,
                                "vision_config": {"depth": 1}, "rope_scaling": {"type": "mrope", "mrope_section": [2, 1, 1]}});
    std::fs::write(dir.path().join("config.json"), vl.to_string()).unwrap();
    let tokenizer_dir = shared().join("mirror/models/qwen2.5-coder-0.5b-instruct");
    let opts = || LlmOptions { mode: PromptMode::Promptreps, normalize: false, ..LlmOptions::default() };
    for (dev_name, dev) in devices() {
        let plain =
            LlmEncoder::new(load_hf(&golden, DType::F32, &dev).unwrap(), &tokenizer_dir, opts(), "a".into()).unwrap();
        let vl = LlmEncoder::new(load_hf(dir.path(), DType::F32, &dev).unwrap(), &tokenizer_dir, opts(), "b".into())
            .unwrap();
        let ids = plain.prepare("what is the capital of france", Role::Query).unwrap().ids;
        assert_eq!(plain.embed_ids(std::slice::from_ref(&ids)).unwrap(), vl.embed_ids(&[ids]).unwrap(), "{dev_name}");
    }
}

/// A bare `Qwen2Model` checkpoint (what `Qwen2Model.save_pretrained` and merged RepLLaMA/Tevatron models write)
/// has no `model.` prefix: it must load and give the same embeddings.
#[test]
fn bare_qwen2model_layout_loads() {
    let golden = shared().join("golden/qwen2-tiny");
    let tensors = candle_core::safetensors::load(golden.join("model.safetensors"), &Device::Cpu).unwrap();
    let bare: std::collections::HashMap<String, candle_core::Tensor> =
        tensors.into_iter().filter_map(|(k, v)| k.strip_prefix("model.").map(|rest| (rest.to_string(), v))).collect();
    assert!(bare.contains_key("embed_tokens.weight"));
    let dir = tempfile::tempdir().unwrap();
    candle_core::safetensors::save(&bare, dir.path().join("model.safetensors")).unwrap();
    std::fs::copy(golden.join("config.json"), dir.path().join("config.json")).unwrap();
    let tokenizer_dir = shared().join("mirror/models/qwen2.5-coder-0.5b-instruct");
    let opts = || LlmOptions { mode: PromptMode::Eos, normalize: false, ..LlmOptions::default() };
    for (dev_name, dev) in devices() {
        let plain =
            LlmEncoder::new(load_hf(&golden, DType::F32, &dev).unwrap(), &tokenizer_dir, opts(), "a".into()).unwrap();
        let bare = LlmEncoder::new(load_hf(dir.path(), DType::F32, &dev).unwrap(), &tokenizer_dir, opts(), "b".into())
            .unwrap();
        let ids = plain.prepare("a passage about retrieval", Role::Passage).unwrap().ids;
        assert_eq!(plain.embed_ids(std::slice::from_ref(&ids)).unwrap(), bare.embed_ids(&[ids]).unwrap(), "{dev_name}");
    }
}
