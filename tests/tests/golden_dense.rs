//! Golden results of the dense retrievers on fixed, real subsets of SciFact and NFCorpus (../shared/mirror,
//! sha256-verified): all-MiniLM-L6-v2, Qwen2.5-Coder-0.5B-Instruct (GGUF dequantized to f32, PromptReps) and the
//! tiny random Qwen2 of ../shared/golden. One test body per model runs on every backend compiled in: the
//! reference backend (the CPU, f32: the packed forwards) must equal the insta snapshot (4 decimals, settings
//! recorded, per-query values so a diff names the query that moved); every other backend (CUDA with
//! `--features cuda` on a GPU) must match the same snapshot within `BACKEND_TOLERANCE`.

use std::path::PathBuf;

use drbench_harness::data::SubsetSpec;
use drbench_harness::dense::exact_top_k;
use drbench_harness::encoder::Role;
use drbench_harness::metrics::{EvalOptions, Measure, evaluate_run};
use drbench_native::encoders::build::{EncoderSpec, Mode, build_encoder};
use drbench_native::encoders::device::{DeviceKind, Precision};
use drbench_native::encoders::source::ModelFiles;
use drbench_native::encoders::weights::GgufWeights;
use drbench_tests::{GoldenResult, backends, compare_with_snapshot, load_verified, qwen_gguf, shared_dir};

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

fn golden(case: &Case, device: DeviceKind) -> GoldenResult {
    let task = load_verified(case.dataset, "test").subset(case.subset);
    let spec = EncoderSpec {
        files: case.files.clone(),
        tokenizer: case.tokenizer.clone(),
        mode: case.mode,
        max_length: case.max_length,
        device,
        precision: Precision::F32,
        gguf: GgufWeights::Dequantized,
        normalize: true,
        batch_size: 16,
        max_batch_tokens: None,
        adapter: None,
        merge_adapter: false,
    };
    let mut encoder = build_encoder(&spec).unwrap_or_else(|e| panic!("{}: {e}", case.model));
    let docs: Vec<String> = task.corpus.iter().map(|d| d.flat_text()).collect();
    let doc_refs: Vec<&str> = docs.iter().map(String::as_str).collect();
    let queries: Vec<&str> = task.queries.iter().map(|q| q.text).collect();
    let d = encoder.encode(&doc_refs, Role::Passage).unwrap();
    let q = encoder.encode(&queries, Role::Query).unwrap();
    let hits = exact_top_k(&d, &q, encoder.dim(), 100);
    let mut run = drbench_harness::data::Run::new();
    for (qi, qh) in hits.iter().enumerate() {
        let docs = qh
            .iter()
            .map(|h| drbench_harness::data::ScoredDoc {
                docid: task.corpus.get(h.doc as usize).id.to_string(),
                score: f64::from(h.score),
            })
            .collect();
        run.insert_query(task.queries.get(qi).id, docs);
    }
    let opts = EvalOptions {
        measures: vec![Measure::Ndcg(Some(10)), Measure::Rr(Some(10)), Measure::Recall(100)],
        complete: true,
        remove_query_self: false,
    };
    let eval = evaluate_run(&run, &task.qrels, &opts).unwrap();
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

/// Runs `case` on every backend: the reference one against the insta snapshot `name`, the others against the
/// same snapshot within the tolerance.
fn check(name: &str, case: Case) {
    for device in backends() {
        let result = golden(&case, device);
        if device == DeviceKind::Cpu {
            insta::assert_json_snapshot!(name, result);
        } else {
            let snap =
                PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("tests/snapshots/golden_dense__{name}.snap"));
            compare_with_snapshot(&snap, &result, BACKEND_TOLERANCE_MEAN).unwrap_or_else(|e| panic!("{device:?}: {e}"));
        }
    }
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
