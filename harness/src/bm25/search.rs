//! BM25 search over a [`Bm25Index`]: Lucene's bag-of-words query (each distinct query term boosted by its count),
//! term-at-a-time accumulation in double precision cast to float as Lucene's disjunction scorers do, and exact
//! top-k with Anserini's order (score descending, then docid ascending).

use std::cmp::Ordering;

use rayon::prelude::*;
use rustc_hash::FxHashMap;

use crate::data::{Collection, Run};

use super::analyzer::EnglishAnalyzer;
use super::index::{Bm25Index, FieldMode};
use super::lucene::{anserini_adjust_ties, idf, norm_cache, term_score};

/// One retrieved document.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hit {
    /// Internal document number (see [`Bm25Index::doc_id`]).
    pub doc: u32,
    /// BM25 score (Lucene's float).
    pub score: f32,
}

/// A reusable searcher (one per thread): holds the analyzer, norm caches and score accumulators.
#[derive(Debug)]
pub struct Bm25Searcher<'a> {
    index: &'a Bm25Index,
    caches: Vec<[f32; 256]>,
    analyzer: EnglishAnalyzer,
    field_acc: Vec<f64>,
    total: Vec<f64>,
    touched: Vec<u32>,
    field_touched: Vec<u32>,
}

impl<'a> Bm25Searcher<'a> {
    /// A searcher over `index` with the index's k1 and b.
    pub fn new(index: &'a Bm25Index) -> Self {
        let caches = index
            .fields
            .iter()
            .map(|f| norm_cache(index.params, f.avgdl()))
            .collect();
        let n = index.num_docs();
        Bm25Searcher {
            index,
            caches,
            analyzer: EnglishAnalyzer::new(index.analyzer),
            field_acc: vec![0.0; n],
            total: vec![0.0; n],
            touched: Vec::new(),
            field_touched: Vec::new(),
        }
    }

    /// The query's distinct terms with their counts (Anserini's BagOfWordsQueryGenerator boosts).
    pub fn query_terms(&mut self, query: &str) -> Vec<(String, u32)> {
        let mut counts: FxHashMap<String, u32> = FxHashMap::default();
        for t in self.analyzer.analyze(query) {
            *counts.entry(t).or_default() += 1;
        }
        let mut v: Vec<(String, u32)> = counts.into_iter().collect();
        v.sort_unstable();
        v
    }

    /// The `k` best documents for `query`, ordered by score descending, then docid ascending.
    pub fn search(&mut self, query: &str, k: usize) -> Vec<Hit> {
        let terms = self.query_terms(query);
        for (f, field) in self.index.fields.iter().enumerate() {
            let cache = &self.caches[f];
            for (term, count) in &terms {
                let Some((docs, tfs)) = field.postings(term) else {
                    continue;
                };
                let weight = *count as f32 * idf(docs.len() as u64, field.doc_count);
                for (&d, &tf) in docs.iter().zip(tfs) {
                    let s = term_score(weight, tf, cache[field.norms[d as usize] as usize]);
                    let slot = &mut self.field_acc[d as usize];
                    if *slot == 0.0 {
                        self.field_touched.push(d);
                    }
                    *slot += f64::from(s);
                }
            }
            // Each field's clause is its own boolean query: its sum is cast to float before fields are added.
            for &d in &self.field_touched {
                let slot = &mut self.total[d as usize];
                if *slot == 0.0 {
                    self.touched.push(d);
                }
                *slot += f64::from(self.field_acc[d as usize] as f32);
                self.field_acc[d as usize] = 0.0;
            }
            self.field_touched.clear();
        }
        let mut hits: Vec<Hit> = self
            .touched
            .drain(..)
            .map(|d| {
                let score = std::mem::take(&mut self.total[d as usize]) as f32;
                Hit { doc: d, score }
            })
            .collect();
        let ids = &self.index.doc_ids;
        let order = |a: &Hit, b: &Hit| -> Ordering {
            b.score
                .partial_cmp(&a.score)
                .unwrap_or(Ordering::Equal)
                .then_with(|| ids[a.doc as usize].cmp(&ids[b.doc as usize]))
        };
        if hits.len() > k && k > 0 {
            hits.select_nth_unstable_by(k - 1, order);
            hits.truncate(k);
        }
        hits.sort_unstable_by(order);
        hits.truncate(k);
        hits
    }
}

/// How scores are written into the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ScoreOutput {
    /// Lucene's float scores as they are.
    Exact,
    /// Anserini's output: rounded to 4 decimals with its tie adjustment, as in the runs behind Pyserini's
    /// published numbers (the default, so that `drbench eval` reproduces them).
    #[default]
    Anserini,
}

/// Options of a batch search.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SearchOptions {
    /// Hits per query.
    pub k: usize,
    /// Drop a hit whose docid equals the query id, after retrieving k (Pyserini `--remove-query`).
    pub remove_query_self: bool,
    /// Score format.
    pub scores: ScoreOutput,
}

impl Default for SearchOptions {
    fn default() -> Self {
        SearchOptions {
            k: 1000,
            remove_query_self: false,
            scores: ScoreOutput::Anserini,
        }
    }
}

impl Bm25Index {
    /// Searches every query (in parallel) and returns the run.
    pub fn search_all(&self, queries: &Collection, opts: SearchOptions) -> Run {
        let results: Vec<(usize, Vec<Hit>)> = (0..queries.len())
            .into_par_iter()
            .map_init(
                || Bm25Searcher::new(self),
                |s, i| (i, s.search(queries.get(i).text, opts.k)),
            )
            .collect();
        let mut run = Run::new();
        for (i, hits) in results {
            let qid = queries.get(i).id;
            let mut scores: Vec<f32> = hits.iter().map(|h| h.score).collect();
            if opts.scores == ScoreOutput::Anserini {
                anserini_adjust_ties(&mut scores);
            }
            let mut docs = Vec::with_capacity(hits.len());
            for (h, s) in hits.iter().zip(scores) {
                let docid = self.doc_id(h.doc);
                if opts.remove_query_self && docid == qid {
                    continue;
                }
                let score = match opts.scores {
                    ScoreOutput::Exact => f64::from(s),
                    // Anserini prints `%.6f` of the adjusted float: keep exactly that value.
                    ScoreOutput::Anserini => format!("{:.6}", f64::from(s))
                        .parse()
                        .expect("a formatted number"),
                };
                docs.push(crate::data::ScoredDoc {
                    docid: docid.to_string(),
                    score,
                });
            }
            run.insert_query(qid, docs);
        }
        run
    }

    /// The field mode's name, for reports.
    pub fn describe(&self) -> String {
        let mode = match self.mode {
            FieldMode::Flat => "flat",
            FieldMode::Multifield => "multifield",
        };
        format!(
            "BM25 {mode} k1={} b={} (Lucene English analysis)",
            self.params.k1, self.params.b
        )
    }
}
