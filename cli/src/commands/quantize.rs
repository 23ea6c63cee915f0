//! `drbench quantize`: a BERT sentence encoder → one int8 weight file (header, per-row scales, sha256) for the
//! browser runner.

use std::io::Write as _;
use std::path::PathBuf;

use anyhow::bail;
use drbench_harness::io::atomic::write_atomic;
use drbench_native::encoders::quantize::quantize_bert;
use drbench_native::encoders::source::{ModelFiles, resolve_model};
use drbench_native::store::Store;

#[derive(Debug, clap::Args)]
pub struct QuantizeArgs {
    /// Encoder: a Hugging Face BERT folder (e.g. all-MiniLM-L6-v2) or `mirror:NAME`.
    #[arg(long, value_name = "SRC")]
    model: String,
    /// Output file (conventionally `.drbq`).
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
}

pub fn run(a: QuantizeArgs) -> anyhow::Result<std::process::ExitCode> {
    let dir = match resolve_model(&a.model, &Store::from_env())? {
        ModelFiles::Folder(d) => d,
        ModelFiles::Gguf(f) => bail!("{}: quantize takes a BERT folder, not a GGUF file", f.display()),
    };
    super::outputs::refuse_input_as_output(&a.out, &[&dir])?;
    let q = quantize_bert(&dir)?;
    let bytes = q.to_bytes();
    write_atomic(&a.out, |w| w.write_all(&bytes))?;
    let source: u64 = std::fs::metadata(dir.join("model.safetensors")).map(|m| m.len()).unwrap_or(0);
    println!(
        "{}: {} tensors, {:.1} MB (from {:.1} MB of safetensors), sha256 trailer",
        a.out.display(),
        q.tensors.len(),
        bytes.len() as f64 / 1e6,
        source as f64 / 1e6
    );
    Ok(std::process::ExitCode::SUCCESS)
}
