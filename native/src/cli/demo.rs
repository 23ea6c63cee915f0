//! `drbench demo prepare|serve`: the browser demo. `prepare` cuts a fixed subset of a dataset (from whatever
//! the store resolves: cache, mirror or download — never committed), quantizes the encoder to drbench's int8 file,
//! scores the subset natively (candle f32, and candle on the same int8 weights) as the page's reference, and lays
//! out the page, the data and the wasm-bindgen package in one folder; `serve` prepares and then serves that
//! folder on 127.0.0.1 only.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use candle_core::Device;
use drbench_harness::data::SubsetSpec;
use drbench_harness::embed_cache::ShardSelection;
use drbench_harness::encoder::{Encoder, Role};
use drbench_harness::metrics::Measure;
use drbench_native::encoders::bert::{BertEncoder, BertOptions};
use drbench_native::encoders::quantize::quantize_bert;
use drbench_native::encoders::source::{ModelFiles, resolve_model};
use drbench_native::serve::DemoServer;
use drbench_native::store::{Store, default_cache_dir, write_bytes_atomic};
use serde_json::json;

use super::cell::{dense_search, score};
use super::dataset::{Task, load_task};

/// The page itself (checked in under wasm/demo/), compiled into the binary.
const PAGE: [(&str, &str); 4] = [
    ("index.html", include_str!("../../../wasm/demo/index.html")),
    ("demo.js", include_str!("../../../wasm/demo/demo.js")),
    ("encode-worker.js", include_str!("../../../wasm/demo/encode-worker.js")),
    ("demo.css", include_str!("../../../wasm/demo/demo.css")),
];

/// The files of wasm-bindgen's output the page loads.
const PKG_FILES: [&str; 2] = ["drbench_wasm.js", "drbench_wasm_bg.wasm"];

#[derive(Debug, clap::Subcommand)]
pub enum DemoCommand {
    /// Write the demo folder (page, subset, int8 model, reference scores, wasm package) without serving it.
    Prepare(PrepareArgs),
    /// Prepare the demo folder, then serve it on http://127.0.0.1:PORT/ (confined to that folder) until
    /// interrupted. Open the address in a browser with WebGPU (Chromium: --enable-unsafe-webgpu on Linux).
    Serve {
        #[command(flatten)]
        prepare: PrepareArgs,
        /// Port on 127.0.0.1 (0: any free port; the address is printed).
        #[arg(long, default_value_t = 8000)]
        port: u16,
    },
}

#[derive(Debug, clap::Args)]
pub struct PrepareArgs {
    /// Dataset: registry name or BEIR folder.
    #[arg(long, default_value = "beir/scifact", value_name = "NAME|DIR")]
    task: String,
    /// Qrels split (default: the dataset's default).
    #[arg(long)]
    split: Option<String>,
    /// Judged queries in the subset (the first ones in file order).
    #[arg(long, default_value_t = 30)]
    queries: usize,
    /// Documents in the subset: every document those queries judge, then corpus order up to this many.
    #[arg(long, default_value_t = 300)]
    docs: usize,
    /// Encoder (a BERT sentence-transformers folder or `mirror:NAME`), quantized to int8 for the page.
    #[arg(long, default_value = "mirror:all-MiniLM-L6-v2", value_name = "SRC")]
    model: String,
    /// wasm-bindgen output to serve (built by scripts/build-wasm).
    #[arg(long, env = "DRBENCH_WASM_PKG", default_value = "target-wasm/pkg", value_name = "DIR")]
    pkg: PathBuf,
    /// The demo folder (default: <cache>/demo/<task>-q<N>-d<M>).
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
    /// Skip the native reference scores (the page then shows none).
    #[arg(long)]
    no_reference: bool,
}

pub fn run(cmd: DemoCommand) -> anyhow::Result<std::process::ExitCode> {
    match cmd {
        DemoCommand::Prepare(a) => {
            let dir = prepare(&a, false)?;
            println!("{}", dir.display());
        }
        DemoCommand::Serve { prepare: a, port } => {
            let dir = prepare(&a, true)?;
            let server = DemoServer::bind(&dir, port)?;
            println!("serving {} at http://{}/ (Ctrl-C to stop)", dir.display(), server.addr());
            server.run();
        }
    }
    Ok(std::process::ExitCode::SUCCESS)
}

/// Writes the demo folder and returns its path; the wasm package is required when `need_pkg`.
fn prepare(a: &PrepareArgs, need_pkg: bool) -> anyhow::Result<PathBuf> {
    // Checked before the minute of quantizing and scoring, so that a missing package fails at once.
    let have_pkg = PKG_FILES.iter().all(|f| a.pkg.join(f).is_file());
    if need_pkg && !have_pkg {
        bail!(
            "{}: no wasm-bindgen package ({}); build it with scripts/build-wasm or point --pkg at one",
            a.pkg.display(),
            PKG_FILES.join(", ")
        );
    }
    let spec = SubsetSpec { queries: a.queries, docs: a.docs };
    let task = load_task(&a.task, a.split.as_deref())?.subset(spec);
    let model_dir = match resolve_model(&a.model, &Store::from_env())? {
        ModelFiles::Folder(d) => d,
        ModelFiles::Gguf(f) => bail!("{}: the demo runs a BERT folder, not a GGUF file", f.display()),
    };
    let slug: String = task.name.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect();
    let dir = a
        .dir
        .clone()
        .unwrap_or_else(|| default_cache_dir().join("demo").join(format!("{slug}-q{}-d{}", a.queries, a.docs)));
    let data = dir.join("data");
    std::fs::create_dir_all(&data).with_context(|| format!("creating {}", data.display()))?;

    let weights = quantize_bert(&model_dir)?.to_bytes();
    let model_file = data.join("model.drbq");
    write_bytes_atomic(&model_file, &weights).with_context(|| format!("writing {}", model_file.display()))?;
    let tokenizer = model_dir.join("tokenizer.json");
    copy(&tokenizer, &data.join("tokenizer.json"))?;
    let reference = if a.no_reference { None } else { Some(reference_scores(&task, &model_dir, &model_file)?) };
    let subset = subset_json(&task, spec, &a.model, reference);
    write_bytes_atomic(&data.join("subset.json"), subset.to_string().as_bytes())?;
    for (name, text) in PAGE {
        write_bytes_atomic(&dir.join(name), text.as_bytes())?;
    }
    if have_pkg {
        std::fs::create_dir_all(dir.join("pkg"))?;
        for f in PKG_FILES {
            copy(&a.pkg.join(f), &dir.join("pkg").join(f))?;
        }
    } else {
        eprintln!("note: {} has no wasm package yet (scripts/build-wasm); the page needs pkg/", a.pkg.display());
    }
    eprintln!(
        "{}: {} queries, {} documents, int8 model {:.1} MB",
        task.name,
        task.queries.len(),
        task.corpus.len(),
        weights.len() as f64 / 1e6
    );
    Ok(dir)
}

fn copy(from: &Path, to: &Path) -> anyhow::Result<()> {
    let bytes = std::fs::read(from).with_context(|| format!("reading {}", from.display()))?;
    write_bytes_atomic(to, &bytes).with_context(|| format!("writing {}", to.display()))
}

/// nDCG@10 of the subset natively: candle f32 (the golden value) and candle on the int8 file dequantized (what
/// the page's kernels compute, up to float rounding). Embeddings go through the cache, so a second run is quick.
fn reference_scores(task: &Task, model_dir: &Path, int8: &Path) -> anyhow::Result<serde_json::Value> {
    let cache = default_cache_dir().join("embeddings");
    let sig = |kind: &str, file: &Path| -> anyhow::Result<String> {
        Ok(format!("demo-bert-{kind}:sha256={}", drbench_native::store::verify::sha256_file(file)?))
    };
    let mut f32_enc = BertEncoder::load(
        model_dir,
        BertOptions::default(),
        &Device::Cpu,
        sig("f32", &model_dir.join("model.safetensors"))?,
    )?;
    let mut int8_enc =
        BertEncoder::load_int8(int8, model_dir, BertOptions::default(), &Device::Cpu, sig("int8", int8)?)?;
    let ndcg = |enc: &mut dyn Encoder| -> anyhow::Result<f64> {
        let found = dense_search(enc, task, 100, false, ShardSelection::ALL, 256, &cache)?;
        Ok(score(&found.run, task, vec![Measure::Ndcg(Some(10))], false)?.mean[0])
    };
    let (f32_score, int8_score) = (ndcg(&mut f32_enc)?, ndcg(&mut int8_enc)?);
    eprintln!("native nDCG@10 on the subset: f32 {f32_score:.4}, int8 {int8_score:.4}");
    // A few texts with their native token ids and embeddings, for the browser regression test.
    let mut texts: Vec<(Role, String)> =
        task.queries.iter().take(2).map(|q| (Role::Query, q.text.to_string())).collect();
    texts.extend(task.corpus.iter().take(2).map(|d| (Role::Passage, d.flat_text())));
    let mut checks = Vec::new();
    for (role, text) in texts {
        let f32_emb = f32_enc.encode(&[&text], role).map_err(|e| anyhow::anyhow!(e))?;
        let int8_emb = int8_enc.encode(&[&text], role).map_err(|e| anyhow::anyhow!(e))?;
        checks.push(json!({"text": text, "ids": f32_enc.token_ids(&text)?, "f32": f32_emb, "int8": int8_emb}));
    }
    Ok(json!({
        "measure": "nDCG@10",
        "native_f32": f32_score,
        "native_int8": int8_score,
        "by": "drbench on candle (CPU): f32 weights, and the same int8 file dequantized",
        "embeddings": checks,
    }))
}

/// The subset as the page reads it: documents (id, title, text; the encoder sees `title + " " + text`), judged
/// queries, qrels as TREC text, and the reference scores.
fn subset_json(task: &Task, spec: SubsetSpec, model: &str, reference: Option<serde_json::Value>) -> serde_json::Value {
    let docs: Vec<_> = task.corpus.iter().map(|d| json!({"id": d.id, "title": d.title, "text": d.text})).collect();
    let queries: Vec<_> = task.queries.iter().map(|q| json!({"id": q.id, "text": q.text})).collect();
    let mut qrels = String::new();
    for q in task.qrels.query_ids() {
        for (d, g) in task.qrels.get(q).expect("listed").iter_sorted() {
            let _ = writeln!(qrels, "{q} 0 {d} {g}");
        }
    }
    json!({
        "task": task.name, "split": task.split, "subset": spec, "model": model,
        "docs": docs, "queries": queries, "qrels": qrels, "reference": reference,
    })
}
