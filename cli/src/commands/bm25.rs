//! `drbench bm25`: Pyserini-equal BM25 over a BEIR dataset (the pipeline's BM25 cell), written as a TREC run and
//! scored.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use drbench_harness::bm25::FieldMode;
use drbench_harness::io::write_trec_run;
use drbench_harness::metrics::Measure;
use drbench_native::store::Store;
use drbench_pipeline::cell::{CellOptions, Retriever, run_cell};
use drbench_pipeline::retriever::Bm25Spec;
use drbench_pipeline::task::load_task;

use super::progress::Bars;

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
    /// Drop a hit whose id equals the query id (Pyserini --remove-query; default: as the registry says, on for
    /// ArguAna and Quora).
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
    let dataset = std::path::Path::new(&a.dataset);
    let mut inputs = vec![dataset];
    inputs.extend(a.index.as_deref());
    super::outputs::refuse_input_as_output(&a.out, &inputs)?;
    let task = load_task(&Store::from_env(), &a.dataset, a.split.as_deref())?;
    let fields = match a.fields {
        Fields::Flat => FieldMode::Flat,
        Fields::Multifield => FieldMode::Multifield,
    };
    let spec = Bm25Spec { fields, k1: a.k1, b: a.b };
    let opts = CellOptions {
        k: a.k,
        measures: vec![Measure::Ndcg(Some(10)), Measure::Recall(100)],
        remove_query_self: a.remove_query_self || task.info.remove_query_self,
    };
    let retriever = Retriever::Bm25 { spec, index_file: a.index.as_deref(), exact_scores: a.exact_scores };
    let out = run_cell(&task, retriever, &opts, &Bars::default())?;
    write_trec_run(&a.out, &out.run, &a.tag)?;
    let eval = out.evaluation.as_ref().expect("a whole BM25 run is scored");
    eprintln!(
        "{}: {} docs indexed in {:.2}s, {} queries searched in {:.2}s ({:.0} q/s); {}",
        task.info.name,
        task.corpus.len(),
        out.timings.index,
        task.queries.len(),
        out.timings.search,
        task.queries.len() as f64 / out.timings.search,
        out.retriever
    );
    println!(
        "{} {}: nDCG@10 {:.4}  R@100 {:.4}  ({} queries, trec_eval -c)  run: {}",
        task.info.name,
        task.info.split,
        eval.mean[0],
        eval.mean[1],
        eval.num_queries(),
        a.out.display()
    );
    Ok(std::process::ExitCode::SUCCESS)
}
