//! `drbench embed`, `drbench run` and `drbench merge` end to end with the tiny random Qwen2 of ../shared/golden on
//! the hand-made tiny BEIR fixture: parity of `embed` with transformers, identical results after a kill and
//! resume, and sharded runs merging to the unsharded one.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use drbench_pipeline::record::read_cell;
use serde_json::Value;

mod common;

use common::{command, drbench, root, shared};

fn tiny_model_args() -> Vec<String> {
    vec![
        "--model".into(),
        shared().join("golden/qwen2-tiny").display().to_string(),
        "--tokenizer".into(),
        shared().join("mirror/models/qwen2.5-coder-0.5b-instruct").display().to_string(),
        "--mode".into(),
        "promptreps".into(),
    ]
}

#[test]
fn embed_matches_transformers_for_the_tiny_qwen2() {
    let dir = tempfile::tempdir().unwrap();
    let expected: Value =
        serde_json::from_str(&std::fs::read_to_string(shared().join("golden/qwen2-tiny/expected.json")).unwrap())
            .unwrap();
    let queries: Vec<&Value> = expected["inputs"].as_array().unwrap().iter().filter(|i| i["kind"] == "query").collect();
    let input = dir.path().join("in.jsonl");
    let lines: String =
        queries.iter().map(|q| format!("{}\n", serde_json::json!({"id": q["id"], "text": q["text"]}))).collect();
    std::fs::write(&input, lines).unwrap();
    let out = dir.path().join("out.jsonl");
    let mut args: Vec<String> = vec!["embed".into()];
    args.extend(tiny_model_args());
    args.extend(
        ["--role", "query", "--input", input.to_str().unwrap(), "--out", out.to_str().unwrap()].map(String::from),
    );
    let (code, _, err) = drbench(dir.path(), &args.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(code, 0, "{err}");
    for (line, q) in std::fs::read_to_string(&out).unwrap().lines().zip(&queries) {
        let got: Value = serde_json::from_str(line).unwrap();
        assert_eq!(got["id"], q["id"]);
        let case = expected["cases"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["input_id"] == q["id"] && c["mode"] == "promptreps")
            .unwrap();
        for (g, w) in got["embedding"].as_array().unwrap().iter().zip(case["embedding_normalized"].as_array().unwrap())
        {
            assert!((g.as_f64().unwrap() - w.as_f64().unwrap()).abs() < 1e-4, "{}", q["id"]);
        }
    }
}

fn run_args(out: &Path, extra: &[&str]) -> Vec<String> {
    let mut a: Vec<String> = vec!["run".into()];
    a.extend(tiny_model_args());
    a.extend(
        [
            "--task",
            &root().join("datasets/fixtures/tiny-beir").display().to_string(),
            "--out",
            out.to_str().unwrap(),
            "--shard-size",
            "1",
        ]
        .map(String::from),
    );
    a.extend(extra.iter().map(|s| s.to_string()));
    a
}

#[test]
fn a_killed_run_resumes_to_identical_results() {
    let reference_cache = tempfile::tempdir().unwrap();
    let reference_out = reference_cache.path().join("out");
    let args = run_args(&reference_out, &[]);
    let (code, _, err) = drbench(reference_cache.path(), &args.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(code, 0, "{err}");
    let reference = std::fs::read_to_string(reference_out.join("run.trec")).unwrap();

    let cache = tempfile::tempdir().unwrap();
    let out = cache.path().join("out");
    let args = run_args(&out, &[]);
    let mut child = command(cache.path(), &args.iter().map(String::as_str).collect::<Vec<_>>())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Kill it as soon as the first corpus shard is on disk (or let it finish if it is quicker than us).
    let start = Instant::now();
    let shards = |dir: &Path| -> usize {
        walk(dir)
            .into_iter()
            .filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("shard-")))
            .count()
    };
    while shards(cache.path()) == 0 && start.elapsed() < Duration::from_secs(120) {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    let _ = child.kill();
    let _ = child.wait();
    let before = shards(cache.path());
    let (code, _, err) = drbench(cache.path(), &args.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(code, 0, "{err}");
    assert_eq!(std::fs::read_to_string(out.join("run.trec")).unwrap(), reference, "resumed run differs");
    let encoding = |out: &Path| read_cell(out).unwrap().expect("a finished cell").encoding.expect("a dense cell");
    let reused = encoding(&out).shards_reused;
    assert!(reused + 1 >= before.min(8), "reused {reused} shards, {before} were on disk");
    // A third run encodes nothing.
    let (code, _, err) = drbench(cache.path(), &args.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(code, 0, "{err}");
    assert_eq!(encoding(&out).shards_encoded, 0);
}

#[test]
fn sharded_runs_merge_to_the_full_run() {
    let cache = tempfile::tempdir().unwrap();
    let out = cache.path().join("out");
    let full = run_args(&out, &["--k", "5"]);
    let (code, _, err) = drbench(cache.path(), &full.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(code, 0, "{err}");
    let shard_cache = tempfile::tempdir().unwrap();
    let mut parts = Vec::new();
    // Shard 0 named on the command line, 1 by a Slurm job array (--array=1-3), 2 by torchrun.
    let launchers: [(&str, &[(&str, &str)]); 3] = [
        ("0/3", &[]),
        ("auto", &[("SLURM_ARRAY_TASK_ID", "2"), ("SLURM_ARRAY_TASK_COUNT", "3"), ("SLURM_ARRAY_TASK_MIN", "1")]),
        ("auto", &[("RANK", "2"), ("WORLD_SIZE", "3"), ("LOCAL_RANK", "0")]),
    ];
    for (i, (shard, env)) in launchers.iter().enumerate() {
        let args = run_args(&out, &["--k", "5", "--shard", shard]);
        let mut c = command(shard_cache.path(), &args.iter().map(String::as_str).collect::<Vec<_>>());
        for var in LAUNCHER_VARS {
            c.env_remove(var);
        }
        let o = c.envs(env.iter().copied()).output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        parts.push(out.join(format!("run.shard-{i}-of-3.trec")).display().to_string());
    }
    // No launcher, no shard: refused before any work, naming what it looked for.
    let mut c = command(
        shard_cache.path(),
        &run_args(&out, &["--shard", "auto"]).iter().map(String::as_str).collect::<Vec<_>>(),
    );
    for var in LAUNCHER_VARS {
        c.env_remove(var);
    }
    let o = c.output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && err.contains("no launcher told this process its shard"), "{err}");
    let merged = out.join("merged.trec").display().to_string();
    let mut args: Vec<&str> = vec!["merge", "--k", "5", "--out", &merged, "--tag", "drbench-promptreps"];
    args.extend(parts.iter().map(String::as_str));
    let (code, _, err) = drbench(cache.path(), &args);
    assert_eq!(code, 0, "{err}");
    assert_eq!(std::fs::read_to_string(&merged).unwrap(), std::fs::read_to_string(out.join("run.trec")).unwrap());
}

/// What `--shard auto` reads, removed from the test's own environment first.
const LAUNCHER_VARS: [&str; 10] = [
    "SLURM_ARRAY_TASK_ID",
    "SLURM_ARRAY_TASK_COUNT",
    "SLURM_ARRAY_TASK_MIN",
    "SLURM_ARRAY_TASK_STEP",
    "RANK",
    "WORLD_SIZE",
    "LOCAL_RANK",
    "SLURM_PROCID",
    "SLURM_NTASKS",
    "JOB_COMPLETION_INDEX",
];

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut v = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            v.extend(walk(&p));
        } else {
            v.push(p);
        }
    }
    v
}
