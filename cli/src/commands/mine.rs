//! `drbench mine`: training groups (Tevatron JSONL) from a dataset split's qrels and hard negatives from BM25
//! and/or existing runs.

use std::path::PathBuf;

use anyhow::bail;
use drbench_harness::data::{Run, mine_groups};
use drbench_harness::io::{Strictness, read_trec_run, write_train_groups};
use drbench_harness::metrics::Measure;
use drbench_native::store::Store;
use drbench_pipeline::cell::{CellOptions, Retriever, run_cell};
use drbench_pipeline::retriever::Bm25Spec;
use drbench_pipeline::task::load_task;

use super::progress::Bars;

#[derive(Debug, clap::Args)]
pub struct MineArgs {
    /// Dataset: registry name (beir/scifact) or a BEIR folder.
    #[arg(long, value_name = "NAME|DIR")]
    dataset: String,
    /// Qrels split to build groups from (its queries with a positive judgment).
    #[arg(long, default_value = "train")]
    split: String,
    /// Where negatives come from, in order: `bm25` (Pyserini-equal BM25 over title + text) or `run:FILE`
    /// (a TREC run over this corpus, e.g. a dense retriever's). Repeat to combine, as Tevatron's MS MARCO
    /// groups combine BM25 and coCondenser negatives.
    #[arg(long = "retriever", value_name = "bm25|run:FILE", default_values_t = vec!["bm25".to_string()])]
    retrievers: Vec<String>,
    /// Ranks taken from each retriever before judged positives are removed.
    #[arg(long, default_value_t = 200)]
    depth: usize,
    /// Worker threads (0 = all cores).
    #[arg(long, default_value_t = 0)]
    threads: usize,
    /// Output file (Tevatron JSONL).
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
}

pub fn run(a: MineArgs) -> anyhow::Result<std::process::ExitCode> {
    super::threads::init(a.threads)?;
    if a.depth == 0 {
        bail!("--depth must be at least 1");
    }
    let run_files: Vec<&std::path::Path> =
        a.retrievers.iter().filter_map(|r| r.strip_prefix("run:")).map(std::path::Path::new).collect();
    super::outputs::refuse_input_as_output(&a.out, &[&[std::path::Path::new(&a.dataset)], &run_files[..]].concat())?;
    let task = load_task(&Store::from_env(), &a.dataset, Some(&a.split))?;
    let mut runs: Vec<Run> = Vec::new();
    for r in &a.retrievers {
        if r == "bm25" {
            let retriever = Retriever::Bm25 { spec: Bm25Spec::default(), index_file: None, exact_scores: false };
            let opts = CellOptions { k: a.depth, measures: vec![Measure::Ndcg(Some(10))], remove_query_self: false };
            runs.push(run_cell(&task, retriever, &opts, &Bars::default())?.run);
        } else if let Some(file) = r.strip_prefix("run:") {
            runs.push(read_trec_run(std::path::Path::new(file), Strictness::Strict)?.value);
        } else {
            bail!("--retriever {r:?}: expected bm25 or run:FILE");
        }
    }
    let refs: Vec<&Run> = runs.iter().collect();
    let (groups, report) = mine_groups(&task.corpus, &task.queries, &task.qrels, &refs, a.depth);
    if groups.is_empty() {
        bail!("{} {}: no query has a positive judgment present in the corpus", task.info.name, task.info.split);
    }
    write_train_groups(&a.out, &groups)?;
    let negatives: usize = groups.iter().map(|g| g.negative_passages.len()).sum();
    println!(
        "{} {}: {} groups ({} negatives, {:.1} per query) written to {}; {} queries without a positive, {} without \
         negatives, {} judged docids missing from the corpus",
        task.info.name,
        task.info.split,
        report.groups,
        negatives,
        negatives as f64 / report.groups as f64,
        a.out.display(),
        report.without_positive,
        report.without_negative,
        report.missing_docs
    );
    Ok(std::process::ExitCode::SUCCESS)
}
