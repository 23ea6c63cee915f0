//! `drbench embed`: embeddings of a JSONL file of texts, as JSONL or a `.npy` matrix + ids, for parity checks and
//! external use.

use std::io::{BufRead, Write};
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::Args;
use drbench_harness::encoder::Role;
use drbench_harness::io::fields::is_trec_field;
use drbench_harness::io::npy::{RowType, write_npy};
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
    /// Output: JSONL, one `{"id", "embedding": [...]}` per line; or, when the name ends in `.npy`, a NumPy matrix
    /// (rows in input order) with the ids one per line beside it (`--ids-out`), as `drbench search` reads them.
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// The ids file of a `.npy` output (default: the output's name with `.ids` for `.npy`).
    #[arg(long, value_name = "FILE")]
    ids_out: Option<PathBuf>,
    /// The value type of a `.npy` output: f32, or f16 (half the size; rounded to nearest).
    #[arg(long, value_enum, default_value = "f32")]
    npy_dtype: DtypeArg,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum DtypeArg {
    F32,
    F16,
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
    let npy = a.out.extension().is_some_and(|e| e == "npy");
    let ids_out = match (&a.ids_out, npy) {
        (Some(p), true) => Some(p.clone()),
        (None, true) => Some(a.out.with_extension("ids")),
        (Some(_), false) => bail!("--ids-out is for a .npy --out (JSONL output holds its ids)"),
        (None, false) => None,
    };
    if a.npy_dtype == DtypeArg::F16 && !npy {
        bail!("--npy-dtype f16 is for a .npy --out (JSONL output holds the f32 values)");
    }
    if let Some(ids) = &ids_out {
        super::outputs::refuse_input_as_output(ids, &[&a.input, &a.out])?;
    }
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
    // Before the encoding: ids a .npy output's ids file cannot hold.
    if ids_out.is_some()
        && let Some(bad) = ids.iter().find(|id| !is_trec_field(id))
    {
        bail!("{}: id {bad:?} cannot be written one per line (empty, or holds whitespace)", a.input.display());
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
    if let Some(ids_out) = &ids_out {
        let row_type = match a.npy_dtype {
            DtypeArg::F32 => RowType::F32,
            DtypeArg::F16 => RowType::F16,
        };
        write_npy(&a.out, &emb, dim, row_type)?;
        drbench_harness::io::atomic::write_atomic(ids_out, |w| ids.iter().try_for_each(|id| writeln!(w, "{id}")))?;
        eprintln!(
            "{} embeddings of dimension {dim} written to {} ({}), ids to {}",
            ids.len(),
            a.out.display(),
            row_type.descr(),
            ids_out.display()
        );
        return Ok(std::process::ExitCode::SUCCESS);
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
