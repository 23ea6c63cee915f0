//! Golden BM25 results on the real SciFact and NFCorpus test sets (../shared/mirror, sha256-verified), through the
//! pipeline's BM25 cell (`drbench_pipeline::cell::run_cell`, what `drbench bench` and `drbench bm25` run):
//! nDCG@10 must equal Pyserini's published BM25 (flat and multifield) within ±0.0005, and the full result, per
//! query, is pinned by an insta snapshot (4 decimals).

use drbench_datasets::Registry;
use drbench_harness::bm25::FieldMode;
use drbench_harness::metrics::Measure;
use drbench_pipeline::cell::{CellOptions, Retriever, run_cell};
use drbench_pipeline::progress::Silent;
use drbench_pipeline::retriever::Bm25Spec;
use drbench_tests::{GoldenResult, mirror_task};

/// Pyserini reproduces its own published numbers exactly on this data; we allow half a unit of the 4th decimal.
const PYSERINI_TOLERANCE: f64 = 0.0005;

fn golden(name: &str, fields: FieldMode) -> GoldenResult {
    let cache = tempfile::tempdir().unwrap();
    let task = mirror_task(name, "test", cache.path());
    let opts = CellOptions {
        k: 1000,
        measures: vec![Measure::Ndcg(Some(10)), Measure::Rr(Some(10)), Measure::Recall(100), Measure::Recall(1000)],
        remove_query_self: task.info.remove_query_self,
    };
    let spec = Bm25Spec { fields, ..Bm25Spec::default() };
    let out = run_cell(&task, Retriever::Bm25 { spec, index_file: None, exact_scores: false }, &opts, &Silent).unwrap();
    let eval = out.evaluation.unwrap();
    let key = match fields {
        FieldMode::Flat => "BM25 flat nDCG@10 (Pyserini)",
        FieldMode::Multifield => "BM25 multifield nDCG@10 (Pyserini)",
    };
    let reference = Registry::builtin().get(name).unwrap().reference[key];
    let ours = eval.mean[0];
    assert!(
        (ours - reference).abs() <= PYSERINI_TOLERANCE,
        "{name} {fields:?}: nDCG@10 {ours:.6}, Pyserini {reference} (tolerance {PYSERINI_TOLERANCE})"
    );
    GoldenResult::new(
        format!(
            "{name} {} ({} docs, {} queries; ../shared/mirror)",
            task.info.split,
            task.corpus.len(),
            task.queries.len()
        ),
        format!("{}, k=1000, Anserini score output, trec_eval -c", out.retriever),
        &eval,
    )
}

#[test]
fn bm25_flat_scifact() {
    insta::assert_json_snapshot!(golden("beir/scifact", FieldMode::Flat));
}

#[test]
fn bm25_flat_nfcorpus() {
    insta::assert_json_snapshot!(golden("beir/nfcorpus", FieldMode::Flat));
}

#[test]
fn bm25_multifield_scifact() {
    insta::assert_json_snapshot!(golden("beir/scifact", FieldMode::Multifield));
}

#[test]
fn bm25_multifield_nfcorpus() {
    insta::assert_json_snapshot!(golden("beir/nfcorpus", FieldMode::Multifield));
}
