//! Golden results of the dense retrievers on fixed, real subsets of SciFact and NFCorpus (../shared/mirror,
//! sha256-verified): all-MiniLM-L6-v2, Qwen2.5-Coder-0.5B-Instruct (GGUF dequantized to f32, PromptReps) and the
//! tiny random Qwen2 of ../shared/golden — through the pipeline's cell (`drbench_pipeline::cell::run_cell`, what
//! `drbench run` and `drbench bench` execute), embedding cache included: each case runs twice, the second time
//! from the cache alone, and must give the same numbers. One test body per model runs on every backend compiled
//! in: the reference backend (the CPU, f32: the packed forwards) must equal the insta snapshot (4 decimals,
//! settings recorded, per-query values so a diff names the query that moved); every other backend (CUDA with
//! `--features cuda` on a GPU) must match the same snapshot within `BACKEND_TOLERANCE_MEAN`. An ArguAna-style
//! task (every query also a document under its own id) pins the query-self removal, dense and BM25.

use std::path::PathBuf;

use drbench_harness::data::SubsetSpec;
use drbench_harness::metrics::{Evaluation, Measure};
use drbench_native::encoders::build::build_encoder;
use drbench_native::encoders::device::{DeviceKind, Precision};
use drbench_native::encoders::source::ModelFiles;
use drbench_native::encoders::spec::{EncoderSpec, Mode};
use drbench_native::encoders::weights::GgufWeights;
use drbench_pipeline::cell::{CacheSettings, CellOptions, Retriever, run_cell};
use drbench_pipeline::progress::Silent;
use drbench_pipeline::retriever::Bm25Spec;
use drbench_pipeline::task::{Task, load_task};
use drbench_tests::{
    GoldenResult, SELF_RETRIEVAL_TASK, backends, compare_with_snapshot, mirror_task, qwen_gguf, self_retrieval_store,
    shared_dir,
};

/// Largest difference allowed between another backend and the CPU snapshot, for every mean and per-query
/// value: a different GEMM order moves embeddings by ~1e-6 and can swap near-tied documents, which moves one
/// query's nDCG@10 by a few hundredths at most on these subsets; the means stay within 0.005.
const BACKEND_TOLERANCE_MEAN: f64 = 0.005;

struct Case {
    model: &'static str,
    files: ModelFiles,
    tokenizer: Option<PathBuf>,
    mode: Mode,
    max_length: Option<usize>,
    dataset: &'static str,
    subset: SubsetSpec,
}

fn measures() -> Vec<Measure> {
    vec![Measure::Ndcg(Some(10)), Measure::Rr(Some(10)), Measure::Recall(100)]
}

/// The case's cell on `device`: encoded into an empty cache, then again from that cache alone (no text encoded),
/// which must give the same evaluation.
fn dense_cell(case: &Case, task: &Task, device: DeviceKind) -> Evaluation {
    let spec = EncoderSpec {
        files: case.files.clone(),
        tokenizer: case.tokenizer.clone(),
        mode: case.mode,
        max_length: case.max_length,
        device,
        cuda_ordinal: 0,
        precision: Precision::F32,
        gguf: GgufWeights::Dequantized,
        normalize: true,
        batch_size: 16,
        max_batch_tokens: None,
        adapter: None,
        merge_adapter: false,
    };
    let mut encoder = build_encoder(&spec).unwrap_or_else(|e| panic!("{}: {e}", case.model));
    let dir = tempfile::tempdir().unwrap();
    let cache = CacheSettings { shard_size: 64, ..CacheSettings::new(dir.path()) };
    let opts = CellOptions { k: 100, measures: measures(), remove_query_self: task.info.remove_query_self };
    let mut run =
        || run_cell(task, Retriever::Dense { encoder: encoder.as_mut(), cache: &cache }, &opts, &Silent).unwrap();
    let first = run();
    let again = run();
    let (encoded, reused) = again.dense.as_ref().map(|d| (d.cache.shards_encoded, d.cache.shards_reused)).unwrap();
    assert_eq!((encoded, reused), (0, task.corpus.len().div_ceil(64)), "{}: the second run re-encoded", case.model);
    assert_eq!(first.evaluation, again.evaluation, "{}: numbers from the cache differ", case.model);
    first.evaluation.unwrap()
}

fn golden(case: &Case, device: DeviceKind) -> GoldenResult {
    let cache = tempfile::tempdir().unwrap();
    let task = mirror_task(case.dataset, "test", cache.path()).subset(case.subset);
    let eval = dense_cell(case, &task, device);
    GoldenResult::new(
        format!(
            "{} test, {} ({} docs, {} queries; ../shared/mirror)",
            case.dataset,
            case.subset,
            task.corpus.len(),
            task.queries.len()
        ),
        format!(
            "{}, mode {:?}, max_length {:?}, f32, normalized, exact top-100, trec_eval -c",
            case.model, case.mode, case.max_length
        ),
        &eval,
    )
}

/// Runs `result(device)` on every backend: the reference one against the insta snapshot `name`, the others
/// against the same snapshot within the tolerance.
fn check_backends(name: &str, result: impl Fn(DeviceKind) -> GoldenResult) {
    for device in backends() {
        let result = result(device);
        if device == DeviceKind::Cpu {
            insta::assert_json_snapshot!(name, result);
        } else {
            let snap =
                PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("tests/snapshots/golden_dense__{name}.snap"));
            compare_with_snapshot(&snap, &result, BACKEND_TOLERANCE_MEAN).unwrap_or_else(|e| panic!("{device:?}: {e}"));
        }
    }
}

fn check(name: &str, case: Case) {
    check_backends(name, |device| golden(&case, device));
}

/// all-MiniLM-L6-v2 from the mirror, mean pooling, its own max_seq_length, on `dataset`'s `subset`.
fn minilm_case(dataset: &'static str, subset: SubsetSpec) -> Case {
    Case {
        model: "all-MiniLM-L6-v2",
        files: ModelFiles::Folder(shared_dir().join("mirror/models/all-MiniLM-L6-v2")),
        tokenizer: None,
        mode: Mode::Mean,
        max_length: None,
        dataset,
        subset,
    }
}

fn qwen_tokenizer() -> Option<PathBuf> {
    Some(shared_dir().join("mirror/models/qwen2.5-coder-0.5b-instruct"))
}

#[test]
fn minilm_scifact_subset() {
    check("minilm_scifact_subset", minilm_case("beir/scifact", SubsetSpec { queries: 30, docs: 300 }));
}

#[test]
fn minilm_nfcorpus_subset() {
    check("minilm_nfcorpus_subset", minilm_case("beir/nfcorpus", SubsetSpec { queries: 10, docs: 400 }));
}

#[test]
fn qwen25_coder_05b_gguf_scifact_subset() {
    check(
        "qwen25_coder_05b_gguf_scifact_subset",
        Case {
            model: "Qwen2.5-Coder-0.5B-Instruct GGUF Q4_K_M (dequantized to f32)",
            files: ModelFiles::Gguf(qwen_gguf()),
            tokenizer: qwen_tokenizer(),
            mode: Mode::Promptreps,
            max_length: Some(128),
            dataset: "beir/scifact",
            subset: SubsetSpec { queries: 10, docs: 40 },
        },
    );
}

#[test]
fn tiny_random_qwen2_scifact_subset() {
    check(
        "tiny_random_qwen2_scifact_subset",
        Case {
            model: "tiny random Qwen2 (../shared/golden/qwen2-tiny)",
            files: ModelFiles::Folder(shared_dir().join("golden/qwen2-tiny")),
            tokenizer: qwen_tokenizer(),
            mode: Mode::Eos,
            max_length: Some(128),
            dataset: "beir/scifact",
            subset: SubsetSpec { queries: 30, docs: 300 },
        },
    );
}

/// The ArguAna-style task: the registry entry's `remove_query_self` reaches the cell, so no query retrieves
/// itself, dense (MiniLM) or BM25; without the removal each query's own document would come first.
#[test]
fn self_retrieval_is_removed_as_the_registry_says() {
    let subset = SubsetSpec { queries: 30, docs: 300 };
    let dir = tempfile::tempdir().unwrap();
    let store = self_retrieval_store(dir.path(), subset);
    let task = load_task(&store, SELF_RETRIEVAL_TASK, None).unwrap();
    assert!(task.info.remove_query_self && task.corpus.len() == 300 + 30, "{:?}", task.info);
    let data = format!("{SELF_RETRIEVAL_TASK} (SciFact test, {subset}, each query also a document under its own id)");
    let case = Case { model: "all-MiniLM-L6-v2", ..minilm_case("beir/scifact", subset) };
    check_backends("minilm_scifact_self_retrieval", |device| {
        let eval = dense_cell(&case, &task, device);
        GoldenResult::new(
            data.clone(),
            "all-MiniLM-L6-v2, mean, remove_query_self, exact top-100, trec_eval -c".into(),
            &eval,
        )
    });

    // BM25 through the same cell, and what the removal changes: with it no run lists the query itself, without
    // it every run does (first, mostly).
    let bm25 = |remove_query_self: bool| {
        let opts = CellOptions { k: 100, measures: measures(), remove_query_self };
        let retriever = Retriever::Bm25 { spec: Bm25Spec::default(), index_file: None, exact_scores: false };
        run_cell(&task, retriever, &opts, &Silent).unwrap()
    };
    let (removed, kept) = (bm25(true), bm25(false));
    for q in task.queries.iter() {
        assert!(removed.run.get(q.id).unwrap().iter().all(|d| d.docid != q.id), "query {} retrieved itself", q.id);
        let hits = kept.run.get(q.id).unwrap();
        assert!(hits.iter().any(|d| d.docid == q.id), "without removal query {} should find itself", q.id);
    }
    let eval = removed.evaluation.unwrap();
    assert!(eval.mean[0] > kept.evaluation.unwrap().mean[0]);
    insta::assert_json_snapshot!(
        "bm25_scifact_self_retrieval",
        GoldenResult::new(data, format!("{}, k=100, remove_query_self, trec_eval -c", removed.retriever), &eval)
    );
}
