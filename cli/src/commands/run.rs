//! `drbench run`: a dense retriever on a dataset, end to end — the pipeline's cell (encode through the resumable
//! embedding cache, exact top-k, TREC run, MTEB-style results.json) — and the main score.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::bail;
use clap::Args;
use drbench_harness::embed_cache::ShardSelection;
use drbench_harness::io::write_trec_run;
use drbench_harness::launcher::shard_from_launcher;
use drbench_native::encoders::build::build_encoder;
use drbench_native::encoders::device::DeviceKind;
use drbench_native::encoders::spec::EncoderSpec;
use drbench_native::store::{Store, default_cache_dir};
use drbench_pipeline::cell::{
    CacheSettings, CellOptions, RUN_MEASURES, Retriever, cell_record, run_cell, write_cell_folder,
};
use drbench_pipeline::out_dir::{OutKind, check_out_dir, claim_out_dir};
use drbench_pipeline::record::CellSettings;
use drbench_pipeline::retriever::RetrieverSpec;
use drbench_pipeline::task::load_task;

use super::model_args::ModelArgs;
use super::outputs::ForceArg;
use super::progress::Bars;

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
    /// processes or GPUs sharing one cache; combine the per-shard runs with `drbench merge`. `auto`: i and n from
    /// the launcher that started the process — a Slurm job array (SLURM_ARRAY_TASK_ID of
    /// SLURM_ARRAY_TASK_COUNT), torchrun (RANK of WORLD_SIZE), Slurm tasks (SLURM_PROCID of SLURM_NTASKS) or a
    /// Kubernetes indexed Job (JOB_COMPLETION_INDEX of --shard-count).
    #[arg(long, value_name = "I/N|auto")]
    shard: Option<String>,
    /// With `--shard auto`: the number of shards, for launchers that do not tell it (Kubernetes: the Job's
    /// completions); checked against the launcher's count where it does.
    #[arg(long, value_name = "N", requires = "shard")]
    shard_count: Option<usize>,
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
    #[command(flatten)]
    force: ForceArg,
}

pub fn run(a: RunArgs) -> anyhow::Result<std::process::ExitCode> {
    super::threads::init(a.threads)?;
    // With --shard auto the launcher also says which GPU of the node is this process's (torchrun's LOCAL_RANK).
    let mut cuda_ordinal = 0;
    let shards = match a.shard.as_deref() {
        Some("auto") => {
            let env = |k: &str| std::env::var(k).ok();
            let launched = shard_from_launcher(&env, a.shard_count)?;
            let s = launched.selection;
            if a.model.device == DeviceKind::Cuda {
                cuda_ordinal = launched.cuda_ordinal(&env);
            }
            let gpu = if a.model.device == DeviceKind::Cuda {
                format!(", CUDA device {cuda_ordinal}")
            } else {
                String::new()
            };
            eprintln!("shard {}/{} (from {}{gpu})", s.index, s.count, launched.launcher.name());
            s
        }
        Some(_) if a.shard_count.is_some() => bail!("--shard-count goes with --shard auto (--shard I/N gives N)"),
        Some(s) => ShardSelection::parse(s)?,
        None => ShardSelection::ALL,
    };
    // Before the minutes of encoding: an --out folder that is not drbench's is refused at once.
    check_out_dir(&a.out, OutKind::Cell, a.force.force)?;
    let store = Store::from_env();
    let task = load_task(&store, &a.task, a.split.as_deref())?;
    let remove_query_self = a.remove_query_self || task.info.remove_query_self;
    let dense = a.model.dense();
    let t_load = Instant::now();
    let spec = EncoderSpec { cuda_ordinal, ..dense.encoder_spec(&store, a.model.device)? };
    let mut encoder = build_encoder(&spec)?;
    let load_s = t_load.elapsed().as_secs_f64();
    let cache = CacheSettings {
        root: a.embed_cache.clone().unwrap_or_else(|| default_cache_dir().join("embeddings")),
        shard_size: a.shard_size,
        shards,
    };
    let opts = CellOptions { k: a.k, measures: RUN_MEASURES.to_vec(), remove_query_self };
    let retriever = Retriever::Dense { encoder: encoder.as_mut(), cache: &cache };
    let mut out = run_cell(&task, retriever, &opts, &Bars::default())?;
    out.timings.load = load_s;
    let settings = CellSettings {
        retriever: RetrieverSpec::Dense(dense),
        task: a.task.clone(),
        split: task.info.split.clone(),
        subset: None,
        measures: opts.measures.clone(),
        k: a.k,
        remove_query_self,
    };
    let dense_report = out.dense.as_ref().expect("a dense cell reports its encoding");
    claim_out_dir(&a.out, OutKind::Cell, a.force.force)?;
    if shards != ShardSelection::ALL {
        let path = a.out.join(format!("run.shard-{}-of-{}.trec", shards.index, shards.count));
        write_trec_run(&path, &out.run, &settings.retriever.run_tag())?;
        eprintln!(
            "shard {}/{}: {} docs ({} shards encoded, {} reused); per-shard run: {} (combine with `drbench merge`)",
            shards.index,
            shards.count,
            out.docs_searched,
            dense_report.cache.shards_encoded,
            dense_report.cache.shards_reused,
            path.display()
        );
        return Ok(std::process::ExitCode::SUCCESS);
    }
    let record = cell_record(&a.model.model, &settings, &task, &out, Some(a.model.device.name()));
    let main = write_cell_folder(&a.out, &record, &task.info, &out)?;
    if let drbench_harness::embed_cache::CacheOrigin::Adopted(old) = &dense_report.origin {
        eprintln!("reused the embeddings of an earlier drbench at {} (same settings)", old.display());
    }
    eprintln!(
        "encoded {} docs in {:.1}s ({} shards encoded, {} reused), {} queries in {:.1}s; search {:.2}s",
        task.corpus.len(),
        out.timings.index,
        dense_report.cache.shards_encoded,
        dense_report.cache.shards_reused,
        task.queries.len(),
        out.timings.encode_queries,
        out.timings.search
    );
    println!(
        "{} {}: nDCG@10 {main:.4}  ({} queries, trec_eval -c)  results: {}",
        task.info.name,
        task.info.split,
        out.evaluation.as_ref().map_or(0, |e| e.num_queries()),
        a.out.display()
    );
    Ok(std::process::ExitCode::SUCCESS)
}
