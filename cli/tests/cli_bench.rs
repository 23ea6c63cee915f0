//! `drbench bench` and `drbench report` end to end on real subsets of SciFact and NFCorpus (../shared/mirror)
//! with BM25 and all-MiniLM-L6-v2: a run killed halfway completes on re-run, a finished run does no work,
//! changed settings are refused, and the report renders the table in every format plus the chart.

use std::process::Stdio;
use std::time::{Duration, Instant};

mod common;

use common::{command, drbench};

fn preset(k1: f32) -> String {
    format!(
        r#"name = "test"
description = "BM25 + MiniLM on small real subsets"
tasks = ["beir/scifact", "beir/nfcorpus"]
baseline = "BM25"
subset = {{ queries = 10, docs = 120 }}

[[model]]
name = "BM25"
kind = "bm25"
k1 = {k1}

[[model]]
name = "MiniLM"
kind = "dense"
source = "mirror:all-MiniLM-L6-v2"
mode = "mean"
"#
    )
}

const CELLS: [&str; 4] = ["BM25/beir__scifact", "BM25/beir__nfcorpus", "MiniLM/beir__scifact", "MiniLM/beir__nfcorpus"];

#[test]
fn bench_resumes_after_a_kill_does_no_work_twice_and_reports() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let out = dir.path().join("results");
    let preset_path = dir.path().join("test.toml");
    std::fs::write(&preset_path, preset(0.9)).unwrap();
    let args = ["bench", "--preset", preset_path.to_str().unwrap(), "--out", out.to_str().unwrap(), "--threads", "2"];

    // Kill the first run once the BM25 cells are done and the first MiniLM cell is under way.
    let mut child = command(&cache, &args).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(300) {
        if out.join(CELLS[1]).join("results.json").exists() || child.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let _ = child.kill();
    let _ = child.wait();
    let done_before = CELLS.iter().filter(|c| out.join(c).join("results.json").exists()).count();
    assert!(done_before >= 1, "the first run finished no cell before the kill");

    let (code, stdout, err) = drbench(&cache, &args);
    assert_eq!(code, 0, "{err}");
    for c in CELLS {
        for f in ["results.json", "per_query.json", "run.trec"] {
            assert!(out.join(c).join(f).is_file(), "{c}/{f} missing after the resumed run");
        }
    }
    assert!(err.contains(&format!("{} cells run, {done_before} kept", 4 - done_before)), "{err}");
    assert!(stdout.contains("| beir/scifact |") && stdout.contains("**Avg.**"), "{stdout}");
    let results: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join(CELLS[2]).join("results.json")).unwrap()).unwrap();
    assert_eq!(results["task_name"], "SciFact");
    assert!(results["scores"]["test"][0]["ndcg_at_10"].as_f64().unwrap() > 0.5, "{results}");
    assert_eq!(results["drbench"]["settings"]["subset"]["queries"], 10);

    // Finished: a second run does no work.
    let (code, again, err) = drbench(&cache, &args);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("0 cells run, 4 kept, 0 failed"), "{err}");
    assert_eq!(again, stdout, "the table changed without any work");

    // Changed settings are refused rather than mixed in.
    std::fs::write(&preset_path, preset(1.2)).unwrap();
    let (code, _, err) = drbench(&cache, &args);
    assert_eq!(code, 1);
    assert!(err.contains("computed with other settings"), "{err}");

    // Reports: every format, the chart, a bad baseline.
    let svg = dir.path().join("chart.svg");
    let r = out.to_str().unwrap();
    let (code, md, err) =
        drbench(&cache, &["report", "--results", r, "--baseline", "BM25", "--chart", svg.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(md.starts_with("| nDCG@10 | BM25 | MiniLM |"), "{md}");
    assert!(std::fs::read_to_string(&svg).unwrap().starts_with("<svg"));
    let (code, tex, _) = drbench(&cache, &["report", "--results", r, "--format", "latex", "--layout", "rows"]);
    assert_eq!(code, 0);
    assert!(tex.contains("\\begin{tabular}") && tex.contains("MiniLM &"), "{tex}");
    let (code, csv, _) = drbench(&cache, &["report", "--results", r, "--format", "csv", "--measures", "nDCG@10"]);
    assert_eq!(code, 0);
    assert_eq!(csv.lines().count(), 1 + 3 * 2, "header + (2 tasks + average) x 2 models:\n{csv}");
    let (code, _, err) = drbench(&cache, &["report", "--results", r, "--baseline", "BM26"]);
    assert_eq!(code, 1);
    assert!(err.contains("--baseline \"BM26\": no results for it (models: BM25, MiniLM)"), "{err}");
}

#[test]
fn bench_explains_bad_presets_and_lists_cells() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        "name = \"x\"\ntasks = [\"beir/scifact\"]\n[[model]]\nname = \"m\"\nkind = \"dense\"\nmode = \"mean\"\n",
    )
    .unwrap();
    let (code, _, err) = drbench(dir.path(), &["bench", "--preset", bad.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(err.contains("bad.toml: model \"m\": a dense model needs `source`"), "{err}");
    let (code, _, err) = drbench(dir.path(), &["bench", "--preset", "nope"]);
    assert_eq!(code, 1);
    assert!(err.contains("not a shipped preset (default, smoke, paper, train-demo)"), "{err}");
    let demo = dir.path().join("demo");
    let (code, _, err) =
        drbench(dir.path(), &["bench", "--preset", "train-demo", "--dry-run", "--out", demo.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("0 of 3 cells done"), "{err}");
    let out = dir.path().join("r");
    let (code, _, err) =
        drbench(dir.path(), &["bench", "--preset", "paper", "--dry-run", "--out", out.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("[1/"), "{err}");
    // CodeSearchNet and CodeSearchNet-CCR run one cell per language (six each) for every zero-shot model.
    assert!(err.contains("0 of 261 cells done"), "{err}");
    assert!(
        err.contains("BM25 × coir/codesearchnet#python: to run") && err.contains("× coir/codesearchnet-ccr#php"),
        "{err}"
    );
}
