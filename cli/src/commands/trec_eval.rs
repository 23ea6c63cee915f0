//! `drbench trec_eval` (and the binary run as `trec_eval`): trec_eval 10.0's command line, mapped onto
//! `drbench_harness::trec_eval::Options`.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Parser;
use drbench_harness::trec_eval::{self as te, InputFile, Options, RelFormat};

/// trec_eval 10.0, byte for byte: evaluate `results_file` against `rel_info_file`.
///
/// Every measure of trec_eval 10.0 except the preference ones; `-m all_trec`, `-m official` (the default),
/// `-m measure.params` (`P.5,10`, `ndcg.1=3,2=9`, `relstring.20`).
#[derive(Debug, Parser)]
#[command(name = "trec_eval", disable_help_flag = true, disable_version_flag = true)]
pub struct TrecEvalArgs {
    /// Print full help, with the explanation of every measure asked for with -m, and exit.
    #[arg(short = 'h', long = "help")]
    pub help: bool,
    /// Print the version and exit.
    #[arg(short = 'v', long = "version")]
    pub version: bool,
    /// Also print every query's values.
    #[arg(short = 'q', long = "query_eval_wanted")]
    pub query: bool,
    /// A measure, nickname (official, all_trec, set, qrels_jg) or measure.params; repeatable.
    #[arg(short = 'm', long = "measure", value_name = "MEASURE")]
    pub measures: Vec<String>,
    /// Average over every query of the relevance file; a query without results scores 0.
    #[arg(short = 'c', long = "complete_rel_info_wanted")]
    pub complete: bool,
    /// Smallest judgment that counts as relevant.
    #[arg(short = 'l', long = "level_for_rel", value_name = "NUM", default_value_t = 1, allow_negative_numbers = true)]
    pub level: i64,
    /// Print no summary.
    #[arg(short = 'n', long = "nosummary")]
    pub no_summary: bool,
    /// Debug level (accepted for compatibility; drbench prints no debug output).
    #[arg(short = 'D', long = "Debug_level", value_name = "NUM")]
    pub debug: Option<String>,
    /// Drop unjudged documents from every ranking before measuring.
    #[arg(short = 'J', long = "Judged_docs_only")]
    pub judged_only: bool,
    /// Number of documents in the collection (for utility).
    #[arg(short = 'N', long = "Number_docs_in_coll", value_name = "NUM", default_value_t = 0)]
    pub num_docs: i64,
    /// Rank at most this many documents per query.
    #[arg(short = 'M', long = "Max_retrieved_per_topic", value_name = "NUM")]
    pub max_docs: Option<u64>,
    /// Format of the relevance file: qrels (default) or qrels_jg.
    #[arg(short = 'R', long = "Rel_info_format", value_name = "FORMAT", default_value = "qrels")]
    pub rel_format: String,
    /// Format of the results file: trec_results (the only one).
    #[arg(short = 'T', long = "Results_format", value_name = "FORMAT", default_value = "trec_results")]
    pub results_format: String,
    /// Obsolete output format flag (ignored, as trec_eval 10.0 ignores it).
    #[arg(short = 'o', long = "Output_old_results_format")]
    pub old_format: bool,
    /// Print Z scores against the per-query means and deviations of this file (`qid measure mean stddev`).
    #[arg(short = 'Z', long = "Zscore", value_name = "FILE")]
    pub zscores: Option<PathBuf>,
    /// Relevance judgments.
    pub rel_info_file: Option<PathBuf>,
    /// Run to evaluate (`-` reads standard input).
    pub results_file: Option<PathBuf>,
}

/// Runs trec_eval with these arguments.
pub fn run(a: TrecEvalArgs) -> anyhow::Result<std::process::ExitCode> {
    if a.version {
        eprintln!("trec_eval version 10.0 (drbench {})", env!("CARGO_PKG_VERSION"));
        return Ok(std::process::ExitCode::SUCCESS);
    }
    if a.help {
        print_help(&a.measures)?;
        return Ok(std::process::ExitCode::SUCCESS);
    }
    let (Some(rel_path), Some(results_path)) = (&a.rel_info_file, &a.results_file) else {
        bail!("usage: trec_eval [-h] [-q] {{-m measure}}* rel_info_file results_file (-h for all options)");
    };
    let Some(rel_format) = RelFormat::from_name(&a.rel_format) else {
        bail!("trec_eval: Illegal rel_format '{}' (qrels, qrels_jg, prefs, qrels_prefs)", a.rel_format);
    };
    if a.results_format != "trec_results" {
        bail!("trec_eval: Illegal retrieval results format '{}' (trec_results)", a.results_format);
    }
    let opts = Options {
        per_query: a.query,
        summary: !a.no_summary,
        average_complete: a.complete,
        judged_docs_only: a.judged_only,
        num_docs_in_coll: a.num_docs,
        relevance_level: a.level,
        max_docs_per_topic: a.max_docs.unwrap_or(u64::MAX),
        rel_format,
        measures: a.measures.clone(),
    };
    let rel_bytes = read_input(rel_path)?;
    let results_bytes = read_input(results_path)?;
    let zscores = match &a.zscores {
        Some(p) => Some(te::input::parse_zscores(p, &read_input(p)?)?),
        None => None,
    };
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    te::trec_eval(
        &opts,
        InputFile { path: rel_path, bytes: &rel_bytes },
        InputFile { path: results_path, bytes: &results_bytes },
        zscores.as_ref(),
        &mut out,
    )?;
    out.flush()?;
    Ok(std::process::ExitCode::SUCCESS)
}

/// A whole input file (`-`: standard input).
fn read_input(path: &Path) -> anyhow::Result<Vec<u8>> {
    if path == Path::new("-") {
        let mut buf = Vec::new();
        std::io::stdin().lock().read_to_end(&mut buf).context("reading the results from standard input")?;
        return Ok(buf);
    }
    std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
}

/// The options, then every measure with its explanation (those asked for with -m, or all).
fn print_help(asked: &[String]) -> anyhow::Result<()> {
    use clap::CommandFactory;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", TrecEvalArgs::command().render_long_help())?;
    let marked: Vec<&str> = asked.iter().map(|m| m.split('.').next().unwrap_or(m)).collect();
    let wanted = |name: &str| {
        marked.is_empty()
            || marked.iter().any(|m| *m == name || te::catalog::nickname(m).is_some_and(|l| l.contains(&name)))
    };
    writeln!(out, "Measures (-m name[.params]):")?;
    for def in te::catalog::MEASURES.iter().filter(|d| wanted(d.name)) {
        writeln!(out, "  {:<24}{}", def.name, def.explanation)?;
    }
    writeln!(out, "Nicknames:")?;
    for (name, list) in te::catalog::NICKNAMES {
        writeln!(out, "  {:<24}{}", name, list.join(" "))?;
    }
    Ok(())
}
