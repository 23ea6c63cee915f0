//! `drbench run`: a dense retriever on a dataset, end to end: encode queries and corpus (through the resumable
//! embedding cache), exact top-k search, TREC run, MTEB-style results.json, and the main score.

use std::path::PathBuf;
use std::time::Instant;

use clap::Args;
use drbench_harness::embed_cache::ShardSelection;
use drbench_harness::io::write_trec_run;
use drbench_harness::metrics::Measure;
use drbench_harness::report::CellResult;
use drbench_native::encoders::build::build_encoder;
use drbench_native::store::default_cache_dir;
use serde_json::json;

use super::cell::{CellFiles, dense_search, score, write_cell};
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
    /// Output folder: run.trec, per_query.json, results.json (or run.shard-I-of-N.trec with --shard).
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
    /// Drop a hit whose id equals the query id (default: as the registry says; on for ArguAna and Quora).
    #[arg(long)]
    remove_query_self: bool,
    /// Worker threads (0 = all cores).
    #[arg(long, default_value_t = 0)]
    threads: usize,
}

/// The measures `drbench run` writes; the first is the main score.
pub const RUN_MEASURES: [Measure; 6] = [
    Measure::Ndcg(Some(10)),
    Measure::Rr(Some(10)),
    Measure::Recall(100),
    Measure::Recall(1000),
    Measure::Ap(None),
    Measure::P(10),
];

pub fn run(a: RunArgs) -> anyhow::Result<std::process::ExitCode> {
    super::threads::init(a.threads)?;
    let selection = match &a.shard {
        Some(s) => ShardSelection::parse(s)?,
        None => ShardSelection::ALL,
    };
    let task = load_task(&a.task, a.split.as_deref())?;
    let remove_self = a.remove_query_self || task.remove_query_self;
    let spec = a.model.spec()?;
    let t_load = Instant::now();
    let mut encoder = build_encoder(&spec)?;
    let load_s = t_load.elapsed().as_secs_f64();
    let cache_root = a.embed_cache.clone().unwrap_or_else(|| default_cache_dir().join("embeddings"));
    let signature = encoder.signature();
    let found = dense_search(encoder.as_mut(), &task, a.k, remove_self, selection, a.shard_size, &cache_root)?;
    let tag = format!("drbench-{:?}", a.model.mode).to_lowercase();
    if selection != ShardSelection::ALL {
        let path = a.out.join(format!("run.shard-{}-of-{}.trec", selection.index, selection.count));
        write_trec_run(&path, &found.run, &tag)?;
        eprintln!(
            "shard {}/{}: {} docs ({} shards encoded, {} reused); per-shard run: {} (combine with `drbench merge`)",
            selection.index,
            selection.count,
            found.docs_searched,
            found.report.shards_encoded,
            found.report.shards_reused,
            path.display()
        );
        return Ok(std::process::ExitCode::SUCCESS);
    }
    let eval = score(&found.run, &task, RUN_MEASURES.to_vec(), remove_self)?;
    let cell = CellResult::from_evaluation(&a.model.model, &task.name, &task.split, &eval);
    let mut extra = found.timings_json(task.corpus.len());
    extra["timings_s"]["load"] = json!(load_s);
    extra["settings"] = json!({ "source": a.model.model, "mode": format!("{:?}", a.model.mode).to_lowercase(),
        "signature": signature, "max_length": a.model.max_length, "dtype": a.model.dtype.name(), "k": a.k,
        "remove_query_self": remove_self });
    extra["conventions"] =
        json!("trec_eval -c (judged queries without hits count 0); per-query values in per_query.json");
    extra["counts"] =
        json!({ "docs": task.corpus.len(), "queries": task.queries.len(), "queries_scored": eval.num_queries() });
    let total_s = load_s + found.encode_corpus_s + found.encode_queries_s + found.search_s;
    let files = CellFiles {
        cell: &cell,
        run: &found.run,
        tag: &tag,
        mteb_task: &task.mteb_task,
        main: RUN_MEASURES[0],
        evaluation_time: total_s,
        extra,
    };
    write_cell(&a.out, files)?;
    eprintln!(
        "encoded {} docs in {:.1}s ({} shards encoded, {} reused), {} queries in {:.1}s; search {:.2}s",
        task.corpus.len(),
        found.encode_corpus_s,
        found.report.shards_encoded,
        found.report.shards_reused,
        task.queries.len(),
        found.encode_queries_s,
        found.search_s
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
