//! BEIR folders: `corpus.jsonl`, `queries.jsonl` and `qrels/<split>.tsv` (header `query-id corpus-id score`).

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::data::{Collection, Qrels};
use crate::error::{Error, Result};

use super::fields::{parse_grade, trec_id, utf8};
use super::lines::{LineReader, Loaded, SkipLog, Strictness};

#[derive(Deserialize)]
struct JsonRecord<'a> {
    #[serde(rename = "_id", alias = "id", borrow, deserialize_with = "id_string")]
    id: Cow<'a, str>,
    #[serde(default, borrow)]
    title: Option<Cow<'a, str>>,
    #[serde(borrow)]
    text: Cow<'a, str>,
}

/// Accepts a string id, or an integer id (some BEIR exports write numeric `_id`s).
fn id_string<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Cow<'de, str>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Id<'a> {
        #[serde(borrow)]
        Str(Cow<'a, str>),
        Int(i64),
    }
    Ok(match Id::deserialize(d)? {
        Id::Str(s) => s,
        Id::Int(i) => Cow::Owned(i.to_string()),
    })
}

/// Reads a JSONL collection (`{"_id","title","text"}` per line; `title` optional; other keys ignored); a `.gz`
/// name is decompressed as it is read.
pub fn read_jsonl_collection(path: &Path, strictness: Strictness) -> Result<Loaded<Collection>> {
    let mut lines = LineReader::open_maybe_gz(path)?;
    let mut log = SkipLog::new(strictness);
    let mut coll = Collection::new();
    let mut line_of: Vec<u64> = Vec::new();
    while let Some(line) = lines.next_str()? {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<JsonRecord<'_>>(line) {
            Ok(r) => match trec_id(&r.id, "id") {
                Ok(id) => {
                    coll.push(id, r.title.as_deref().unwrap_or(""), &r.text);
                    line_of.push(lines.line_no());
                }
                Err(msg) => log.skip(lines.error(msg))?,
            },
            Err(e) => {
                let msg = json_error(&e);
                log.skip(lines.error(msg))?;
            }
        }
    }
    if lines.line_no() == 0 {
        return Err(Error::file(path, "file is empty"));
    }
    finish_unique(path, coll, &line_of, log)
}

/// serde_json's message without its "at line 1 column N" suffix (the line is ours), with the column kept.
fn json_error(e: &serde_json::Error) -> String {
    let text = e.to_string();
    let what = text.rsplit_once(" at line ").map_or(text.as_str(), |(w, _)| w);
    format!("bad JSON record at column {}: {what}", e.column())
}

/// Builds the id index; a duplicate id is an error naming the line of its second occurrence
/// (in lenient mode the collection keeps the first occurrence).
fn finish_unique(path: &Path, mut coll: Collection, line_of: &[u64], mut log: SkipLog) -> Result<Loaded<Collection>> {
    let Err((first, second)) = coll.finish() else {
        return Ok(log.finish(coll));
    };
    let id = coll.get(second).id.to_string();
    log.skip(Error::parse(
        path,
        line_of[second],
        format!("duplicate id {id:?} (first seen on line {})", line_of[first]),
    ))?;
    let mut seen = rustc_hash::FxHashSet::default();
    let mut out = Collection::new();
    for (i, r) in coll.iter().enumerate() {
        if seen.insert(r.id) {
            out.push(r.id, r.title, r.text);
        } else if i != second {
            log.skip(Error::parse(path, line_of[i], format!("duplicate id {:?}", r.id)))?;
        }
    }
    out.finish().expect("deduplicated");
    Ok(log.finish(out))
}

/// Reads a BEIR qrels TSV (`.tsv` or `.tsv.gz`): header line `query-id<TAB>corpus-id<TAB>score`, then 3
/// tab-separated columns.
pub fn read_beir_qrels(path: &Path, strictness: Strictness) -> Result<Loaded<Qrels>> {
    let mut lines = LineReader::open_maybe_gz(path)?;
    let mut log = SkipLog::new(strictness);
    let mut qrels = Qrels::new();
    let header = match lines.next_bytes()? {
        None => return Err(Error::file(path, "file is empty")),
        Some(h) => h.to_vec(),
    };
    if !is_beir_qrels_header(&header) {
        return Err(Error::parse(path, 1, "expected the header `query-id<TAB>corpus-id<TAB>score`"));
    }
    while let Some(line) = lines.next_bytes()? {
        if line.iter().all(|b| b.is_ascii_whitespace()) {
            continue;
        }
        let parsed = (|| {
            let cols: Vec<&[u8]> = line.split(|&b| b == b'\t').collect();
            if cols.len() != 3 {
                return Err(format!(
                    "expected 3 tab-separated columns (query-id corpus-id score), found {}",
                    cols.len()
                ));
            }
            let query = trec_id(utf8(cols[0], "query id")?, "query id")?;
            Ok((query, trec_id(utf8(cols[1], "document id")?, "document id")?, parse_grade(cols[2])?))
        })();
        if let Some(msg) = qrels.add_judgment(parsed) {
            log.skip(lines.error(msg))?;
        }
    }
    Ok(log.finish(qrels))
}

/// True when `line` is a BEIR qrels header.
pub fn is_beir_qrels_header(line: &[u8]) -> bool {
    let cols: Vec<&[u8]> = line.split(|&b| b == b'\t').map(|c| c.trim_ascii()).collect();
    cols.len() == 3 && cols[0] == b"query-id" && cols[1] == b"corpus-id" && cols[2] == b"score"
}

/// A BEIR dataset folder on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BeirFolder {
    root: PathBuf,
}

impl BeirFolder {
    /// A folder that must hold `corpus.jsonl` (queries and qrels are checked when read).
    pub fn open(root: impl Into<PathBuf>) -> Result<Self> {
        let root = root.into();
        let corpus = root.join("corpus.jsonl");
        if !corpus.is_file() {
            return Err(Error::file(&root, "not a BEIR folder: corpus.jsonl is missing"));
        }
        Ok(BeirFolder { root })
    }

    /// True when `root` looks like a BEIR folder (has corpus.jsonl or queries.jsonl + qrels/).
    pub fn looks_like(root: &Path) -> bool {
        root.join("corpus.jsonl").is_file() || (root.join("queries.jsonl").is_file() && root.join("qrels").is_dir())
    }

    /// The folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Path of `corpus.jsonl`.
    pub fn corpus_path(&self) -> PathBuf {
        self.root.join("corpus.jsonl")
    }

    /// Path of `queries.jsonl`.
    pub fn queries_path(&self) -> PathBuf {
        self.root.join("queries.jsonl")
    }

    /// Path of `qrels/<split>.tsv`.
    pub fn qrels_path(&self, split: &str) -> PathBuf {
        self.root.join("qrels").join(format!("{split}.tsv"))
    }

    /// The splits present (`qrels/*.tsv`), sorted.
    pub fn splits(&self) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(self.root.join("qrels"))
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| e.file_name().to_str().and_then(|n| n.strip_suffix(".tsv")).map(str::to_string))
            .collect();
        v.sort();
        v
    }

    /// Reads the corpus (strict).
    pub fn corpus(&self) -> Result<Collection> {
        Ok(read_jsonl_collection(&self.corpus_path(), Strictness::Strict)?.value)
    }

    /// Reads the queries (strict).
    pub fn queries(&self) -> Result<Collection> {
        Ok(read_jsonl_collection(&self.queries_path(), Strictness::Strict)?.value)
    }

    /// Reads the qrels of `split` (strict).
    pub fn qrels(&self, split: &str) -> Result<Qrels> {
        let path = self.qrels_path(split);
        if !path.is_file() {
            let have = self.splits().join(", ");
            return Err(Error::file(&path, format!("no such split {split:?} (this folder has: {have})")));
        }
        Ok(read_beir_qrels(&path, Strictness::Strict)?.value)
    }
}
