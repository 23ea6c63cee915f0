//! Shared argument groups: where qrels come from (a file, or a dataset + split), and reading them.

use std::path::PathBuf;

use anyhow::bail;
use clap::Args;
use drbench_harness::data::Qrels;
use drbench_harness::io::{QrelsFormat, Strictness, read_qrels};
use drbench_native::store::Store;

/// Where the relevance judgments come from.
#[derive(Debug, Clone, Args)]
pub struct QrelsArgs {
    /// Qrels file: TREC (`qid iter docid rel`) or BEIR TSV (`query-id corpus-id score` header); format detected.
    #[arg(long, value_name = "FILE", required_unless_present = "dataset")]
    pub qrels: Option<PathBuf>,
    /// Force the qrels format instead of detecting it.
    #[arg(long, value_name = "trec|beir")]
    pub qrels_format: Option<QrelsFormat>,
    /// Take the qrels from a dataset (registry name like beir/scifact, or a BEIR folder) instead of --qrels.
    #[arg(long, value_name = "NAME|DIR", conflicts_with = "qrels")]
    pub dataset: Option<String>,
    /// Qrels split of --dataset (default: the dataset's default split, usually test).
    #[arg(long, requires = "dataset")]
    pub split: Option<String>,
    /// Skip malformed lines (counted and reported) instead of stopping at the first one.
    #[arg(long)]
    pub lenient: bool,
}

impl QrelsArgs {
    pub fn strictness(&self) -> Strictness {
        if self.lenient { Strictness::Lenient } else { Strictness::Strict }
    }

    /// Loads the qrels, warning about skipped lines.
    pub fn load(&self) -> anyhow::Result<Qrels> {
        let path = match (&self.qrels, &self.dataset) {
            (Some(p), _) => p.clone(),
            (None, Some(name)) => {
                let resolved = Store::from_env().resolve(name)?;
                let split = match (&self.split, &resolved.spec) {
                    (Some(s), _) => s.clone(),
                    (None, Some(spec)) => spec.default_split.clone(),
                    (None, None) => "test".to_string(),
                };
                resolved.folder.join("qrels").join(format!("{split}.tsv"))
            }
            (None, None) => bail!("give --qrels FILE or --dataset NAME"),
        };
        let loaded = read_qrels(&path, self.qrels_format, self.strictness())?;
        warn_skipped(loaded.skipped, loaded.first_skipped.as_ref());
        if loaded.value.is_empty() {
            bail!("{}: no judgments", path.display());
        }
        Ok(loaded.value)
    }
}

/// Prints the lenient-mode warning.
pub fn warn_skipped(skipped: u64, first: Option<&drbench_harness::Error>) {
    if skipped > 0 {
        let first = first.map(|e| format!(" (first: {e})")).unwrap_or_default();
        eprintln!("drbench: warning: skipped {skipped} malformed line(s){first}");
    }
}
