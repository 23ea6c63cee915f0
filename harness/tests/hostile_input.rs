//! Careless and hostile input (issue "Hostile and careless input"): each case of the issue that the harness
//! owns, as a test named after it — a BOM before a file's first line, ids TREC cannot hold, non-finite scores
//! written to a run, BM25 parameters that rank nothing.

use std::io::Write;

use drbench_harness::bm25::Bm25Params;
use drbench_harness::data::{Run, ScoredDoc};
use drbench_harness::io::{Strictness, read_jsonl_collection, read_trec_qrels, read_trec_run, write_trec_run};
use drbench_harness::metrics::{EvalOptions, evaluate_run_file};

fn file(bytes: &[u8]) -> tempfile::NamedTempFile {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(bytes).unwrap();
    f.flush().unwrap();
    f
}

#[test]
fn a_bom_before_a_trec_run_or_qrels_is_dropped_not_read_into_the_first_query_id() {
    let qrels = read_trec_qrels(file(b"\xef\xbb\xbf1 0 d 1\n2 0 e 1\n").path(), Strictness::Strict).unwrap().value;
    assert_eq!(qrels.query_ids(), vec!["1", "2"]);
    let run_bytes = b"\xef\xbb\xbf1 Q0 d 1 2.0 t\n2 Q0 x 1 1.0 t\n";
    let run = read_trec_run(file(run_bytes).path(), Strictness::Strict).unwrap().value;
    assert_eq!(run.iter().map(|(q, _)| q).collect::<Vec<_>>(), vec!["1", "2"]);
    // The streamed evaluation scores query 1 (nDCG@10 1), not a query "\u{feff}1" the qrels lack.
    let eval = evaluate_run_file(file(run_bytes).path(), &qrels, &EvalOptions::default(), 2).unwrap();
    assert_eq!(eval.per_query["1"][0], 1.0);
    assert_eq!(eval.mean[0], 0.5);
}

#[test]
fn a_bom_before_a_jsonl_corpus_is_dropped() {
    let c = read_jsonl_collection(file(b"\xef\xbb\xbf{\"_id\": \"a\", \"text\": \"t\"}\n").path(), Strictness::Strict)
        .unwrap()
        .value;
    assert_eq!(c.get(0).id, "a");
}

#[test]
fn a_run_with_a_non_finite_score_or_an_id_with_whitespace_is_not_written() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run.trec");
    for (qid, docid, score, why) in [
        ("q", "d", f64::NAN, "score NaN is not finite"),
        ("q", "d", f64::INFINITY, "score inf is not finite"),
        ("q", "a b", 1.0, "document id \"a b\" cannot be a TREC field"),
        ("q 1", "d", 1.0, "query id \"q 1\" cannot be a TREC field"),
    ] {
        let mut run = Run::new();
        run.insert_query(qid, vec![ScoredDoc { docid: docid.into(), score }]);
        let err = write_trec_run(&out, &run, "tag").unwrap_err().to_string();
        assert!(err.contains(why), "{err}");
        assert!(!out.exists(), "nothing written for {why}");
    }
    let run = Run::new();
    assert!(write_trec_run(&out, &run, "two words").unwrap_err().to_string().contains("run tag"));
}

#[test]
fn bm25_parameters_that_rank_nothing_are_refused() {
    for (k1, b, why) in [
        (f32::NAN, 0.4, "k1 must be a finite number ≥ 0, not NaN"),
        (f32::INFINITY, 0.4, "k1 must be a finite number ≥ 0, not inf"),
        (-1.0, 0.4, "k1 must be a finite number ≥ 0, not -1"),
        (0.9, f32::NAN, "b must be a number in [0, 1], not NaN"),
        (0.9, 1.5, "b must be a number in [0, 1], not 1.5"),
    ] {
        assert_eq!(Bm25Params { k1, b }.check().unwrap_err(), format!("BM25 {why}"));
    }
    assert!(Bm25Params { k1: 0.0, b: 1.0 }.check().is_ok());
}

#[test]
fn bm25_query_analysis_counts_many_distinct_terms_as_a_naive_count_does() {
    use drbench_harness::bm25::{AnalyzerConfig, Bm25Index, Bm25Searcher, FieldMode};
    let mut corpus = drbench_harness::data::Collection::new();
    corpus.push("d", "", "xa xb");
    corpus.finish().unwrap();
    let index = Bm25Index::build(&corpus, FieldMode::Flat, AnalyzerConfig::default(), Bm25Params::default(), &|_| {});
    // 50,000 distinct terms (the old per-term linear search made this quadratic), every third one twice.
    // Letters then digits: words the English analyzer keeps as they are (no stop word, nothing to stem).
    let words: Vec<String> = (0..50_000).map(|i| format!("x{i}")).collect();
    let mut query = words.join(" ");
    for w in words.iter().step_by(3) {
        query.push(' ');
        query.push_str(w);
    }
    let terms = Bm25Searcher::new(&index).query_terms(&query);
    let mut naive: std::collections::BTreeMap<String, u32> = Default::default();
    for w in query.split(' ') {
        *naive.entry(w.to_string()).or_default() += 1;
    }
    let naive: Vec<(String, u32)> = naive.into_iter().collect();
    assert_eq!(terms.len(), naive.len());
    let first_difference = terms.iter().zip(&naive).find(|(a, b)| a != b);
    assert!(first_difference.is_none(), "{first_difference:?}");
}

/// One judgment at relevance 999,999 (the largest level read) makes a million relevance levels: trec_eval's gain
/// map is built in linear time, not quadratic (a proptest once ran for 14 minutes on such a qrels), and the values
/// stay trec_eval's.
#[test]
fn a_qrels_with_a_huge_relevance_level_is_evaluated_in_linear_time() {
    use drbench_harness::trec_eval::{InputFile, Options, trec_eval};
    let qrels = b"q 0 a 999999\nq 0 b 1\n".to_vec();
    let run = b"q Q0 b 1 2.0 t\nq Q0 a 2 1.0 t\n".to_vec();
    let opts = Options { measures: vec!["ndcg".into(), "ndcg_cut.10".into()], ..Options::default() };
    let path = std::path::Path::new("huge-level");
    let mut out = Vec::new();
    trec_eval(&opts, InputFile { path, bytes: &qrels }, InputFile { path, bytes: &run }, None, &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    // Ideal: a (gain 999999) then b (gain 1); ranked: b then a.
    let ideal = 999_999.0 + 1.0 / 3f64.log2();
    let dcg = 1.0 + 999_999.0 / 3f64.log2();
    let want = format!("{:.4}", dcg / ideal);
    assert!(text.lines().any(|l| l.starts_with("ndcg ") && l.ends_with(&want)), "{text} (want {want})");
}
