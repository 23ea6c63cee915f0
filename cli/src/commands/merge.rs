//! `drbench merge`: combines per-shard runs (`drbench run --shard i/n`) into one run keeping each query's top k.

use std::path::PathBuf;

use clap::Args;
use drbench_harness::data::Run;
use drbench_harness::io::{Strictness, read_trec_run, write_trec_run};

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// Per-shard TREC runs.
    #[arg(required = true, value_name = "RUN")]
    runs: Vec<PathBuf>,
    /// Hits kept per query.
    #[arg(long, default_value_t = 1000)]
    k: usize,
    /// Output run.
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// Run tag.
    #[arg(long, default_value = "drbench-merged")]
    tag: String,
}

pub fn run(a: MergeArgs) -> anyhow::Result<std::process::ExitCode> {
    super::outputs::refuse_input_as_output(&a.out, &a.runs.iter().map(PathBuf::as_path).collect::<Vec<_>>())?;
    let mut merged = Run::new();
    for path in &a.runs {
        merged.absorb(read_trec_run(path, Strictness::Strict)?.value);
    }
    merged.truncate(a.k);
    write_trec_run(&a.out, &merged, &a.tag)?;
    eprintln!(
        "{} runs merged: {} queries, {} rows -> {}",
        a.runs.len(),
        merged.len(),
        merged.num_rows(),
        a.out.display()
    );
    Ok(std::process::ExitCode::SUCCESS)
}
