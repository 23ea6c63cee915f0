//! `drbench demo prepare|serve`: the browser demo. `prepare` writes the demo folder through the pipeline
//! (`drbench_pipeline::demo`: a fixed subset, the int8 model, native reference scores, page and wasm package);
//! `serve` prepares and then serves the files it laid out there on 127.0.0.1 only.

use std::path::PathBuf;

use anyhow::bail;
use drbench_harness::data::SubsetSpec;
use drbench_native::serve::DemoServer;
use drbench_native::store::{Store, default_cache_dir};
use drbench_pipeline::demo::{DemoFolder, DemoOptions, PKG_FILES, has_pkg, prepare_demo};

use super::outputs::ForceArg;
use super::progress::Bars;

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
    #[command(flatten)]
    force: ForceArg,
}

pub fn run(cmd: DemoCommand) -> anyhow::Result<std::process::ExitCode> {
    match cmd {
        DemoCommand::Prepare(a) => {
            let folder = prepare(&a, false)?;
            println!("{}", folder.dir.display());
        }
        DemoCommand::Serve { prepare: a, port } => {
            let folder = prepare(&a, true)?;
            let server = DemoServer::bind(&folder.dir, &folder.files, port)?;
            println!("serving {} at http://{}/ (Ctrl-C to stop)", folder.dir.display(), server.addr());
            server.run();
        }
    }
    Ok(std::process::ExitCode::SUCCESS)
}

/// Writes the demo folder and says what is in it; the wasm package is required when `need_pkg`.
fn prepare(a: &PrepareArgs, need_pkg: bool) -> anyhow::Result<DemoFolder> {
    // Checked before the minute of quantizing and scoring, so that a missing package fails at once.
    if need_pkg && !has_pkg(&a.pkg) {
        bail!(
            "{}: no wasm-bindgen package ({}); build it with scripts/build-wasm or point --pkg at one",
            a.pkg.display(),
            PKG_FILES.join(", ")
        );
    }
    let slug: String = a.task.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect();
    let dir = a
        .dir
        .clone()
        .unwrap_or_else(|| default_cache_dir().join("demo").join(format!("{slug}-q{}-d{}", a.queries, a.docs)));
    let opts = DemoOptions {
        task: a.task.clone(),
        split: a.split.clone(),
        subset: SubsetSpec { queries: a.queries, docs: a.docs },
        model: a.model.clone(),
        pkg: a.pkg.clone(),
        dir,
        reference: !a.no_reference,
        cache: default_cache_dir().join("embeddings"),
        force: a.force.force,
    };
    let folder = prepare_demo(&opts, &Store::from_env(), &Bars::default())?;
    if let Some((f32_score, int8_score)) = folder.reference {
        eprintln!("native nDCG@10 on the subset: f32 {f32_score:.4}, int8 {int8_score:.4}");
    }
    if !folder.has_pkg {
        eprintln!("note: {} has no wasm package yet (scripts/build-wasm); the page needs pkg/", a.pkg.display());
    }
    eprintln!(
        "{}: {} queries, {} documents, int8 model {:.1} MB",
        folder.task,
        folder.queries,
        folder.docs,
        folder.model_bytes as f64 / 1e6
    );
    Ok(folder)
}
