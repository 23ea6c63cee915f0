//! `drbench compare`: paired significance tests between runs on the same qrels.

use std::io::Write;
use std::path::PathBuf;

use anyhow::bail;
use clap::Args;
use drbench_harness::metrics::{EvalOptions, Evaluation, Measure, evaluate_run_file};
use drbench_harness::stats::{BootstrapSettings, Comparison, compare_evaluations};
use serde::Serialize;

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
    let max = drbench_harness::stats::MAX_RESAMPLES;
    if a.bootstrap == 0 || a.bootstrap > max {
        bail!("--bootstrap {}: give resamples in 1..={max}", a.bootstrap);
    }
    let measures = Measure::parse_list(&a.measures)?;
    let qrels = a.qrels.load()?;
    let opts = EvalOptions { measures: measures.clone(), complete: a.complete, remove_query_self: a.remove_query_self };
    let evals: Vec<Evaluation> =
        a.runs.iter().map(|r| evaluate_run_file(r, &qrels, &opts, 0)).collect::<Result<_, _>>()?;
    let settings = BootstrapSettings { resamples: a.bootstrap, level: a.level, seed: a.seed };
    let mut results = Vec::new();
    for (run, other) in a.runs.iter().zip(&evals).skip(1) {
        let comparison = compare_evaluations(&evals[0], other, settings)?;
        if comparison.unpaired > 0 {
            eprintln!(
                "drbench: warning: {} queries are evaluated in only one run and are left out of the pairing \
                 (use --complete to score them as 0)",
                comparison.unpaired
            );
        }
        results.push((run.clone(), comparison));
    }
    let mut out = std::io::stdout().lock();
    if a.json {
        let v: Vec<ComparisonJson> = results.iter().map(|(run, c)| ComparisonJson::new(&a.runs[0], run, c)).collect();
        if let [one] = v.as_slice() {
            serde_json::to_writer(&mut out, one)?;
        } else {
            serde_json::to_writer(&mut out, &v)?;
        }
        writeln!(out)?;
        return Ok(std::process::ExitCode::SUCCESS);
    }
    for (run, c) in &results {
        writeln!(
            out,
            "baseline: {}\nrun:      {}\nqueries:  {} (paired)",
            a.runs[0].display(),
            run.display(),
            c.queries
        )?;
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
        for m in &c.measures {
            let mark = if m.p_holm < 0.05 { " *" } else { "" };
            writeln!(
                out,
                "{:<10} {:>8.4} {:>8.4} {:>+8.4} {:>8.3} {:>9.2e} {:>9.2e}  [{:+.4}, {:+.4}]{mark}",
                m.measure.to_string(),
                m.baseline,
                m.run,
                m.diff,
                m.t_test.t,
                m.t_test.p,
                m.p_holm,
                m.ci.low,
                m.ci.high
            )?;
        }
        writeln!(out, "(* = significant at p < 0.05 after Holm correction across measures)\n")?;
    }
    Ok(std::process::ExitCode::SUCCESS)
}

/// One comparison as `--json` prints it: a run against the baseline, each measure's figures flat under its name.
#[derive(Serialize)]
struct ComparisonJson<'a> {
    baseline: &'a std::path::Path,
    run: &'a std::path::Path,
    queries: usize,
    /// In the order of `--measures`, keyed by the measure's name.
    #[serde(serialize_with = "in_order")]
    measures: Vec<(String, MeasureJson)>,
}

fn in_order<S: serde::Serializer>(pairs: &[(String, MeasureJson)], s: S) -> Result<S::Ok, S::Error> {
    s.collect_map(pairs.iter().map(|(k, v)| (k, v)))
}

/// One measure of [`ComparisonJson`].
#[derive(Serialize)]
struct MeasureJson {
    baseline: f64,
    run: f64,
    diff: f64,
    t: f64,
    df: f64,
    p: f64,
    p_holm: f64,
    ci_low: f64,
    ci_high: f64,
    ci_level: f64,
}

impl<'a> ComparisonJson<'a> {
    fn new(baseline: &'a std::path::Path, run: &'a std::path::Path, c: &Comparison) -> Self {
        let measures = c
            .measures
            .iter()
            .map(|m| {
                let figures = MeasureJson {
                    baseline: m.baseline,
                    run: m.run,
                    diff: m.diff,
                    t: m.t_test.t,
                    df: m.t_test.df,
                    p: m.t_test.p,
                    p_holm: m.p_holm,
                    ci_low: m.ci.low,
                    ci_high: m.ci.high,
                    ci_level: m.ci.level,
                };
                (m.measure.to_string(), figures)
            })
            .collect();
        ComparisonJson { baseline, run, queries: c.queries, measures }
    }
}
