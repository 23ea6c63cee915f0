//! Malformed input ends with one error naming the file, the line and what is wrong — never a panic or a silent
//! skip — and lenient mode skips and counts instead. One `check(reader, input, expected)` line per case.

use std::io::Write;
use std::path::Path;

use drbench_harness::io::{
    Strictness, read_beir_qrels, read_jsonl_collection, read_trec_qrels, read_trec_run, read_tsv_collection,
};
use drbench_harness::metrics::{EvalOptions, evaluate_run_file};

#[derive(Clone, Copy, Debug)]
enum Reader {
    TrecQrels,
    BeirQrels,
    TrecRun,
    /// The streaming evaluator must give the same error as the in-memory reader.
    RunFile,
    Jsonl,
    Tsv,
}

fn read(reader: Reader, path: &Path, strictness: Strictness) -> Result<u64, String> {
    let e = |e: drbench_harness::Error| e.to_string();
    match reader {
        Reader::TrecQrels => read_trec_qrels(path, strictness).map(|l| l.skipped).map_err(e),
        Reader::BeirQrels => read_beir_qrels(path, strictness).map(|l| l.skipped).map_err(e),
        Reader::TrecRun => read_trec_run(path, strictness).map(|l| l.skipped).map_err(e),
        Reader::RunFile => {
            let mut qrels = drbench_harness::data::Qrels::new();
            qrels.insert("1", "d", 1);
            evaluate_run_file(path, &qrels, &EvalOptions::default(), 2).map(|_| 0).map_err(e)
        }
        Reader::Jsonl => read_jsonl_collection(path, strictness).map(|l| l.skipped).map_err(e),
        Reader::Tsv => read_tsv_collection(path, strictness).map(|l| l.skipped).map_err(e),
    }
}

/// `expected` is the error after the file path (e.g. ":2: expected 4 columns ...").
fn check(reader: Reader, input: &[u8], expected: &str) {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(input).unwrap();
    f.flush().unwrap();
    let path = f.path().display().to_string();
    let err = read(reader, f.path(), Strictness::Strict).expect_err(&format!("{reader:?} must reject {input:?}"));
    assert_eq!(err, format!("{path}{expected}"), "{reader:?} on {input:?}");
    assert!(!err.contains('\n'), "one line: {err}");
}

/// Lenient mode reads the file and skips `skipped` lines.
fn check_lenient(reader: Reader, input: &[u8], skipped: u64) {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(input).unwrap();
    f.flush().unwrap();
    assert_eq!(read(reader, f.path(), Strictness::Lenient), Ok(skipped), "{reader:?} on {input:?}");
}

#[test]
fn trec_qrels() {
    use Reader::TrecQrels as R;
    check(R, b"", ": file is empty");
    check(R, b"1 0 d 1\n1 0 e\n", ":2: expected 4 columns (qid iter docid rel), found 3");
    check(R, b"1 0 d 1 9\n", ":1: expected 4 columns (qid iter docid rel), found more");
    check(R, b"1 0 d x\n", ":1: relevance \"x\" is not an integer");
    check(R, b"1 0 d 1\n1 0 d 2\n", ":2: duplicate judgment for query \"1\", document \"d\"");
    check(R, b"1 0 \xff 1\n", ":1: document id is not valid UTF-8");
    check_lenient(R, b"1 0 d 1\n1 0 e\n1 0 f x\n", 2);
}

#[test]
fn beir_qrels() {
    use Reader::BeirQrels as R;
    check(R, b"", ": file is empty");
    check(R, b"q\td\t1\n", ":1: expected the header `query-id<TAB>corpus-id<TAB>score`");
    check(
        R,
        b"query-id\tcorpus-id\tscore\nq1\td1\n",
        ":2: expected 3 tab-separated columns (query-id corpus-id score), found 2",
    );
    check(R, b"query-id\tcorpus-id\tscore\nq1\td1\t1.5\n", ":2: relevance \"1.5\" is not an integer");
    check(
        R,
        b"query-id\tcorpus-id\tscore\nq 1\td1\t1\n",
        ":2: query id \"q 1\" cannot be written to a TREC file (empty or holding whitespace)",
    );
    check(
        R,
        b"query-id\tcorpus-id\tscore\nq1\t\t1\n",
        ":2: document id \"\" cannot be written to a TREC file (empty or holding whitespace)",
    );
    check_lenient(R, b"query-id\tcorpus-id\tscore\nq1\td1\tx\nq1\td2\t1\n", 1);
}

#[test]
fn trec_runs_in_memory_and_streamed() {
    for r in [Reader::TrecRun, Reader::RunFile] {
        check(r, b"", ": file is empty");
        check(r, b"1 Q0 d 1 1.0 t\n1 Q0 e 2 1.0\n", ":2: expected 6 columns (qid Q0 docid rank score tag), found 5");
        check(r, b"1 Q0 d 1 high t\n", ":1: score \"high\" is not a finite number");
        check(r, b"1 Q0 d 1 nan t\n", ":1: score \"nan\" is not a finite number");
        check(r, b"1 Q0 d 1 2 t\n1 Q0 d 2 1 t\n", ":2: duplicate row for query \"1\", document \"d\"");
        check(r, b"1 Q0 d 1 2 t\n1 Q0 \xc3\x28 2 1 t\n", ":2: document id is not valid UTF-8");
    }
    check_lenient(Reader::TrecRun, b"1 Q0 d 1 2 t\n1 Q0 d 2 1 t\nbad\n", 2);
    // Found by the run_stream fuzzer: a duplicate in a query without judgments was accepted by the streaming
    // path (which skipped unjudged queries) but refused by the in-memory reader.
    for r in [Reader::TrecRun, Reader::RunFile] {
        check(r, b"1 Q0 d 1 2 t\n7 Q0 x 1 2 t\n7 Q0 x 2 1 t\n", ":3: duplicate row for query \"7\", document \"x\"");
    }
}

#[test]
fn jsonl_collections() {
    use Reader::Jsonl as R;
    check(R, b"", ": file is empty");
    check(
        R,
        b"{\"_id\": \"1\", \"text\": \"a\"}\n{\"_id\": \"2\", \"text\": \n",
        ":2: bad JSON record at column 21: EOF while parsing a value",
    );
    check(R, b"{\"_id\": \"1\"}\n", ":1: bad JSON record at column 12: missing field `text`");
    check(
        R,
        b"{\"_id\": \"1\", \"text\": \"a\"}\n{\"_id\": \"1\", \"text\": \"b\"}\n",
        ":2: duplicate id \"1\" (first seen on line 1)",
    );
    check(R, b"{\"_id\": \"1\", \"text\": \"\xff\"}\n", ":1: invalid UTF-8 at byte 22");
    check(
        R,
        b"{\"_id\": \"\", \"text\": \"a\"}\n",
        ":1: id \"\" cannot be written to a TREC file (empty or holding whitespace)",
    );
    check(
        R,
        b"{\"_id\": \"a b\", \"text\": \"a\"}\n",
        ":1: id \"a b\" cannot be written to a TREC file (empty or holding whitespace)",
    );
    check_lenient(R, b"{\"_id\": \"1\", \"text\": \"a\"}\n{\"_id\": \"1\", \"text\": \"b\"}\nnot json\n", 2);
}

#[test]
fn tsv_collections() {
    use Reader::Tsv as R;
    check(R, b"", ": file is empty");
    check(R, b"1\tpassage one\n2 passage two\n", ":2: expected 2 tab-separated columns (id, text)");
    check(R, b"1\ta\n1\tb\n", ":2: duplicate id \"1\" (first seen on line 1)");
    check(R, b"1\ta\n\tb\n", ":2: id \"\" cannot be written to a TREC file (empty or holding whitespace)");
    check(R, b"1 2\ta\n", ":1: id \"1 2\" cannot be written to a TREC file (empty or holding whitespace)");
}

/// What trec_eval 10.0 accepts is read, not refused: `#` comment lines and blank lines anywhere, run columns
/// past the sixth (trec_eval's own `results.trunc`).
#[test]
fn trec_eval_comment_lines_and_extra_run_columns_are_read() {
    let mut q = tempfile::NamedTempFile::new().unwrap();
    q.write_all(b"# judged by\n1 0 d 1\n\n  # x y 1\n1 0 e 0\n").unwrap();
    q.flush().unwrap();
    let qrels = read_trec_qrels(q.path(), Strictness::Strict).unwrap();
    assert_eq!((qrels.skipped, qrels.value.query_ids()), (0, vec!["1"]), "a `# x y 1` line is no query `#`");
    for r in [Reader::TrecRun, Reader::RunFile] {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(b"# run\n1 Q0 d 1 2.0 t extra columns\n\t# c\n1 Q0 e 2 1.0 t\n").unwrap();
        f.flush().unwrap();
        assert_eq!(read(r, f.path(), Strictness::Strict), Ok(0), "{r:?}");
    }
}
