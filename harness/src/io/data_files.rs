//! The files that make one dataset, whatever their layout: the corpus, the queries and each split's qrels, each
//! a list of data files (JSONL, JSONL.gz, BEIR qrels TSV, parquet). A BEIR folder is one such list; a Hugging Face
//! dataset snapshot (MTEB's parquet configs, CoIR's per-language configs) is another. Read into the data model
//! here, so every layout goes through the same readers and the same duplicate checks.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::data::{Collection, Qrels};
use crate::error::{Error, Result};

use super::beir::{BeirFolder, read_jsonl_collection};
use super::lines::Strictness;
use super::msmarco::read_tsv_collection;
use super::qrels::read_qrels;

/// How one data file is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DataFormat {
    /// One JSON record per line (`.jsonl`, `.jsonl.gz`).
    Jsonl,
    /// Tab-separated text (`.tsv`, `.tsv.gz`): an `id<TAB>text` collection (MS MARCO), or qrels — BEIR's TSV with
    /// its header, or TREC's `qid 0 docid rel` (MS MARCO's `qrels.*.tsv`, NIST's qrels), told apart by the first
    /// line.
    Tsv,
    /// Apache Parquet (`.parquet`).
    Parquet,
}

impl DataFormat {
    /// The format a file name implies, or None for a file that is not data (README.md, .gitattributes).
    pub fn from_name(name: &str) -> Option<DataFormat> {
        let name = name.strip_suffix(".gz").unwrap_or(name);
        if name.ends_with(".jsonl") || name.ends_with(".json") {
            Some(DataFormat::Jsonl)
        } else if name.ends_with(".tsv") {
            Some(DataFormat::Tsv)
        } else if name.ends_with(".parquet") {
            Some(DataFormat::Parquet)
        } else {
            None
        }
    }
}

/// One data file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataFile {
    /// Where it is.
    pub path: PathBuf,
    /// How it is encoded.
    pub format: DataFormat,
}

impl DataFile {
    /// A file whose format its name tells; an error naming it otherwise.
    pub fn from_path(path: impl Into<PathBuf>) -> Result<DataFile> {
        let path = path.into();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        match DataFormat::from_name(name) {
            Some(format) => Ok(DataFile { path, format }),
            None => Err(Error::file(&path, "not a data file drbench reads (.jsonl[.gz], .tsv[.gz], .parquet)")),
        }
    }
}

/// The files of one dataset.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct DatasetFiles {
    /// Documents, in order.
    pub corpus: Vec<DataFile>,
    /// Queries, in order.
    pub queries: Vec<DataFile>,
    /// Judgments per split.
    pub qrels: BTreeMap<String, Vec<DataFile>>,
}

impl DatasetFiles {
    /// The files of a BEIR folder (`corpus.jsonl`, `queries.jsonl`, `qrels/<split>.tsv`).
    pub fn beir(folder: &BeirFolder) -> DatasetFiles {
        let file = |path: PathBuf, format| DataFile { path, format };
        DatasetFiles {
            corpus: vec![file(folder.corpus_path(), DataFormat::Jsonl)],
            queries: vec![file(folder.queries_path(), DataFormat::Jsonl)],
            qrels: folder
                .splits()
                .into_iter()
                .map(|s| (s.clone(), vec![file(folder.qrels_path(&s), DataFormat::Tsv)]))
                .collect(),
        }
    }

    /// The qrels splits, sorted.
    pub fn splits(&self) -> Vec<String> {
        self.qrels.keys().cloned().collect()
    }

    /// Reads the corpus (strict; ids unique across all its files).
    pub fn corpus(&self) -> Result<Collection> {
        read_collection(&self.corpus, "corpus")
    }

    /// Reads the queries (strict; ids unique across all their files).
    pub fn queries(&self) -> Result<Collection> {
        read_collection(&self.queries, "queries")
    }

    /// Reads the qrels of `split` (strict; a repeated (query, document) pair is an error).
    pub fn qrels(&self, split: &str) -> Result<Qrels> {
        let Some(files) = self.qrels.get(split) else {
            let at = self.corpus.first().map_or_else(PathBuf::new, |f| f.path.clone());
            return Err(Error::file(
                at,
                format!("no such split {split:?} (this dataset has: {})", self.splits().join(", ")),
            ));
        };
        let mut qrels = Qrels::new();
        for f in files {
            match f.format {
                DataFormat::Tsv => {
                    let part = read_qrels(&f.path, None, Strictness::Strict)?.value;
                    merge_qrels(&mut qrels, part, &f.path)?;
                }
                #[cfg(feature = "parquet")]
                DataFormat::Parquet => {
                    super::parquet::read_parquet_qrels_into(&f.path, &mut qrels)?;
                }
                other => return Err(unsupported(&f.path, other, "qrels")),
            }
        }
        Ok(qrels)
    }
}

fn unsupported(path: &Path, format: DataFormat, what: &str) -> Error {
    Error::file(path, format!("{format:?} files cannot hold {what} (or this build lacks the `parquet` feature)"))
}

fn merge_qrels(into: &mut Qrels, part: Qrels, path: &Path) -> Result<()> {
    for (q, judged) in part.iter() {
        for (d, g) in judged.iter_sorted() {
            if let Some(msg) = into.add_judgment(Ok((q, d, g))) {
                return Err(Error::file(path, format!("{msg} (also in an earlier qrels file of the split)")));
            }
        }
    }
    Ok(())
}

/// Reads `files` into one collection; a duplicate id names the file and line (or row) of both occurrences.
fn read_collection(files: &[DataFile], what: &str) -> Result<Collection> {
    let Some(first) = files.first() else {
        return Err(Error::Invalid(format!("the dataset lists no {what} file")));
    };
    if files.len() == 1 && first.format == DataFormat::Jsonl {
        return Ok(read_jsonl_collection(&first.path, Strictness::Strict)?.value);
    }
    let mut coll = Collection::new();
    // For each record: (file index, 1-based line or row).
    let mut origin: Vec<(usize, u64)> = Vec::new();
    for (i, f) in files.iter().enumerate() {
        match f.format {
            DataFormat::Jsonl => {
                let part = read_jsonl_collection(&f.path, Strictness::Strict)?.value;
                for (n, r) in part.iter().enumerate() {
                    coll.push(r.id, r.title, r.text);
                    origin.push((i, n as u64 + 1));
                }
            }
            DataFormat::Tsv => {
                let part = read_tsv_collection(&f.path, Strictness::Strict)?.value;
                for (n, r) in part.iter().enumerate() {
                    coll.push(r.id, r.title, r.text);
                    origin.push((i, n as u64 + 1));
                }
            }
            #[cfg(feature = "parquet")]
            DataFormat::Parquet => {
                let mut rows = Vec::new();
                super::parquet::read_parquet_collection_into(&f.path, &mut coll, &mut rows)?;
                origin.extend(rows.into_iter().map(|r| (i, r)));
            }
            #[cfg(not(feature = "parquet"))]
            DataFormat::Parquet => return Err(unsupported(&f.path, DataFormat::Parquet, what)),
        }
    }
    if let Err((a, b)) = coll.finish() {
        let (fa, la) = origin[a];
        let (fb, lb) = origin[b];
        let unit = |f: &DataFile| if f.format == DataFormat::Parquet { "row" } else { "record" };
        return Err(Error::file(
            &files[fb].path,
            format!(
                "duplicate id {:?} at {} {lb} (first at {} {la} of {})",
                coll.get(b).id,
                unit(&files[fb]),
                unit(&files[fa]),
                files[fa].path.display()
            ),
        ));
    }
    Ok(coll)
}
