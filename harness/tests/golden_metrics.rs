//! trec_eval parity: every case in ../shared/golden/metrics, both query-set conventions, per query and mean,
//! through the in-memory reader and the streaming file evaluator at several thread counts (abs tol 1e-6).

use std::path::{Path, PathBuf};

use drbench_harness::io::{Strictness, read_qrels, read_trec_run};
use drbench_harness::metrics::{EvalOptions, Evaluation, Measure, evaluate_run, evaluate_run_file};
use serde_json::Value;

const TOL: f64 = 1e-6;

fn shared_dir() -> PathBuf {
    std::env::var_os("DRBENCH_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared"))
}

fn cases() -> Vec<PathBuf> {
    let root = shared_dir().join("golden/metrics");
    let mut v: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap_or_else(|e| panic!("{}: {e} (set DRBENCH_SHARED to the shared folder)", root.display()))
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("expected.json").is_file())
        .collect();
    v.sort();
    assert!(v.len() >= 6, "expected the 6 golden metric cases in {}", root.display());
    v
}

/// The golden measure keys, plus RR@10 in trec_eval order under its own key.
fn golden_measures(expected: &Value) -> Vec<(String, Measure)> {
    let mut v: Vec<(String, Measure)> = expected["measures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            let k = k.as_str().unwrap();
            (k.to_string(), k.parse::<Measure>().unwrap())
        })
        .collect();
    v.push(("rr_cut_10_trec_order".into(), Measure::Rr(Some(10))));
    v
}

fn expected_value(expected: &Value, key: &str, qid: Option<&str>, complete: bool) -> f64 {
    if key == "rr_cut_10_trec_order" {
        let block = &expected[key];
        return match qid {
            Some(q) => block["per_query"].get(q).and_then(Value::as_f64).unwrap_or(0.0),
            None => block[if complete { "mean_complete" } else { "mean" }].as_f64().unwrap(),
        };
    }
    match (qid, complete) {
        (Some(q), _) => expected["per_query"].get(q).map_or(0.0, |v| v[key].as_f64().unwrap()),
        (None, false) => expected["mean"][key].as_f64().unwrap(),
        (None, true) => expected["complete"]["mean"][key].as_f64().unwrap(),
    }
}

fn check(case: &Path, label: &str, eval: &Evaluation, expected: &Value, names: &[(String, Measure)], complete: bool) {
    let n_expected = if complete { &expected["complete"]["num_queries"] } else { &expected["num_queries"] };
    assert_eq!(eval.num_queries() as u64, n_expected.as_u64().unwrap(), "{} {label}: query count", case.display());
    for (i, (key, _)) in names.iter().enumerate() {
        let want = expected_value(expected, key, None, complete);
        let got = eval.mean[i];
        assert!((got - want).abs() <= TOL, "{} {label}: mean {key}: got {got}, want {want}", case.display());
        for (qid, values) in &eval.per_query {
            let want = expected_value(expected, key, Some(qid), complete);
            assert!(
                (values[i] - want).abs() <= TOL,
                "{} {label}: query {qid} {key}: got {}, want {want}",
                case.display(),
                values[i]
            );
        }
    }
}

#[test]
fn equals_trec_eval_on_every_golden_case() {
    for case in cases() {
        let expected: Value =
            serde_json::from_str(&std::fs::read_to_string(case.join("expected.json")).unwrap()).unwrap();
        let names = golden_measures(&expected);
        let measures: Vec<Measure> = names.iter().map(|(_, m)| *m).collect();
        let qrels = read_qrels(&case.join("qrels.txt"), None, Strictness::Strict).unwrap().value;
        let run = read_trec_run(&case.join("run.txt"), Strictness::Strict).unwrap().value;
        for complete in [false, true] {
            let opts = EvalOptions { measures: measures.clone(), complete, remove_query_self: false };
            let label = if complete { "complete" } else { "default" };
            check(
                &case,
                &format!("{label}/in-memory"),
                &evaluate_run(&run, &qrels, &opts).unwrap(),
                &expected,
                &names,
                complete,
            );
            for threads in [1, 2, 3, 7] {
                let eval = evaluate_run_file(&case.join("run.txt"), &qrels, &opts, threads).unwrap();
                check(&case, &format!("{label}/stream x{threads}"), &eval, &expected, &names, complete);
            }
        }
    }
}
