//! Hard-negative mining: training groups from qrels (positives) and retriever runs (negatives), the way
//! Tevatron's MS MARCO groups were built — each run's top `depth` documents, judged positives excluded.

use std::collections::HashSet;

use super::{Collection, Qrels, Run, ScoredDoc};
use crate::io::{TrainGroup, TrainPassage};
use crate::metrics::trec_cmp;

/// What mining did, for the log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MineReport {
    /// Groups written.
    pub groups: usize,
    /// Queries dropped: no positive judgment, or positives missing from the corpus.
    pub without_positive: usize,
    /// Queries whose runs gave no negative at all (kept: Tevatron samples with replacement).
    pub without_negative: usize,
    /// Judged docids absent from the corpus (skipped).
    pub missing_docs: usize,
}

fn passage(corpus: &Collection, docid: &str) -> Option<TrainPassage> {
    corpus.find(docid).map(|r| TrainPassage { docid: r.id.into(), title: r.title.into(), text: r.text.into() })
}

/// The ranking of `qid` in `run`, best first in trec_eval's order (score descending, docid descending on ties).
fn ranked<'a>(run: &'a Run, qid: &str) -> Vec<&'a ScoredDoc> {
    let mut docs: Vec<&ScoredDoc> = run.get(qid).unwrap_or(&[]).iter().collect();
    docs.sort_by(|a, b| trec_cmp(a.score, a.docid.as_bytes(), b.score, b.docid.as_bytes()));
    docs
}

/// One group per query of `queries` with a positive judgment (grade > 0): positives in qrels order
/// (sorted docid), negatives = for each run in turn, its top `depth` documents minus those judged positive and
/// those already taken (depth counts ranks before this filtering, as Tevatron's top-200 lists). Documents judged non-relevant (grade ≤ 0) may be negatives.
pub fn mine_groups(
    corpus: &Collection,
    queries: &Collection,
    qrels: &Qrels,
    runs: &[&Run],
    depth: usize,
) -> (Vec<TrainGroup>, MineReport) {
    let mut report = MineReport::default();
    let mut groups = Vec::new();
    for q in queries.iter() {
        let Some(judged) = qrels.get(q.id) else { continue };
        let positive_ids: Vec<&str> =
            judged.iter_sorted().into_iter().filter(|&(_, g)| g > 0).map(|(d, _)| d).collect();
        let mut positives = Vec::new();
        for d in &positive_ids {
            match passage(corpus, d) {
                Some(p) => positives.push(p),
                None => report.missing_docs += 1,
            }
        }
        if positives.is_empty() {
            report.without_positive += 1;
            continue;
        }
        let exclude: HashSet<&str> = positive_ids.iter().copied().collect();
        let mut seen: HashSet<&str> = HashSet::new();
        let mut negatives = Vec::new();
        for run in runs {
            for doc in ranked(run, q.id).into_iter().take(depth) {
                let id = doc.docid.as_str();
                if exclude.contains(id) || !seen.insert(id) {
                    continue;
                }
                if let Some(p) = passage(corpus, id) {
                    negatives.push(p);
                }
            }
        }
        if negatives.is_empty() {
            report.without_negative += 1;
        }
        groups.push(TrainGroup {
            query_id: q.id.into(),
            query: q.text.into(),
            positive_passages: positives,
            negative_passages: negatives,
        });
    }
    report.groups = groups.len();
    (groups, report)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(runs: &[&[(&str, f64)]], depth: usize, expected_negatives: &[&str]) {
        let mut corpus = Collection::new();
        for id in ["d1", "d2", "d3", "d4", "d5"] {
            corpus.push(id, "", &format!("text {id}"));
        }
        corpus.finish().unwrap();
        let mut queries = Collection::new();
        queries.push("q", "", "query");
        queries.push("unjudged", "", "query");
        queries.finish().unwrap();
        let mut qrels = Qrels::new();
        qrels.insert("q", "d2", 1);
        qrels.insert("q", "d4", 0);
        let runs: Vec<Run> = runs
            .iter()
            .map(|rows| {
                let mut r = Run::new();
                for (d, s) in rows.iter() {
                    r.push("q", *d, *s);
                }
                r
            })
            .collect();
        let refs: Vec<&Run> = runs.iter().collect();
        let (groups, report) = mine_groups(&corpus, &queries, &qrels, &refs, depth);
        assert_eq!(report.groups, 1);
        let g = &groups[0];
        assert_eq!(g.positive_passages.iter().map(|p| p.docid.as_str()).collect::<Vec<_>>(), ["d2"]);
        let negs: Vec<&str> = g.negative_passages.iter().map(|p| p.docid.as_str()).collect();
        assert_eq!(negs, expected_negatives);
    }

    #[test]
    fn negatives_are_top_depth_without_positives_or_repeats() {
        // Ranked by score, the positive d2 skipped, judged-non-relevant d4 kept.
        check(&[&[("d1", 1.0), ("d2", 3.0), ("d4", 2.0), ("d3", 0.5)]], 3, &["d4", "d1"]);
        // Ties broken by docid descending, as trec_eval; unknown docids skipped.
        check(&[&[("d1", 1.0), ("d3", 1.0), ("zz", 2.0)]], 10, &["d3", "d1"]);
        // A second run adds its own top documents after the first's, without repeats.
        check(&[&[("d1", 2.0), ("d3", 1.0)], &[("d3", 5.0), ("d5", 4.0), ("d2", 9.0)]], 3, &["d1", "d3", "d5"]);
        // Depth counts ranks before filtering: positives and repeats use up places.
        check(&[&[("d1", 2.0), ("d3", 1.0)], &[("d3", 5.0), ("d5", 4.0), ("d2", 9.0)]], 2, &["d1", "d3"]);
    }
}
