//! BM25 search over a [`Bm25Index`]: Lucene's bag-of-words query (each distinct query term boosted by its count),
//! term-at-a-time accumulation in double precision cast to float as Lucene's disjunction scorers do, and exact
//! top-k with Anserini's order (score descending, then docid ascending).

use rayon::prelude::*;
use rustc_hash::FxHashMap;

use crate::data::{Collection, Run};

use super::analyzer::{EnglishAnalyzer, java_lowercase, standard_tokens, strip_possessive};
use super::index::{Bm25Index, FieldMode};
use super::lucene::{anserini_adjust_ties, idf, norm_cache, term_score};

/// The most analysed tokens a searcher remembers (the cache is emptied past it, so memory stays bounded).
const MAX_CACHED_TERMS: usize = 1 << 20;

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
    keys: Vec<u64>,
    /// Analysed query terms by surface form (None: a stopword).
    term_cache: FxHashMap<String, Option<String>>,
}

impl<'a> Bm25Searcher<'a> {
    /// A searcher over `index` with the index's k1 and b.
    pub fn new(index: &'a Bm25Index) -> Self {
        let caches = index.fields.iter().map(|f| norm_cache(index.params, f.avgdl())).collect();
        let n = index.num_docs();
        Bm25Searcher {
            index,
            caches,
            analyzer: EnglishAnalyzer::new(index.analyzer),
            field_acc: vec![0.0; n],
            total: vec![0.0; n],
            touched: Vec::new(),
            field_touched: Vec::new(),
            keys: Vec::new(),
            term_cache: FxHashMap::default(),
        }
    }

    /// The query's distinct terms with their counts (Anserini's BagOfWordsQueryGenerator boosts), sorted: every
    /// term collected, then sorted and counted (n log n in the query's length, whatever its distinct terms).
    pub fn query_terms(&mut self, query: &str) -> Vec<(String, u32)> {
        let mut all: Vec<String> = Vec::new();
        let (cache, analyzer) = (&mut self.term_cache, &mut self.analyzer);
        if cache.len() > MAX_CACHED_TERMS {
            cache.clear();
        }
        let mut lower = String::new();
        standard_tokens(query, |tok| {
            java_lowercase(strip_possessive(tok), &mut lower);
            let term = match cache.get(lower.as_str()) {
                Some(t) => t.clone(),
                None => {
                    let t = analyzer.finish_token(&lower);
                    cache.insert(lower.clone(), t.clone());
                    t
                }
            };
            all.extend(term);
        });
        all.sort_unstable();
        let mut terms: Vec<(String, u32)> = Vec::new();
        for t in all {
            match terms.last_mut() {
                Some((last, c)) if *last == t => *c += 1,
                _ => terms.push((t, 1)),
            }
        }
        terms
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
        // Sort keys: the float's bits inverted (scores are positive, so bit order is numeric order) above the
        // docid rank, so ascending u64 order is score descending, then docid ascending.
        self.keys.clear();
        for &d in &self.touched {
            let score = std::mem::take(&mut self.total[d as usize]) as f32;
            self.keys.push((u64::from(!score.to_bits()) << 32) | u64::from(self.index.docid_rank[d as usize]));
        }
        self.touched.clear();
        if self.keys.len() > k && k > 0 {
            self.keys.select_nth_unstable(k - 1);
        }
        self.keys.truncate(k);
        self.keys.sort_unstable();
        let by_rank = &self.index.doc_by_rank;
        self.keys
            .iter()
            .map(|&key| Hit {
                doc: by_rank[(key & 0xffff_ffff) as usize],
                score: f32::from_bits(!((key >> 32) as u32)),
            })
            .collect()
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
        SearchOptions { k: 1000, remove_query_self: false, scores: ScoreOutput::Anserini }
    }
}

impl Bm25Index {
    /// Searches every query (in parallel) and returns the run.
    pub fn search_all(&self, queries: &Collection, opts: SearchOptions) -> Run {
        let results: Vec<(usize, Vec<Hit>)> = (0..queries.len())
            .into_par_iter()
            .map_init(|| Bm25Searcher::new(self), |s, i| (i, s.search(queries.get(i).text, opts.k)))
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
                    ScoreOutput::Anserini => format!("{:.6}", f64::from(s)).parse().expect("a formatted number"),
                };
                docs.push(crate::data::ScoredDoc { docid: docid.to_string(), score });
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
        format!("BM25 {mode} k1={} b={} (Lucene English analysis)", self.params.k1, self.params.b)
    }
}
