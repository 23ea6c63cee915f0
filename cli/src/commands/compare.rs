//! `drbench compare`: paired significance tests between runs on the same qrels.

use std::io::Write;
use std::path::PathBuf;

use anyhow::bail;
use clap::Args;
use drbench_harness::metrics::{EvalOptions, Evaluation, Measure, evaluate_run_file};
use drbench_harness::stats::{holm, paired_bootstrap_ci, paired_t_test};
use serde_json::json;

use super::inputs::QrelsArgs;

#[derive(Debug, Args)]
pub struct CompareArgs {
    #[command(flatten)]
    pub qrels: QrelsArgs,
    /// TREC run files; give at least two. Every run after the first is compared with the first (the baseline).
    #[arg(long = "run", value_name = "FILE", num_args = 1, required = true)]
    pub runs: Vec<PathBuf>,
    /// Comma-separated measures (see `drbench eval --help`).
    #[arg(long, short, value_name = "LIST", default_value = "nDCG@10,RR@10,R@100,AP,P@10")]
    pub measures: String,
    /// trec_eval -c: judged queries without run rows count as 0 in both runs (recommended for comparisons).
    #[arg(long, short = 'c')]
    pub complete: bool,
    /// Drop a retrieved document whose id equals its query's id.
    #[arg(long)]
    pub remove_query_self: bool,
    /// Bootstrap resamples for the confidence interval of the mean difference.
    #[arg(long, default_value_t = 10_000)]
    pub bootstrap: usize,
    /// Confidence level of the interval.
    #[arg(long, default_value_t = 0.95)]
    pub level: f64,
    /// Seed of the bootstrap.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

pub fn run(a: CompareArgs) -> anyhow::Result<std::process::ExitCode> {
    if a.runs.len() < 2 {
        bail!("give at least two --run files");
    }
    let measures = Measure::parse_list(&a.measures)?;
    let qrels = a.qrels.load()?;
    let opts = EvalOptions { measures: measures.clone(), complete: a.complete, remove_query_self: a.remove_query_self };
    let evals: Vec<Evaluation> =
        a.runs.iter().map(|r| evaluate_run_file(r, &qrels, &opts, 0)).collect::<Result<_, _>>()?;
    let base = &evals[0];
    let mut results = Vec::new();
    for (run, other) in a.runs.iter().zip(&evals).skip(1) {
        let common: Vec<&String> = base.per_query.keys().filter(|q| other.per_query.contains_key(*q)).collect();
        let dropped = base.per_query.len().max(other.per_query.len()) - common.len();
        if dropped > 0 {
            eprintln!(
                "drbench: warning: {dropped} queries are evaluated in only one run and are left out of the pairing \
                 (use --complete to score them as 0)"
            );
        }
        if common.len() < 2 {
            bail!("fewer than 2 queries are evaluated in both runs");
        }
        let mut rows = Vec::new();
        for (i, m) in measures.iter().enumerate() {
            let xa: Vec<f64> = common.iter().map(|q| base.per_query[*q][i]).collect();
            let xb: Vec<f64> = common.iter().map(|q| other.per_query[*q][i]).collect();
            let t = paired_t_test(&xb, &xa)?;
            let ci = paired_bootstrap_ci(&xb, &xa, a.bootstrap, a.level, a.seed)?;
            let mean = |x: &[f64]| x.iter().sum::<f64>() / x.len() as f64;
            rows.push((m.to_string(), mean(&xa), mean(&xb), t, ci));
        }
        let adjusted = holm(&rows.iter().map(|r| r.3.p).collect::<Vec<_>>());
        results.push((run.clone(), common.len(), rows, adjusted));
    }
    let mut out = std::io::stdout().lock();
    if a.json {
        let v: Vec<_> = results
            .iter()
            .map(|(run, n, rows, adj)| {
                let per: serde_json::Map<String, serde_json::Value> = rows
                    .iter()
                    .zip(adj)
                    .map(|((m, ma, mb, t, ci), ph)| {
                        (
                            m.clone(),
                            json!({"baseline": ma, "run": mb, "diff": mb - ma, "t": t.t, "df": t.df, "p": t.p,
                                   "p_holm": ph, "ci_low": ci.low, "ci_high": ci.high, "ci_level": ci.level}),
                        )
                    })
                    .collect();
                json!({"baseline": a.runs[0], "run": run, "queries": n, "measures": per})
            })
            .collect();
        let v = if v.len() == 1 { v.into_iter().next().unwrap() } else { serde_json::Value::Array(v) };
        serde_json::to_writer(&mut out, &v)?;
        writeln!(out)?;
        return Ok(std::process::ExitCode::SUCCESS);
    }
    for (run, n, rows, adj) in &results {
        writeln!(out, "baseline: {}\nrun:      {}\nqueries:  {n} (paired)", a.runs[0].display(), run.display())?;
        writeln!(
            out,
            "{:<10} {:>8} {:>8} {:>8} {:>8} {:>9} {:>9}  {:.0}% CI of diff",
            "measure",
            "baseline",
            "run",
            "diff",
            "t",
            "p",
            "p(Holm)",
            a.level * 100.0
        )?;
        for ((m, ma, mb, t, ci), ph) in rows.iter().zip(adj) {
            let mark = if *ph < 0.05 { " *" } else { "" };
            writeln!(
                out,
                "{m:<10} {ma:>8.4} {mb:>8.4} {:>+8.4} {:>8.3} {:>9.2e} {ph:>9.2e}  [{:+.4}, {:+.4}]{mark}",
                mb - ma,
                t.t,
                t.p,
                ci.low,
                ci.high
            )?;
        }
        writeln!(out, "(* = significant at p < 0.05 after Holm correction across measures)\n")?;
    }
    Ok(std::process::ExitCode::SUCCESS)
}
