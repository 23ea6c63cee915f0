//! `drbench bm25`: Pyserini-equal BM25 over a BEIR dataset, written as a TREC run and scored.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::bail;
use clap::{Args, ValueEnum};
use drbench_harness::bm25::{
    AnalyzerConfig, Bm25Index, Bm25Params, FieldMode, ScoreOutput, SearchOptions, corpus_fingerprint,
};
use drbench_harness::io::write_trec_run;
use drbench_harness::metrics::{EvalOptions, Measure, evaluate_run};

use super::dataset::load_task;

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Fields {
    /// title + " " + text in one field (Pyserini's BEIR "flat").
    Flat,
    /// title and text as separate fields, summed (Pyserini's BEIR "multifield").
    Multifield,
}

#[derive(Debug, Args)]
pub struct Bm25Args {
    /// Dataset: registry name (beir/scifact) or a BEIR folder.
    #[arg(long, value_name = "NAME|DIR")]
    dataset: String,
    /// Qrels split whose queries are searched (default: the dataset's default split).
    #[arg(long)]
    split: Option<String>,
    /// Hits per query.
    #[arg(long, default_value_t = 1000)]
    k: usize,
    /// BM25 k1.
    #[arg(long, default_value_t = 0.9)]
    k1: f32,
    /// BM25 b.
    #[arg(long, default_value_t = 0.4)]
    b: f32,
    /// Indexed fields.
    #[arg(long, value_enum, default_value_t = Fields::Flat)]
    fields: Fields,
    /// Drop a hit whose id equals the query id (ArguAna, Quora; Pyserini --remove-query).
    #[arg(long)]
    remove_query_self: bool,
    /// Write Lucene's float scores as they are, instead of Anserini's 4-decimal rounding with tie adjustment
    /// (the rounding is what Pyserini's published numbers were computed from).
    #[arg(long)]
    exact_scores: bool,
    /// Worker threads (0 = all cores).
    #[arg(long, default_value_t = 0)]
    threads: usize,
    /// Index file: loaded when it exists (and was built from this very corpus with these fields), else built
    /// and saved there, so a large corpus is indexed once.
    #[arg(long, value_name = "FILE")]
    index: Option<PathBuf>,
    /// Output TREC run.
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// Run tag in the TREC file.
    #[arg(long, default_value = "drbench-bm25")]
    tag: String,
}

pub fn run(a: Bm25Args) -> anyhow::Result<std::process::ExitCode> {
    super::threads::init(a.threads)?;
    let task = load_task(&a.dataset, a.split.as_deref())?;
    let mode = match a.fields {
        Fields::Flat => FieldMode::Flat,
        Fields::Multifield => FieldMode::Multifield,
    };
    let params = Bm25Params { k1: a.k1, b: a.b };
    let t0 = Instant::now();
    let mut index = match a.index.as_deref().filter(|p| p.exists()) {
        Some(path) => {
            let index = Bm25Index::load(path)?;
            if index.fingerprint() != corpus_fingerprint(&task.corpus) || index.mode() != mode {
                bail!(
                    "{}: this index was built from another corpus or field mode; delete it or choose another path",
                    path.display()
                );
            }
            index
        }
        None => {
            let bar = super::progress::bar(task.corpus.len() as u64, "indexing");
            let index = Bm25Index::build(&task.corpus, mode, AnalyzerConfig::default(), params, &|n| bar.inc(n as u64));
            bar.finish_and_clear();
            if let Some(path) = &a.index {
                index.save(path)?;
            }
            index
        }
    };
    index.set_params(params);
    let t_index = t0.elapsed();
    let t1 = Instant::now();
    let opts = SearchOptions {
        k: a.k,
        remove_query_self: a.remove_query_self,
        scores: if a.exact_scores { ScoreOutput::Exact } else { ScoreOutput::Anserini },
    };
    let run = index.search_all(&task.queries, opts);
    let t_search = t1.elapsed();
    write_trec_run(&a.out, &run, &a.tag)?;
    let eval_opts = EvalOptions {
        measures: vec![Measure::Ndcg(Some(10)), Measure::Recall(100)],
        complete: true,
        remove_query_self: a.remove_query_self,
    };
    let eval = evaluate_run(&run, &task.qrels, &eval_opts)?;
    eprintln!(
        "{}: {} docs indexed in {:.2}s, {} queries searched in {:.2}s ({:.0} q/s); {}",
        task.name,
        task.corpus.len(),
        t_index.as_secs_f64(),
        task.queries.len(),
        t_search.as_secs_f64(),
        task.queries.len() as f64 / t_search.as_secs_f64(),
        index.describe()
    );
    println!(
        "{} {}: nDCG@10 {:.4}  R@100 {:.4}  ({} queries, trec_eval -c)  run: {}",
        task.name,
        task.split,
        eval.mean[0],
        eval.mean[1],
        eval.num_queries(),
        a.out.display()
    );
    Ok(std::process::ExitCode::SUCCESS)
}
