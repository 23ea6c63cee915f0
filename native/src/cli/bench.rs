//! `drbench bench`: the main job. Runs every (model, task) cell of an experiment preset into one results folder,
//! skipping cells already finished (a killed run resumes; a second run does no work), then prints the table.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, bail};
use clap::Args;
use drbench_harness::bm25::{Bm25Params, FieldMode};
use drbench_harness::embed_cache::ShardSelection;
use drbench_harness::encoder::Encoder;
use drbench_harness::report::{CellResult, Format, TableSpec, build_table, read_results, render};
use drbench_native::encoders::build::{EncoderSpec, build_encoder};
use drbench_native::encoders::device::{DeviceKind, Precision};
use drbench_native::encoders::source::{ModelFiles, resolve_model};
use drbench_native::encoders::weights::GgufWeights;
use drbench_native::experiment::layout::{cell_dir, results_file};
use drbench_native::experiment::preset::{ModelEntry, ModelKind, Preset, parse_enum};
use drbench_native::store::{Store, default_cache_dir};
use serde_json::{Value, json};

use super::cell::{CellFiles, bm25_search, dense_search, score, write_cell};
use super::dataset::{Task, load_task};

/// The presets shipped in `experiments/`, usable by name from anywhere.
const SHIPPED: [(&str, &str); 4] = [
    ("default", include_str!("../../../experiments/default.toml")),
    ("smoke", include_str!("../../../experiments/smoke.toml")),
    ("paper", include_str!("../../../experiments/paper.toml")),
    ("train-demo", include_str!("../../../experiments/train-demo.toml")),
];

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
    /// List the cells and whether each is done, then stop.
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
}

fn load_preset(name: &str) -> anyhow::Result<Preset> {
    if let Some((n, text)) = SHIPPED.iter().find(|(n, _)| *n == name) {
        return Ok(Preset::parse(text, Path::new(&format!("experiments/{n}.toml")))?);
    }
    let path = Path::new(name);
    if !path.is_file() {
        let names: Vec<&str> = SHIPPED.iter().map(|(n, _)| *n).collect();
        bail!("preset {name:?}: not a shipped preset ({}) nor a file", names.join(", "));
    }
    Ok(Preset::load(path)?)
}

/// Everything that determines a cell's numbers; a finished cell is reused only when this matches.
fn cell_settings(preset: &Preset, model: &ModelEntry, task: &str) -> Value {
    json!({
        "model": model,
        "task": task,
        "subset": preset.subset,
        "measures": preset.measures().iter().map(ToString::to_string).collect::<Vec<_>>(),
        "k": preset.k.unwrap_or(1000),
    })
}

fn encoder_spec(m: &ModelEntry, device: DeviceKind, store: &Store) -> anyhow::Result<EncoderSpec> {
    let hint = |e: String| match &m.hint {
        Some(h) => anyhow::anyhow!("model {:?}: {e}\n  hint: {h}", m.name),
        None => anyhow::anyhow!("model {:?}: {e}", m.name),
    };
    let source = m.source.as_deref().expect("checked at load");
    let files = resolve_model(source, store).map_err(|e| hint(e.to_string()))?;
    let tokenizer = match &m.tokenizer {
        None => None,
        Some(t) => match resolve_model(t, store).map_err(|e| hint(format!("tokenizer: {e}")))? {
            ModelFiles::Folder(d) => Some(d),
            ModelFiles::Gguf(f) => bail!("model {:?}: tokenizer {} is a GGUF file, not a folder", m.name, f.display()),
        },
    };
    fn e<T>(m: &ModelEntry, r: Result<T, String>) -> anyhow::Result<T> {
        r.map_err(|e| anyhow::anyhow!("model {:?}: {e}", m.name))
    }
    Ok(EncoderSpec {
        files,
        tokenizer,
        mode: e(m, parse_enum("mode", m.mode.as_deref().expect("checked at load")))?,
        max_length: m.max_length,
        device,
        precision: e(m, m.dtype.as_deref().map_or(Ok(Precision::F32), |d| parse_enum("dtype", d)))?,
        gguf: e(m, m.gguf_weights.as_deref().map_or(Ok(GgufWeights::Quantized), |g| parse_enum("gguf_weights", g)))?,
        normalize: true,
        batch_size: m.batch_size.unwrap_or(16),
        max_batch_tokens: m.max_batch_tokens,
        adapter: m.adapter.as_ref().map(PathBuf::from),
        merge_adapter: m.merge_adapter.unwrap_or(false),
    })
}

/// One cell to compute: which model, where its files go, and the settings recorded with them.
struct CellJob<'a> {
    preset: &'a Preset,
    model: &'a ModelEntry,
    dir: PathBuf,
    settings: Value,
}

/// Runs one cell and writes its folder; the encoder is built on first use and kept for the model's next cells.
fn run_cell(
    job: CellJob<'_>,
    task: Task,
    encoder: &mut Option<Box<dyn Encoder>>,
    a: &BenchArgs,
    store: &Store,
) -> anyhow::Result<f64> {
    let CellJob { preset, model: m, dir, settings } = job;
    let k = preset.k.unwrap_or(1000);
    let measures = preset.measures();
    let remove_self = task.remove_query_self;
    let t0 = Instant::now();
    let (run, mut extra, tag) = match m.kind {
        ModelKind::Bm25 => {
            let fields =
                if m.fields.as_deref() == Some("multifield") { FieldMode::Multifield } else { FieldMode::Flat };
            let params = Bm25Params { k1: m.k1.unwrap_or(0.9), b: m.b.unwrap_or(0.4) };
            let (run, describe) = bm25_search(&task, fields, params, k, remove_self);
            (run, json!({ "retriever": describe }), "drbench-bm25".to_string())
        }
        ModelKind::Dense => {
            if encoder.is_none() {
                let t = Instant::now();
                *encoder = Some(build_encoder(&encoder_spec(m, a.device, store)?)?);
                eprintln!("  loaded {} in {:.1}s", m.name, t.elapsed().as_secs_f64());
            }
            let enc = encoder.as_mut().expect("built above");
            let cache_root = a.embed_cache.clone().unwrap_or_else(|| default_cache_dir().join("embeddings"));
            let found = dense_search(enc.as_mut(), &task, k, remove_self, ShardSelection::ALL, 256, &cache_root)?;
            let mut extra = found.timings_json(task.corpus.len());
            extra["retriever"] = json!(enc.signature());
            (found.run, extra, format!("drbench-{}", m.mode.as_deref().unwrap_or("dense")))
        }
    };
    let eval = score(&run, &task, measures.clone(), remove_self)?;
    let cell = CellResult::from_evaluation(&m.name, &task.name, &task.split, &eval);
    extra["settings"] = settings;
    extra["counts"] =
        json!({ "docs": task.corpus.len(), "queries": task.queries.len(), "queries_scored": eval.num_queries() });
    extra["conventions"] = json!("trec_eval -c (judged queries without hits count 0)");
    let secs = t0.elapsed().as_secs_f64();
    let files = CellFiles {
        cell: &cell,
        run: &run,
        tag: &tag,
        mteb_task: &task.mteb_task,
        main: measures[0],
        evaluation_time: secs,
        extra,
    };
    write_cell(&dir, files)?;
    Ok(eval.mean[0])
}

pub fn run(a: BenchArgs) -> anyhow::Result<std::process::ExitCode> {
    super::threads::init(a.threads)?;
    let preset = load_preset(&a.preset)?;
    let out = a.out.clone().unwrap_or_else(|| PathBuf::from("results").join(&preset.name));
    let only: Option<Vec<&str>> = a.only.as_deref().map(|s| s.split(',').map(str::trim).collect());
    if let Some(only) = &only
        && let Some(bad) = only.iter().find(|o| !preset.model.iter().any(|m| m.name == **o))
    {
        bail!("--only {bad:?}: not a model of preset {}", preset.name);
    }
    let store = Store::from_env();
    let cells: Vec<(&ModelEntry, &str)> = preset
        .cells()
        .into_iter()
        .filter(|(m, _)| only.as_ref().is_none_or(|o| o.contains(&m.name.as_str())))
        .collect();
    eprintln!("preset {}: {} — {} cells into {}", preset.name, preset.description, cells.len(), out.display());
    let (mut done, mut ran, mut failed) = (0usize, 0usize, Vec::new());
    let mut encoders: BTreeMap<String, Option<Box<dyn Encoder>>> = BTreeMap::new();
    for (i, (m, task_name)) in cells.iter().enumerate() {
        let dir = cell_dir(&out, &m.name, task_name);
        let settings = cell_settings(&preset, m, task_name);
        let label = format!("[{}/{}] {} × {}", i + 1, cells.len(), m.name, task_name);
        if let Some(existing) = read_settings(&results_file(&dir))? {
            if existing != settings {
                bail!(
                    "{}: this cell was computed with other settings than preset {} now gives; \
                     delete the folder or choose another --out",
                    dir.display(),
                    preset.name
                );
            }
            eprintln!("{label}: done (kept)");
            done += 1;
            continue;
        }
        if a.dry_run {
            eprintln!("{label}: to run");
            continue;
        }
        eprintln!("{label}: running");
        let t = Instant::now();
        let result = load_task(task_name, None).map(|t| match preset.subset {
            Some(s) => t.subset(s),
            None => t,
        });
        let outcome = result.and_then(|task| {
            let job = CellJob { preset: &preset, model: m, dir: dir.clone(), settings };
            run_cell(job, task, encoders.entry(m.name.clone()).or_default(), &a, &store)
        });
        match outcome {
            Ok(main) => {
                eprintln!("{label}: {} {main:.4} in {:.1}s", preset.measures()[0], t.elapsed().as_secs_f64());
                ran += 1;
            }
            Err(e) => {
                eprintln!("{label}: FAILED: {e:#}");
                failed.push(label);
            }
        }
        // Free an LLM's weights once its last cell is done.
        if cells.get(i + 1).is_none_or(|(next, _)| next.name != m.name) {
            encoders.remove(&m.name);
        }
    }
    if a.dry_run {
        eprintln!("{done} of {} cells done", cells.len());
        return Ok(std::process::ExitCode::SUCCESS);
    }
    eprintln!("{ran} cells run, {done} kept, {} failed", failed.len());
    if out.is_dir() {
        let table = preset_table(&preset, &out)?;
        let md = render(&table, Format::Markdown);
        drbench_native::store::write_text_atomic(&out.join("report.md"), &md)?;
        println!("{md}");
    }
    if !failed.is_empty() {
        bail!("{} cells failed: {}", failed.len(), failed.join("; "));
    }
    Ok(std::process::ExitCode::SUCCESS)
}

/// The preset's main table from the results folder: its models and tasks in preset order, against its baseline.
fn preset_table(preset: &Preset, out: &Path) -> anyhow::Result<drbench_harness::report::Table> {
    let registry = drbench_datasets::Registry::builtin();
    let task_of = |t: &str| drbench_datasets::DatasetSpec::by_mteb_task(&registry, t).map(|d| d.name.clone());
    let results = read_results(&[out.to_path_buf()], &task_of)?;
    let spec = TableSpec {
        measures: vec![preset.measures()[0]],
        baseline: preset.baseline.clone(),
        models: preset.model.iter().map(|m| m.name.clone()).collect(),
        tasks: preset.tasks.clone(),
        ..TableSpec::default()
    };
    Ok(build_table(&results, &spec))
}

fn read_settings(path: &Path) -> anyhow::Result<Option<Value>> {
    if !path.is_file() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let v: Value = serde_json::from_str(&text).with_context(|| format!("{}: not JSON", path.display()))?;
    Ok(Some(v["drbench"]["settings"].clone()))
}
