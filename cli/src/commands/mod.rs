//! Command-line definitions (clap) and dispatch to one module per subcommand. Each maps its arguments onto the
//! libraries' typed settings (`drbench_pipeline`, `drbench_native`, `drbench_harness`) and prints what they return.

mod bench;
mod bm25;
mod compare;
mod datasets;
mod demo;
mod embed;
mod eval;
mod inputs;
mod merge;
mod mine;
mod model_args;
mod outputs;
mod progress;
mod quantize;
mod report;
mod run;
mod search;
mod threads;
mod train;
pub mod trec_eval;

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
    /// trec_eval 10.0's command line and output, byte for byte (`drbench trec_eval -m all_trec -q qrels run`;
    /// the binary called as `trec_eval`, e.g. through a symlink, is the same program). `-h` lists the measures.
    #[command(name = "trec_eval", disable_help_flag = true)]
    TrecEval(trec_eval::TrecEvalArgs),
    /// BM25 equal to Pyserini (Lucene English analysis, k1=0.9 b=0.4): index a dataset, search its queries,
    /// write a TREC run and print nDCG@10.
    Bm25(bm25::Bm25Args),
    /// A dense retriever (LLM or encoder) on a dataset: encode (cached, resumable), search, score.
    Run(run::RunArgs),
    /// Embeddings of a JSONL file of texts (for parity checks).
    Embed(embed::EmbedArgs),
    /// Exact top-k over embeddings made anywhere (.npy, f32 or f16; ids one per line) under a memory budget,
    /// to a TREC run.
    Search(search::SearchArgs),
    /// Combine per-shard runs of `drbench run --shard i/n` into one.
    Merge(merge::MergeArgs),
    /// The main job: every (model, task) cell of an experiment preset (default: BM25, MiniLM and
    /// Qwen2.5-Coder-0.5B on SciFact and NFCorpus), resumable, then the results table.
    Bench(bench::BenchArgs),
    /// Tables in the study's layout from result folders (drbench's and MTEB's), with significance marks,
    /// as Markdown, LaTeX or CSV, plus an SVG chart.
    Report(report::ReportArgs),
    /// Training groups (Tevatron JSONL) from a split's qrels plus hard negatives from BM25 and/or runs.
    Mine(mine::MineArgs),
    /// LoRA contrastive fine-tuning of a Qwen2 retriever (RepLLaMA recipe) on Tevatron JSONL groups;
    /// resumable, writes a PEFT adapter for `run --adapter`.
    Train(train::TrainArgs),
    /// An int8 weight file (per-row scales, header, sha256) of a BERT encoder, for the browser runner.
    Quantize(quantize::QuantizeArgs),
    /// List, fetch and verify registered datasets.
    #[command(subcommand)]
    Datasets(datasets::DatasetsCommand),
    /// The browser demo: an int8 encoder on WebGPU over a small subset of a dataset, served on 127.0.0.1.
    #[command(subcommand)]
    Demo(demo::DemoCommand),
}

/// Runs the parsed command.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Eval(a) => eval::run(a),
        Command::Compare(a) => compare::run(a),
        Command::TrecEval(a) => trec_eval::run(a),
        Command::Bm25(a) => bm25::run(a),
        Command::Run(a) => run::run(a),
        Command::Embed(a) => embed::run(a),
        Command::Search(a) => search::run(a),
        Command::Merge(a) => merge::run(a),
        Command::Bench(a) => bench::run(a),
        Command::Report(a) => report::run(a),
        Command::Mine(a) => mine::run(a),
        Command::Train(a) => train::run(a),
        Command::Quantize(a) => quantize::run(a),
        Command::Datasets(c) => datasets::run(c),
        Command::Demo(c) => demo::run(c),
    }
}
