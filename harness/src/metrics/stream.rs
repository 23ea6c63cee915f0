//! Fast evaluation of a TREC run file: parallel streaming over byte ranges, each query scored as soon as its
//! contiguous block of lines ends, so memory stays small whatever the file size. A file whose queries are not
//! contiguous (or that has any malformed line) is handed to the in-memory reader, which gives the exact answer
//! or the exact error with its line number.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use rustc_hash::FxHashSet;

use crate::data::Qrels;
use crate::error::{Error, Result};
use crate::io::{Strictness, parse_run_line, read_trec_run};

use super::evaluate::{EvalOptions, Evaluation, evaluate_run};
use super::group::{GroupScorer, QueryRows};

/// A query group that may continue in the neighbouring byte range: kept unevaluated.
#[derive(Debug, Default)]
struct Fragment {
    qid: Vec<u8>,
    rows: QueryRows,
}

/// What one worker found in its byte range.
#[derive(Debug, Default)]
struct Part {
    head: Option<Fragment>,
    tail: Option<Fragment>,
    /// Query ids of the complete groups between head and tail, in file order.
    middle_qids: Vec<Vec<u8>>,
    scored: Vec<(String, Vec<f64>)>,
    unjudged: usize,
}

/// Why the fast path gave up.
#[derive(Debug)]
enum Bail {
    /// Malformed input: the in-memory reader reports it with its line number.
    Malformed,
    Io(std::io::Error),
}

/// Evaluates the TREC run at `path`. `threads` = 0 means all available cores.
pub fn evaluate_run_file(path: &Path, qrels: &Qrels, opts: &EvalOptions, threads: usize) -> Result<Evaluation> {
    super::evaluate::check_trec_grades(qrels, opts)?;
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let len = file.metadata().map_err(|e| Error::io(path, e))?.len();
    if len == 0 {
        return Err(Error::file(path, "file is empty"));
    }
    let threads = if threads == 0 { std::thread::available_parallelism().map_or(1, |n| n.get()) } else { threads };
    let bounds = split_points(&file, len, threads).map_err(|e| Error::io(path, e))?;
    let parts: Vec<std::result::Result<Part, Bail>> = std::thread::scope(|s| {
        let handles: Vec<_> = bounds
            .windows(2)
            .enumerate()
            .map(|(i, w)| {
                let (start, end, last) = (w[0], w[1], i + 2 == bounds.len());
                s.spawn(move || scan_range(path, start, end, i == 0, last, qrels, opts))
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("worker panicked")).collect()
    });
    let mut ok = Vec::with_capacity(parts.len());
    for p in parts {
        match p {
            Ok(p) => ok.push(p),
            Err(Bail::Io(e)) => return Err(Error::io(path, e)),
            Err(Bail::Malformed) => return slow_path(path, qrels, opts),
        }
    }
    match merge(ok, qrels, opts) {
        Some(eval) => Ok(eval),
        None => slow_path(path, qrels, opts),
    }
}

fn slow_path(path: &Path, qrels: &Qrels, opts: &EvalOptions) -> Result<Evaluation> {
    let run = read_trec_run(path, Strictness::Strict)?.value;
    evaluate_run(&run, qrels, opts).map_err(|e| Error::file(path, e.to_string()))
}

/// Byte offsets where each worker starts (each just after a newline), plus the file length at the end.
fn split_points(file: &File, len: u64, threads: usize) -> std::io::Result<Vec<u64>> {
    let mut points = vec![0u64];
    let mut f = file.try_clone()?;
    let mut buf = vec![0u8; 64 * 1024];
    for i in 1..threads as u64 {
        let mut pos = len * i / threads as u64;
        if pos <= *points.last().unwrap() {
            continue;
        }
        f.seek(SeekFrom::Start(pos))?;
        let found = loop {
            let n = f.read(&mut buf)?;
            if n == 0 {
                break None;
            }
            if let Some(nl) = memchr::memchr(b'\n', &buf[..n]) {
                break Some(pos + nl as u64 + 1);
            }
            pos += n as u64;
        };
        match found {
            Some(p) if p < len => points.push(p),
            _ => break,
        }
    }
    points.push(len);
    Ok(points)
}

struct Scan<'a> {
    qrels: &'a Qrels,
    opts: &'a EvalOptions,
    scorer: GroupScorer,
    part: Part,
    /// The group being read: its qid and rows.
    qid: Vec<u8>,
    rows: QueryRows,
    started: bool,
    first_group: bool,
    owns_first_group: bool,
}

impl Scan<'_> {
    #[inline]
    fn line(&mut self, line: &[u8]) -> std::result::Result<(), Bail> {
        if crate::io::fields::is_blank_or_comment(line) {
            return Ok(());
        }
        let r = parse_run_line(line).map_err(|_| Bail::Malformed)?;
        if !r.docid.is_ascii() && std::str::from_utf8(r.docid).is_err() {
            return Err(Bail::Malformed);
        }
        if !self.started || r.qid != self.qid.as_slice() {
            self.end_group(false)?;
            self.start_group(r.qid)?;
        }
        self.rows.push(r.docid, r.score);
        Ok(())
    }

    fn start_group(&mut self, qid: &[u8]) -> std::result::Result<(), Bail> {
        std::str::from_utf8(qid).map_err(|_| Bail::Malformed)?;
        self.qid.clear();
        self.qid.extend_from_slice(qid);
        self.started = true;
        Ok(())
    }

    /// Closes the current group: the first group of a range that does not own it, and the last group of a
    /// range that is not the file's last, are kept as fragments; every other group is scored now.
    fn end_group(&mut self, at_end: bool) -> std::result::Result<(), Bail> {
        if !self.started {
            return Ok(());
        }
        let first = std::mem::replace(&mut self.first_group, false);
        if (first && !self.owns_first_group) || at_end {
            let frag = Fragment { qid: self.qid.clone(), rows: std::mem::take(&mut self.rows) };
            if first && !self.owns_first_group {
                self.part.head = Some(frag);
            } else {
                self.part.tail = Some(frag);
            }
            return Ok(());
        }
        // A query split over separate blocks is caught once, in `merge`, over every range's query order.
        self.part.middle_qids.push(self.qid.clone());
        let qid = std::str::from_utf8(&self.qid).expect("checked at group start");
        match self.qrels.get(qid) {
            None => {
                self.part.unjudged += 1;
                self.scorer.check_duplicates(&self.rows).map_err(|_| Bail::Malformed)?;
            }
            Some(j) => {
                let mut values = vec![0.0; self.opts.measures.len()];
                self.scorer
                    .score(&self.qid, &mut self.rows, j, &self.opts.measures, self.opts.remove_query_self, &mut values)
                    .map_err(|_| Bail::Malformed)?;
                self.part.scored.push((qid.to_string(), values));
            }
        }
        self.rows.clear();
        Ok(())
    }
}

fn scan_range(
    path: &Path,
    start: u64,
    end: u64,
    owns_first_group: bool,
    is_last: bool,
    qrels: &Qrels,
    opts: &EvalOptions,
) -> std::result::Result<Part, Bail> {
    let mut file = File::open(path).map_err(Bail::Io)?;
    file.seek(SeekFrom::Start(start)).map_err(Bail::Io)?;
    let mut reader = BufReader::with_capacity(4 << 20, file.take(end - start));
    let mut scan = Scan {
        qrels,
        opts,
        scorer: GroupScorer::default(),
        part: Part::default(),
        qid: Vec::new(),
        rows: QueryRows::default(),
        started: false,
        first_group: true,
        owns_first_group,
    };
    if start == 0 && reader.fill_buf().map_err(Bail::Io)?.starts_with(crate::io::UTF8_BOM) {
        // The in-memory reader drops the mark and says so.
        return Err(Bail::Malformed);
    }
    let mut carry: Vec<u8> = Vec::new();
    loop {
        let buf = reader.fill_buf().map_err(Bail::Io)?;
        if buf.is_empty() {
            break;
        }
        let n = buf.len();
        let mut pos = 0;
        if !carry.is_empty() {
            match memchr::memchr(b'\n', buf) {
                Some(nl) => {
                    carry.extend_from_slice(&buf[..nl]);
                    pos = nl + 1;
                    scan.line(strip_cr(&carry))?;
                    carry.clear();
                }
                None => {
                    carry.extend_from_slice(buf);
                    reader.consume(n);
                    continue;
                }
            }
        }
        let base = pos;
        for nl in memchr::memchr_iter(b'\n', &buf[base..]) {
            let end = base + nl;
            scan.line(strip_cr(&buf[pos..end]))?;
            pos = end + 1;
        }
        carry.extend_from_slice(&buf[pos..]);
        reader.consume(n);
    }
    if !carry.is_empty() {
        scan.line(strip_cr(&carry))?;
    }
    // The range's last group stays a fragment unless this range ends the file (then it is complete).
    // (A range's first group that it does not own stays the head fragment either way.)
    scan.end_group(!is_last)?;
    Ok(scan.part)
}

#[inline]
fn strip_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// Joins the parts: fragments at range boundaries are glued to their neighbours and scored. Returns `None`
/// when some query occurs in two separate blocks (the caller then uses the in-memory path).
fn merge(parts: Vec<Part>, qrels: &Qrels, opts: &EvalOptions) -> Option<Evaluation> {
    let mut per_query: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    let mut unjudged = 0;
    let mut order: Vec<Vec<u8>> = Vec::new();
    let mut pending: Option<Fragment> = None;
    let mut scorer = GroupScorer::default();
    let mut flush = |frag: Fragment,
                     per_query: &mut BTreeMap<String, Vec<f64>>,
                     order: &mut Vec<Vec<u8>>,
                     unjudged: &mut usize|
     -> Option<()> {
        let mut frag = frag;
        order.push(frag.qid.clone());
        let qid = String::from_utf8(frag.qid.clone()).ok()?;
        match qrels.get(&qid) {
            None => {
                *unjudged += 1;
                scorer.check_duplicates(&frag.rows).ok()?;
            }
            Some(j) => {
                let mut values = vec![0.0; opts.measures.len()];
                scorer.score(&frag.qid, &mut frag.rows, j, &opts.measures, opts.remove_query_self, &mut values).ok()?;
                per_query.insert(qid, values);
            }
        }
        Some(())
    };
    for part in parts {
        unjudged += part.unjudged;
        for frag in [part.head].into_iter().flatten() {
            pending = match pending.take() {
                Some(mut p) if p.qid == frag.qid => {
                    p.rows.append(&frag.rows);
                    Some(p)
                }
                Some(p) => {
                    flush(p, &mut per_query, &mut order, &mut unjudged)?;
                    Some(frag)
                }
                None => Some(frag),
            };
        }
        if !part.middle_qids.is_empty() {
            if let Some(p) = pending.take() {
                flush(p, &mut per_query, &mut order, &mut unjudged)?;
            }
            order.extend(part.middle_qids);
            for (q, v) in part.scored {
                per_query.insert(q, v);
            }
        }
        if let Some(frag) = part.tail {
            if let Some(p) = pending.take() {
                flush(p, &mut per_query, &mut order, &mut unjudged)?;
            }
            pending = Some(frag);
        }
    }
    if let Some(p) = pending.take() {
        flush(p, &mut per_query, &mut order, &mut unjudged)?;
    }
    let mut seen = FxHashSet::default();
    if !order.iter().all(|q| seen.insert(q.as_slice())) {
        return None;
    }
    Some(Evaluation::assemble(qrels, opts, per_query, unjudged))
}
