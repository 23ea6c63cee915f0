//! trec_eval's preference files read by its rules: `prefs` (`qid jg jsg docno rel_level`) and a qrels file read as
//! preferences (`qrels_prefs`: `qid jg docno rel_level`, the second field the judgment group, one sub-group).

use std::path::Path;

use crate::{Error, Result};

use super::super::input::{atof, content_lines, fields};

/// One preference line: a document's relevance level within a judgment sub-group of a judgment group.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pref<'a> {
    /// Judgment group (one user's information need).
    pub jg: &'a [u8],
    /// Judgment sub-group: the levels of one sub-group order its documents.
    pub jsg: &'a [u8],
    /// Document id.
    pub docno: &'a [u8],
    /// Relevance level (`atof`); 0 means nonrelevant.
    pub rel_level: f64,
}

/// The preference lines of one query, in file order.
#[derive(Debug, Clone)]
pub struct QueryPrefs<'a> {
    /// Query id.
    pub qid: &'a [u8],
    /// Its lines.
    pub prefs: Vec<Pref<'a>>,
}

/// All preference judgments of a file, queries sorted by id.
#[derive(Debug, Clone, Default)]
pub struct Prefs<'a> {
    /// The queries in `strcmp` order.
    pub queries: Vec<QueryPrefs<'a>>,
}

/// The sub-group trec_eval gives every line of a `qrels_prefs` file.
const QRELS_PREFS_JSG: &[u8] = b"0";

/// Reads a `prefs` file (`qid jg jsg docno rel_level`, exactly five fields).
pub fn parse_prefs<'a>(path: &Path, buf: &'a [u8]) -> Result<Prefs<'a>> {
    parse(path, buf, false)
}

/// Reads a qrels file as preferences (`qid jg docno rel_level`): the second field is the judgment group, and
/// every line is in one sub-group, so each level is preferred to every lower one.
pub fn parse_qrels_prefs<'a>(path: &Path, buf: &'a [u8]) -> Result<Prefs<'a>> {
    parse(path, buf, true)
}

/// The lines of either format; `qrels`: four fields and the constant sub-group.
fn parse<'a>(path: &Path, buf: &'a [u8], qrels: bool) -> Result<Prefs<'a>> {
    let (format, expected, layout) = if qrels {
        ("qrels_prefs", 4, "query, judgment group, document, relevance level")
    } else {
        ("prefs", 5, "query, judgment group, judgment sub-group, document, relevance level")
    };
    let mut rows: Vec<(&[u8], Pref)> = Vec::new();
    for (line_no, line) in content_lines(buf) {
        let f: Vec<&[u8]> = fields(line).collect();
        if f.len() != expected {
            return Err(Error::parse(
                path,
                line_no,
                format!("a {format} line has {expected} fields ({layout}), found {}", f.len()),
            ));
        }
        let (jsg, docno) = if qrels { (QRELS_PREFS_JSG, f[2]) } else { (f[2], f[3]) };
        let rel_level = atof(f[expected - 1]);
        if rel_level.is_nan() {
            return Err(Error::parse(path, line_no, "the relevance level is NaN, which orders nothing"));
        }
        rows.push((f[0], Pref { jg: f[1], jsg, docno, rel_level }));
    }
    if rows.is_empty() {
        return Err(Error::file(path, "no preferences (the file is empty or holds only comments)"));
    }
    rows.sort_by(|a, b| a.0.cmp(b.0));
    let mut queries: Vec<QueryPrefs> = Vec::new();
    for (qid, pref) in rows {
        match queries.last_mut() {
            Some(q) if q.qid == qid => q.prefs.push(pref),
            _ => queries.push(QueryPrefs { qid, prefs: vec![pref] }),
        }
    }
    Ok(Prefs { queries })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_formats_group_lines_by_query() {
        let p = parse_prefs(Path::new("p"), b"2 g s d 1\n# c\n1 g s a 2.5\n1 g t b 0\n").unwrap();
        assert_eq!(p.queries.iter().map(|q| q.qid).collect::<Vec<_>>(), vec![&b"1"[..], b"2"]);
        assert_eq!(p.queries[0].prefs[0], Pref { jg: b"g", jsg: b"s", docno: b"a", rel_level: 2.5 });
        let q = parse_qrels_prefs(Path::new("q"), b"1 0 a 1\n1 0 b 0\n").unwrap();
        assert_eq!(q.queries[0].prefs[1], Pref { jg: b"0", jsg: b"0", docno: b"b", rel_level: 0.0 });
    }

    #[test]
    fn malformed_lines_name_the_line() {
        let err = parse_prefs(Path::new("p"), b"1 g s a 1\n1 g s b\n").unwrap_err().to_string();
        assert!(err.starts_with("p:2:") && err.contains("5 fields"), "{err}");
        let err = parse_qrels_prefs(Path::new("q"), b"1 0 a 1 x\n").unwrap_err().to_string();
        assert!(err.starts_with("q:1:") && err.contains("4 fields"), "{err}");
        let err = parse_prefs(Path::new("p"), b"1 g s a nan\n").unwrap_err().to_string();
        assert!(err.starts_with("p:1:") && err.contains("NaN"), "{err}");
        let err = parse_prefs(Path::new("p"), b"# only a comment\n").unwrap_err().to_string();
        assert!(err.contains("no preferences"), "{err}");
    }
}
