//! Runs: per query, a list of scored documents (what a retriever returns).

use std::collections::BTreeMap;

use crate::metrics::trec_cmp;

/// One scored document of a ranking.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoredDoc {
    /// Document id.
    pub docid: String,
    /// Retrieval score (higher is better).
    pub score: f64,
}

/// A run: rankings for many queries. Order within a query does not matter for evaluation
/// (trec_eval re-sorts by score, ties by docid descending).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Run {
    queries: BTreeMap<String, Vec<ScoredDoc>>,
}

impl Run {
    /// An empty run.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends one scored document to `qid`'s list.
    pub fn push(&mut self, qid: &str, docid: impl Into<String>, score: f64) {
        let docs = match self.queries.get_mut(qid) {
            Some(d) => d,
            None => self.queries.entry(qid.to_string()).or_default(),
        };
        docs.push(ScoredDoc { docid: docid.into(), score });
    }

    /// Adds every row of `other` (e.g. the run of another shard of the corpus) to this run's queries.
    pub fn absorb(&mut self, other: Run) {
        for (qid, docs) in other.queries {
            self.queries.entry(qid).or_default().extend(docs);
        }
    }

    /// Replaces `qid`'s list.
    pub fn insert_query(&mut self, qid: impl Into<String>, docs: Vec<ScoredDoc>) {
        self.queries.insert(qid.into(), docs);
    }

    /// The documents of `qid`, in insertion order.
    pub fn get(&self, qid: &str) -> Option<&[ScoredDoc]> {
        self.queries.get(qid).map(Vec::as_slice)
    }

    /// Number of queries.
    pub fn len(&self) -> usize {
        self.queries.len()
    }

    /// True when no query has a ranking.
    pub fn is_empty(&self) -> bool {
        self.queries.is_empty()
    }

    /// Number of (query, document) rows.
    pub fn num_rows(&self) -> usize {
        self.queries.values().map(Vec::len).sum()
    }

    /// Iterates over (qid, docs) in qid order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &[ScoredDoc])> {
        self.queries.iter().map(|(q, d)| (q.as_str(), d.as_slice()))
    }

    /// Sorts every query's list as trec_eval ranks it: score descending, ties by docid descending (byte order).
    pub fn sort_trec(&mut self) {
        for docs in self.queries.values_mut() {
            docs.sort_by(|a, b| trec_cmp(a.score, a.docid.as_bytes(), b.score, b.docid.as_bytes()));
        }
    }

    /// Keeps the best `k` documents of every query (after [`Run::sort_trec`] order).
    pub fn truncate(&mut self, k: usize) {
        self.sort_trec();
        for docs in self.queries.values_mut() {
            docs.truncate(k);
        }
    }
}
