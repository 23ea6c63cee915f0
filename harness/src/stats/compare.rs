//! Comparing two evaluations of the same qrels, query by query: for every measure, the means over the queries
//! both evaluate, a two-sided paired t-test, a seeded bootstrap interval of the difference, and the Holm
//! adjustment of the p-values across the measures. What `drbench compare` prints.

use serde::Serialize;

use super::{BootstrapCi, TTest, holm, paired_bootstrap_ci, paired_t_test};
use crate::error::{Error, Result};
use crate::metrics::{Evaluation, Measure};

/// How the bootstrap interval is drawn.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BootstrapSettings {
    /// Resamples.
    pub resamples: usize,
    /// Confidence level (e.g. 0.95).
    pub level: f64,
    /// Seed of the generator.
    pub seed: u64,
}

/// One measure of a comparison.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MeasureComparison {
    /// The measure.
    pub measure: Measure,
    /// Mean of the baseline over the paired queries.
    pub baseline: f64,
    /// Mean of the other run over the paired queries.
    pub run: f64,
    /// `run - baseline`.
    pub diff: f64,
    /// The paired t-test of run against baseline.
    pub t_test: TTest,
    /// p after Holm's adjustment across the comparison's measures.
    pub p_holm: f64,
    /// Bootstrap interval of the mean difference.
    pub ci: BootstrapCi,
}

/// A run against a baseline.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    /// Queries both evaluations have (the pairs).
    pub queries: usize,
    /// Queries only one of them has (left out of the pairing).
    pub unpaired: usize,
    /// One entry per measure, in the evaluations' order.
    pub measures: Vec<MeasureComparison>,
}

/// Compares `run` with `baseline` (evaluations of the same measures) over the queries both evaluate.
pub fn compare_evaluations(
    baseline: &Evaluation,
    run: &Evaluation,
    bootstrap: BootstrapSettings,
) -> Result<Comparison> {
    if baseline.measures != run.measures {
        return Err(Error::Invalid("the evaluations were made with different measures".into()));
    }
    let common: Vec<&String> = baseline.per_query.keys().filter(|q| run.per_query.contains_key(*q)).collect();
    let unpaired = baseline.per_query.len() + run.per_query.len() - 2 * common.len();
    if common.len() < 2 {
        return Err(Error::Invalid("fewer than 2 queries are evaluated in both runs".into()));
    }
    let mean = |x: &[f64]| x.iter().sum::<f64>() / x.len() as f64;
    let mut measures = Vec::with_capacity(baseline.measures.len());
    for (i, &measure) in baseline.measures.iter().enumerate() {
        let xa: Vec<f64> = common.iter().map(|q| baseline.per_query[*q][i]).collect();
        let xb: Vec<f64> = common.iter().map(|q| run.per_query[*q][i]).collect();
        let t_test = paired_t_test(&xb, &xa)?;
        let ci = paired_bootstrap_ci(&xb, &xa, bootstrap.resamples, bootstrap.level, bootstrap.seed)?;
        let (b, r) = (mean(&xa), mean(&xb));
        measures.push(MeasureComparison { measure, baseline: b, run: r, diff: r - b, t_test, p_holm: f64::NAN, ci });
    }
    let adjusted = holm(&measures.iter().map(|m| m.t_test.p).collect::<Vec<_>>());
    for (m, p) in measures.iter_mut().zip(adjusted) {
        m.p_holm = p;
    }
    Ok(Comparison { queries: common.len(), unpaired, measures })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn eval(values: &[(&str, f64, f64)]) -> Evaluation {
        let per_query: BTreeMap<String, Vec<f64>> =
            values.iter().map(|(q, a, b)| (q.to_string(), vec![*a, *b])).collect();
        let n = per_query.len() as f64;
        let mean = vec![values.iter().map(|v| v.1).sum::<f64>() / n, values.iter().map(|v| v.2).sum::<f64>() / n];
        Evaluation {
            measures: vec![Measure::Ndcg(Some(10)), Measure::P(10)],
            per_query,
            mean,
            queries_without_run: Vec::new(),
            run_queries_without_qrels: 0,
            complete: true,
        }
    }

    #[test]
    fn pairs_queries_tests_each_measure_and_adjusts_across_them() {
        let base = eval(&[("a", 0.1, 0.5), ("b", 0.2, 0.5), ("c", 0.3, 0.5), ("d", 0.9, 0.0)]);
        let run = eval(&[("a", 0.3, 0.5), ("b", 0.5, 0.5), ("c", 0.6, 0.5), ("e", 1.0, 1.0)]);
        let settings = BootstrapSettings { resamples: 200, level: 0.9, seed: 1 };
        let c = compare_evaluations(&base, &run, settings).unwrap();
        assert_eq!((c.queries, c.unpaired), (3, 2));
        let ndcg = &c.measures[0];
        assert!((ndcg.baseline - 0.2).abs() < 1e-12 && (ndcg.run - 0.4666666666666667).abs() < 1e-12);
        assert_eq!(ndcg.t_test, paired_t_test(&[0.3, 0.5, 0.6], &[0.1, 0.2, 0.3]).unwrap());
        assert_eq!(c.measures[1].t_test.p, 1.0, "identical values");
        let adjusted = holm(&[ndcg.t_test.p, 1.0]);
        assert_eq!((ndcg.p_holm, c.measures[1].p_holm), (adjusted[0], adjusted[1]));
        assert!(compare_evaluations(&base, &eval(&[("a", 0.0, 0.0)]), settings).is_err(), "one pair");
    }
}
