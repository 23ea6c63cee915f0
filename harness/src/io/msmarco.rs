//! MS MARCO TSV files: `collection.tsv` / `queries.*.tsv` (`id<TAB>text`); its qrels are TREC qrels.

use std::path::Path;

use crate::data::Collection;
use crate::error::{Error, Result};

use super::lines::{LineReader, Loaded, SkipLog, Strictness};

/// Reads an `id<TAB>text` file (MS MARCO collection or queries; gzip when named `.gz`) into a collection with
/// empty titles.
pub fn read_tsv_collection(path: &Path, strictness: Strictness) -> Result<Loaded<Collection>> {
    let mut lines = LineReader::open_maybe_gz(path)?;
    let mut log = SkipLog::new(strictness);
    let mut coll = Collection::new();
    let mut line_of = Vec::new();
    while let Some(line) = lines.next_str()? {
        if line.is_empty() {
            continue;
        }
        match line.split_once('\t') {
            Some((id, text)) if !text.contains('\t') => match super::fields::trec_id(id, "id") {
                Ok(id) => {
                    coll.push(id, "", text);
                    line_of.push(lines.line_no());
                }
                Err(msg) => log.skip(lines.error(msg))?,
            },
            _ => {
                let err = lines.error("expected 2 tab-separated columns (id, text)");
                log.skip(err)?;
            }
        }
    }
    if lines.line_no() == 0 {
        return Err(Error::file(path, "file is empty"));
    }
    if let Err((first, second)) = coll.finish() {
        let id = coll.get(second).id.to_string();
        return Err(Error::parse(
            path,
            line_of[second],
            format!("duplicate id {id:?} (first seen on line {})", line_of[first]),
        ));
    }
    Ok(log.finish(coll))
}
