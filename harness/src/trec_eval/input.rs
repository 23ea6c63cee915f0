//! trec_eval's input files read by trec_eval's rules: whitespace-separated fields, `#` comment lines, extra run
//! columns ignored, scores read as doubles (`atof`) and relevance as integers (`atol`), queries in `strcmp` order.

use std::path::Path;

use crate::{Error, Result};

/// One judged document: its id and relevance (negative: in the pool but unjudged).
pub type Judgment<'a> = (&'a [u8], i64);

/// The judgments of one query, sorted by document id.
#[derive(Debug, Clone)]
pub struct QueryQrels<'a> {
    /// Query id.
    pub qid: &'a [u8],
    /// Judgment groups (one for `qrels`, one per group id for `qrels_jg`), each sorted by document id.
    pub groups: Vec<Vec<Judgment<'a>>>,
}

/// All judgments of a qrels (or qrels_jg) file, queries sorted by id.
#[derive(Debug, Clone, Default)]
pub struct Qrels<'a> {
    /// The queries in `strcmp` order.
    pub queries: Vec<QueryQrels<'a>>,
}

/// One qrels line: (query, judgment group, document, relevance).
type QrelsRow<'a> = (&'a [u8], &'a [u8], &'a [u8], i64);

/// One retrieved document: its id and score.
pub type Retrieved<'a> = (&'a [u8], f64);

/// The retrieved documents of one query, in file order.
#[derive(Debug, Clone)]
pub struct QueryResults<'a> {
    /// Query id.
    pub qid: &'a [u8],
    /// Documents and scores.
    pub docs: Vec<Retrieved<'a>>,
}

/// A run file: queries sorted by id and the run id of its last line.
#[derive(Debug, Clone, Default)]
pub struct Results<'a> {
    /// The queries in `strcmp` order.
    pub queries: Vec<QueryResults<'a>>,
    /// The sixth column of the last line, as trec_eval keeps it.
    pub run_id: &'a [u8],
}

/// Means and standard deviations for Z scores, keyed by (query id, measure name).
pub type Zscores = rustc_hash::FxHashMap<(Vec<u8>, String), (f64, f64)>;

/// The largest relevance value read: trec_eval counts judgments per level in an array as long as the largest one.
pub const MAX_RELEVANCE: i64 = 1_000_000;

/// `atol` of a relevance field, refused above [`MAX_RELEVANCE`].
fn relevance(path: &Path, line_no: u64, field: &[u8]) -> Result<i64> {
    let rel = atol(field);
    if rel > MAX_RELEVANCE {
        return Err(Error::parse(
            path,
            line_no,
            format!("relevance {rel} is above the largest level read ({MAX_RELEVANCE})"),
        ));
    }
    Ok(rel)
}

/// C's `isspace` in the "C" locale.
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r')
}

/// The non-empty lines of `buf` with their 1-based line numbers, comment lines (`#` first) skipped; a UTF-8 BOM
/// at the start of the file is not part of the first field.
pub(super) fn content_lines(buf: &[u8]) -> impl Iterator<Item = (u64, &[u8])> {
    let buf = buf.strip_prefix(b"\xef\xbb\xbf").unwrap_or(buf);
    buf.split(|&b| b == b'\n').enumerate().filter_map(|(i, line)| {
        let start = line.iter().position(|&b| !is_space(b))?;
        (line[start] != b'#').then_some((i as u64 + 1, line))
    })
}

/// The whitespace-separated fields of one line.
pub(super) fn fields(line: &[u8]) -> impl Iterator<Item = &[u8]> {
    line.split(|&b| is_space(b)).filter(|f| !f.is_empty())
}

/// C's `atol`: the longest integer prefix (0 when there is none), saturating instead of overflowing.
pub fn atol(field: &[u8]) -> i64 {
    let (neg, digits) = match field.first() {
        Some(b'-') => (true, &field[1..]),
        Some(b'+') => (false, &field[1..]),
        _ => (false, field),
    };
    let mut value: i64 = 0;
    for &b in digits.iter().take_while(|b| b.is_ascii_digit()) {
        value = value.saturating_mul(10).saturating_add(i64::from(b - b'0'));
    }
    if neg { -value } else { value }
}

/// C's `atof`: the longest floating-point prefix (0.0 when there is none).
pub fn atof(field: &[u8]) -> f64 {
    fast_float2::parse_partial::<f64, _>(field).map(|(v, _)| v).unwrap_or(0.0)
}

/// Reads a `qrels` file (`qid iter docno rel`, exactly four fields).
pub fn parse_qrels<'a>(path: &Path, buf: &'a [u8]) -> Result<Qrels<'a>> {
    parse_judgments(path, buf, false)
}

/// Reads a `qrels_jg` file (`qid jg docno rel`: the second field names the judgment group).
pub fn parse_qrels_jg<'a>(path: &Path, buf: &'a [u8]) -> Result<Qrels<'a>> {
    parse_judgments(path, buf, true)
}

/// The four-field judgment lines of either format; `by_group`: the second field is a judgment group.
fn parse_judgments<'a>(path: &Path, buf: &'a [u8], by_group: bool) -> Result<Qrels<'a>> {
    let (format, second) = if by_group { ("qrels_jg", "judgment group") } else { ("qrels", "iteration") };
    let mut rows: Vec<QrelsRow> = Vec::new();
    for (line_no, line) in content_lines(buf) {
        let f: Vec<&[u8]> = fields(line).collect();
        if f.len() != 4 {
            return Err(Error::parse(
                path,
                line_no,
                format!("a {format} line has 4 fields (query, {second}, document, relevance), found {}", f.len()),
            ));
        }
        let group: &[u8] = if by_group { f[1] } else { b"" };
        rows.push((f[0], group, f[2], relevance(path, line_no, f[3])?));
    }
    group_qrels(path, rows, by_group)
}

/// Sorts rows by (query, group, document) and groups them, refusing a document judged twice in one group.
fn group_qrels<'a>(path: &Path, mut rows: Vec<QrelsRow<'a>>, by_group: bool) -> Result<Qrels<'a>> {
    if rows.is_empty() {
        return Err(Error::file(path, "no judgments (the file is empty or holds only comments)"));
    }
    rows.sort_unstable_by(|a, b| (a.0, a.1, a.2).cmp(&(b.0, b.1, b.2)));
    let mut queries: Vec<QueryQrels<'a>> = Vec::new();
    let mut last: Option<(&[u8], &[u8])> = None;
    for (qid, jg, docno, rel) in rows {
        match last {
            Some((q, g)) if q == qid && (g == jg || !by_group) => {}
            Some((q, _)) if q == qid => queries.last_mut().expect("a query was started").groups.push(Vec::new()),
            _ => queries.push(QueryQrels { qid, groups: vec![Vec::new()] }),
        }
        last = Some((qid, jg));
        let group = queries.last_mut().and_then(|q| q.groups.last_mut()).expect("a group was started");
        if group.last().is_some_and(|(d, _)| *d == docno) {
            return Err(Error::file(
                path,
                format!(
                    "document {} is judged twice for query {}",
                    String::from_utf8_lossy(docno),
                    String::from_utf8_lossy(qid)
                ),
            ));
        }
        group.push((docno, rel));
    }
    Ok(Qrels { queries })
}

/// Reads a `trec_results` file (`qid iter docno rank sim run_id`, later fields ignored).
pub fn parse_results<'a>(path: &Path, buf: &'a [u8]) -> Result<Results<'a>> {
    // Grouped by query as read (a hash of query ids; run files are usually grouped already), then the few
    // queries sorted: no sort of all rows.
    let mut queries: Vec<QueryResults<'a>> = Vec::new();
    let mut index: rustc_hash::FxHashMap<&'a [u8], usize> = rustc_hash::FxHashMap::default();
    let mut last: Option<usize> = None;
    let mut run_id: &[u8] = b"";
    for (line_no, line) in content_lines(buf) {
        let mut f = fields(line);
        let (Some(qid), Some(_), Some(docno), Some(_), Some(sim), Some(run)) =
            (f.next(), f.next(), f.next(), f.next(), f.next(), f.next())
        else {
            return Err(Error::parse(
                path,
                line_no,
                "a run line has at least 6 fields (query, Q0, document, rank, score, run id)",
            ));
        };
        let sim = atof(sim);
        if sim.is_nan() {
            return Err(Error::parse(path, line_no, "the score is NaN, which cannot be ranked"));
        }
        let q = match last {
            Some(i) if queries[i].qid == qid => i,
            _ => *index.entry(qid).or_insert_with(|| {
                queries.push(QueryResults { qid, docs: Vec::new() });
                queries.len() - 1
            }),
        };
        queries[q].docs.push((docno, sim));
        last = Some(q);
        run_id = run;
    }
    if queries.is_empty() {
        return Err(Error::file(path, "no results (the file is empty or holds only comments)"));
    }
    queries.sort_unstable_by(|a, b| a.qid.cmp(b.qid));
    Ok(Results { queries, run_id })
}

/// Reads a Z-score file (`qid measure mean stddev`).
pub fn parse_zscores(path: &Path, buf: &[u8]) -> Result<Zscores> {
    let mut map = Zscores::default();
    for (line_no, line) in content_lines(buf) {
        let f: Vec<&[u8]> = fields(line).collect();
        if f.len() != 4 {
            return Err(Error::parse(
                path,
                line_no,
                format!("a Z-score line has 4 fields (query, measure, mean, standard deviation), found {}", f.len()),
            ));
        }
        let measure = String::from_utf8_lossy(f[1]).into_owned();
        map.insert((f[0].to_vec(), measure), (atof(f[2]), atof(f[3])));
    }
    Ok(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atol_and_atof_read_prefixes_like_c() {
        assert_eq!(atol(b"12abc"), 12);
        assert_eq!(atol(b"-3"), -3);
        assert_eq!(atol(b"x"), 0);
        assert_eq!(atol(b"23.4"), 23);
        assert_eq!(atof(b"2.5e1x"), 25.0);
        assert_eq!(atof(b"junk"), 0.0);
    }

    #[test]
    fn comments_blank_lines_and_extra_columns_are_skipped() {
        let qrels = parse_qrels(Path::new("q"), b"# c\n1 0 a 1\n\n1 0 b 0\n2 0 a 2\n").unwrap();
        assert_eq!(qrels.queries.len(), 2);
        assert_eq!(qrels.queries[0].groups[0], vec![(&b"a"[..], 1), (&b"b"[..], 0)]);
        let run = parse_results(Path::new("r"), b"1 Q0 a 1 0.5 x extra junk\n  # c\n1 Q0 b 2 0.25 y\n").unwrap();
        assert_eq!(run.run_id, b"y");
        assert_eq!(run.queries[0].docs, vec![(&b"a"[..], 0.5), (&b"b"[..], 0.25)]);
    }

    #[test]
    fn malformed_lines_name_the_line() {
        let err = parse_qrels(Path::new("q"), b"1 0 a 1\n1 0 b\n").unwrap_err().to_string();
        assert!(err.starts_with("q:2:"), "{err}");
        let err = parse_results(Path::new("r"), b"1 Q0 a 1 0.5\n").unwrap_err().to_string();
        assert!(err.starts_with("r:1:"), "{err}");
        let err = parse_qrels(Path::new("q"), b"1 0 a 1\n1 0 b 99999999999\n").unwrap_err().to_string();
        assert!(err.starts_with("q:2:") && err.contains("largest level"), "{err}");
        let err = parse_qrels(Path::new("q"), b"1 0 a 1\n1 0 a 0\n").unwrap_err().to_string();
        assert!(err.contains("judged twice"), "{err}");
    }
}
