//! `drbench bench`: the main job. Plans every (model, task) cell of an experiment preset into one results folder
//! (the pipeline's `BenchPlan`: finished cells with the same settings are kept, others refused), prints the time
//! estimate, runs the rest, then prints the table.

use std::io::Write as _;
use std::path::PathBuf;

use anyhow::bail;
use clap::Args;
use drbench_harness::io::atomic::write_atomic;
use drbench_harness::report::{Format, render};
use drbench_native::encoders::device::DeviceKind;
use drbench_native::store::{Store, default_cache_dir};
use drbench_pipeline::bench::{BenchEvent, BenchOptions, BenchPlan, CellState};
use drbench_pipeline::estimate::{REFERENCE_THREADS, estimate};
use drbench_pipeline::preset::Preset;

use super::outputs::ForceArg;
use super::progress::Bars;

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Preset: a shipped name (default, smoke, paper, train-demo) or a TOML file (see experiments/).
    #[arg(long, default_value = "default", value_name = "NAME|FILE")]
    preset: String,
    /// Results folder (default: results/<preset name>). Finished cells in it are kept and skipped.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Run only these models (comma-separated names from the preset).
    #[arg(long, value_name = "NAMES")]
    only: Option<String>,
    /// List the cells and whether each is done, with the time estimate, then stop.
    #[arg(long)]
    dry_run: bool,
    /// Device for dense models.
    #[arg(long, value_enum, default_value_t = DeviceKind::Cpu)]
    device: DeviceKind,
    /// Embedding cache folder (default: <cache>/embeddings).
    #[arg(long, value_name = "DIR")]
    embed_cache: Option<PathBuf>,
    /// Worker threads (0 = all cores).
    #[arg(long, default_value_t = 0)]
    threads: usize,
    #[command(flatten)]
    force: ForceArg,
}

/// `1 h 05 min`, `12 min`, `40 s`.
fn duration(secs: f64) -> String {
    let s = secs.round() as u64;
    match s {
        0..=59 => format!("{s} s"),
        60..=3599 => format!("{} min", (s + 30) / 60),
        _ => format!("{} h {:02} min", s / 3600, (s % 3600 + 30) / 60),
    }
}

/// The estimate of the pending cells, one line per model.
fn print_estimate(plan: &BenchPlan, store: &Store) {
    let threads = rayon::current_num_threads();
    let est = estimate(plan, store, threads);
    if est.cells.is_empty() {
        return;
    }
    let parts: Vec<String> =
        est.by_model(plan).iter().map(|(m, secs, n)| format!("{m} ({n} cells) ~{}", duration(*secs))).collect();
    let unknown = match est.unknown() {
        0 => String::new(),
        n => format!("; {n} cells without a speed figure in the preset not counted"),
    };
    eprintln!(
        "estimated time: ~{} on {threads} threads ({}){unknown}; cached embeddings make it shorter \
         (speeds measured on {REFERENCE_THREADS} cores, scaled by threads)",
        duration(est.known_seconds()),
        parts.join(", ")
    );
}

pub fn run(a: BenchArgs) -> anyhow::Result<std::process::ExitCode> {
    super::threads::init(a.threads)?;
    let preset = Preset::find(&a.preset)?;
    let out = a.out.clone().unwrap_or_else(|| PathBuf::from("results").join(&preset.name));
    let options = BenchOptions {
        out: out.clone(),
        only: a.only.as_deref().map(|s| s.split(',').map(|m| m.trim().to_string()).collect()),
        device: a.device,
        cache: a.embed_cache.clone().unwrap_or_else(|| default_cache_dir().join("embeddings")),
        force: a.force.force,
    };
    let store = Store::from_env();
    let plan = BenchPlan::new(preset, options, &store)?;
    let p = &plan.preset;
    eprintln!("preset {}: {} — {} cells into {}", p.name, p.description, plan.cells.len(), out.display());
    print_estimate(&plan, &store);
    if a.dry_run {
        for (i, cell) in plan.cells.iter().enumerate() {
            let state = if cell.state == CellState::Done { "done (kept)" } else { "to run" };
            eprintln!("{}: {state}", plan.label(i));
        }
        eprintln!("{} of {} cells done", plan.cells.len() - plan.pending(), plan.cells.len());
        return Ok(std::process::ExitCode::SUCCESS);
    }
    let measure = p.measures[0];
    let summary = plan.run(&store, &Bars::default(), &mut |event| match event {
        BenchEvent::Kept { index, .. } => eprintln!("{}: done (kept)", plan.label(index)),
        BenchEvent::Started { index, .. } => eprintln!("{}: running", plan.label(index)),
        BenchEvent::Loaded { model, seconds } => eprintln!("  loaded {model} in {seconds:.1}s"),
        BenchEvent::Finished { index, main, seconds, .. } => {
            eprintln!("{}: {measure} {main:.4} in {seconds:.1}s", plan.label(index))
        }
        BenchEvent::Failed { index, error, .. } => eprintln!("{}: FAILED: {error}", plan.label(index)),
    })?;
    eprintln!("{} cells run, {} kept, {} failed", summary.ran, summary.kept, summary.failed.len());
    if out.is_dir() {
        let md = render(&plan.table()?, Format::Markdown);
        let path = out.join("report.md");
        write_atomic(&path, |w| w.write_all(md.as_bytes()))?;
        println!("{md}");
    }
    if !summary.failed.is_empty() {
        bail!("{} cells failed: {}", summary.failed.len(), summary.failed.join("; "));
    }
    Ok(std::process::ExitCode::SUCCESS)
}
