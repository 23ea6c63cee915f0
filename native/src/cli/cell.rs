//! One (retriever, task) cell, shared by `drbench run` and `drbench bench`: dense encode + search through the
//! embedding cache, BM25 search, scoring, and the cell's files (run.trec, per_query.json, then results.json,
//! MTEB-style, written last so its presence marks a finished cell).

use std::path::Path;
use std::time::Instant;

use anyhow::Context;
use drbench_harness::bm25::{AnalyzerConfig, Bm25Index, Bm25Params, FieldMode, SearchOptions};
use drbench_harness::data::{Run, ScoredDoc};
use drbench_harness::dense::exact_top_k;
use drbench_harness::embed_cache::{CacheReport, EmbeddingCache, ShardSelection};
use drbench_harness::encoder::{Encoder, Role};
use drbench_harness::io::write_trec_run;
use drbench_harness::metrics::{EvalOptions, Evaluation, Measure, evaluate_run};
use drbench_harness::report::CellResult;
use serde_json::{Value, json};

use super::dataset::Task;

/// What a dense search did.
pub struct DenseSearch {
    /// The run (document indices mapped back to ids).
    pub run: Run,
    /// Documents searched (all, or this process's shards).
    pub docs_searched: usize,
    /// Cache use while encoding the corpus.
    pub report: CacheReport,
    /// Corpus tokens the encoder processed (0 when every shard came from the cache).
    pub doc_tokens: u64,
    /// Seconds: corpus encoding, query encoding, search.
    pub encode_corpus_s: f64,
    /// Seconds for the queries.
    pub encode_queries_s: f64,
    /// Seconds for exact top-k.
    pub search_s: f64,
}

impl DenseSearch {
    /// Timings and throughput as JSON for results files.
    pub fn timings_json(&self, corpus_len: usize) -> Value {
        let rate = |n: f64| {
            if self.report.shards_encoded > 0 && self.encode_corpus_s > 0.0 { n / self.encode_corpus_s } else { 0.0 }
        };
        json!({
            "timings_s": { "encode_corpus": self.encode_corpus_s, "encode_queries": self.encode_queries_s, "search": self.search_s },
            "throughput": { "corpus_docs_per_s": if self.report.shards_reused == 0 { rate(corpus_len as f64) } else { 0.0 },
                            "corpus_tokens_per_s": rate(self.doc_tokens as f64) },
            "cache": { "shards_encoded": self.report.shards_encoded, "shards_reused": self.report.shards_reused },
        })
    }
}

/// Encodes `task` with `encoder` (corpus shards through the cache under `cache_root`; with a shard selection
/// only this process's shards are encoded and searched), then exact top-k.
pub fn dense_search(
    encoder: &mut dyn Encoder,
    task: &Task,
    k: usize,
    remove_query_self: bool,
    selection: ShardSelection,
    shard_size: usize,
    cache_root: &Path,
) -> anyhow::Result<DenseSearch> {
    let signature = encoder.signature();
    let passages: Vec<String> = task.corpus.iter().map(|r| r.flat_text()).collect();
    let passage_refs: Vec<&str> = passages.iter().map(String::as_str).collect();
    let t_docs = Instant::now();
    let tokens_before = encoder.tokens_processed();
    let bar = super::progress::bar(passages.len() as u64, "encoding");
    let cache = EmbeddingCache::new(cache_root, &signature, Role::Passage, shard_size);
    let (doc_emb, report) = cache
        .encode(encoder, &passage_refs, Role::Passage, selection, &mut |n| bar.inc(n as u64))
        .context("encoding the corpus")?;
    bar.finish_and_clear();
    let encode_corpus_s = t_docs.elapsed().as_secs_f64();
    let doc_tokens = encoder.tokens_processed() - tokens_before;

    let query_texts: Vec<&str> = task.queries.iter().map(|q| q.text).collect();
    let t_q = Instant::now();
    let qcache = EmbeddingCache::new(cache_root, &signature, Role::Query, shard_size);
    let (q_emb, _) = qcache
        .encode(encoder, &query_texts, Role::Query, ShardSelection::ALL, &mut |_| {})
        .context("encoding the queries")?;
    let encode_queries_s = t_q.elapsed().as_secs_f64();

    let dim = encoder.dim();
    let owned: Vec<usize> = (0..passages.len()).filter(|&i| selection.owns(i / shard_size.max(1))).collect();
    let sub: Vec<f32> = if selection == ShardSelection::ALL {
        doc_emb
    } else {
        owned.iter().flat_map(|&i| doc_emb[i * dim..(i + 1) * dim].iter().copied()).collect()
    };
    let t_s = Instant::now();
    let hits = exact_top_k(&sub, &q_emb, dim, k + usize::from(remove_query_self));
    let search_s = t_s.elapsed().as_secs_f64();
    let mut run = Run::new();
    for (qi, qh) in hits.iter().enumerate() {
        let qid = task.queries.get(qi).id;
        let docs: Vec<ScoredDoc> = qh
            .iter()
            .map(|h| {
                let doc = if selection == ShardSelection::ALL { h.doc as usize } else { owned[h.doc as usize] };
                ScoredDoc { docid: task.corpus.get(doc).id.to_string(), score: f64::from(h.score) }
            })
            .filter(|d| !(remove_query_self && d.docid == qid))
            .take(k)
            .collect();
        run.insert_query(qid, docs);
    }
    Ok(DenseSearch { run, docs_searched: owned.len(), report, doc_tokens, encode_corpus_s, encode_queries_s, search_s })
}

/// Pyserini-equal BM25 over `task` (Anserini score output): the run and a description of the index.
pub fn bm25_search(
    task: &Task,
    fields: FieldMode,
    params: Bm25Params,
    k: usize,
    remove_query_self: bool,
) -> (Run, String) {
    let bar = super::progress::bar(task.corpus.len() as u64, "indexing");
    let index = Bm25Index::build(&task.corpus, fields, AnalyzerConfig::default(), params, &|n| bar.inc(n as u64));
    bar.finish_and_clear();
    let run = index.search_all(&task.queries, SearchOptions { k, remove_query_self, ..SearchOptions::default() });
    (run, index.describe())
}

/// Scores `run` on `task` with trec_eval `-c` conventions.
pub fn score(run: &Run, task: &Task, measures: Vec<Measure>, remove_query_self: bool) -> anyhow::Result<Evaluation> {
    Ok(evaluate_run(run, &task.qrels, &EvalOptions { measures, complete: true, remove_query_self })?)
}

/// A finished cell, ready to be written.
pub struct CellFiles<'a> {
    /// Means and per-query values.
    pub cell: &'a CellResult,
    /// The run.
    pub run: &'a Run,
    /// Run tag in run.trec.
    pub tag: &'a str,
    /// MTEB task name (empty: the task's own name).
    pub mteb_task: &'a str,
    /// The main score (MTEB `main_score`).
    pub main: Measure,
    /// Seconds the cell took.
    pub evaluation_time: f64,
    /// Settings, timings, counts: stored under `drbench` in results.json.
    pub extra: Value,
}

/// Writes a finished cell into `dir`: run.trec, per_query.json, then results.json (MTEB-style). Every file is
/// written atomically, results.json last.
pub fn write_cell(dir: &Path, f: CellFiles<'_>) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    write_trec_run(&dir.join("run.trec"), f.run, f.tag)?;
    drbench_native::store::write_text_atomic(
        &dir.join("per_query.json"),
        &serde_json::to_string(&f.cell.per_query_json())?,
    )?;
    let results = f.cell.to_mteb_json(f.mteb_task, f.main, f.evaluation_time, f.extra);
    drbench_native::store::write_text_atomic(&dir.join("results.json"), &serde_json::to_string_pretty(&results)?)?;
    Ok(())
}
