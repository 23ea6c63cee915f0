//! The browser demo's folder: a fixed subset of a task (from whatever the store resolves — cache, mirror or
//! download), the encoder quantized to drbench's int8 file, the native reference (nDCG@10 of the subset with the
//! f32 weights and with the int8 file's, plus a few texts' token ids and embeddings, computed by [`run_cell`]
//! through the embedding cache), the page and the wasm-bindgen package, laid out in one folder that is drbench's
//! own ([`crate::out_dir`]); [`DemoFolder::files`] lists what was laid out, which is all the server serves.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use drbench_harness::bert::Pooling;
use drbench_harness::data::SubsetSpec;
use drbench_harness::demo_data::{DemoData, DemoDoc, DemoQuery, DemoReference, EmbeddingCheck};
use drbench_harness::encoder::{Encoder, Role};
use drbench_harness::io::atomic::write_atomic;
use drbench_harness::metrics::Measure;
use drbench_native::encoders::bert::{BertEncoder, BertOptions, folder_pooling};
use drbench_native::encoders::device::{DeviceKind, Precision, device};
use drbench_native::encoders::quantize::quantize_bert;
use drbench_native::encoders::signature::{EncoderSignature, Signed};
use drbench_native::encoders::source::{ModelFiles, resolve_model};
use drbench_native::encoders::spec::{EncoderSpec, Mode};
use drbench_native::encoders::weights::GgufWeights;
use drbench_native::store::Store;

use crate::cell::{CacheSettings, CellOptions, Retriever, run_cell};
use crate::error::{PipelineError, Result};
use crate::out_dir::{OutKind, claim_out_dir};
use crate::progress::Progress;
use crate::task::{Task, load_task};

/// The page itself (checked in under wasm/demo/).
pub const PAGE: [(&str, &str); 4] = [
    ("index.html", include_str!("../../wasm/demo/index.html")),
    ("demo.js", include_str!("../../wasm/demo/demo.js")),
    ("encode-worker.js", include_str!("../../wasm/demo/encode-worker.js")),
    ("demo.css", include_str!("../../wasm/demo/demo.css")),
];

/// The files of wasm-bindgen's output the page loads.
pub const PKG_FILES: [&str; 2] = ["drbench_wasm.js", "drbench_wasm_bg.wasm"];

/// What to put in the demo folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoOptions {
    /// Dataset: registry name or BEIR folder.
    pub task: String,
    /// Qrels split (default: the dataset's).
    pub split: Option<String>,
    /// The subset.
    pub subset: SubsetSpec,
    /// A BERT sentence-transformers folder (source spelling: folder or `mirror:NAME`).
    pub model: String,
    /// wasm-bindgen output (copied when present).
    pub pkg: PathBuf,
    /// The demo folder.
    pub dir: PathBuf,
    /// Compute the native reference scores and embeddings.
    pub reference: bool,
    /// The embedding cache root.
    pub cache: PathBuf,
    /// Write into `dir` even when it is a folder drbench did not make ([`crate::out_dir`]).
    pub force: bool,
}

/// What [`prepare_demo`] wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoFolder {
    /// The folder.
    pub dir: PathBuf,
    /// Task name.
    pub task: String,
    /// Queries and documents in the subset.
    pub queries: usize,
    /// Documents.
    pub docs: usize,
    /// Size of the int8 model file.
    pub model_bytes: usize,
    /// Native nDCG@10 with f32 and int8 weights, when computed.
    pub reference: Option<(f64, f64)>,
    /// Whether the wasm package was there to copy.
    pub has_pkg: bool,
    /// The files laid out, relative to `dir` (what the demo server serves, and nothing else).
    pub files: Vec<PathBuf>,
}

/// Whether `pkg` holds the wasm-bindgen files the page loads.
pub fn has_pkg(pkg: &Path) -> bool {
    PKG_FILES.iter().all(|f| pkg.join(f).is_file())
}

fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| PipelineError::io(path, e))
}

/// Writes the demo folder.
pub fn prepare_demo(opts: &DemoOptions, store: &Store, progress: &dyn Progress) -> Result<DemoFolder> {
    let task = load_task(store, &opts.task, opts.split.as_deref())?.subset(opts.subset);
    let model_dir = match resolve_model(&opts.model, store)? {
        ModelFiles::Folder(d) => d,
        ModelFiles::Gguf(f) => {
            return Err(PipelineError::Invalid(format!(
                "{}: the demo runs a BERT folder, not a GGUF file",
                f.display()
            )));
        }
    };
    claim_out_dir(&opts.dir, OutKind::Demo, opts.force)?;
    let mut files = Vec::new();
    let mut lay_out = |rel: &str, bytes: &[u8]| -> Result<PathBuf> {
        let path = opts.dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| PipelineError::io(parent, e))?;
        }
        write_atomic(&path, |w| w.write_all(bytes))?;
        files.push(PathBuf::from(rel));
        Ok(path)
    };
    let weights = quantize_bert(&model_dir)?.to_bytes();
    let model_file = lay_out("data/model.drbq", &weights)?;
    lay_out("data/tokenizer.json", &read(&model_dir.join("tokenizer.json"))?)?;
    let reference = if opts.reference {
        Some(reference(&task, &model_dir, &model_file, &CacheSettings::new(&opts.cache), progress)?)
    } else {
        None
    };
    let scores = reference.as_ref().map(|r| (r.native_f32, r.native_int8));
    let subset = demo_data(&task, opts.subset, &opts.model, reference);
    lay_out("data/subset.json", serde_json::to_string(&subset).expect("plain data").as_bytes())?;
    for (name, text) in PAGE {
        lay_out(name, text.as_bytes())?;
    }
    let has_pkg = has_pkg(&opts.pkg);
    if has_pkg {
        for f in PKG_FILES {
            lay_out(&format!("pkg/{f}"), &read(&opts.pkg.join(f))?)?;
        }
    }
    Ok(DemoFolder {
        dir: opts.dir.clone(),
        task: task.info.name.clone(),
        queries: task.queries.len(),
        docs: task.corpus.len(),
        model_bytes: weights.len(),
        reference: scores,
        has_pkg,
        files,
    })
}

/// nDCG@10 of the subset natively — candle f32 (the golden value) and candle on the int8 file dequantized (what
/// the page's kernels compute, up to float rounding) — through the embedding cache, plus two queries' and two
/// documents' token ids and embeddings.
fn reference(
    task: &Task,
    model_dir: &Path,
    int8: &Path,
    cache: &CacheSettings,
    progress: &dyn Progress,
) -> Result<DemoReference> {
    let dev = device(DeviceKind::Cpu)?;
    let pooling = folder_pooling(model_dir);
    let mode = if pooling == Pooling::Cls { Mode::Cls } else { Mode::Mean };
    let spec = EncoderSpec {
        files: ModelFiles::Folder(model_dir.to_path_buf()),
        tokenizer: None,
        mode,
        max_length: None,
        device: DeviceKind::Cpu,
        cuda_ordinal: 0,
        precision: Precision::F32,
        gguf: GgufWeights::Quantized,
        normalize: true,
        batch_size: 16,
        max_batch_tokens: None,
        adapter: None,
        merge_adapter: false,
    };
    let opts = BertOptions { pooling: Some(pooling), ..BertOptions::default() };
    let mut f32_enc = BertEncoder::load(model_dir, opts.clone(), &dev, Signed::of_spec(&spec)?)?;
    let int8_signature = EncoderSignature::of_int8_bert(int8, model_dir, mode)?.canonical();
    let mut int8_enc =
        BertEncoder::load_int8(int8, model_dir, opts, &dev, Signed { canonical: int8_signature, legacy: None })?;
    let cell =
        CellOptions { k: 100, measures: vec![Measure::Ndcg(Some(10))], remove_query_self: task.info.remove_query_self };
    let ndcg = |enc: &mut dyn Encoder| -> Result<f64> {
        let out = run_cell(task, Retriever::Dense { encoder: enc, cache }, &cell, progress)?;
        Ok(out.evaluation.map_or(f64::NAN, |e| e.mean[0]))
    };
    let (native_f32, native_int8) = (ndcg(&mut f32_enc)?, ndcg(&mut int8_enc)?);
    let mut texts: Vec<(Role, String)> =
        task.queries.iter().take(2).map(|q| (Role::Query, q.text.to_string())).collect();
    texts.extend(task.corpus.iter().take(2).map(|d| (Role::Passage, d.flat_text())));
    let mut embeddings = Vec::new();
    for (role, text) in texts {
        let f32 = f32_enc.encode(&[&text], role).map_err(PipelineError::Encode)?;
        let int8 = int8_enc.encode(&[&text], role).map_err(PipelineError::Encode)?;
        embeddings.push(EmbeddingCheck { ids: f32_enc.token_ids(&text)?, text, f32, int8 });
    }
    Ok(DemoReference {
        measure: Measure::Ndcg(Some(10)).to_string(),
        native_f32,
        native_int8,
        by: "drbench on candle (CPU): f32 weights, and the same int8 file dequantized".into(),
        embeddings,
    })
}

/// The subset as the page reads it.
fn demo_data(task: &Task, subset: SubsetSpec, model: &str, reference: Option<DemoReference>) -> DemoData {
    let mut qrels = String::new();
    for q in task.qrels.query_ids() {
        for (d, g) in task.qrels.get(q).expect("listed").iter_sorted() {
            let _ = writeln!(qrels, "{q} 0 {d} {g}");
        }
    }
    DemoData {
        task: task.info.name.clone(),
        split: task.info.split.clone(),
        subset,
        model: model.to_string(),
        docs: task
            .corpus
            .iter()
            .map(|d| DemoDoc { id: d.id.to_string(), title: d.title.to_string(), text: d.text.to_string() })
            .collect(),
        queries: task.queries.iter().map(|q| DemoQuery { id: q.id.to_string(), text: q.text.to_string() }).collect(),
        qrels,
        reference,
    }
}
