//! drbench's record files, written and read here only, as typed structs: a cell's `results.json` (MTEB's result
//! layout — `task_name`, `scores.{split}[…]` with MTEB's keys, `evaluation_time` — with drbench's own part under
//! `drbench`: the settings that made it, timings, counts), its `per_query.json`, and the reading of result
//! folders (drbench's and MTEB's) into [`CellResult`]s for reports.
//!
//! A cell folder is complete when `results.json` exists: it is written last, atomically, after `run.trec` and
//! `per_query.json`.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use drbench_datasets::{DatasetSpec, Registry};
use drbench_harness::data::{Run, SubsetSpec};
use drbench_harness::io::atomic::write_atomic;
use drbench_harness::io::write_trec_run;
use drbench_harness::metrics::{Evaluation, Measure};
use drbench_harness::report::{CellResult, measure_from_mteb_key, mteb_key};
use serde::{Deserialize, Serialize};

use crate::error::{PipelineError, Result};
use crate::retriever::RetrieverSpec;
use crate::subset_mean::{add_subset_means, mean_scores};

/// The format of [`DrbenchRecord`] this version writes. Format 1 (drbench ≤ 0.1) kept untyped settings; such
/// cells are refused by `bench` with that reason, and still read by reports.
pub const RECORD_FORMAT: u32 = 2;

/// The file whose presence marks a finished cell.
pub const RESULTS_FILE: &str = "results.json";
/// Per-query values of every measure.
pub const PER_QUERY_FILE: &str = "per_query.json";
/// The TREC run.
pub const RUN_FILE: &str = "run.trec";

/// Everything that determines a cell's numbers: a finished cell is reused only when these are equal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CellSettings {
    /// The retriever (precision resolved).
    pub retriever: RetrieverSpec,
    /// The dataset reference (registry name or folder).
    pub task: String,
    /// Qrels split.
    pub split: String,
    /// A fixed subset of the task, or the whole task.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subset: Option<SubsetSpec>,
    /// Measures computed; the first is the main score.
    pub measures: Vec<Measure>,
    /// Hits per query.
    pub k: usize,
    /// Hits equal to the query id dropped.
    pub remove_query_self: bool,
}

impl CellSettings {
    /// The names of the settings that differ from `other`.
    pub fn differences(&self, other: &CellSettings) -> Vec<&'static str> {
        let mut out = Vec::new();
        match (&self.retriever, &other.retriever) {
            (RetrieverSpec::Dense(a), RetrieverSpec::Dense(b)) => {
                let fields = [
                    ("source", a.source == b.source),
                    ("tokenizer", a.tokenizer == b.tokenizer),
                    ("mode", a.mode == b.mode),
                    ("max_length", a.max_length == b.max_length),
                    ("dtype", a.dtype == b.dtype),
                    ("gguf_weights", a.gguf_weights == b.gguf_weights),
                    ("normalize", a.normalize == b.normalize),
                    ("batch_size", a.batch_size == b.batch_size),
                    ("max_batch_tokens", a.max_batch_tokens == b.max_batch_tokens),
                    ("adapter", a.adapter == b.adapter),
                    ("merge_adapter", a.merge_adapter == b.merge_adapter),
                ];
                out.extend(fields.iter().filter(|(_, same)| !same).map(|(n, _)| *n));
            }
            (RetrieverSpec::Bm25(a), RetrieverSpec::Bm25(b)) => {
                let fields = [("fields", a.fields == b.fields), ("k1", a.k1 == b.k1), ("b", a.b == b.b)];
                out.extend(fields.iter().filter(|(_, same)| !same).map(|(n, _)| *n));
            }
            _ => out.push("kind"),
        }
        let fields = [
            ("task", self.task == other.task),
            ("split", self.split == other.split),
            ("subset", self.subset == other.subset),
            ("measures", self.measures == other.measures),
            ("k", self.k == other.k),
            ("remove_query_self", self.remove_query_self == other.remove_query_self),
        ];
        out.extend(fields.iter().filter(|(_, same)| !same).map(|(n, _)| *n));
        out
    }
}

/// Seconds each phase of a cell took.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Timings {
    /// Loading the model (0 for BM25, or when it was loaded for an earlier cell).
    pub load: f64,
    /// Building the BM25 index, or encoding the corpus.
    pub index: f64,
    /// Encoding the queries (dense).
    pub encode_queries: f64,
    /// Searching.
    pub search: f64,
    /// Scoring.
    pub score: f64,
}

impl Timings {
    /// All phases.
    pub fn total(&self) -> f64 {
        self.load + self.index + self.encode_queries + self.search + self.score
    }
}

/// How a dense cell's corpus was encoded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EncodingStats {
    /// Corpus shards encoded in this run.
    pub shards_encoded: usize,
    /// Corpus shards read from the cache.
    pub shards_reused: usize,
    /// Tokens the encoder processed for the corpus (0 when every shard came from the cache).
    pub corpus_tokens: u64,
    /// Corpus tokens per second of encoding (0 when nothing was encoded).
    pub corpus_tokens_per_s: f64,
    /// The embedding cache folder.
    pub cache: PathBuf,
}

/// What a cell counted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Documents searched.
    pub docs: usize,
    /// Judged queries.
    pub queries: usize,
    /// Queries in the means.
    pub queries_scored: usize,
}

/// drbench's part of `results.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DrbenchRecord {
    /// [`RECORD_FORMAT`].
    pub format: u32,
    /// Model label (table column).
    pub model: String,
    /// Task name (registry name or folder).
    pub task: String,
    /// Split.
    pub split: String,
    /// The data's source at the revision it resolved to (`hf://datasets/ORG/NAME@COMMIT`), for hub datasets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dataset_revision: Option<String>,
    /// What made these numbers.
    pub settings: CellSettings,
    /// The BM25 index's description (a string), or the encoder's signature (its canonical JSON, as it keys the
    /// embedding cache).
    pub retriever: Described,
    /// Where a dense model ran (`cpu`, `cuda`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<String>,
    /// Seconds per phase.
    pub timings_s: Timings,
    /// Corpus encoding (dense cells).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoding: Option<EncodingStats>,
    /// Sizes.
    pub counts: Counts,
    /// How the means were taken.
    pub conventions: String,
}

/// A retriever's self-description kept as the JSON it is: a signature's canonical JSON stays an object, any other
/// text becomes a JSON string. Compared by its text.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Described(Box<serde_json::value::RawValue>);

impl Described {
    /// `text` as JSON when it is a JSON object (a canonical signature), else as a JSON string.
    pub fn of(text: &str) -> Described {
        let raw = if text.trim_start().starts_with('{') {
            serde_json::value::RawValue::from_string(text.to_string()).ok()
        } else {
            None
        };
        Described(raw.unwrap_or_else(|| serde_json::value::to_raw_value(text).expect("a string serialises")))
    }

    /// The JSON text.
    pub fn json(&self) -> &str {
        self.0.get()
    }
}

impl PartialEq for Described {
    fn eq(&self, other: &Described) -> bool {
        self.json() == other.json()
    }
}

/// The identity fields of drbench's part, in any format (what reports need).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct CellIdentity {
    /// Model label.
    pub model: String,
    /// Task name.
    pub task: String,
    /// Split.
    pub split: String,
}

/// One MTEB score entry: the measures under MTEB's keys, and MTEB's bookkeeping fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoreEntry {
    /// Measure values by MTEB key (`ndcg_at_10`, ...), and whatever else MTEB writes there.
    #[serde(flatten)]
    pub metrics: BTreeMap<String, serde_json::Value>,
    /// The main score.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub main_score: Option<f64>,
    /// MTEB's subset (`default`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hf_subset: Option<String>,
    /// Languages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub languages: Option<Vec<String>>,
}

impl ScoreEntry {
    /// The measures drbench computes the same way, with their values.
    pub fn measures(&self) -> BTreeMap<Measure, f64> {
        self.metrics.iter().filter_map(|(k, v)| Some((measure_from_mteb_key(k)?, v.as_f64()?))).collect()
    }
}

/// A `results.json` (drbench's or MTEB's): `D` is drbench's part as it is read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound(deserialize = "D: Deserialize<'de>"))]
pub struct ResultsFile<D> {
    /// The MTEB task name (or drbench's task name where MTEB has none).
    pub task_name: String,
    /// Score entries per split.
    pub scores: BTreeMap<String, Vec<ScoreEntry>>,
    /// Seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evaluation_time: Option<f64>,
    /// drbench's part.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drbench: Option<D>,
}

/// `per_query.json`: means and per-query values of every measure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PerQueryFile {
    /// Mean per measure.
    pub mean: BTreeMap<Measure, f64>,
    /// Query id → measure → value.
    pub per_query: BTreeMap<String, BTreeMap<Measure, f64>>,
}

impl PerQueryFile {
    /// The per-query file of an evaluation.
    pub fn of(eval: &Evaluation) -> PerQueryFile {
        let named = |v: &[f64]| eval.measures.iter().copied().zip(v.iter().copied()).collect();
        PerQueryFile {
            mean: named(&eval.mean),
            per_query: eval.per_query.iter().map(|(q, v)| (q.clone(), named(v))).collect(),
        }
    }
}

/// A finished cell, ready to be written.
#[derive(Debug)]
pub struct CellFiles<'a> {
    /// drbench's part of results.json.
    pub record: &'a DrbenchRecord,
    /// MTEB task name (empty: the task's own name).
    pub mteb_task: &'a str,
    /// MTEB's `hf_subset` and `languages` of the score entry.
    pub subset: (&'a str, Vec<String>),
    /// The evaluation (its first measure is the main score).
    pub evaluation: &'a Evaluation,
    /// The run.
    pub run: &'a Run,
    /// Run tag in run.trec.
    pub tag: &'a str,
}

fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    let text = serde_json::to_string_pretty(value).expect("plain data serialises");
    Ok(write_atomic(path, |w| w.write_all(text.as_bytes()))?)
}

/// The MTEB results file of an evaluation (`scores.{split}[0]` with MTEB's keys, `main_score` = the first
/// measure, `hf_subset` and `languages` as given) with drbench's part.
pub fn results_file<D>(
    task_name: &str,
    split: &str,
    (hf_subset, languages): (&str, Vec<String>),
    eval: &Evaluation,
    time_s: f64,
    drbench: D,
) -> ResultsFile<D> {
    let metrics = eval.measures.iter().zip(&eval.mean).map(|(m, v)| (mteb_key(*m), serde_json::json!(v))).collect();
    let entry = ScoreEntry {
        metrics,
        main_score: eval.mean.first().copied(),
        hf_subset: Some(hf_subset.to_string()),
        languages: Some(languages),
    };
    ResultsFile {
        task_name: task_name.to_string(),
        scores: BTreeMap::from([(split.to_string(), vec![entry])]),
        evaluation_time: Some(time_s),
        drbench: Some(drbench),
    }
}

/// Writes a finished cell into `dir`: run.trec, per_query.json, then results.json, each atomically.
pub fn write_cell(dir: &Path, f: CellFiles<'_>) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| PipelineError::io(dir, e))?;
    write_trec_run(&dir.join(RUN_FILE), f.run, f.tag)?;
    write_json(&dir.join(PER_QUERY_FILE), &PerQueryFile::of(f.evaluation))?;
    let task_name = if f.mteb_task.is_empty() { f.record.task.as_str() } else { f.mteb_task };
    let results =
        results_file(task_name, &f.record.split, f.subset, f.evaluation, f.record.timings_s.total(), f.record);
    write_json(&dir.join(RESULTS_FILE), &results)
}

fn read_text(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|e| PipelineError::io(path, e))
}

fn parse_error(path: &Path, e: &serde_json::Error) -> PipelineError {
    drbench_harness::Error::parse(path, e.line() as u64, e.to_string()).into()
}

/// drbench's record of the finished cell in `dir`, None when the cell is not finished. A results.json of another
/// format, or one without drbench's part, is an error saying so.
pub fn read_cell(dir: &Path) -> Result<Option<DrbenchRecord>> {
    let path = dir.join(RESULTS_FILE);
    if !path.is_file() {
        return Ok(None);
    }
    #[derive(Deserialize)]
    struct Format {
        #[serde(default)]
        format: Option<u32>,
    }
    let text = read_text(&path)?;
    let any: ResultsFile<Format> = serde_json::from_str(&text).map_err(|e| parse_error(&path, &e))?;
    let bad = |message: String| PipelineError::Record { path: path.clone(), message };
    match any.drbench.map(|d| d.format) {
        None => return Err(bad("not a drbench cell (no `drbench` part)".into())),
        Some(f) if f != Some(RECORD_FORMAT) => {
            return Err(bad(format!(
                "written by another drbench version (record format {}, this one writes {RECORD_FORMAT})",
                f.unwrap_or(1)
            )));
        }
        Some(_) => {}
    }
    let file: ResultsFile<DrbenchRecord> = serde_json::from_str(&text).map_err(|e| parse_error(&path, &e))?;
    Ok(file.drbench)
}

/// Reads every result under `roots` (files or folders, searched recursively): drbench `results.json` files
/// (with the `per_query.json` beside them) and MTEB task files, whose task names `registry` maps to registry
/// names (an unknown one is kept as it is); then adds the mean of each task scored per subset whose subsets are
/// all there ([`add_subset_means`]). JSON files that are not results (`model_meta.json`, ...) are skipped.
/// Two files with different results for one (model, task, split) are an error naming both; the same results
/// twice (one folder given twice, a copy) are read once.
pub fn read_results(roots: &[PathBuf], registry: &Registry) -> Result<Vec<CellResult>> {
    let task_of = |t: &str| DatasetSpec::by_mteb_task(registry, t).map(|d| d.name.clone());
    let mut files = Vec::new();
    for root in roots {
        collect_json(root, &mut files)?;
    }
    files.sort();
    let mut out: Vec<CellResult> = Vec::new();
    let mut seen: std::collections::HashMap<(String, String, String), usize> = Default::default();
    for f in files {
        let Some(cell) = read_one(&f, &task_of)? else { continue };
        match seen.entry((cell.model.clone(), cell.task.clone(), cell.split.clone())) {
            std::collections::hash_map::Entry::Occupied(e) => {
                let first = &out[*e.get()];
                if first.scores != cell.scores || first.per_query != cell.per_query {
                    return Err(PipelineError::Record {
                        path: cell.origin.clone(),
                        message: format!(
                            "model {:?} on {} ({}) has other results in {}; keep one of the two",
                            cell.model,
                            cell.task,
                            cell.split,
                            first.origin.display()
                        ),
                    });
                }
            }
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(out.len());
                out.push(cell);
            }
        }
    }
    add_subset_means(&mut out, registry);
    Ok(out)
}

fn collect_json(path: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let meta = std::fs::metadata(path).map_err(|e| PipelineError::io(path, e))?;
    if meta.is_file() {
        out.push(path.to_path_buf());
        return Ok(());
    }
    for entry in std::fs::read_dir(path).map_err(|e| PipelineError::io(path, e))? {
        let p = entry.map_err(|e| PipelineError::io(path, e))?.path();
        if p.is_dir() {
            collect_json(&p, out)?;
        } else if p.extension().is_some_and(|e| e == "json") {
            out.push(p);
        }
    }
    Ok(())
}

fn read_one(path: &Path, task_of: &dyn Fn(&str) -> Option<String>) -> Result<Option<CellResult>> {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    if matches!(name, PER_QUERY_FILE | "model_meta.json" | "subset.json" | "cache.json") {
        return Ok(None);
    }
    let value: serde_json::Value = serde_json::from_str(&read_text(path)?).map_err(|e| parse_error(path, &e))?;
    if value.get("task_name").is_none() || value.get("scores").is_none() {
        return Ok(None);
    }
    let file: ResultsFile<CellIdentity> = serde_json::from_value(value)
        .map_err(|e| PipelineError::Record { path: path.to_path_buf(), message: format!("not a results file: {e}") })?;
    let bad = |message: &str| PipelineError::Record { path: path.to_path_buf(), message: message.to_string() };
    let split = ["test", "dev"]
        .into_iter()
        .find(|s| file.scores.contains_key(*s))
        .map(str::to_string)
        .or_else(|| file.scores.keys().next().cloned())
        .ok_or_else(|| bad("`scores` has no split"))?;
    let entries = &file.scores[&split];
    if entries.is_empty() {
        return Err(bad("`scores.<split>` is empty"));
    }
    // One entry per subset (MTEB's multi-subset tasks): the task's score is their mean, as MTEB takes it.
    let scores = match entries.iter().find(|e| e.hf_subset.as_deref().is_none_or(|s| s == "default")) {
        Some(entry) => entry.measures(),
        None => mean_scores(&entries.iter().map(ScoreEntry::measures).collect::<Vec<_>>()),
    };
    let (model, task, per_query) = match file.drbench {
        Some(id) => {
            let pq_path = path.with_file_name(PER_QUERY_FILE);
            let per_query = if pq_path.is_file() {
                let pq: PerQueryFile =
                    serde_json::from_str(&read_text(&pq_path)?).map_err(|e| parse_error(&pq_path, &e))?;
                Some(pq.per_query)
            } else {
                None
            };
            (id.model, id.task, per_query)
        }
        None => (mteb_model_name(path)?, task_of(&file.task_name).unwrap_or_else(|| file.task_name.clone()), None),
    };
    Ok(Some(CellResult { model, task, split, scores, per_query, origin: path.to_path_buf() }))
}

/// MTEB's layout is `<model dir>/<revision>/<Task>.json`; `model_meta.json` beside it names the model, else the
/// model folder does (`org__name` → `org/name`).
fn mteb_model_name(path: &Path) -> Result<String> {
    #[derive(Deserialize)]
    struct ModelMeta {
        name: Option<String>,
    }
    let meta = path.with_file_name("model_meta.json");
    if meta.is_file() {
        let m: ModelMeta = serde_json::from_str(&read_text(&meta)?).map_err(|e| parse_error(&meta, &e))?;
        if let Some(name) = m.name {
            return Ok(name);
        }
    }
    let model_dir = path.parent().and_then(Path::parent).and_then(Path::file_name).and_then(|n| n.to_str());
    Ok(model_dir.map(|d| d.replace("__", "/")).unwrap_or_else(|| "unknown".into()))
}
