//! The int8 weight file the browser runner uses (`drbench quantize`), dequantized and run through the same candle
//! BERT, against all-MiniLM-L6-v2 in f32 on a real SciFact subset: every embedding at cosine ≥ 0.99 and nDCG@10
//! within 0.01 — the quality the int8 runners (wgpu, browser) are then held to, against this reference.

use candle_core::Device;
use drbench_harness::data::SubsetSpec;
use drbench_harness::encoder::{Encoder, Role};
use drbench_harness::qweights::QWeights;
use drbench_native::encoders::bert::{BertEncoder, BertOptions};
use drbench_native::encoders::quantize::quantize_bert;
use drbench_tests::{LoadedTask, dense_ndcg10, load_verified, min_cosine, shared_dir};

fn ndcg10(enc: &mut dyn Encoder, task: &LoadedTask) -> (f64, Vec<f32>, Vec<f32>) {
    let docs: Vec<String> = task.corpus.iter().map(|d| d.flat_text()).collect();
    let doc_refs: Vec<&str> = docs.iter().map(String::as_str).collect();
    let queries: Vec<&str> = task.queries.iter().map(|q| q.text).collect();
    let d = enc.encode(&doc_refs, Role::Passage).unwrap();
    let q = enc.encode(&queries, Role::Query).unwrap();
    (dense_ndcg10(task, &d, &q, enc.dim()), d, q)
}

#[test]
fn int8_minilm_stays_within_cosine_and_ndcg_bounds_of_f32() {
    let dir = shared_dir().join("mirror/models/all-MiniLM-L6-v2");
    let file = tempfile::NamedTempFile::new().unwrap();
    let q = quantize_bert(&dir).unwrap();
    std::fs::write(file.path(), q.to_bytes()).unwrap();
    let size = std::fs::metadata(file.path()).unwrap().len();
    let source = std::fs::metadata(dir.join("model.safetensors")).unwrap().len();
    assert!(size * 3 < source, "int8 file {size} bytes vs {source}");
    assert_eq!(QWeights::from_bytes(&std::fs::read(file.path()).unwrap()).unwrap(), q);

    let task = load_verified("beir/scifact", "test").subset(SubsetSpec { queries: 30, docs: 300 });
    let mut f32_enc = BertEncoder::load(&dir, BertOptions::default(), &Device::Cpu, "f32".into()).unwrap();
    let mut int8_enc =
        BertEncoder::load_int8(file.path(), &dir, BertOptions::default(), &Device::Cpu, "int8".into()).unwrap();
    let (n32, d32, q32) = ndcg10(&mut f32_enc, &task);
    let (n8, d8, q8) = ndcg10(&mut int8_enc, &task);
    let worst = min_cosine(&d32, &d8, 384).min(min_cosine(&q32, &q8, 384));
    eprintln!(
        "int8 file {size} bytes (f32 safetensors {source}); nDCG@10 f32 {n32:.4}, int8 {n8:.4}; min cosine {worst:.5}"
    );
    assert!(worst >= 0.99, "an int8 embedding is at cosine {worst} from f32");
    assert!((n32 - n8).abs() <= 0.01, "nDCG@10 f32 {n32} vs int8 {n8}");
    assert!(worst < 1.0, "quantization changed nothing: the test would not notice a missing dequantization");
}
