//! Evaluating a whole run against qrels: trec_eval's query-set conventions, per-query values and means.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::data::{Qrels, Run};
use crate::error::{Error, Result};

use super::Measure;
use super::group::{GroupScorer, QueryRows};
use super::query::score_ranking;
use super::trec_measure::check_grades;

/// How to evaluate.
#[derive(Debug, Clone, PartialEq)]
pub struct EvalOptions {
    /// Measures to compute.
    pub measures: Vec<Measure>,
    /// trec_eval `-c`: average over every judged query; one without run rows scores 0.
    /// Without it, only queries that are judged and have run rows count (trec_eval's default).
    pub complete: bool,
    /// Drop a retrieved document whose id equals the query id (ArguAna, Quora; Pyserini `--remove-query`).
    pub remove_query_self: bool,
}

impl Default for EvalOptions {
    fn default() -> Self {
        EvalOptions { measures: Measure::defaults(), complete: false, remove_query_self: false }
    }
}

/// The result of an evaluation.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    /// The measures, in the order of every value vector below.
    pub measures: Vec<Measure>,
    /// Values per query (in complete mode, judged queries without run rows appear scored as an empty ranking: 0 on
    /// the built-in measures, trec_eval's value for its others).
    pub per_query: BTreeMap<String, Vec<f64>>,
    /// Summary over the evaluated queries: the mean (a sum or a geometric mean for those trec_eval measures).
    pub mean: Vec<f64>,
    /// Judged queries that had no run rows (they count as 0 in complete mode, and are left out otherwise).
    pub queries_without_run: Vec<String>,
    /// Number of run queries that have no judgments (ignored, as in trec_eval).
    pub run_queries_without_qrels: usize,
    /// Whether the complete (`-c`) convention was used.
    pub complete: bool,
}

impl Evaluation {
    /// Builds the evaluation from per-query values of the queries that had run rows.
    pub fn assemble(
        qrels: &Qrels,
        opts: &EvalOptions,
        mut per_query: BTreeMap<String, Vec<f64>>,
        run_queries_without_qrels: usize,
    ) -> Evaluation {
        let mut queries_without_run: Vec<String> =
            qrels.query_ids().into_iter().filter(|q| !per_query.contains_key(*q)).map(str::to_string).collect();
        queries_without_run.sort_unstable();
        if opts.complete {
            for q in &queries_without_run {
                // An empty ranking: 0 on every built-in measure; trec_eval's counts (num_rel) still count.
                let mut values = vec![0.0; opts.measures.len()];
                if let Some(judgments) = qrels.get(q) {
                    score_ranking(&[], judgments, &opts.measures, &mut values);
                }
                per_query.insert(q.clone(), values);
            }
        }
        let mean: Vec<f64> = opts
            .measures
            .iter()
            .enumerate()
            .map(|(i, m)| m.aggregate().apply(per_query.values().map(|v| v[i])))
            .collect();
        Evaluation {
            measures: opts.measures.clone(),
            per_query,
            mean,
            queries_without_run,
            run_queries_without_qrels,
            complete: opts.complete,
        }
    }

    /// Number of queries in the mean.
    pub fn num_queries(&self) -> usize {
        self.per_query.len()
    }

    /// The mean of `measure`, if it was computed.
    pub fn mean_of(&self, measure: Measure) -> Option<f64> {
        self.measures.iter().position(|m| *m == measure).map(|i| self.mean[i])
    }

    /// Per-query values of `measure`, in query-id order.
    pub fn per_query_of(&self, measure: Measure) -> Option<Vec<(&str, f64)>> {
        let i = self.measures.iter().position(|m| *m == measure)?;
        Some(self.per_query.iter().map(|(q, v)| (q.as_str(), v[i])).collect())
    }

    /// `{"nDCG@10": 0.5, ...}` with the measures in order.
    pub fn mean_json(&self) -> serde_json::Value {
        named(&self.measures, &self.mean)
    }

    /// `{"mean": {...}, "per_query": {qid: {...}}}`.
    pub fn per_query_json(&self) -> serde_json::Value {
        let per_query: serde_json::Map<String, serde_json::Value> =
            self.per_query.iter().map(|(q, v)| (q.clone(), named(&self.measures, v))).collect();
        serde_json::json!({ "mean": self.mean_json(), "per_query": per_query })
    }

    /// A summary that serializes to the results files.
    pub fn summary(&self) -> EvalSummary {
        EvalSummary {
            measures: self.measures.iter().map(|m| m.to_string()).collect(),
            mean: self.measures.iter().zip(&self.mean).map(|(m, v)| (m.to_string(), *v)).collect(),
            num_queries: self.num_queries(),
            queries_without_run: self.queries_without_run.len(),
            run_queries_without_qrels: self.run_queries_without_qrels,
            complete: self.complete,
        }
    }
}

/// The serializable headline of an evaluation.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct EvalSummary {
    /// Measure names.
    pub measures: Vec<String>,
    /// Mean per measure name.
    pub mean: BTreeMap<String, f64>,
    /// Queries in the mean.
    pub num_queries: usize,
    /// Judged queries without run rows.
    pub queries_without_run: usize,
    /// Run queries without judgments.
    pub run_queries_without_qrels: usize,
    /// trec_eval `-c` convention.
    pub complete: bool,
}

fn named(measures: &[Measure], values: &[f64]) -> serde_json::Value {
    let map: serde_json::Map<String, serde_json::Value> =
        measures.iter().zip(values).map(|(m, v)| (m.to_string(), serde_json::json!(v))).collect();
    serde_json::Value::Object(map)
}

/// Refuses grades that trec_eval's measures cannot take when one of them is asked for.
pub(super) fn check_trec_grades(qrels: &Qrels, opts: &EvalOptions) -> Result<()> {
    if !opts.measures.iter().any(|m| matches!(m, Measure::Trec(_))) {
        return Ok(());
    }
    for qid in qrels.query_ids() {
        if let Some(Err(g)) = qrels.get(qid).map(check_grades) {
            return Err(Error::Invalid(format!(
                "query {qid:?} has a judgment of grade {g}; trec_eval's measures read grades up to {}",
                crate::trec_eval::input::MAX_RELEVANCE
            )));
        }
    }
    Ok(())
}

/// Evaluates an in-memory run.
pub fn evaluate_run(run: &Run, qrels: &Qrels, opts: &EvalOptions) -> Result<Evaluation> {
    check_trec_grades(qrels, opts)?;
    let mut scorer = GroupScorer::default();
    let mut rows = QueryRows::default();
    let mut per_query = BTreeMap::new();
    let mut unjudged = 0;
    for (qid, docs) in run.iter() {
        let Some(judgments) = qrels.get(qid) else {
            unjudged += 1;
            continue;
        };
        rows.clear();
        for d in docs {
            rows.push(d.docid.as_bytes(), d.score);
        }
        let mut values = vec![0.0; opts.measures.len()];
        scorer
            .score(qid.as_bytes(), &mut rows, judgments, &opts.measures, opts.remove_query_self, &mut values)
            .map_err(|d| Error::Invalid(format!("run has two rows for query {qid:?}, document {:?}", d.0)))?;
        per_query.insert(qid.to_string(), values);
    }
    Ok(Evaluation::assemble(qrels, opts, per_query, unjudged))
}
