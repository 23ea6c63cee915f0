//! The browser regression test (wasm-bindgen-test in headless Chromium, WebGPU on SwiftShader): the page's own
//! code path — tokenizer, int8 encoder, search, trec_eval-exact scoring — on a demo folder written by
//! `drbench demo prepare` (compiled in from `DRBENCH_DEMO_DIR`), on both backends (WebGPU, and the CPU through
//! WebAssembly SIMD), each held to the native numbers that folder carries:
//! token ids equal, embeddings at cosine ≥ 0.9999 from candle on the same int8 weights and ≥ 0.99 from candle f32,
//! and nDCG@10 within 0.01 of the native f32 golden value. Run by `scripts/test-browser`.
#![cfg(target_arch = "wasm32")]

use drbench_harness::demo_data::DemoData;
use drbench_wasm::encoder::Backend;
use drbench_wasm::eval::evaluate_trec_text;
use drbench_wasm::retriever::Retriever;
use serde_json::Value;
use wasm_bindgen_test::{console_log, wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

const WEIGHTS: &[u8] = include_bytes!(concat!(env!("DRBENCH_DEMO_DIR"), "/data/model.drbq"));
const TOKENIZER: &[u8] = include_bytes!(concat!(env!("DRBENCH_DEMO_DIR"), "/data/tokenizer.json"));
const SUBSET: &str = include_str!(concat!(env!("DRBENCH_DEMO_DIR"), "/data/subset.json"));

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
    dot / (norm(a) * norm(b))
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
    let subset: DemoData = serde_json::from_str(SUBSET).expect("subset.json");
    let reference = subset.reference.as_ref().expect("the demo folder was prepared with --no-reference");
    let retriever = Retriever::load(WEIGHTS, TOKENIZER, backend).await.expect("the model loads");
    console_log!("{backend:?}: {}", retriever.model().device());

    for check in &reference.embeddings {
        let text = check.text.as_str();
        let ids = retriever.tokenizer().ids(text).expect("tokenizes");
        assert_eq!(ids, check.ids, "token ids differ from the native tokenizer for {text:?}");
        let emb = retriever.encode(&[text], |_, _| {}).await.expect("encodes");
        let (vs_int8, vs_f32) = (cosine(&emb, &check.int8), cosine(&emb, &check.f32));
        console_log!(
            "{backend:?}, {} tokens: cosine {vs_int8:.7} to native int8, {vs_f32:.5} to native f32",
            ids.len()
        );
        assert!(vs_int8 >= 0.9999, "cosine {vs_int8} to candle on the same int8 weights");
        assert!(vs_f32 >= 0.99, "cosine {vs_f32} to candle f32");
    }

    let docs = &subset.docs;
    let texts: Vec<String> = docs.iter().map(|d| d.flat_text()).collect();
    let start = js_sys::Date::now();
    retriever.index(docs.iter().map(|d| d.id.clone()).collect(), &texts, |_, _| {}).await.expect("indexes");
    let secs = (js_sys::Date::now() - start) / 1000.0;
    let query_ids: Vec<String> = subset.queries.iter().map(|q| q.id.clone()).collect();
    let query_texts: Vec<&str> = subset.queries.iter().map(|q| q.text.as_str()).collect();
    let run = retriever.run_queries(&query_ids, &query_texts, 100, |_, _| {}).await.expect("searches");
    let scores: Value =
        serde_json::from_str(&evaluate_trec_text(&subset.qrels, &run, "nDCG@10", true).unwrap()).unwrap();
    let ndcg = scores["nDCG@10"].as_f64().unwrap();
    let (f32_ref, int8_ref) = (reference.native_f32, reference.native_int8);
    console_log!(
        "{backend:?}: {} docs in {secs:.1} s ({:.2} docs/s); nDCG@10 browser {ndcg:.4}, native f32 {f32_ref:.4}, native int8 \
         {int8_ref:.4}",
        docs.len(),
        docs.len() as f64 / secs
    );
    assert!((ndcg - f32_ref).abs() <= 0.01, "nDCG@10 {ndcg} vs the native f32 golden value {f32_ref}");
}
