//! Helpers shared by the golden-result tests: locating ../shared, resolving verified datasets from the mirror,
//! and turning an evaluation into a snapshot (means and per-query values rounded to 4 decimals, with the
//! settings that produced them).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use drbench_harness::data::{Collection, Qrels};
use drbench_harness::io::BeirFolder;
use drbench_harness::metrics::Evaluation;
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
