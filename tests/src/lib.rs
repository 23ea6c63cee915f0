//! Helpers shared by the golden-result tests — test configuration only, the pipeline they run is
//! `drbench_pipeline`'s: locating ../shared, a store over its mirror with a private cache, an ArguAna-style task
//! made from real SciFact data, and turning an evaluation into a snapshot (means and per-query values rounded to
//! 4 decimals, with the settings that produced them), and a stand-in of the Hugging Face hub with repositories
//! made from real tasks in each layout the store reads.

pub mod hub_fixtures;
pub mod hub_standin;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use drbench_datasets::Registry;
use drbench_harness::data::SubsetSpec;
use drbench_harness::metrics::Evaluation;
use drbench_native::encoders::device::DeviceKind;
use drbench_native::store::{Mirror, Store};
use drbench_pipeline::task::{Task, load_task};
use serde::Serialize;

/// The shared folder (`$DRBENCH_SHARED`, default `../shared` beside the workspace).
pub fn shared_dir() -> PathBuf {
    std::env::var_os("DRBENCH_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared"))
}

/// Whether the expensive tier runs (`DRBENCH_SLOW=1`): checks that take minutes on 2 cores beyond what the default
/// tier covers (the same switch as `native/tests/common::slow_tier`).
pub fn slow_tier() -> bool {
    std::env::var_os("DRBENCH_SLOW").is_some_and(|v| v == "1")
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

/// A store over `../shared/mirror` with the built-in registry and its cache (downloads, if any) in `cache`.
pub fn mirror_store(cache: &Path) -> Store {
    Store::new(cache.to_path_buf(), Some(Mirror::Dir(shared_dir().join("mirror"))))
}

/// `name`'s `split` from `../shared/mirror` (every file verified), through the pipeline's task loader.
pub fn mirror_task(name: &str, split: &str, cache: &Path) -> Task {
    load_task(&mirror_store(cache), name, Some(split)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The registry name of the ArguAna-style task [`self_retrieval_store`] serves.
pub const SELF_RETRIEVAL_TASK: &str = "test/scifact-self";

/// A store serving an ArguAna/Quora-style task built from a real SciFact subset: the subset's documents plus one
/// document per judged query whose id is the query's id and whose text is the query's text — each query finds
/// itself first unless the query's own id is removed from its hits. Registered (files pinned by sha256, like
/// every registry dataset) with `remove_query_self = true`, in a mirror folder under `dir`.
pub fn self_retrieval_store(dir: &Path, subset: SubsetSpec) -> Store {
    use sha2::Digest;
    let scifact = mirror_task("beir/scifact", "test", &dir.join("cache")).subset(subset);
    let folder = dir.join("mirror/datasets/scifact-self");
    std::fs::create_dir_all(folder.join("qrels")).unwrap();
    let line = |id: &str, title: &str, text: &str| {
        format!("{}\n", serde_json::json!({"_id": id, "title": title, "text": text}))
    };
    let mut corpus: String = scifact.corpus.iter().map(|d| line(d.id, d.title, d.text)).collect();
    corpus.extend(scifact.queries.iter().map(|q| line(q.id, "", q.text)));
    let queries: String = scifact.queries.iter().map(|q| line(q.id, "", q.text)).collect();
    let mut qrels = String::from("query-id\tcorpus-id\tscore\n");
    for q in scifact.qrels.query_ids() {
        for (d, g) in scifact.qrels.get(q).unwrap().iter_sorted() {
            qrels.push_str(&format!("{q}\t{d}\t{g}\n"));
        }
    }
    let mut files = String::new();
    for (path, text) in [("corpus.jsonl", corpus), ("queries.jsonl", queries), ("qrels/test.tsv", qrels)] {
        std::fs::write(folder.join(path), &text).unwrap();
        let sha = hex::encode(sha2::Sha256::digest(text.as_bytes()));
        files.push_str(&format!("[[dataset.files]]\npath = \"{path}\"\nsize = {}\nsha256 = \"{sha}\"\n", text.len()));
    }
    let entry = format!(
        r#"[[dataset]]
name = "{SELF_RETRIEVAL_TASK}"
mirror = "datasets/scifact-self"
layout = "beir"
complete = true
source_url = ""
source_sha256 = ""
zip_root = ""
license = "CC BY-NC 2.0 (AllenAI), as SciFact"
splits = ["test"]
default_split = "test"
note = "SciFact subset with every query added to the corpus under its own id (ArguAna-style)"
counts = {{}}
reference = {{}}
remove_query_self = true
{files}"#
    );
    Store {
        registry: Registry::parse(&entry, "self-retrieval fixture").unwrap(),
        ..Store::new(dir.join("cache"), Some(Mirror::Dir(dir.join("mirror"))))
    }
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

/// The smallest cosine between matching rows of two sets of unit vectors.
pub fn min_cosine(a: &[f32], b: &[f32], dim: usize) -> f32 {
    assert_eq!(a.len(), b.len());
    a.chunks(dim).zip(b.chunks(dim)).map(|(x, y)| x.iter().zip(y).map(|(p, q)| p * q).sum::<f32>()).fold(1.0, f32::min)
}
