//! TREC formats: qrels (`qid iter docid rel`) and runs (`qid Q0 docid rank score tag`), read and written.

use std::io::{BufRead, Write};
use std::path::Path;

use crate::data::{Qrels, Run};
use crate::error::{Error, Result};

use super::fields::{is_blank_or_comment, is_trec_field, parse_grade, parse_score, split_ws, utf8};
use super::lines::{LineReader, Loaded, SkipLog, Strictness};

/// Reads TREC qrels: 4 whitespace-separated columns per line; blank and `#` comment lines skipped.
pub fn read_trec_qrels(path: &Path, strictness: Strictness) -> Result<Loaded<Qrels>> {
    read_trec_qrels_from(LineReader::open_maybe_gz(path)?, strictness)
}

/// Reads TREC qrels from any line source (e.g. text in memory); errors name `lines.path()`.
pub fn read_trec_qrels_from<R: BufRead>(mut lines: LineReader<R>, strictness: Strictness) -> Result<Loaded<Qrels>> {
    let path = lines.path().to_path_buf();
    let path = path.as_path();
    let mut log = SkipLog::new(strictness);
    let mut qrels = Qrels::new();
    while let Some(line) = lines.next_bytes()? {
        if is_blank_or_comment(line) {
            continue;
        }
        let parsed = (|| {
            let (f, n) = split_ws::<4>(line);
            if n != 4 {
                return Err(format!(
                    "expected 4 columns (qid iter docid rel), found {}",
                    if n > 4 { "more".into() } else { n.to_string() }
                ));
            }
            Ok((utf8(f[0], "query id")?, utf8(f[2], "document id")?, parse_grade(f[3])?))
        })();
        if let Some(msg) = qrels.add_judgment(parsed) {
            log.skip(lines.error(msg))?;
        }
    }
    if lines.line_no() == 0 {
        return Err(Error::file(path, "file is empty"));
    }
    Ok(log.finish(qrels))
}

/// One parsed TREC run line.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RunLine<'a> {
    /// Query id.
    pub qid: &'a [u8],
    /// Document id.
    pub docid: &'a [u8],
    /// Score.
    pub score: f64,
}

/// Parses one TREC run line (6 columns, later ones ignored; the rank and tag are not used, as in trec_eval).
#[inline]
pub fn parse_run_line(line: &[u8]) -> std::result::Result<RunLine<'_>, String> {
    let (f, n) = split_ws::<6>(line);
    if n < 6 {
        return Err(format!("expected 6 columns (qid Q0 docid rank score tag), found {n}"));
    }
    Ok(RunLine { qid: f[0], docid: f[2], score: parse_score(f[4])? })
}

/// Reads a TREC run into memory. Duplicate (query, document) rows are an error, as in trec_eval.
pub fn read_trec_run(path: &Path, strictness: Strictness) -> Result<Loaded<Run>> {
    read_trec_run_from(LineReader::open(path)?, strictness)
}

/// Reads a TREC run from any line source; errors name `lines.path()`.
pub fn read_trec_run_from<R: BufRead>(mut lines: LineReader<R>, strictness: Strictness) -> Result<Loaded<Run>> {
    let path = lines.path().to_path_buf();
    let path = path.as_path();
    let mut log = SkipLog::new(strictness);
    let mut run = Run::new();
    let mut seen: rustc_hash::FxHashSet<(String, String)> = Default::default();
    while let Some(line) = lines.next_bytes()? {
        if is_blank_or_comment(line) {
            continue;
        }
        let parsed =
            parse_run_line(line).and_then(|r| Ok((utf8(r.qid, "query id")?, utf8(r.docid, "document id")?, r.score)));
        match parsed {
            Ok((q, d, s)) => {
                if !seen.insert((q.to_string(), d.to_string())) {
                    let msg = format!("duplicate row for query {q:?}, document {d:?}");
                    log.skip(lines.error(msg))?;
                    continue;
                }
                run.push(q, d, s);
            }
            Err(msg) => log.skip(lines.error(msg))?,
        }
    }
    if lines.line_no() == 0 {
        return Err(Error::file(path, "file is empty"));
    }
    Ok(log.finish(run))
}

/// Writes `run` in TREC format, each query sorted as trec_eval ranks it, with ranks 1.. and `tag`. A score that is
/// not finite, or an id or tag TREC cannot hold, is an error and nothing is written.
pub fn write_trec_run(path: &Path, run: &Run, tag: &str) -> Result<()> {
    if !is_trec_field(tag) {
        return Err(Error::file(path, format!("run tag {tag:?} cannot be a TREC field (empty or with whitespace)")));
    }
    for (qid, docs) in run.iter() {
        let bad_id = |id: &str| {
            (!is_trec_field(id)).then(|| format!("{id:?} cannot be a TREC field (empty or with whitespace)"))
        };
        if let Some(msg) = bad_id(qid) {
            return Err(Error::file(path, format!("query id {msg}")));
        }
        for d in docs {
            if let Some(msg) = bad_id(&d.docid) {
                return Err(Error::file(path, format!("query {qid:?}: document id {msg}")));
            }
            if !d.score.is_finite() {
                return Err(Error::file(
                    path,
                    format!("query {qid:?}, document {:?}: score {} is not finite; nothing written", d.docid, d.score),
                ));
            }
        }
    }
    super::atomic::write_atomic(path, |w| {
        let mut order: Vec<usize> = Vec::new();
        for (qid, docs) in run.iter() {
            order.clear();
            order.extend(0..docs.len());
            order.sort_by(|&a, &b| {
                crate::metrics::trec_cmp(
                    docs[a].score,
                    docs[a].docid.as_bytes(),
                    docs[b].score,
                    docs[b].docid.as_bytes(),
                )
            });
            for (rank, &i) in order.iter().enumerate() {
                writeln!(w, "{qid} Q0 {} {} {} {tag}", docs[i].docid, rank + 1, docs[i].score)?;
            }
        }
        Ok(())
    })
}

/// Writes `qrels` in TREC format (sorted by query, then document).
pub fn write_trec_qrels(path: &Path, qrels: &Qrels) -> Result<()> {
    super::atomic::write_atomic(path, |w| {
        for (qid, docs) in qrels.to_sorted() {
            for (d, g) in docs {
                writeln!(w, "{qid} 0 {d} {g}")?;
            }
        }
        Ok(())
    })
}
