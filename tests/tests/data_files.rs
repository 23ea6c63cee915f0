//! Hub-format data files read through `DatasetFiles` (what every task is loaded from): parquet in any column order
//! and id type, gzip JSONL and TSV, and malformed files that end with one error naming the file and the row — a
//! table of cases, one checker.

use std::path::{Path, PathBuf};

use drbench_harness::io::{DataFile, DatasetFiles};
use drbench_tests::hub_fixtures::{Column, parquet};

/// What a case is, its files (name, bytes), what reading them must give.
type Case = (&'static str, Vec<(&'static str, Vec<u8>)>, Outcome);
/// Records or `query doc grade` lines, or the error.
type Outcome = Result<Vec<String>, String>;

fn text(v: &[&str]) -> Column {
    Column::Text(v.iter().map(|s| s.to_string()).collect())
}

fn gz(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut enc, bytes).unwrap();
    enc.finish().unwrap()
}

/// Writes `files` (name, bytes) into `dir`; returns their paths.
fn write(dir: &Path, files: Vec<(&str, Vec<u8>)>) -> Vec<PathBuf> {
    files
        .into_iter()
        .map(|(name, bytes)| {
            let p = dir.join(name);
            std::fs::write(&p, bytes).unwrap();
            p
        })
        .collect()
}

fn dataset(corpus: &[PathBuf], qrels: &[PathBuf]) -> DatasetFiles {
    let files = |ps: &[PathBuf]| ps.iter().map(|p| DataFile::from_path(p.clone()).unwrap()).collect::<Vec<_>>();
    let mut d = DatasetFiles { corpus: files(corpus), queries: files(corpus), ..DatasetFiles::default() };
    d.qrels.insert("test".into(), files(qrels));
    d
}

/// What reading the corpus gives: its records `id|title|text`, or the error with the temporary folder as `DIR`.
fn corpus(dir: &Path, files: Vec<(&str, Vec<u8>)>) -> Outcome {
    let paths = write(dir, files);
    let d = dataset(&paths, &[]);
    let clean = |e: drbench_harness::Error| e.to_string().replace(&dir.display().to_string(), "DIR");
    d.corpus().map(|c| c.iter().map(|r| format!("{}|{}|{}", r.id, r.title, r.text)).collect()).map_err(clean)
}

/// What reading the qrels gives: `query doc grade` lines, or the error.
fn qrels(dir: &Path, files: Vec<(&str, Vec<u8>)>) -> Outcome {
    let paths = write(dir, files);
    let d = dataset(&paths[..0], &paths);
    let clean = |e: drbench_harness::Error| e.to_string().replace(&dir.display().to_string(), "DIR");
    let q = d.qrels("test").map_err(clean)?;
    Ok(q.to_sorted().into_iter().flat_map(|(q, j)| j.into_iter().map(move |(d, g)| format!("{q} {d} {g}"))).collect())
}

/// `expected`, where an error ending in `…` stands for any message of the parquet crate after that prefix.
fn check(what: &str, got: Outcome, expected: Outcome) {
    match (&got, &expected) {
        (Err(g), Err(e)) if e.ends_with('…') => {
            assert!(g.starts_with(e.trim_end_matches('…')), "{what}: {g}");
            assert!(!g.contains('\n'), "{what}: one line: {g}");
        }
        _ => assert_eq!(got, expected, "{what}"),
    }
}

fn ok(lines: &[&str]) -> Outcome {
    Ok(lines.iter().map(|s| s.to_string()).collect())
}

#[test]
fn corpus_files() {
    let two = || parquet(&[("_id", text(&["a", "b"])), ("text", text(&["one", "two"]))], 1);
    let cases: Vec<Case> = vec![
        (
            "columns in another order, optional title absent, one row per row group",
            vec![("c.parquet", parquet(&[("text", text(&["one", "two"])), ("id", text(&["a", "b"]))], 1))],
            ok(&["a||one", "b||two"]),
        ),
        (
            "integer ids read as text",
            vec![("c.parquet", parquet(&[("_id", Column::Int(vec![7, 10])), ("text", text(&["x", "y"]))], 10))],
            ok(&["7||x", "10||y"]),
        ),
        (
            "ids unique across files",
            vec![("c1.parquet", two()), ("c2.parquet", two())],
            Err("DIR/c2.parquet: duplicate id \"a\" at row 1 (first at row 1 of DIR/c1.parquet)".into()),
        ),
        (
            "not parquet",
            vec![("c.parquet", b"PAR1 this is not parquet PAR1".to_vec())],
            Err("DIR/c.parquet: not a readable parquet file: …".into()),
        ),
        (
            "truncated parquet",
            vec![("c.parquet", two()[..40].to_vec())],
            Err("DIR/c.parquet: not a readable parquet file: …".into()),
        ),
        (
            "no id column",
            vec![("c.parquet", parquet(&[("name", text(&["a"])), ("text", text(&["t"]))], 1))],
            Err("DIR/c.parquet: no column _id or id (columns: name, text)".into()),
        ),
        (
            "empty id",
            vec![("c.parquet", parquet(&[("_id", text(&["a", ""])), ("text", text(&["t", "u"]))], 1))],
            Err("DIR/c.parquet:2: empty id".into()),
        ),
        (
            "a text that is not text",
            vec![("c.parquet", parquet(&[("_id", text(&["a"])), ("text", Column::Int(vec![3]))], 1))],
            Err("DIR/c.parquet:1: the text 3 is not text".into()),
        ),
        (
            "gzip JSONL and TSV (MS MARCO's layout) in one corpus",
            vec![
                ("c.jsonl.gz", gz(b"{\"_id\": \"a\", \"title\": \"T\", \"text\": \"one\"}\n")),
                ("c.tsv.gz", gz(b"b\ttwo\n")),
                ("c.tsv", b"c\tthree\n".to_vec()),
            ],
            ok(&["a|T|one", "b||two", "c||three"]),
        ),
        (
            "truncated gzip",
            vec![("c.jsonl.gz", gz(b"{\"_id\": \"a\", \"text\": \"one\"}\n")[..20].to_vec())],
            Err("DIR/c.jsonl.gz: incomplete deflate stream".into()),
        ),
        (
            "TSV with duplicates across files",
            vec![("c1.tsv", b"a\tx\n".to_vec()), ("c2.tsv", b"a\ty\n".to_vec())],
            Err("DIR/c2.tsv: duplicate id \"a\" at record 1 (first at record 1 of DIR/c1.tsv)".into()),
        ),
    ];
    for (what, files, expected) in cases {
        let dir = tempfile::tempdir().unwrap();
        check(what, corpus(dir.path(), files), expected);
    }
}

#[test]
fn qrels_files() {
    let q = |scores: Column| {
        parquet(&[("query-id", text(&["1", "1"])), ("corpus-id", text(&["a", "b"])), ("score", scores)], 1)
    };
    let cases: Vec<Case> = vec![
        ("integer grades", vec![("q.parquet", q(Column::Int(vec![1, 2])))], ok(&["1 a 1", "1 b 2"])),
        ("integral float grades", vec![("q.parquet", q(Column::Double(vec![1.0, 0.0])))], ok(&["1 a 1", "1 b 0"])),
        (
            "query_id / corpus_id spellings, text grades",
            vec![(
                "q.parquet",
                parquet(&[("query_id", text(&["1"])), ("corpus_id", text(&["a"])), ("score", text(&["2"]))], 1),
            )],
            ok(&["1 a 2"]),
        ),
        (
            "a fractional grade",
            vec![("q.parquet", q(Column::Double(vec![1.0, 0.5])))],
            Err("DIR/q.parquet:2: relevance 0.5 is not an integer".into()),
        ),
        (
            "a grade beyond 32 bits",
            vec![("q.parquet", q(Column::Int(vec![1, 1 << 40])))],
            Err("DIR/q.parquet:2: relevance 1099511627776 is outside the 32-bit integer range".into()),
        ),
        (
            "a repeated pair",
            vec![(
                "q.parquet",
                parquet(
                    &[
                        ("query-id", text(&["1", "1"])),
                        ("corpus-id", text(&["a", "a"])),
                        ("score", Column::Int(vec![1, 2])),
                    ],
                    1,
                ),
            )],
            Err("DIR/q.parquet:2: duplicate judgment for query \"1\", document \"a\"".into()),
        ),
        (
            "no score column",
            vec![("q.parquet", parquet(&[("query-id", text(&["1"])), ("corpus-id", text(&["a"]))], 1))],
            Err("DIR/q.parquet: no column score or relevance (columns: query-id, corpus-id)".into()),
        ),
    ];
    for (what, files, expected) in cases {
        let dir = tempfile::tempdir().unwrap();
        check(what, qrels(dir.path(), files), expected);
    }
}
