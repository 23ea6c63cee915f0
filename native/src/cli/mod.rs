//! Command-line definitions (clap) and dispatch to one module per subcommand.

mod compare;
mod datasets;
mod eval;
mod inputs;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// drbench: dense-retrieval benchmarking with trec_eval-exact metrics.
///
/// Datasets are found by registry name (e.g. beir/scifact) in the cache ($DRBENCH_CACHE, default
/// ~/.cache/drbench), then in the mirror ($DRBENCH_MIRROR: a folder or http(s) URL laid out like
/// shared/mirror), then at the official source. A plain BEIR folder path works wherever a name does.
#[derive(Debug, Parser)]
#[command(name = "drbench", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Score a TREC run against qrels, with trec_eval's exact conventions (a drop-in for trec_eval / pytrec_eval).
    Eval(eval::EvalArgs),
    /// Compare runs on the same qrels: per-measure means, paired t-test (Holm-corrected), bootstrap CI.
    Compare(compare::CompareArgs),
    /// List, fetch and verify registered datasets.
    #[command(subcommand)]
    Datasets(datasets::DatasetsCommand),
}

/// Runs the parsed command.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Eval(a) => eval::run(a),
        Command::Compare(a) => compare::run(a),
        Command::Datasets(c) => datasets::run(c),
    }
}
