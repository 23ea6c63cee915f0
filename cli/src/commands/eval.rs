//! `drbench eval`: trec_eval-compatible scoring of a TREC run file.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;
use drbench_harness::io::{Strictness, read_trec_run};
use drbench_harness::metrics::{EvalOptions, Evaluation, Measure, evaluate_run, evaluate_run_file};

use super::inputs::{QrelsArgs, warn_skipped};

#[derive(Debug, Args)]
pub struct EvalArgs {
    #[command(flatten)]
    pub qrels: QrelsArgs,
    /// TREC run file: `qid Q0 docid rank score tag` (rank and line order are ignored: trec_eval re-sorts by
    /// score, ties by docid descending).
    #[arg(long, value_name = "FILE")]
    pub run: PathBuf,
    /// Comma-separated measures, ir_measures or trec_eval names: nDCG@k, RR, RR@k (MRR@k), R@k, AP, AP@k, P@k,
    /// ndcg_cut_k, recip_rank, map, P_k, recall_k, and every other value trec_eval prints from qrels (bpref, Rprec,
    /// success_10, iprec_at_recall_0.10, infAP, gm_map, num_rel_ret, set_F, ...; summed or geometric-averaged as
    /// trec_eval does). `drbench trec_eval` runs trec_eval's own command line.
    #[arg(long, short, value_name = "LIST", default_value = "nDCG@10,RR@10,R@100,AP,P@10")]
    pub measures: String,
    /// Also print every query's values.
    #[arg(long, short = 'q')]
    pub per_query: bool,
    /// trec_eval -c: average over all judged queries; a judged query without run rows scores 0 (as Pyserini's
    /// published BEIR tables do). Without it, only judged queries with run rows count (trec_eval's default).
    #[arg(long, short = 'c')]
    pub complete: bool,
    /// Drop a retrieved document whose id equals its query's id (ArguAna, Quora; Pyserini --remove-query).
    #[arg(long)]
    pub remove_query_self: bool,
    /// Print JSON: {"nDCG@10": ...}, or with --per-query {"mean": {...}, "per_query": {qid: {...}}}.
    #[arg(long)]
    pub json: bool,
    /// Worker threads for reading the run (0 = all cores).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
}

pub fn run(a: EvalArgs) -> anyhow::Result<std::process::ExitCode> {
    let measures = Measure::parse_list(&a.measures)?;
    let qrels = a.qrels.load()?;
    let opts = EvalOptions { measures, complete: a.complete, remove_query_self: a.remove_query_self };
    let eval = if a.qrels.lenient {
        let loaded = read_trec_run(&a.run, Strictness::Lenient)?;
        warn_skipped(loaded.skipped, loaded.first_skipped.as_ref());
        evaluate_run(&loaded.value, &qrels, &opts)?
    } else {
        evaluate_run_file(&a.run, &qrels, &opts, a.threads)?
    };
    if eval.num_queries() == 0 {
        eprintln!("drbench: warning: no query of the run is judged in the qrels");
    }
    let mut out = std::io::stdout().lock();
    if a.json {
        let v = if a.per_query { eval.per_query_json() } else { eval.mean_json() };
        serde_json::to_writer(&mut out, &v)?;
        writeln!(out)?;
    } else {
        print_text(&mut out, &eval, a.per_query)?;
    }
    Ok(std::process::ExitCode::SUCCESS)
}

/// trec_eval's layout: `measure<TAB>qid|all<TAB>value` (4 decimals).
fn print_text(out: &mut impl Write, eval: &Evaluation, per_query: bool) -> std::io::Result<()> {
    let width = eval.measures.iter().map(|m| m.to_string().len()).max().unwrap_or(0).max(5);
    if per_query {
        for (qid, values) in &eval.per_query {
            for (m, v) in eval.measures.iter().zip(values) {
                writeln!(out, "{:<width$}\t{qid}\t{}", m.to_string(), value(m, *v))?;
            }
        }
    }
    writeln!(out, "{:<width$}\tall\t{}", "num_q", eval.num_queries())?;
    for (m, v) in eval.measures.iter().zip(&eval.mean) {
        writeln!(out, "{:<width$}\tall\t{}", m.to_string(), value(m, *v))?;
    }
    Ok(())
}

/// A value as trec_eval prints it: counts as integers, the rest with 4 decimals.
fn value(m: &Measure, v: f64) -> String {
    if m.is_count() { format!("{}", v as i64) } else { format!("{v:.4}") }
}
