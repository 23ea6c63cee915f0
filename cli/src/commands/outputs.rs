//! `--out` never replaces an input: the output path is compared, after canonicalisation, with every input file
//! and with the data files of every input folder (a dataset's `corpus.jsonl`, `queries.jsonl`, `qrels/*.tsv`, a
//! model's `model.safetensors`, a result folder's `results.json`); an output folder that drbench did not make is
//! written into only with `--force` ([`ForceArg`], checked by `drbench_pipeline::out_dir`).

use std::path::{Path, PathBuf};

use anyhow::bail;

/// `--force`, flattened into every command that writes an output folder.
#[derive(Debug, Clone, Copy, clap::Args)]
pub struct ForceArg {
    /// Write into the output folder even when it exists and holds files drbench did not write there (files of
    /// the names drbench writes are replaced; others are left alone). drbench marks its own folders with a
    /// `.drbench` file and needs no --force for them.
    #[arg(long)]
    pub force: bool,
}

/// Name endings of the data files a dataset, model or results folder holds.
const DATA_FILE_ENDINGS: &[&str] =
    &[".jsonl", ".jsonl.gz", ".tsv", ".tsv.gz", ".parquet", ".json", ".safetensors", ".gguf", ".bin"];

/// Refuses `out` when it is one of `inputs` (files or folders), or a data file inside an input folder.
pub fn refuse_input_as_output(out: &Path, inputs: &[&Path]) -> anyhow::Result<()> {
    let Some(target) = canonical_target(out) else { return Ok(()) };
    for input in inputs {
        let Ok(canonical) = input.canonicalize() else { continue };
        if canonical == target {
            bail!("--out {}: that is an input ({}); write somewhere else", out.display(), input.display());
        }
        if canonical.is_dir() && target.exists() && is_data_file_of(&canonical, &target) {
            bail!(
                "--out {}: that is a data file of the input folder {}; write somewhere else",
                out.display(),
                input.display()
            );
        }
    }
    Ok(())
}

/// `out` canonicalised, or its folder canonicalised joined with its name when it does not exist yet.
fn canonical_target(out: &Path) -> Option<PathBuf> {
    if let Ok(c) = out.canonicalize() {
        return Some(c);
    }
    let parent = out.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    Some(parent.canonicalize().ok()?.join(out.file_name()?))
}

/// Whether `file` is a data file of dataset folder `dir`: anything in its `qrels/`, or a file in it with a data
/// file's ending (a run written beside the data, `run.trec`, is not one).
fn is_data_file_of(dir: &Path, file: &Path) -> bool {
    let Some(parent) = file.parent() else { return false };
    if parent.parent() == Some(dir) && parent.file_name().is_some_and(|n| n == "qrels") {
        return true;
    }
    let name = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    parent == dir && DATA_FILE_ENDINGS.iter().any(|e| name.ends_with(e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outputs_that_are_inputs_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir(d.join("qrels")).unwrap();
        for f in ["corpus.jsonl", "qrels/test.tsv", "run.trec.in"] {
            std::fs::write(d.join(f), "x").unwrap();
        }
        let input = d.join("run.trec.in");
        // (output, inputs, refused)
        let cases: &[(PathBuf, Vec<&Path>, bool)] = &[
            (input.clone(), vec![&input], true),
            (d.join("qrels/../run.trec.in"), vec![&input], true),
            (d.join("corpus.jsonl"), vec![d], true),
            (d.join("qrels/test.tsv"), vec![d], true),
            (d.join("new-run.trec"), vec![d], false),
            (d.join("run.trec.in"), vec![d], false),
            (d.join("out.trec"), vec![&input], false),
        ];
        for (out, inputs, refused) in cases {
            assert_eq!(refuse_input_as_output(out, inputs).is_err(), *refused, "{}", out.display());
        }
    }
}
