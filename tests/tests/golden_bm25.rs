//! Golden BM25 results on the real SciFact and NFCorpus test sets (../shared/mirror, sha256-verified):
//! nDCG@10 must equal Pyserini's published BM25 (flat and multifield) within ±0.0005, and the full result,
//! per query, is pinned by an insta snapshot (4 decimals).

use drbench_datasets::Registry;
use drbench_harness::bm25::{AnalyzerConfig, Bm25Index, Bm25Params, FieldMode, SearchOptions};
use drbench_harness::metrics::{EvalOptions, Measure, evaluate_run};
use drbench_tests::{GoldenResult, load_verified};

/// Pyserini reproduces its own published numbers exactly on this data; we allow half a unit of the 4th decimal.
const PYSERINI_TOLERANCE: f64 = 0.0005;

fn golden(name: &str, mode: FieldMode) -> GoldenResult {
    let task = load_verified(name, "test");
    let index = Bm25Index::build(&task.corpus, mode, AnalyzerConfig::default(), Bm25Params::default(), &|_| {});
    let run = index.search_all(&task.queries, SearchOptions::default());
    let opts = EvalOptions {
        measures: vec![Measure::Ndcg(Some(10)), Measure::Rr(Some(10)), Measure::Recall(100), Measure::Recall(1000)],
        complete: true,
        remove_query_self: false,
    };
    let eval = evaluate_run(&run, &task.qrels, &opts).unwrap();
    let key = match mode {
        FieldMode::Flat => "BM25 flat nDCG@10 (Pyserini)",
        FieldMode::Multifield => "BM25 multifield nDCG@10 (Pyserini)",
    };
    let reference = Registry::builtin().get(name).unwrap().reference[key];
    let ours = eval.mean[0];
    assert!(
        (ours - reference).abs() <= PYSERINI_TOLERANCE,
        "{name} {mode:?}: nDCG@10 {ours:.6}, Pyserini {reference} (tolerance {PYSERINI_TOLERANCE})"
    );
    GoldenResult::new(
        format!("{name} {} ({} docs, {} queries; ../shared/mirror)", task.split, task.corpus.len(), task.queries.len()),
        format!("{}, k=1000, Anserini score output, trec_eval -c", index.describe()),
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
