//! Reading qrels in either format, detected from the first line or chosen explicitly.

use std::io::BufRead;
use std::path::Path;
use std::str::FromStr;

use crate::data::Qrels;
use crate::error::{Error, Result};

use super::beir::{is_beir_qrels_header, read_beir_qrels};
use super::lines::{Loaded, Strictness, open_maybe_gz};
use super::trec::read_trec_qrels;

/// The on-disk layout of a qrels file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QrelsFormat {
    /// `qid iter docid rel`, whitespace-separated (TREC, MS MARCO).
    Trec,
    /// BEIR TSV with the header `query-id corpus-id score`.
    Beir,
}

impl FromStr for QrelsFormat {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "trec" => Ok(QrelsFormat::Trec),
            "beir" | "tsv" => Ok(QrelsFormat::Beir),
            _ => Err(Error::Invalid(format!("unknown qrels format {s:?} (trec or beir)"))),
        }
    }
}

/// Detects the format from the first line: a BEIR header means BEIR, anything else TREC.
pub fn detect_qrels_format(path: &Path) -> Result<QrelsFormat> {
    let mut reader = open_maybe_gz(path)?;
    let mut first = Vec::new();
    reader.read_until(b'\n', &mut first).map_err(|e| Error::io(path, e))?;
    if first.is_empty() {
        return Err(Error::file(path, "file is empty"));
    }
    let line = first.strip_suffix(b"\n").unwrap_or(&first);
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    Ok(if is_beir_qrels_header(line) { QrelsFormat::Beir } else { QrelsFormat::Trec })
}

/// Reads qrels from `path` in `format` (detected when `None`).
pub fn read_qrels(path: &Path, format: Option<QrelsFormat>, strictness: Strictness) -> Result<Loaded<Qrels>> {
    let format = match format {
        Some(f) => f,
        None => detect_qrels_format(path)?,
    };
    match format {
        QrelsFormat::Trec => read_trec_qrels(path, strictness),
        QrelsFormat::Beir => read_beir_qrels(path, strictness),
    }
}
