//! trec_eval-exact evaluation of qrels and run text held in memory (the harness compiled for wasm32).

use std::io::Cursor;
use std::path::Path;

use drbench_harness::io::{LineReader, Strictness, read_trec_qrels_from, read_trec_run_from};
use drbench_harness::metrics::{EvalOptions, Measure, evaluate_run};

/// Evaluates a TREC run given as text against TREC qrels text; returns `{"nDCG@10": ..., ...}` as JSON.
/// `complete` is trec_eval's `-c`.
pub fn evaluate_trec_text(qrels: &str, run: &str, measures: &str, complete: bool) -> Result<String, String> {
    let err = |e: drbench_harness::Error| e.to_string();
    let qrels = read_trec_qrels_from(LineReader::new(Cursor::new(qrels), Path::new("qrels")), Strictness::Strict)
        .map_err(err)?
        .value;
    let run =
        read_trec_run_from(LineReader::new(Cursor::new(run), Path::new("run")), Strictness::Strict).map_err(err)?.value;
    let opts =
        EvalOptions { measures: Measure::parse_list(measures).map_err(err)?, complete, remove_query_self: false };
    Ok(evaluate_run(&run, &qrels, &opts).map_err(err)?.mean_json().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evaluates_text_and_names_the_bad_line() {
        let qrels = "1 0 a 1\n1 0 b 2\n2 0 c 1\n";
        let run = "1 Q0 a 1 2.0 t\n1 Q0 b 2 1.0 t\n";
        assert_eq!(evaluate_trec_text(qrels, run, "P@1,RR", false).unwrap(), r#"{"P@1":1.0,"RR":1.0}"#);
        assert_eq!(evaluate_trec_text(qrels, run, "P@1", true).unwrap(), r#"{"P@1":0.5}"#);
        assert_eq!(
            evaluate_trec_text(qrels, "1 Q0 a 1 x t\n", "P@1", false).unwrap_err(),
            "run:1: score \"x\" is not a finite number"
        );
    }
}
