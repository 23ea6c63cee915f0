//! Reading results: drbench's cell folders (`results.json` + `per_query.json`) and MTEB result files
//! (`<model>/<revision>/<Task>.json`, optional `model_meta.json`), into one list of [`CellResult`]s.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use super::mteb::{measure_from_mteb_key, mteb_key};
use crate::error::{Error, Result};
use crate::metrics::{Evaluation, Measure};

/// One (model, task) result: means, and per-query values where the source has them.
#[derive(Debug, Clone, PartialEq)]
pub struct CellResult {
    /// Model label.
    pub model: String,
    /// Task (registry name such as `beir/scifact` where known, else the file's own task name).
    pub task: String,
    /// Split evaluated.
    pub split: String,
    /// Mean per measure.
    pub scores: BTreeMap<Measure, f64>,
    /// Per-query values (query id → measure → value), for significance tests.
    pub per_query: Option<BTreeMap<String, BTreeMap<Measure, f64>>>,
    /// The file it was read from.
    pub origin: PathBuf,
}

impl CellResult {
    /// A cell from an evaluation.
    pub fn from_evaluation(model: &str, task: &str, split: &str, eval: &Evaluation) -> CellResult {
        let scores = eval.measures.iter().copied().zip(eval.mean.iter().copied()).collect();
        let per_query = eval
            .per_query
            .iter()
            .map(|(q, v)| (q.clone(), eval.measures.iter().copied().zip(v.iter().copied()).collect()))
            .collect();
        CellResult {
            model: model.into(),
            task: task.into(),
            split: split.into(),
            scores,
            per_query: Some(per_query),
            origin: PathBuf::new(),
        }
    }

    /// The MTEB result JSON of this cell (`task_name`, `scores.{split}[0]` with MTEB's keys and `main_score` =
    /// `main`), with `extra` under the key `drbench` (model, task, settings, timings...).
    pub fn to_mteb_json(&self, mteb_task: &str, main: Measure, evaluation_time: f64, extra: Value) -> Value {
        let mut scores = serde_json::Map::new();
        for (m, v) in &self.scores {
            scores.insert(mteb_key(*m), json!(v));
        }
        scores.insert("main_score".into(), json!(self.scores.get(&main).copied().unwrap_or(f64::NAN)));
        scores.insert("hf_subset".into(), json!("default"));
        scores.insert("languages".into(), json!(["eng-Latn"]));
        let mut drbench = json!({ "model": self.model, "task": self.task, "split": self.split });
        if let (Some(d), Value::Object(e)) = (drbench.as_object_mut(), extra) {
            d.extend(e);
        }
        json!({
            "task_name": if mteb_task.is_empty() { self.task.as_str() } else { mteb_task },
            "scores": { self.split.clone(): [Value::Object(scores)] },
            "evaluation_time": evaluation_time,
            "drbench": drbench,
        })
    }

    /// The per-query file (`{"mean": {...}, "per_query": {qid: {"nDCG@10": ...}}}`) of this cell.
    pub fn per_query_json(&self) -> Value {
        let named = |m: &BTreeMap<Measure, f64>| -> Value {
            Value::Object(m.iter().map(|(k, v)| (k.to_string(), json!(v))).collect())
        };
        let per_query: serde_json::Map<String, Value> =
            self.per_query.iter().flatten().map(|(q, m)| (q.clone(), named(m))).collect();
        json!({ "mean": named(&self.scores), "per_query": per_query })
    }
}

/// Reads every result under `roots` (files or folders, searched recursively): drbench `results.json` files
/// (with the `per_query.json` beside them) and MTEB task files. `task_of` maps an MTEB task name to a
/// registry name (None: keep the name). Unrelated JSON files (`model_meta.json`, ...) are skipped.
pub fn read_results(roots: &[PathBuf], task_of: &dyn Fn(&str) -> Option<String>) -> Result<Vec<CellResult>> {
    let mut files = Vec::new();
    for root in roots {
        collect_json(root, &mut files)?;
    }
    files.sort();
    let mut out = Vec::new();
    for f in files {
        if let Some(cell) = read_one(&f, task_of)? {
            out.push(cell);
        }
    }
    Ok(out)
}

fn collect_json(path: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
    if meta.is_file() {
        out.push(path.to_path_buf());
        return Ok(());
    }
    for entry in std::fs::read_dir(path).map_err(|e| Error::io(path, e))? {
        let p = entry.map_err(|e| Error::io(path, e))?.path();
        if p.is_dir() {
            collect_json(&p, out)?;
        } else if p.extension().is_some_and(|e| e == "json") {
            out.push(p);
        }
    }
    Ok(())
}

fn read_json(path: &Path) -> Result<Value> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    serde_json::from_str(&text).map_err(|e| Error::parse(path, e.line() as u64, e.to_string()))
}

fn read_one(path: &Path, task_of: &dyn Fn(&str) -> Option<String>) -> Result<Option<CellResult>> {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    if matches!(name, "per_query.json" | "model_meta.json") {
        return Ok(None);
    }
    let v = read_json(path)?;
    let (Some(task_name), Some(scores)) = (v["task_name"].as_str(), v["scores"].as_object()) else {
        return Ok(None);
    };
    let bad = |message: &str| Error::file(path, message.to_string());
    let split = ["test", "dev"]
        .into_iter()
        .find(|s| scores.contains_key(*s))
        .map(str::to_string)
        .or_else(|| scores.keys().next().cloned())
        .ok_or_else(|| bad("`scores` has no split"))?;
    let entries = scores[&split].as_array().ok_or_else(|| bad("`scores.<split>` is not a list"))?;
    let entry = entries
        .iter()
        .find(|e| e["hf_subset"].as_str().is_none_or(|s| s == "default"))
        .or_else(|| entries.first())
        .and_then(Value::as_object)
        .ok_or_else(|| bad("`scores.<split>` is empty"))?;
    let mut means = BTreeMap::new();
    for (k, val) in entry {
        if let (Some(m), Some(x)) = (measure_from_mteb_key(k), val.as_f64()) {
            means.insert(m, x);
        }
    }
    let drbench = &v["drbench"];
    let (model, task, per_query) =
        if let (Some(model), Some(task)) = (drbench["model"].as_str(), drbench["task"].as_str()) {
            let pq_path = path.with_file_name("per_query.json");
            let per_query = if pq_path.is_file() { Some(read_per_query(&pq_path)?) } else { None };
            (model.to_string(), task.to_string(), per_query)
        } else {
            (mteb_model_name(path)?, task_of(task_name).unwrap_or_else(|| task_name.to_string()), None)
        };
    Ok(Some(CellResult { model, task, split, scores: means, per_query, origin: path.to_path_buf() }))
}

/// MTEB's layout is `<model dir>/<revision>/<Task>.json`; `model_meta.json` beside it names the model, else the
/// model folder does (`org__name` → `org/name`).
fn mteb_model_name(path: &Path) -> Result<String> {
    let meta = path.with_file_name("model_meta.json");
    if meta.is_file()
        && let Some(name) = read_json(&meta)?["name"].as_str()
    {
        return Ok(name.to_string());
    }
    let model_dir = path.parent().and_then(Path::parent).and_then(Path::file_name).and_then(|n| n.to_str());
    Ok(model_dir.map(|d| d.replace("__", "/")).unwrap_or_else(|| "unknown".into()))
}

fn read_per_query(path: &Path) -> Result<BTreeMap<String, BTreeMap<Measure, f64>>> {
    let v = read_json(path)?;
    let pq = v["per_query"].as_object().ok_or_else(|| Error::file(path, "no `per_query` object"))?;
    let mut out = BTreeMap::new();
    for (q, values) in pq {
        let obj = values.as_object().ok_or_else(|| Error::file(path, format!("query {q}: not an object")))?;
        let mut m = BTreeMap::new();
        for (name, x) in obj {
            let measure: Measure = name.parse()?;
            let x = x.as_f64().ok_or_else(|| Error::file(path, format!("query {q}: {name} is not a number")))?;
            m.insert(measure, x);
        }
        out.insert(q.clone(), m);
    }
    Ok(out)
}
