//! The browser regression test (wasm-bindgen-test in headless Chromium, WebGPU on SwiftShader): the page's own
//! code path — tokenizer, int8 encoder, search, trec_eval-exact scoring — on a demo folder written by
//! `drbench demo prepare` (compiled in from `DRBENCH_DEMO_DIR`), on both backends (WebGPU, and the CPU through
//! WebAssembly SIMD), each held to the native numbers that folder carries:
//! token ids equal, embeddings at cosine ≥ 0.9999 from candle on the same int8 weights and ≥ 0.99 from candle f32,
//! and nDCG@10 within 0.01 of the native f32 golden value. Run by `scripts/test-browser`.
#![cfg(target_arch = "wasm32")]

use drbench_wasm::encoder::Backend;
use drbench_wasm::eval::evaluate_trec_text;
use drbench_wasm::retriever::Retriever;
use serde_json::Value;
use wasm_bindgen_test::{console_log, wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

const WEIGHTS: &[u8] = include_bytes!(concat!(env!("DRBENCH_DEMO_DIR"), "/data/model.drbq"));
const TOKENIZER: &[u8] = include_bytes!(concat!(env!("DRBENCH_DEMO_DIR"), "/data/tokenizer.json"));
const SUBSET: &str = include_str!(concat!(env!("DRBENCH_DEMO_DIR"), "/data/subset.json"));

fn floats(v: &Value) -> Vec<f32> {
    v.as_array().expect("an array").iter().map(|x| x.as_f64().expect("a number") as f32).collect()
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
    dot / (norm(a) * norm(b))
}

fn strings(rows: &Value, key: &str) -> Vec<String> {
    rows.as_array().expect("rows").iter().map(|r| r[key].as_str().expect("a string").to_string()).collect()
}

#[wasm_bindgen_test]
async fn webgpu_reproduces_the_native_subset_numbers() {
    reproduces_the_native_subset_numbers(Backend::Gpu).await;
}

#[wasm_bindgen_test]
async fn wasm_simd_cpu_reproduces_the_native_subset_numbers() {
    reproduces_the_native_subset_numbers(Backend::Cpu).await;
}

async fn reproduces_the_native_subset_numbers(backend: Backend) {
    let subset: Value = serde_json::from_str(SUBSET).expect("subset.json");
    let reference = &subset["reference"];
    assert!(reference.is_object(), "the demo folder was prepared with --no-reference");
    let retriever = Retriever::load(WEIGHTS, TOKENIZER, backend).await.expect("the model loads");
    console_log!("{backend:?}: {}", retriever.model().device());

    for check in reference["embeddings"].as_array().expect("reference embeddings") {
        let text = check["text"].as_str().expect("text");
        let ids = retriever.tokenizer().ids(text).expect("tokenizes");
        let native: Vec<u32> =
            check["ids"].as_array().expect("ids").iter().map(|v| v.as_u64().expect("id") as u32).collect();
        assert_eq!(ids, native, "token ids differ from the native tokenizer for {text:?}");
        let emb = retriever.encode(&[text], |_, _| {}).await.expect("encodes");
        let (vs_int8, vs_f32) = (cosine(&emb, &floats(&check["int8"])), cosine(&emb, &floats(&check["f32"])));
        console_log!(
            "{backend:?}, {} tokens: cosine {vs_int8:.7} to native int8, {vs_f32:.5} to native f32",
            ids.len()
        );
        assert!(vs_int8 >= 0.9999, "cosine {vs_int8} to candle on the same int8 weights");
        assert!(vs_f32 >= 0.99, "cosine {vs_f32} to candle f32");
    }

    let docs = subset["docs"].as_array().expect("docs");
    let texts: Vec<String> =
        docs.iter().map(|d| format!("{} {}", d["title"].as_str().unwrap(), d["text"].as_str().unwrap())).collect();
    let start = js_sys::Date::now();
    retriever.index(strings(&subset["docs"], "id"), &texts, |_, _| {}).await.expect("indexes");
    let secs = (js_sys::Date::now() - start) / 1000.0;
    let run = retriever
        .run_queries(&strings(&subset["queries"], "id"), &strings(&subset["queries"], "text"), 100, |_, _| {})
        .await
        .expect("searches");
    let scores: Value =
        serde_json::from_str(&evaluate_trec_text(subset["qrels"].as_str().unwrap(), &run, "nDCG@10", true).unwrap())
            .unwrap();
    let ndcg = scores["nDCG@10"].as_f64().unwrap();
    let (f32_ref, int8_ref) = (reference["native_f32"].as_f64().unwrap(), reference["native_int8"].as_f64().unwrap());
    console_log!(
        "{backend:?}: {} docs in {secs:.1} s ({:.2} docs/s); nDCG@10 browser {ndcg:.4}, native f32 {f32_ref:.4}, native int8 \
         {int8_ref:.4}",
        docs.len(),
        docs.len() as f64 / secs
    );
    assert!((ndcg - f32_ref).abs() <= 0.01, "nDCG@10 {ndcg} vs the native f32 golden value {f32_ref}");
}
