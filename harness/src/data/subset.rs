//! Fixed, reproducible subsets of a task (for golden results, smoke presets and the browser demo): the first
//! N judged queries in file order, every document any of them judges, then the corpus's first documents in
//! file order up to a total of M.

use std::collections::HashSet;

use super::{Collection, Qrels};

/// How much of a task to keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubsetSpec {
    /// Judged queries kept (the first ones in the query file's order).
    pub queries: usize,
    /// Documents kept in all: every document the kept queries judge, then corpus order up to this total
    /// (more when the judged documents alone exceed it).
    pub docs: usize,
}

impl std::fmt::Display for SubsetSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "first {} judged queries, their judged docs + corpus order up to {} docs", self.queries, self.docs)
    }
}

/// The subset of (`corpus`, `queries`, `qrels`) that `spec` describes: corpus and queries keep file order;
/// qrels keep every judgment of the kept queries (the ideal ranking is unchanged).
pub fn cut_subset(
    corpus: &Collection,
    queries: &Collection,
    qrels: &Qrels,
    spec: SubsetSpec,
) -> (Collection, Collection, Qrels) {
    let kept_queries: Vec<&str> =
        queries.iter().map(|q| q.id).filter(|id| qrels.get(id).is_some()).take(spec.queries).collect();
    let query_set: HashSet<&str> = kept_queries.iter().copied().collect();
    let mut judged: HashSet<String> = HashSet::new();
    for q in &kept_queries {
        if let Some(j) = qrels.get(q) {
            judged.extend(j.iter_sorted().into_iter().map(|(d, _)| d.to_string()));
        }
    }
    let judged_in_corpus = corpus.iter().filter(|d| judged.contains(d.id)).count();
    let mut fill = spec.docs.saturating_sub(judged_in_corpus);
    let sub_corpus = corpus.filter(|d| {
        if judged.contains(d.id) {
            true
        } else if fill > 0 {
            fill -= 1;
            true
        } else {
            false
        }
    });
    let sub_queries = queries.filter(|q| query_set.contains(q.id));
    let mut sub_qrels = qrels.clone();
    sub_qrels.retain(|q, _| query_set.contains(q));
    (sub_corpus, sub_queries, sub_qrels)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_judged_docs_and_fills_in_corpus_order() {
        let mut corpus = Collection::new();
        for i in 0..10 {
            corpus.push(&format!("d{i}"), "", "text");
        }
        corpus.finish().unwrap();
        let mut queries = Collection::new();
        for q in ["q0", "q1", "q2", "q3"] {
            queries.push(q, "", "query");
        }
        queries.finish().unwrap();
        let mut qrels = Qrels::new();
        qrels.insert("q1", "d9", 1);
        qrels.insert("q1", "d3", 0);
        qrels.insert("q2", "d7", 2);
        qrels.insert("q3", "d8", 1);
        let (c, q, r) = cut_subset(&corpus, &queries, &qrels, SubsetSpec { queries: 2, docs: 5 });
        let ids: Vec<&str> = c.iter().map(|d| d.id).collect();
        assert_eq!(ids, ["d0", "d1", "d3", "d7", "d9"], "judged d3, d7, d9 + the first two others");
        assert_eq!(q.iter().map(|q| q.id).collect::<Vec<_>>(), ["q1", "q2"], "q0 is not judged");
        assert_eq!(r.query_ids().len(), 2);
        assert_eq!(r.get("q1").unwrap().len(), 2);
        let (c, _, _) = cut_subset(&corpus, &queries, &qrels, SubsetSpec { queries: 3, docs: 2 });
        assert_eq!(c.len(), 4, "judged documents are kept even past the total");
    }
}
