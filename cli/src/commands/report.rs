//! `drbench report`: tables in the study's layout from result folders (drbench's own and MTEB result files),
//! with significance marks against a baseline, as Markdown, LaTeX or CSV, and an SVG bar chart.

use std::io::Write as _;
use std::path::PathBuf;

use clap::{Args, ValueEnum};
use drbench_harness::io::atomic::write_atomic;
use drbench_harness::metrics::Measure;
use drbench_harness::report::{Format, Layout, TableSpec, bar_chart_svg, build_table, render};
use drbench_pipeline::record::read_results;

#[derive(Debug, Clone, Copy, ValueEnum)]
enum LayoutArg {
    /// Tasks as rows, models as columns, an average row (the study's Tables 1-2).
    Columns,
    /// Models as rows, one column per task and measure (the study's Table 3).
    Rows,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum FormatArg {
    /// Markdown.
    Md,
    /// LaTeX (booktabs).
    Latex,
    /// CSV, one line per cell (row, column, value, best, vs_baseline, p).
    Csv,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Result folders or files: `drbench bench`/`run` outputs and MTEB result files (<model>/<revision>/<Task>.json).
    #[arg(long, required = true, num_args = 1.., value_name = "DIR|FILE")]
    results: Vec<PathBuf>,
    /// Model every other model is tested against (paired two-sided t-test over per-query values, where both
    /// sides have them).
    #[arg(long, value_name = "MODEL")]
    baseline: Option<String>,
    /// Significance level.
    #[arg(long, default_value_t = 0.05)]
    alpha: f64,
    /// Holm-correct each model's p-values over the cells of the table.
    #[arg(long)]
    holm: bool,
    /// Layout.
    #[arg(long, value_enum, default_value_t = LayoutArg::Columns)]
    layout: LayoutArg,
    /// Measures (columns layout uses the first).
    #[arg(long, default_value = "nDCG@10", value_name = "LIST")]
    measures: String,
    /// Model order (comma-separated; others follow).
    #[arg(long, value_name = "LIST")]
    models: Option<String>,
    /// Task order (comma-separated; others follow).
    #[arg(long, value_name = "LIST")]
    tasks: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = FormatArg::Md)]
    format: FormatArg,
    /// Also write an SVG bar chart of the table (per-dataset scores per model).
    #[arg(long, value_name = "FILE.svg")]
    chart: Option<PathBuf>,
    /// Write the table here instead of stdout.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

fn list(s: &Option<String>) -> Vec<String> {
    s.as_deref()
        .map(|s| s.split(',').map(|x| x.trim().to_string()).filter(|x| !x.is_empty()).collect())
        .unwrap_or_default()
}

pub fn run(a: ReportArgs) -> anyhow::Result<std::process::ExitCode> {
    let inputs: Vec<&std::path::Path> = a.results.iter().map(PathBuf::as_path).collect();
    for out in a.out.iter().chain(&a.chart) {
        super::outputs::refuse_input_as_output(out, &inputs)?;
    }
    let results = read_results(&a.results, &drbench_datasets::Registry::builtin())?;
    if results.is_empty() {
        anyhow::bail!("no results found under {:?}", a.results);
    }
    if let Some(b) = &a.baseline
        && !results.iter().any(|r| &r.model == b)
    {
        let mut models: Vec<&str> = results.iter().map(|r| r.model.as_str()).collect();
        models.dedup();
        anyhow::bail!("--baseline {b:?}: no results for it (models: {})", models.join(", "));
    }
    let spec = TableSpec {
        layout: match a.layout {
            LayoutArg::Columns => Layout::ModelsAsColumns,
            LayoutArg::Rows => Layout::ModelsAsRows,
        },
        measures: Measure::parse_list(&a.measures)?,
        baseline: a.baseline.clone(),
        alpha: a.alpha,
        holm: a.holm,
        models: list(&a.models),
        tasks: list(&a.tasks),
    };
    let table = build_table(&results, &spec);
    let format = match a.format {
        FormatArg::Md => Format::Markdown,
        FormatArg::Latex => Format::Latex,
        FormatArg::Csv => Format::Csv,
    };
    let text = render(&table, format);
    match &a.out {
        Some(p) => write_atomic(p, |w| w.write_all(text.as_bytes()))?,
        None => print!("{text}"),
    }
    if let Some(svg) = &a.chart {
        let title = format!("{} per dataset", spec.measures[0]);
        write_atomic(svg, |w| w.write_all(bar_chart_svg(&table, &title).as_bytes()))?;
        eprintln!("chart: {}", svg.display());
    }
    Ok(std::process::ExitCode::SUCCESS)
}
