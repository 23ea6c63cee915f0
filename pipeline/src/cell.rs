//! One (retriever, task) cell, the unit of work of `drbench run`, `drbench bench`, the demo's reference and the
//! golden tests: dense encoding through the embedding cache (resumable, shardable across processes) and exact
//! top-k, or BM25; then trec_eval-exact scoring. [`run_cell`] is the one entry point; [`write_cell_folder`] writes
//! its result as the cell's record files.

use std::path::{Path, PathBuf};
use std::time::Instant;

use drbench_harness::bm25::{AnalyzerConfig, Bm25Index, ScoreOutput, SearchOptions, corpus_fingerprint};
use drbench_harness::data::Run;
use drbench_harness::dense::{exact_top_k, hits_to_run};
use drbench_harness::embed_cache::{CacheError, CacheOrigin, CacheReport, EmbeddingCache, ShardSelection};
use drbench_harness::encoder::{Encoder, Role};
use drbench_harness::metrics::{EvalOptions, Evaluation, Measure, evaluate_run};

use crate::error::{PipelineError, Result};
use crate::progress::Progress;
use crate::record::{
    CellFiles, CellSettings, Counts, Described, DrbenchRecord, EncodingStats, RECORD_FORMAT, Timings, write_cell,
};
use crate::retriever::Bm25Spec;
use crate::task::{Task, TaskInfo};

/// Documents per embedding-cache shard by default (a killed run re-encodes at most one shard).
pub const DEFAULT_SHARD_SIZE: usize = 256;

/// The measures `drbench run` writes; the first is the main score.
pub const RUN_MEASURES: [Measure; 6] = [
    Measure::Ndcg(Some(10)),
    Measure::Rr(Some(10)),
    Measure::Recall(100),
    Measure::Recall(1000),
    Measure::Ap(None),
    Measure::P(10),
];

/// How a cell's conventions are described in its record.
pub const CONVENTIONS: &str = "trec_eval -c (judged queries without hits count 0); per-query values in per_query.json";

/// Where a dense retriever's embeddings are cached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheSettings {
    /// The cache root (one folder per encoder signature and role below it).
    pub root: PathBuf,
    /// Documents per shard.
    pub shard_size: usize,
    /// Which shards this process encodes and searches (all, or `i/n` of a job split across processes).
    pub shards: ShardSelection,
}

impl CacheSettings {
    /// Every shard, the default shard size, under `root`.
    pub fn new(root: impl Into<PathBuf>) -> CacheSettings {
        CacheSettings { root: root.into(), shard_size: DEFAULT_SHARD_SIZE, shards: ShardSelection::ALL }
    }
}

/// The retriever of a cell.
pub enum Retriever<'a> {
    /// BM25, indexed now (or loaded from `index_file` when it was built from this corpus with these fields).
    Bm25 {
        /// Fields and parameters.
        spec: Bm25Spec,
        /// An index file to load, or to save the new index to.
        index_file: Option<&'a Path>,
        /// Lucene's float scores as they are, instead of Anserini's rounding (what Pyserini published).
        exact_scores: bool,
    },
    /// A dense encoder with its embedding cache.
    Dense {
        /// The encoder.
        encoder: &'a mut dyn Encoder,
        /// Where its embeddings go.
        cache: &'a CacheSettings,
    },
}

impl std::fmt::Debug for Retriever<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Retriever::Bm25 { spec, .. } => f.debug_struct("Bm25").field("spec", spec).finish(),
            Retriever::Dense { encoder, cache } => {
                f.debug_struct("Dense").field("signature", &encoder.signature()).field("cache", cache).finish()
            }
        }
    }
}

/// What a cell is asked to compute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CellOptions {
    /// Hits per query.
    pub k: usize,
    /// Measures; the first is the main score.
    pub measures: Vec<Measure>,
    /// Drop hits equal to the query id (ArguAna, Quora).
    pub remove_query_self: bool,
}

/// How a dense cell's encoding went.
#[derive(Debug, Clone, PartialEq)]
pub struct DenseReport {
    /// Shards encoded, reused, left to other processes.
    pub cache: CacheReport,
    /// How the corpus cache folder was found.
    pub origin: CacheOrigin,
    /// The corpus cache folder.
    pub dir: PathBuf,
    /// Corpus tokens the encoder processed.
    pub corpus_tokens: u64,
}

/// What a cell computed.
#[derive(Debug)]
pub struct CellOutput {
    /// The ranking (this process's shards only, with a shard selection other than all).
    pub run: Run,
    /// Scores, or None for a partial (sharded) run, which cannot be scored alone.
    pub evaluation: Option<Evaluation>,
    /// The BM25 index's description, or the encoder's signature.
    pub retriever: String,
    /// Documents searched.
    pub docs_searched: usize,
    /// Seconds per phase (`load` is the caller's).
    pub timings: Timings,
    /// Corpus encoding (dense cells).
    pub dense: Option<DenseReport>,
}

/// Runs one cell: retrieval, then (for a whole run) scoring with trec_eval `-c`.
pub fn run_cell(
    task: &Task,
    retriever: Retriever<'_>,
    opts: &CellOptions,
    progress: &dyn Progress,
) -> Result<CellOutput> {
    if opts.measures.is_empty() {
        return Err(PipelineError::Invalid("a cell needs at least one measure".into()));
    }
    let mut timings = Timings::default();
    let (run, describe, docs_searched, dense, whole) = match retriever {
        Retriever::Bm25 { spec, index_file, exact_scores } => {
            let t = Instant::now();
            let index = bm25_index(task, &spec, index_file, progress)?;
            timings.index = t.elapsed().as_secs_f64();
            let t = Instant::now();
            let scores = if exact_scores { ScoreOutput::Exact } else { ScoreOutput::Anserini };
            let options = SearchOptions { k: opts.k, remove_query_self: opts.remove_query_self, scores };
            let run = index.search_all(&task.queries, options);
            timings.search = t.elapsed().as_secs_f64();
            (run, index.describe(), task.corpus.len(), None, true)
        }
        Retriever::Dense { encoder, cache } => {
            let found = dense_search(encoder, task, opts, cache, progress, &mut timings)?;
            (found.0, encoder.signature(), found.1, Some(found.2), cache.shards == ShardSelection::ALL)
        }
    };
    let evaluation = if whole {
        let t = Instant::now();
        let options =
            EvalOptions { measures: opts.measures.clone(), complete: true, remove_query_self: opts.remove_query_self };
        let eval = evaluate_run(&run, &task.qrels, &options)?;
        timings.score = t.elapsed().as_secs_f64();
        Some(eval)
    } else {
        None
    };
    Ok(CellOutput { run, evaluation, retriever: describe, docs_searched, timings, dense })
}

/// BM25 over `task`: the index from `index_file` when that was built from this corpus with these fields, else
/// built now (and saved there).
fn bm25_index(task: &Task, spec: &Bm25Spec, index_file: Option<&Path>, progress: &dyn Progress) -> Result<Bm25Index> {
    spec.params().check().map_err(PipelineError::Invalid)?;
    if let Some(path) = index_file.filter(|p| p.exists()) {
        let mut index = Bm25Index::load(path)?;
        if index.fingerprint() != corpus_fingerprint(&task.corpus) || index.mode() != spec.fields {
            return Err(PipelineError::Invalid(format!(
                "{}: this index was built from another corpus or field mode; delete it or choose another path",
                path.display()
            )));
        }
        index.set_params(spec.params());
        return Ok(index);
    }
    progress.start("indexing", task.corpus.len() as u64);
    let index = Bm25Index::build(&task.corpus, spec.fields, AnalyzerConfig::default(), spec.params(), &|n| {
        progress.advance(n as u64)
    });
    progress.finish();
    if let Some(path) = index_file {
        index.save(path)?;
    }
    Ok(index)
}

/// Encodes `task` through the cache (with a shard selection only this process's shards are encoded and
/// searched), then exact top-k: the run, the documents searched, and the encoding report.
fn dense_search(
    encoder: &mut dyn Encoder,
    task: &Task,
    opts: &CellOptions,
    cache: &CacheSettings,
    progress: &dyn Progress,
    timings: &mut Timings,
) -> Result<(Run, usize, DenseReport)> {
    let passages: Vec<String> = task.corpus.iter().map(|r| r.flat_text()).collect();
    let passage_refs: Vec<&str> = passages.iter().map(String::as_str).collect();
    let t = Instant::now();
    let tokens_before = encoder.tokens_processed();
    let corpus_cache = EmbeddingCache::open(&cache.root, encoder, Role::Passage, cache.shard_size)?;
    let shard_size = cache.shard_size.max(1);
    // This process's documents: with a shard selection, only those are encoded, held and searched.
    let owned: Vec<usize> = (0..passages.len()).filter(|&i| cache.shards.owns(i / shard_size)).collect();
    progress.start("encoding", owned.len() as u64);
    let encoded = corpus_cache.encode(encoder, &passage_refs, cache.shards, &mut |n| progress.advance(n as u64));
    progress.finish();
    let named = |e: CacheError, what: &str, id: &dyn Fn(usize) -> String| match e {
        CacheError::NonFinite { row, model } => PipelineError::Invalid(format!(
            "{what} {:?}: its embedding holds a non-finite number (NaN or inf) from the encoder {model}; nothing of \
             it is cached",
            id(row)
        )),
        other => other.into(),
    };
    let (doc_emb, report) = encoded.map_err(|e| named(e, "document", &|i| task.corpus.get(i).id.to_string()))?;
    drop(passage_refs);
    drop(passages);
    timings.index = t.elapsed().as_secs_f64();
    let corpus_tokens = encoder.tokens_processed() - tokens_before;

    let query_texts: Vec<&str> = task.queries.iter().map(|q| q.text).collect();
    let t = Instant::now();
    let query_cache = EmbeddingCache::open(&cache.root, encoder, Role::Query, cache.shard_size)?;
    let (q_emb, _) = query_cache
        .encode(encoder, &query_texts, ShardSelection::ALL, &mut |_| {})
        .map_err(|e| named(e, "query", &|i| task.queries.get(i).id.to_string()))?;
    timings.encode_queries = t.elapsed().as_secs_f64();

    let t = Instant::now();
    let rows = (cache.shards != ShardSelection::ALL).then_some(owned.as_slice());
    let run = search_embeddings(task, &doc_emb, rows, &q_emb, encoder.dim(), opts);
    timings.search = t.elapsed().as_secs_f64();
    let dense = DenseReport {
        cache: report,
        origin: corpus_cache.origin().clone(),
        dir: corpus_cache.dir().to_path_buf(),
        corpus_tokens,
    };
    Ok((run, owned.len(), dense))
}

/// Exact top-k of `queries` over `docs` (`dim`-wide rows; `rows[i]` names the corpus document of row `i`, or row
/// `i` is document `i`), as a run of the task's ids.
fn search_embeddings(
    task: &Task,
    docs: &[f32],
    rows: Option<&[usize]>,
    queries: &[f32],
    dim: usize,
    opts: &CellOptions,
) -> Run {
    let hits = exact_top_k(docs, queries, dim, opts.k + usize::from(opts.remove_query_self));
    let doc_id = |row: u32| task.corpus.get(rows.map_or(row as usize, |r| r[row as usize])).id;
    let query_ids: Vec<&str> = task.queries.iter().map(|q| q.id).collect();
    hits_to_run(&hits, &query_ids, doc_id, opts.k, opts.remove_query_self)
}

/// Scores embeddings made elsewhere (another backend, the browser runner): exact top-k of `queries` (one row per
/// judged query of `task`, in its order) over `docs` (one row per corpus document), then trec_eval `-c`.
pub fn evaluate_embeddings(
    task: &Task,
    docs: &[f32],
    queries: &[f32],
    dim: usize,
    opts: &CellOptions,
) -> Result<Evaluation> {
    if dim == 0 || docs.len() != task.corpus.len() * dim || queries.len() != task.queries.len() * dim {
        return Err(PipelineError::Invalid(format!(
            "{} document and {} query values for {} documents and {} queries of dimension {dim}",
            docs.len(),
            queries.len(),
            task.corpus.len(),
            task.queries.len()
        )));
    }
    let run = search_embeddings(task, docs, None, queries, dim, opts);
    let options =
        EvalOptions { measures: opts.measures.clone(), complete: true, remove_query_self: opts.remove_query_self };
    Ok(evaluate_run(&run, &task.qrels, &options)?)
}

/// The record of a finished (whole) cell of `task`.
pub fn cell_record(
    model: &str,
    settings: &CellSettings,
    task: &Task,
    out: &CellOutput,
    device: Option<&str>,
) -> DrbenchRecord {
    let encoding = out.dense.as_ref().map(|d| EncodingStats {
        shards_encoded: d.cache.shards_encoded,
        shards_reused: d.cache.shards_reused,
        corpus_tokens: d.corpus_tokens,
        corpus_tokens_per_s: if d.corpus_tokens > 0 && out.timings.index > 0.0 {
            d.corpus_tokens as f64 / out.timings.index
        } else {
            0.0
        },
        cache: d.dir.clone(),
    });
    DrbenchRecord {
        format: RECORD_FORMAT,
        model: model.to_string(),
        task: settings.task.clone(),
        split: settings.split.clone(),
        dataset_revision: task.source.revision.clone(),
        settings: settings.clone(),
        retriever: Described::of(&out.retriever),
        device: device.map(str::to_string),
        timings_s: out.timings,
        encoding,
        counts: Counts {
            docs: out.docs_searched,
            queries: task.queries.len(),
            queries_scored: out.evaluation.as_ref().map_or(0, Evaluation::num_queries),
        },
        conventions: CONVENTIONS.into(),
    }
}

/// Writes a finished cell's folder (run.trec, per_query.json, then results.json) and returns its main score.
pub fn write_cell_folder(dir: &Path, record: &DrbenchRecord, task: &TaskInfo, out: &CellOutput) -> Result<f64> {
    let evaluation = out.evaluation.as_ref().ok_or_else(|| {
        PipelineError::Invalid("a partial (sharded) run has no scores; combine the shards with `drbench merge`".into())
    })?;
    let tag = record.settings.retriever.run_tag();
    let subset = (task.hf_subset(), task.languages());
    write_cell(dir, CellFiles { record, mteb_task: &task.mteb_task, subset, evaluation, run: &out.run, tag: &tag })?;
    Ok(evaluation.mean[0])
}
