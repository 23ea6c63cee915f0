//! One (model, task) result as the tables take it: means, and per-query values where the source has them
//! (drbench's record files and MTEB's are read into these by `drbench_pipeline::record`).

use std::collections::BTreeMap;
use std::path::PathBuf;

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
}
