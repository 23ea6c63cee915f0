//! Per-query measure values from a ranking, with trec_eval's definitions (linear gain, relevance level 1).

use crate::data::QueryJudgments;

use super::Measure;
use super::trec_measure::TrecQuery;

/// Computes every measure of `measures` for one query into `out` (same order).
///
/// `grades` lists the grade of each retrieved document in rank order (rank 1 first), [`UNJUDGED`](super::UNJUDGED)
/// where the document has no judgment. A query without relevant documents scores 0 on every built-in measure
/// (trec_eval's measures give what trec_eval gives: `num_ret` still counts).
pub fn score_ranking(grades: &[i32], judgments: &QueryJudgments, measures: &[Measure], out: &mut [f64]) {
    debug_assert_eq!(measures.len(), out.len());
    let num_rel = judgments.num_relevant();
    // trec_eval's view of the ranking, made once for all of its measures.
    let mut trec: Option<TrecQuery> = None;
    for (m, slot) in measures.iter().zip(out.iter_mut()) {
        *slot = match m {
            Measure::Trec(t) => t.score_on(trec.get_or_insert_with(|| TrecQuery::new(grades, judgments))),
            _ if num_rel == 0 => 0.0,
            _ => score_one(*m, grades, judgments, num_rel),
        };
    }
}

fn cut(grades: &[i32], k: Option<u32>) -> &[i32] {
    match k {
        Some(k) if (k as usize) < grades.len() => &grades[..k as usize],
        _ => grades,
    }
}

#[inline]
fn is_rel(g: i32) -> bool {
    g >= 1
}

fn score_one(m: Measure, grades: &[i32], judgments: &QueryJudgments, num_rel: usize) -> f64 {
    match m {
        Measure::Ndcg(k) => {
            let top = cut(grades, k);
            let dcg: f64 = top
                .iter()
                .enumerate()
                .filter(|(_, g)| **g > 0)
                .map(|(i, &g)| f64::from(g) / ((i + 2) as f64).log2())
                .fold(0.0, |a, b| a + b); // (`sum` of nothing is -0.0)
            let ideal = judgments.ideal_gains();
            let ideal = match k {
                Some(k) if (k as usize) < ideal.len() => &ideal[..k as usize],
                _ => ideal,
            };
            let idcg: f64 =
                ideal.iter().enumerate().map(|(i, &g)| f64::from(g) / ((i + 2) as f64).log2()).fold(0.0, |a, b| a + b);
            if idcg > 0.0 { dcg / idcg } else { 0.0 }
        }
        Measure::Rr(k) => cut(grades, k).iter().position(|&g| is_rel(g)).map_or(0.0, |i| 1.0 / (i + 1) as f64),
        Measure::Recall(k) => {
            let found = cut(grades, Some(k)).iter().filter(|&&g| is_rel(g)).count();
            found as f64 / num_rel as f64
        }
        Measure::Ap(k) => {
            let mut found = 0usize;
            let mut sum = 0.0;
            for (i, &g) in cut(grades, k).iter().enumerate() {
                if is_rel(g) {
                    found += 1;
                    sum += found as f64 / (i + 1) as f64;
                }
            }
            sum / num_rel as f64
        }
        Measure::P(k) => {
            let found = cut(grades, Some(k)).iter().filter(|&&g| is_rel(g)).count();
            found as f64 / f64::from(k)
        }
        Measure::Trec(t) => t.score(grades, judgments),
    }
}
