//! `drbench embed`: embeddings of a JSONL file of texts, for parity checks and external use.

use std::io::{BufRead, Write};
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::Args;
use drbench_harness::encoder::Role;
use drbench_native::encoders::build::build_encoder;
use serde::Deserialize;

use super::model_args::ModelArgs;

#[derive(Debug, Args)]
pub struct EmbedArgs {
    #[command(flatten)]
    model: ModelArgs,
    /// Whether the texts are queries or passages (prompts differ).
    #[arg(long, value_enum)]
    role: RoleArg,
    /// Input JSONL: one `{"id", "text"[, "title"]}` per line (passages: title + " " + text when a title is given).
    #[arg(long, value_name = "FILE")]
    input: PathBuf,
    /// Output JSONL: one `{"id", "embedding": [...]}` per line.
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum RoleArg {
    Query,
    Passage,
}

#[derive(Deserialize)]
struct Line {
    #[serde(alias = "_id")]
    id: String,
    text: String,
    #[serde(default)]
    title: Option<String>,
}

pub fn run(a: EmbedArgs) -> anyhow::Result<std::process::ExitCode> {
    let role = match a.role {
        RoleArg::Query => Role::Query,
        RoleArg::Passage => Role::Passage,
    };
    super::outputs::refuse_input_as_output(&a.out, &[&a.input])?;
    let file = std::fs::File::open(&a.input).with_context(|| a.input.display().to_string())?;
    let mut ids = Vec::new();
    let mut texts = Vec::new();
    for (i, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.with_context(|| format!("{}:{}", a.input.display(), i + 1))?;
        if line.trim().is_empty() {
            continue;
        }
        let l: Line = serde_json::from_str(&line)
            .map_err(|e| anyhow::anyhow!("{}:{}: bad JSON record: {e}", a.input.display(), i + 1))?;
        let text = match (&l.title, role) {
            (Some(t), Role::Passage) => format!("{t} {}", l.text),
            _ => l.text,
        };
        ids.push(l.id);
        texts.push(text);
    }
    if texts.is_empty() {
        bail!("{}: no records", a.input.display());
    }
    let mut encoder = build_encoder(&a.model.spec(&drbench_native::store::Store::from_env())?)?;
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let t = std::time::Instant::now();
    let emb = encoder.encode(&refs, role).map_err(|e| anyhow::anyhow!("encoding failed: {e}"))?;
    let secs = t.elapsed().as_secs_f64();
    let tokens = encoder.tokens_processed();
    eprintln!(
        "encoded {} texts ({tokens} tokens, padding excluded) in {secs:.3}s: {:.2} texts/s, {:.1} tokens/s",
        texts.len(),
        texts.len() as f64 / secs,
        tokens as f64 / secs
    );
    let dim = encoder.dim();
    if let Some(i) = emb.iter().position(|x| !x.is_finite()) {
        bail!(
            "{}: the embedding of {:?} holds a non-finite number (NaN or inf) from {}; nothing written",
            a.input.display(),
            ids[i / dim.max(1)],
            encoder.signature()
        );
    }
    drbench_harness::io::atomic::write_atomic(&a.out, |w| {
        for (i, id) in ids.iter().enumerate() {
            let line = EmbeddingLine { id, embedding: &emb[i * dim..(i + 1) * dim] };
            serde_json::to_writer(&mut *w, &line)?;
            writeln!(w)?;
        }
        Ok(())
    })?;
    eprintln!("{} embeddings of dimension {dim} written to {}", ids.len(), a.out.display());
    Ok(std::process::ExitCode::SUCCESS)
}

/// One line of the JSONL `drbench embed` writes.
#[derive(serde::Serialize)]
struct EmbeddingLine<'a> {
    id: &'a str,
    embedding: &'a [f32],
}
