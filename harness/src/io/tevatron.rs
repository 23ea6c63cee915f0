//! Training groups in Tevatron's JSONL layout: one query per line with its positive and (hard) negative
//! passages — `{"query_id", "query", "positive_passages": [{"docid","title","text"}], "negative_passages": [...]}`.

use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::atomic::write_atomic;
use super::lines::LineReader;
use crate::error::{Error, Result};

/// One passage of a training group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrainPassage {
    /// Document id.
    pub docid: String,
    /// Title (may be empty).
    #[serde(default)]
    pub title: String,
    /// Body text.
    pub text: String,
}

impl TrainPassage {
    /// `title + " " + text`, as BEIR passages are encoded everywhere else in drbench.
    pub fn flat_text(&self) -> String {
        format!("{} {}", self.title, self.text)
    }
}

/// One query with its positives and negatives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrainGroup {
    /// Query id.
    pub query_id: String,
    /// Query text.
    pub query: String,
    /// Judged relevant passages (at least one).
    pub positive_passages: Vec<TrainPassage>,
    /// Negatives (hard negatives from retrievers, judged positives excluded).
    #[serde(default)]
    pub negative_passages: Vec<TrainPassage>,
}

/// Reads a Tevatron JSONL file (gzip when named `.gz`, as Tevatron's `train.jsonl.gz`); every group needs a
/// positive. Errors name the file and line.
pub fn read_train_groups(path: &Path) -> Result<Vec<TrainGroup>> {
    let mut reader = LineReader::open_maybe_gz(path)?;
    let mut groups = Vec::new();
    while let Some(line) = reader.next_str()? {
        if line.trim().is_empty() {
            continue;
        }
        let group: TrainGroup = match serde_json::from_str(line) {
            Ok(g) => g,
            Err(e) => return Err(reader.error(format!("not a Tevatron training group: {e}"))),
        };
        if group.positive_passages.is_empty() {
            return Err(reader.error(format!("query {:?} has no positive_passages", group.query_id)));
        }
        groups.push(group);
    }
    if groups.is_empty() {
        return Err(Error::file(path, "no training groups"));
    }
    Ok(groups)
}

/// Writes groups as Tevatron JSONL, atomically.
pub fn write_train_groups(path: &Path, groups: &[TrainGroup]) -> Result<()> {
    write_atomic(path, |w| {
        for g in groups {
            serde_json::to_writer(&mut *w, g).map_err(std::io::Error::other)?;
            w.write_all(b"\n")?;
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn passage(id: &str) -> TrainPassage {
        TrainPassage { docid: id.into(), title: format!("T{id}"), text: format!("text of {id}") }
    }

    #[test]
    fn round_trip_and_errors_name_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("train.jsonl");
        let groups = vec![TrainGroup {
            query_id: "1".into(),
            query: "q \"one\"".into(),
            positive_passages: vec![passage("a")],
            negative_passages: vec![passage("b"), passage("c")],
        }];
        write_train_groups(&path, &groups).unwrap();
        assert_eq!(read_train_groups(&path).unwrap(), groups);
        let gz = dir.path().join("train.jsonl.gz");
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut enc, &std::fs::read(&path).unwrap()).unwrap();
        let bytes = enc.finish().unwrap();
        std::fs::write(&gz, &bytes).unwrap();
        assert_eq!(read_train_groups(&gz).unwrap(), groups);
        std::fs::write(&gz, &bytes[..bytes.len() / 2]).unwrap();
        let err = read_train_groups(&gz).unwrap_err().to_string();
        assert!(err.contains("train.jsonl.gz"), "a truncated gzip names the file: {err}");

        // Tevatron's own files may omit titles; a group without positives is an error on its line.
        std::fs::write(
            &path,
            "{\"query_id\":\"1\",\"query\":\"q\",\"positive_passages\":[{\"docid\":\"a\",\"text\":\"t\"}],\"negative_passages\":[]}\n\
             {\"query_id\":\"2\",\"query\":\"q\",\"positive_passages\":[],\"negative_passages\":[]}\n",
        )
        .unwrap();
        let err = read_train_groups(&path).unwrap_err().to_string();
        assert!(err.ends_with("train.jsonl:2: query \"2\" has no positive_passages"), "{err}");
        std::fs::write(&path, "{\"query_id\": 1}\n").unwrap();
        let err = read_train_groups(&path).unwrap_err().to_string();
        assert!(err.contains("train.jsonl:1: not a Tevatron training group"), "{err}");
    }
}
