//! Helpers shared by the golden-result tests: locating ../shared, resolving verified datasets from the mirror,
//! and turning an evaluation into a snapshot (means and per-query values rounded to 4 decimals, with the
//! settings that produced them).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use drbench_harness::data::{Collection, Qrels, SubsetSpec, cut_subset};
use drbench_harness::io::BeirFolder;
use drbench_harness::metrics::Evaluation;
use drbench_native::encoders::device::DeviceKind;
use drbench_native::store::{Mirror, Store};
use serde::Serialize;

/// The shared folder (`$DRBENCH_SHARED`, default `../shared` beside the workspace).
pub fn shared_dir() -> PathBuf {
    std::env::var_os("DRBENCH_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared"))
}

/// A dataset split loaded from the mirror after every file was checked against the registry.
#[derive(Debug)]
pub struct LoadedTask {
    /// Registry name.
    pub name: String,
    /// Split.
    pub split: String,
    /// Corpus.
    pub corpus: Collection,
    /// Judged queries of the split.
    pub queries: Collection,
    /// Qrels.
    pub qrels: Qrels,
}

impl LoadedTask {
    /// The fixed subset `spec` describes.
    pub fn subset(self, spec: SubsetSpec) -> LoadedTask {
        let (corpus, queries, qrels) = cut_subset(&self.corpus, &self.queries, &self.qrels, spec);
        LoadedTask { corpus, queries, qrels, ..self }
    }
}

/// The Qwen2.5-Coder-0.5B-Instruct GGUF (`$DRBENCH_QWEN_GGUF`, else where
/// ../shared/tools/fetch-qwen2.5-coder-0.5b-gguf.sh puts it; `scripts/test` fetches it first).
pub fn qwen_gguf() -> PathBuf {
    let path = std::env::var_os("DRBENCH_QWEN_GGUF").map(PathBuf::from).unwrap_or_else(|| {
        let cache = std::env::var_os("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").expect("HOME")).join(".cache"));
        cache.join("drbench/models/qwen2.5-coder-0.5b-instruct-gguf/model.gguf")
    });
    assert!(path.is_file(), "{} is missing: run ../shared/tools/fetch-qwen2.5-coder-0.5b-gguf.sh", path.display());
    path
}

/// The backends compiled in: candle CPU (the reference) always; CUDA with the `cuda` feature when a GPU answers.
pub fn backends() -> Vec<DeviceKind> {
    let mut out = vec![DeviceKind::Cpu];
    if cfg!(feature = "cuda") && drbench_native::encoders::device::cuda_available() {
        out.push(DeviceKind::Cuda);
    }
    out
}

/// Compares `result` with the JSON body of the insta snapshot at `snap`: every mean within `tolerance`. On
/// failure the message lists each mean that moved and every query whose value moved by more than `tolerance`.
pub fn compare_with_snapshot(snap: &Path, result: &GoldenResult, tolerance: f64) -> Result<(), String> {
    let text = std::fs::read_to_string(snap).map_err(|e| format!("{}: {e}", snap.display()))?;
    let body = text.splitn(3, "---").nth(2).ok_or_else(|| format!("{}: no snapshot body", snap.display()))?;
    let expected: serde_json::Value =
        serde_json::from_str(body.trim()).map_err(|e| format!("{}: {e}", snap.display()))?;
    let num = |v: &serde_json::Value| v.as_str().and_then(|s| s.parse::<f64>().ok());
    let mut moved = Vec::new();
    for (m, v) in &result.mean {
        let want = num(&expected["mean"][m]).ok_or_else(|| format!("{}: no mean {m}", snap.display()))?;
        let got: f64 = v.parse().expect("our own number");
        if (got - want).abs() > tolerance {
            moved.push(format!("mean {m}: {got:.4} vs snapshot {want:.4}"));
        }
    }
    let mut queries = Vec::new();
    for (q, v) in &result.per_query {
        let got: f64 = v.parse().expect("our own number");
        match num(&expected["per_query"][q]) {
            Some(want) if (got - want).abs() <= tolerance => {}
            Some(want) => queries.push(format!("query {q}: {got:.4} vs {want:.4}")),
            None => queries.push(format!("query {q}: not in the snapshot")),
        }
    }
    if moved.is_empty() {
        return Ok(());
    }
    Err(format!(
        "{} differs beyond {tolerance}:
  {}
  queries that moved: {}",
        snap.display(),
        moved.join(
            "
  "
        ),
        queries.join("; ")
    ))
}

/// Loads `name`'s `split` from `../shared/mirror` (verified), with a throwaway cache.
pub fn load_verified(name: &str, split: &str) -> LoadedTask {
    let cache = std::env::temp_dir().join(format!("drbench-tests-cache-{}", std::process::id()));
    let store = Store {
        cache,
        mirror: Some(Mirror::Dir(shared_dir().join("mirror"))),
        registry: drbench_datasets::Registry::builtin(),
        allow_unpinned: false,
    };
    let resolved = store.resolve(name).unwrap_or_else(|e| panic!("{name}: {e}"));
    let folder = BeirFolder::open(resolved.folder).unwrap();
    let qrels = folder.qrels(split).unwrap();
    let queries = folder.queries().unwrap().filter(|q| qrels.get(q.id).is_some());
    LoadedTask { name: name.to_string(), split: split.to_string(), corpus: folder.corpus().unwrap(), queries, qrels }
}

/// What a golden snapshot records.
#[derive(Debug, Serialize)]
pub struct GoldenResult {
    /// Dataset and split.
    pub data: String,
    /// Model / retriever and its settings.
    pub settings: String,
    /// Queries in the mean.
    pub queries: usize,
    /// Means rounded to 4 decimals.
    pub mean: BTreeMap<String, String>,
    /// Per-query value of the first measure, rounded to 4 decimals: a diff shows which query moved.
    pub per_query: BTreeMap<String, String>,
}

/// Rounds to 4 decimals as text (`0.6789`), the precision the study reports.
pub fn r4(v: f64) -> String {
    format!("{v:.4}")
}

impl GoldenResult {
    /// Builds the snapshot of `eval`.
    pub fn new(data: String, settings: String, eval: &Evaluation) -> Self {
        let mean = eval.measures.iter().zip(&eval.mean).map(|(m, v)| (m.to_string(), r4(*v))).collect();
        let per_query = eval.per_query.iter().map(|(q, v)| (q.clone(), r4(v[0]))).collect();
        GoldenResult { data, settings, queries: eval.num_queries(), mean, per_query }
    }
}

/// nDCG@10 (trec_eval `-c`) of exact dense search over `dim`-wide document and query embeddings of `task`.
pub fn dense_ndcg10(task: &LoadedTask, docs: &[f32], queries: &[f32], dim: usize) -> f64 {
    use drbench_harness::data::{Run, ScoredDoc};
    use drbench_harness::metrics::{EvalOptions, Measure, evaluate_run};
    let mut run = Run::new();
    for (qi, hits) in drbench_harness::dense::exact_top_k(docs, queries, dim, 100).iter().enumerate() {
        let scored = hits
            .iter()
            .map(|h| ScoredDoc { docid: task.corpus.get(h.doc as usize).id.to_string(), score: f64::from(h.score) })
            .collect();
        run.insert_query(task.queries.get(qi).id, scored);
    }
    let opts = EvalOptions { measures: vec![Measure::Ndcg(Some(10))], complete: true, remove_query_self: false };
    evaluate_run(&run, &task.qrels, &opts).unwrap().mean[0]
}

/// The smallest cosine between matching rows of two sets of unit vectors.
pub fn min_cosine(a: &[f32], b: &[f32], dim: usize) -> f32 {
    assert_eq!(a.len(), b.len());
    a.chunks(dim).zip(b.chunks(dim)).map(|(x, y)| x.iter().zip(y).map(|(p, q)| p * q).sum::<f32>()).fold(1.0, f32::min)
}
