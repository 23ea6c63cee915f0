//! The wgpu runner (the browser's code, run natively: Vulkan, Mesa lavapipe on CPU-only machines) against candle:
//! all-MiniLM-L6-v2 from drbench's int8 file on a real SciFact subset. Every embedding at cosine ≥ 0.99 from candle
//! f32 and nDCG@10 within 0.01 of it (issue 7's bar), and — the tighter check that the kernels compute what they
//! should — equal to candle running the same int8 weights dequantized (cosine ≥ 0.9999). It drives the page's own
//! `Retriever` (wasm's tokenizer included: its token ids must equal the native tokenizer's for every text).

use candle_core::Device;
use drbench_harness::data::SubsetSpec;
use drbench_harness::encoder::{Encoder, Role};
use drbench_native::encoders::bert::{BertEncoder, BertOptions};
use drbench_native::encoders::quantize::quantize_bert;
use drbench_tests::{dense_ndcg10, load_verified, min_cosine, shared_dir};
use drbench_wasm::retriever::Retriever;

#[test]
fn wgpu_int8_minilm_matches_candle_on_a_scifact_subset() {
    let dir = shared_dir().join("mirror/models/all-MiniLM-L6-v2");
    let bytes = quantize_bert(&dir).unwrap().to_bytes();
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), &bytes).unwrap();
    let task = load_verified("beir/scifact", "test").subset(SubsetSpec { queries: 30, docs: 300 });
    let docs: Vec<String> = task.corpus.iter().map(|d| d.flat_text()).collect();
    let docs: Vec<&str> = docs.iter().map(String::as_str).collect();
    let queries: Vec<&str> = task.queries.iter().map(|q| q.text).collect();

    let tokenizer = std::fs::read(dir.join("tokenizer.json")).unwrap();
    let retriever = pollster::block_on(Retriever::load(&bytes, &tokenizer))
        .unwrap_or_else(|e| panic!("{e}: install mesa-vulkan-drivers (lavapipe) on a machine without a GPU"));
    let model = retriever.model();
    let adapter = model.adapter().to_string();
    let mut f32_enc = BertEncoder::load(&dir, BertOptions::default(), &Device::Cpu, "f32".into()).unwrap();
    let mut int8_enc =
        BertEncoder::load_int8(file.path(), &dir, BertOptions::default(), &Device::Cpu, "int8".into()).unwrap();
    for text in docs.iter().chain(&queries) {
        let native = f32_enc.token_ids(text).unwrap();
        assert_eq!(retriever.tokenizer().ids(text).unwrap(), native, "token ids of {text:?}");
    }
    let t = std::time::Instant::now();
    let gd = pollster::block_on(retriever.encode(&docs, |_, _| {})).unwrap();
    let gq = pollster::block_on(retriever.encode(&queries, |_, _| {})).unwrap();
    let secs = t.elapsed().as_secs_f64();
    let (fd, fq) = (f32_enc.encode(&docs, Role::Passage).unwrap(), f32_enc.encode(&queries, Role::Query).unwrap());
    let (id8, iq8) = (int8_enc.encode(&docs, Role::Passage).unwrap(), int8_enc.encode(&queries, Role::Query).unwrap());

    let dim = model.dim();
    let vs_f32 = min_cosine(&gd, &fd, dim).min(min_cosine(&gq, &fq, dim));
    let vs_int8 = min_cosine(&gd, &id8, dim).min(min_cosine(&gq, &iq8, dim));
    let (n_gpu, n_f32) = (dense_ndcg10(&task, &gd, &gq, dim), dense_ndcg10(&task, &fd, &fq, dim));
    eprintln!(
        "wgpu on {adapter}: {} texts in {secs:.1}s; nDCG@10 wgpu {n_gpu:.4} vs candle f32 {n_f32:.4}; min cosine vs f32 \
         {vs_f32:.5}, vs candle int8 {vs_int8:.6}",
        docs.len() + queries.len()
    );
    assert!(vs_int8 >= 0.9999, "wgpu differs from candle on the same int8 weights: min cosine {vs_int8}");
    assert!(vs_f32 >= 0.99, "an embedding is at cosine {vs_f32} from candle f32");
    assert!((n_gpu - n_f32).abs() <= 0.01, "nDCG@10 wgpu {n_gpu} vs f32 {n_f32}");
}
