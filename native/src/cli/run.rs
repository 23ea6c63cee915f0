//! `drbench run`: a dense retriever on a dataset, end to end: encode queries and corpus (through the resumable
//! embedding cache), exact top-k search, TREC run, MTEB-like results.json, and the main score.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use clap::Args;
use drbench_harness::data::{Run, ScoredDoc};
use drbench_harness::dense::exact_top_k;
use drbench_harness::embed_cache::{EmbeddingCache, ShardSelection};
use drbench_harness::encoder::Role;
use drbench_harness::io::write_trec_run;
use drbench_harness::metrics::{EvalOptions, Measure, evaluate_run};
use drbench_native::encoders::build::build_encoder;
use drbench_native::store::default_cache_dir;
use serde_json::json;

use super::dataset::load_task;
use super::model_args::ModelArgs;

#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    model: ModelArgs,
    /// Dataset: registry name (beir/scifact) or a BEIR folder.
    #[arg(long, value_name = "NAME|DIR")]
    task: String,
    /// Qrels split (default: the dataset's default).
    #[arg(long)]
    split: Option<String>,
    /// Hits per query.
    #[arg(long, default_value_t = 1000)]
    k: usize,
    /// Output folder: run.trec, results.json (or run.shard-I-of-N.trec with --shard).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Encode and search only shards i, i+n, i+2n, ... of the corpus (0-based), e.g. to split it across
    /// processes or GPUs sharing one cache; combine the per-shard runs with `drbench merge`.
    #[arg(long, value_name = "I/N")]
    shard: Option<String>,
    /// Documents per cache shard (a killed run re-encodes at most one shard).
    #[arg(long, default_value_t = 256)]
    shard_size: usize,
    /// Embedding cache folder (default: <cache>/embeddings).
    #[arg(long, value_name = "DIR")]
    embed_cache: Option<PathBuf>,
    /// Drop a hit whose id equals the query id (ArguAna, Quora).
    #[arg(long)]
    remove_query_self: bool,
    /// Worker threads (0 = all cores).
    #[arg(long, default_value_t = 0)]
    threads: usize,
}

pub fn run(a: RunArgs) -> anyhow::Result<std::process::ExitCode> {
    super::threads::init(a.threads)?;
    let selection = match &a.shard {
        Some(s) => ShardSelection::parse(s)?,
        None => ShardSelection::ALL,
    };
    let task = load_task(&a.task, a.split.as_deref())?;
    let spec = a.model.spec()?;
    let t_load = Instant::now();
    let mut encoder = build_encoder(&spec)?;
    let load_s = t_load.elapsed().as_secs_f64();
    let cache_root = a.embed_cache.clone().unwrap_or_else(|| default_cache_dir().join("embeddings"));
    let signature = encoder.signature();

    let passages: Vec<String> = task.corpus.iter().map(|r| r.flat_text()).collect();
    let passage_refs: Vec<&str> = passages.iter().map(String::as_str).collect();
    let t_docs = Instant::now();
    let tokens_before = encoder.tokens_processed();
    let bar = super::progress::bar(passages.len() as u64, "encoding");
    let cache = EmbeddingCache::new(&cache_root, &signature, Role::Passage, a.shard_size);
    let (doc_emb, report) = cache
        .encode(encoder.as_mut(), &passage_refs, Role::Passage, selection, &mut |n| bar.inc(n as u64))
        .context("encoding the corpus")?;
    bar.finish_and_clear();
    let docs_s = t_docs.elapsed().as_secs_f64();
    let doc_tokens = encoder.tokens_processed() - tokens_before;

    let query_texts: Vec<&str> = task.queries.iter().map(|q| q.text).collect();
    let t_q = Instant::now();
    let qcache = EmbeddingCache::new(&cache_root, &signature, Role::Query, a.shard_size);
    let (q_emb, _) = qcache.encode(encoder.as_mut(), &query_texts, Role::Query, ShardSelection::ALL, &mut |_| {})?;
    let queries_s = t_q.elapsed().as_secs_f64();

    // With --shard, search only the documents of this process's shards.
    let dim = encoder.dim();
    let owned: Vec<usize> = (0..passages.len()).filter(|&i| selection.owns(i / a.shard_size.max(1))).collect();
    let sub: Vec<f32> = if selection == ShardSelection::ALL {
        doc_emb
    } else {
        owned.iter().flat_map(|&i| doc_emb[i * dim..(i + 1) * dim].iter().copied()).collect()
    };
    let t_s = Instant::now();
    let hits = exact_top_k(&sub, &q_emb, dim, a.k + usize::from(a.remove_query_self));
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
            .filter(|d| !(a.remove_query_self && d.docid == qid))
            .take(a.k)
            .collect();
        run.insert_query(qid, docs);
    }
    let tag = format!("drbench-{:?}", a.model.mode).to_lowercase();
    if selection != ShardSelection::ALL {
        let path = a.out.join(format!("run.shard-{}-of-{}.trec", selection.index, selection.count));
        write_trec_run(&path, &run, &tag)?;
        eprintln!(
            "shard {}/{}: {} docs ({} shards encoded, {} reused); per-shard run: {} (combine with `drbench merge`)",
            selection.index,
            selection.count,
            owned.len(),
            report.shards_encoded,
            report.shards_reused,
            path.display()
        );
        return Ok(std::process::ExitCode::SUCCESS);
    }
    write_trec_run(&a.out.join("run.trec"), &run, &tag)?;
    let measures = vec![
        Measure::Ndcg(Some(10)),
        Measure::Rr(Some(10)),
        Measure::Recall(100),
        Measure::Recall(1000),
        Measure::Ap(None),
        Measure::P(10),
    ];
    let eval = evaluate_run(
        &run,
        &task.qrels,
        &EvalOptions { measures, complete: true, remove_query_self: a.remove_query_self },
    )?;
    let names = ["ndcg_at_10", "mrr_at_10", "recall_at_100", "recall_at_1000", "map", "precision_at_10"];
    let mut scores = serde_json::Map::new();
    for (n, v) in names.iter().zip(&eval.mean) {
        scores.insert((*n).to_string(), json!(v));
    }
    scores.insert("main_score".into(), json!(eval.mean[0]));
    scores.insert("hf_subset".into(), json!("default"));
    scores.insert("languages".into(), json!(["eng-Latn"]));
    let results = json!({
        "task_name": task.name,
        "split": task.split,
        "scores": { task.split.clone(): [scores] },
        "evaluation_time": load_s + docs_s + queries_s + search_s,
        "model": { "source": a.model.model, "mode": format!("{:?}", a.model.mode).to_lowercase(), "signature": signature,
                   "max_length": a.model.max_length, "dtype": a.model.dtype.name() },
        "conventions": "trec_eval -c (judged queries without hits count 0); per-query values in per_query.json",
        "timings_s": { "load": load_s, "encode_corpus": docs_s, "encode_queries": queries_s, "search": search_s },
        "throughput": { "corpus_docs_per_s": report_rate(passages.len(), docs_s, report.shards_reused),
                        "corpus_tokens_per_s": if report.shards_encoded > 0 { doc_tokens as f64 / docs_s } else { 0.0 } },
        "cache": { "dir": cache.dir(), "shards_encoded": report.shards_encoded, "shards_reused": report.shards_reused },
        "counts": { "docs": passages.len(), "queries": task.queries.len(), "queries_scored": eval.num_queries() },
    });
    drbench_native::store::write_text_atomic(&a.out.join("results.json"), &serde_json::to_string_pretty(&results)?)?;
    drbench_native::store::write_text_atomic(
        &a.out.join("per_query.json"),
        &serde_json::to_string(&eval.per_query_json())?,
    )?;
    eprintln!(
        "encoded {} docs in {docs_s:.1}s ({} shards encoded, {} reused), {} queries in {queries_s:.1}s; search {search_s:.2}s",
        passages.len(),
        report.shards_encoded,
        report.shards_reused,
        task.queries.len()
    );
    println!(
        "{} {}: nDCG@10 {:.4}  ({} queries, trec_eval -c)  results: {}",
        task.name,
        task.split,
        eval.mean[0],
        eval.num_queries(),
        a.out.display()
    );
    Ok(std::process::ExitCode::SUCCESS)
}

fn report_rate(n: usize, secs: f64, reused: usize) -> f64 {
    if reused > 0 || secs == 0.0 { 0.0 } else { n as f64 / secs }
}
