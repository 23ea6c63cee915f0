//! The `drbench` binary end to end: eval against the trec_eval golden cases, errors on bad input, compare,
//! datasets, and bm25 on the hand-made tiny BEIR fixture. One `check`-style helper per command.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn shared() -> PathBuf {
    std::env::var_os("DRBENCH_SHARED").map(PathBuf::from).unwrap_or_else(|| root().join("../shared"))
}

fn drbench(args: &[&str]) -> (i32, String, String) {
    let cache = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_drbench"))
        .args(args)
        .env("DRBENCH_MIRROR", shared().join("mirror"))
        .env("DRBENCH_CACHE", cache.path())
        .output()
        .unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8(out.stdout).unwrap(), String::from_utf8(out.stderr).unwrap())
}

fn case(n: u32, file: &str) -> String {
    shared().join(format!("golden/metrics/case{n}/{file}")).display().to_string()
}

#[test]
fn eval_json_equals_trec_eval_per_query_in_both_conventions() {
    for n in [1, 4, 6] {
        let expected: Value =
            serde_json::from_str(&std::fs::read_to_string(case(n, "expected.json")).unwrap()).unwrap();
        for complete in [false, true] {
            let (qrels, run) = (case(n, "qrels.txt"), case(n, "run.txt"));
            let mut args = vec!["eval", "--qrels", &qrels, "--run", &run];
            args.extend(["-m", "nDCG@10,AP,P@5,recip_rank", "--per-query", "--json"]);
            if complete {
                args.push("--complete");
            }
            let (code, out, err) = drbench(&args);
            assert_eq!(code, 0, "{err}");
            let got: Value = serde_json::from_str(&out).unwrap();
            let names = [("nDCG@10", "ndcg_cut_10"), ("AP", "map"), ("P@5", "P_5"), ("RR", "recip_rank")];
            let mean = if complete { &expected["complete"]["mean"] } else { &expected["mean"] };
            for (ours, theirs) in names {
                let (g, w) = (got["mean"][ours].as_f64().unwrap(), mean[theirs].as_f64().unwrap());
                assert!((g - w).abs() < 1e-6, "case{n} complete={complete} {ours}: {g} vs {w}");
            }
            assert_eq!(
                got["per_query"].as_object().unwrap().len() as u64,
                if complete {
                    expected["complete"]["num_queries"].as_u64().unwrap()
                } else {
                    expected["num_queries"].as_u64().unwrap()
                }
            );
            // Key order of the mean follows the measure list.
            let order: Vec<&String> = got["mean"].as_object().unwrap().keys().collect();
            assert_eq!(order, ["nDCG@10", "AP", "P@5", "RR"]);
        }
    }
}

#[test]
fn eval_text_output_is_trec_eval_like() {
    let (code, out, _) =
        drbench(&["eval", "--qrels", &case(1, "qrels.txt"), "--run", &case(1, "run.txt"), "-m", "nDCG@10"]);
    assert_eq!(code, 0);
    assert_eq!(out, "num_q  \tall\t4\nnDCG@10\tall\t0.3865\n");
}

#[test]
fn bad_input_is_one_line_naming_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let qrels = dir.path().join("q.txt");
    std::fs::write(&qrels, "1 0 d 1\n1 0 e x\n").unwrap();
    let run = dir.path().join("r.txt");
    std::fs::write(&run, "1 Q0 d 1 1.0 t\n").unwrap();
    let (code, _, err) = drbench(&["eval", "--qrels", qrels.to_str().unwrap(), "--run", run.to_str().unwrap()]);
    assert_ne!(code, 0);
    assert_eq!(err.trim_end(), format!("drbench: error: {}:2: relevance \"x\" is not an integer", qrels.display()));
    assert_eq!(err.lines().count(), 1);

    std::fs::write(&qrels, "1 0 d 1\n").unwrap();
    std::fs::write(&run, "1 Q0 d 1 1.0 t\n1 Q0 e 2\n").unwrap();
    let (code, _, err) = drbench(&["eval", "--qrels", qrels.to_str().unwrap(), "--run", run.to_str().unwrap()]);
    assert_ne!(code, 0);
    assert!(err.contains(&format!("{}:2: expected 6 columns", run.display())), "{err}");
    // --lenient skips the line with a warning.
    let (code, out, err) =
        drbench(&["eval", "--qrels", qrels.to_str().unwrap(), "--run", run.to_str().unwrap(), "--lenient"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("skipped 1 malformed line"), "{err}");
    assert!(out.contains("nDCG@10\tall\t1.0000"), "{out}");

    let (code, _, err) = drbench(&["eval", "--qrels", "/nonexistent/q", "--run", run.to_str().unwrap()]);
    assert_ne!(code, 0);
    assert_eq!(err.trim_end(), "drbench: error: /nonexistent/q: No such file or directory (os error 2)");
}

#[test]
fn compare_reports_paired_tests() {
    let (code, out, err) = drbench(&[
        "compare",
        "--qrels",
        &case(2, "qrels.txt"),
        "--run",
        &case(2, "run.txt"),
        "--run",
        &case(2, "run.txt"),
        "--json",
        "-c",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let m = &v["measures"]["nDCG@10"];
    assert_eq!(m["diff"].as_f64(), Some(0.0));
    assert_eq!(m["p"].as_f64(), Some(1.0), "identical runs: no difference");
    let (code, _, err) = drbench(&["compare", "--qrels", &case(2, "qrels.txt"), "--run", &case(2, "run.txt")]);
    assert_ne!(code, 0);
    assert!(err.contains("at least two"), "{err}");
}

#[test]
fn datasets_verify_the_mirror_and_reject_unknown_names() {
    for name in ["beir/scifact", "beir/nfcorpus"] {
        let (code, out, err) = drbench(&["datasets", "verify", name]);
        assert_eq!(code, 0, "{err}");
        assert!(out.contains("ok       corpus.jsonl"), "{out}");
    }
    let (code, _, err) = drbench(&["datasets", "verify", "beir/nope"]);
    assert_ne!(code, 0);
    assert!(err.contains("unknown dataset \"beir/nope\""), "{err}");
    let (code, out, _) = drbench(&["datasets", "list"]);
    assert_eq!(code, 0);
    assert!(out.contains("beir/scifact") && out.contains("msmarco/dl19") && out.contains("coir/apps"), "{out}");
}

#[test]
fn bm25_on_the_tiny_fixture_with_and_without_query_self() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = root().join("datasets/fixtures/tiny-beir").display().to_string();
    let out_run = dir.path().join("run.trec").display().to_string();
    let (code, out, err) = drbench(&["bm25", "--dataset", &fixture, "--out", &out_run]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("nDCG@10 0.7287"), "{out}");
    let run = std::fs::read_to_string(&out_run).unwrap();
    // Anserini's tie adjustment: equal rounded scores are lowered by 1e-6 per position.
    assert!(run.contains("q2 Q0 d2 2 0.8929 drbench-bm25\nq2 Q0 d4 3 0.892899 drbench-bm25\n"), "{run}");
    assert!(run.contains("q3 Q0 q3 1 "), "{run}");
    let (code, out, err) = drbench(&["bm25", "--dataset", &fixture, "--out", &out_run, "--remove-query-self"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("nDCG@10 0.6514"), "{out}");
    assert!(!std::fs::read_to_string(&out_run).unwrap().contains("q3 Q0 q3 "));
    // The run file scores identically through `drbench eval`.
    let (code, out, _) =
        drbench(&["eval", "--qrels", &format!("{fixture}/qrels/test.tsv"), "--run", &out_run, "-c", "-m", "nDCG@10"]);
    assert_eq!(code, 0);
    assert!(out.contains("nDCG@10\tall\t0.6514"), "{out}");
}

#[test]
fn quantize_writes_a_checked_int8_file_and_refuses_llms() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("minilm.drbq");
    let model = shared().join("mirror/models/all-MiniLM-L6-v2");
    let (code, stdout, err) =
        drbench(&["quantize", "--model", model.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(stdout.contains("101 tensors, 22.9 MB (from 90.9 MB of safetensors)"), "{stdout}");
    let bytes = std::fs::read(&out).unwrap();
    let q = drbench_harness::qweights::QWeights::from_bytes(&bytes).unwrap();
    assert_eq!((q.config.pooling, q.config.max_seq_length), (drbench_harness::bert::Pooling::Mean, 256));
    let qwen = shared().join("mirror/models/qwen2.5-coder-0.5b-instruct");
    let (code, _, err) = drbench(&["quantize", "--model", qwen.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(err.contains("config.json: model_type \"qwen2\": only BERT encoders"), "{err}");
}

/// Output folders are drbench's own: one holding other files is refused by every command that writes one,
/// unless --force, which adopts it (marks it) and keeps the files drbench does not write.
#[test]
fn output_folders_drbench_did_not_make_need_force() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mine = d.join("my-folder");
    std::fs::create_dir_all(&mine).unwrap();
    std::fs::write(mine.join("notes.txt"), "mine").unwrap();
    std::fs::write(mine.join("results.json"), "mine too").unwrap();
    let tiny = root().join("datasets/fixtures/tiny-beir").display().to_string();
    let out = mine.display().to_string();
    // (case, arguments): each writes an output folder and must refuse one that holds files it did not write.
    let run = vec!["run", "--model", "mirror:all-MiniLM-L6-v2", "--mode", "mean", "--task", &tiny, "--out", &out];
    let cases: Vec<(&str, Vec<&str>)> = vec![
        ("run --out", run.clone()),
        ("bench --out", vec!["bench", "--preset", "smoke", "--only", "BM25", "--out", &out]),
        ("train --out", vec!["train", "--model", "m", "--train", "t.jsonl", "--out", &out]),
        ("demo prepare --dir", vec!["demo", "prepare", "--task", &tiny, "--no-reference", "--dir", &out]),
    ];
    for (case, args) in cases {
        let (code, _, err) = drbench(&args);
        assert_ne!(code, 0, "{case}");
        assert!(err.contains("holds \"notes.txt\"") && err.contains("--force"), "{case}: {err}");
        // results.json is a cell's file, and foreign to the other kinds of folder.
        assert_eq!(err.contains("(and 1 more)"), case != "run --out", "{case}: {err}");
    }
    let names = |dir: &std::path::Path| -> Vec<String> {
        let mut v: Vec<String> =
            std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        v.sort();
        v
    };
    assert_eq!(names(&mine), ["notes.txt", "results.json"], "nothing was written");
    // With --force the folder is adopted: drbench's files are written (results.json replaced), others kept.
    let (code, _, err) = drbench(&["bench", "--preset", "smoke", "--only", "BM25", "--out", &out, "--force"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(std::fs::read_to_string(mine.join("notes.txt")).unwrap(), "mine");
    assert!(mine.join(".drbench").is_file() && mine.join("report.md").is_file(), "{:?}", names(&mine));
    // Marked as a bench folder: a second bench needs no --force, a `run` into it is refused.
    let (code, _, err) = drbench(&["bench", "--preset", "smoke", "--only", "BM25", "--out", &out]);
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = drbench(&run);
    assert_ne!(code, 0);
    assert!(err.contains("a bench folder"), "{err}");
}

/// Issue "Hostile and careless input", its command-line cases: each refused with a message naming the problem,
/// exit code 1, the inputs untouched and no output left.
#[test]
fn outputs_that_replace_inputs_and_out_of_range_numbers_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let dataset = d.join("beir");
    std::fs::create_dir_all(dataset.join("qrels")).unwrap();
    for f in ["corpus.jsonl", "queries.jsonl", "qrels/test.tsv"] {
        std::fs::copy(root().join("datasets/fixtures/tiny-beir").join(f), dataset.join(f)).unwrap();
    }
    let run = d.join("a.trec");
    std::fs::write(&run, "1 Q0 d 1 1.0 t\n").unwrap();
    let s = |p: &std::path::Path| p.display().to_string();
    let (ds, corpus, run_s) = (s(&dataset), s(&dataset.join("corpus.jsonl")), s(&run));
    let fresh = s(&d.join("fresh.trec"));
    // (case, arguments, what the error says)
    let cases: Vec<(&str, Vec<&str>, &str)> = vec![
        ("bm25 --out the corpus", vec!["bm25", "--dataset", &ds, "--out", &corpus], "a data file of the input folder"),
        ("merge --out one of its runs", vec!["merge", &run_s, "--out", &run_s], "that is an input"),
        (
            "embed --input f --out f",
            vec!["embed", "--model", "m", "--mode", "mean", "--role", "query", "--input", &run_s, "--out", &run_s],
            "that is an input",
        ),
        (
            "bm25 --b NaN",
            vec!["bm25", "--dataset", &ds, "--out", &fresh, "--b", "NaN"],
            "BM25 b must be a number in [0, 1], not NaN",
        ),
        (
            "bm25 --k1 inf",
            vec!["bm25", "--dataset", &ds, "--out", &fresh, "--k1", "inf"],
            "BM25 k1 must be a finite number ≥ 0, not inf",
        ),
        (
            "--threads 100000",
            vec!["bm25", "--dataset", &ds, "--out", &fresh, "--threads", "100000"],
            "at most 1024 worker threads",
        ),
        (
            "--max-length 0",
            vec![
                "embed",
                "--model",
                "m",
                "--mode",
                "mean",
                "--role",
                "query",
                "--input",
                &run_s,
                "--out",
                &fresh,
                "--max-length",
                "0",
            ],
            "0 is not in 1..",
        ),
    ];
    let before = std::fs::read(dataset.join("corpus.jsonl")).unwrap();
    for (case, args, want) in cases {
        let (code, _, err) = drbench(&args);
        assert_ne!(code, 0, "{case}");
        assert!(err.contains(want), "{case}: {err}");
        assert!(!d.join("fresh.trec").exists(), "{case}: an output was left");
    }
    assert_eq!(std::fs::read(dataset.join("corpus.jsonl")).unwrap(), before, "the corpus is untouched");
    assert_eq!(std::fs::read_to_string(&run).unwrap(), "1 Q0 d 1 1.0 t\n", "the run is untouched");
    let (code, _, err) = drbench(&[
        "compare",
        "--qrels",
        &s(&dataset.join("qrels/test.tsv")),
        "--run",
        &run_s,
        "--run",
        &run_s,
        "--bootstrap",
        "18446744073709551615",
    ]);
    assert_ne!(code, 0);
    assert!(err.contains("resamples in 1..=10000000"), "{err}");
}
