//! `drbench mine` and `drbench train` end to end on real data (SciFact train from ../shared/mirror) with the tiny
//! random Qwen2: groups without judged positives among the negatives; a training run that crashes after step 3
//! (checkpoint at step 2) and is started again ends with the byte-identical adapter of an uninterrupted run;
//! the adapter then serves `embed` and `run`, unmerged and merged.

mod common;

use std::path::Path;

use common::{drbench, shared};
use drbench_harness::io::read_train_groups;
use serde_json::Value;

fn train_args<'a>(train: &'a str, out: &'a str, tok: &'a str, model: &'a str) -> Vec<&'a str> {
    vec![
        "train",
        "--model",
        model,
        "--tokenizer",
        tok,
        "--train",
        train,
        "--out",
        out,
        "--train-group-size",
        "3",
        "--per-device-batch-size",
        "4",
        "--gradient-accumulation-steps",
        "2",
        "--max-steps",
        "6",
        "--save-steps",
        "2",
        "--warmup-steps",
        "2",
        "--learning-rate",
        "1e-3",
        "--chunk-size",
        "5",
    ]
}

fn embeddings(path: &Path) -> Vec<Vec<f64>> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            v["embedding"].as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect()
        })
        .collect()
}

#[test]
fn mine_train_crash_resume_and_use_the_adapter() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let train = d.join("train.jsonl");
    let (code, out, err) =
        drbench(d, &["mine", "--dataset", "beir/scifact", "--depth", "5", "--out", train.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("beir/scifact train: 809 groups"), "{out}");
    let groups = read_train_groups(&train).unwrap();
    for g in &groups {
        assert!(!g.negative_passages.is_empty() && g.negative_passages.len() <= 5, "{}", g.query_id);
        for n in &g.negative_passages {
            assert!(
                g.positive_passages.iter().all(|p| p.docid != n.docid),
                "{}: positive {} mined",
                g.query_id,
                n.docid
            );
        }
    }

    // A second retriever from a run file: its top documents follow BM25's, judged positives still excluded.
    let first = &groups[0];
    let run_file = d.join("dense.trec");
    let positive = &first.positive_passages[0].docid;
    std::fs::write(&run_file, format!("{q} Q0 {positive} 1 9.0 dense\n{q} Q0 4983 2 8.0 dense\n", q = first.query_id))
        .unwrap();
    let both = d.join("both.jsonl");
    let run_arg = format!("run:{}", run_file.display());
    let (code, _, err) = drbench(
        d,
        &[
            "mine",
            "--dataset",
            "beir/scifact",
            "--depth",
            "5",
            "--retriever",
            "bm25",
            "--retriever",
            &run_arg,
            "--out",
            both.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0, "{err}");
    let mined = read_train_groups(&both).unwrap();
    let negs: Vec<&str> = mined[0].negative_passages.iter().map(|p| p.docid.as_str()).collect();
    assert_eq!(negs.last(), Some(&"4983"), "{negs:?}");
    assert!(!negs.contains(&positive.as_str()));
    let (code, _, err) = drbench(d, &["mine", "--dataset", "beir/scifact", "--retriever", "dense", "--out", "x"]);
    assert_eq!(code, 1);
    assert!(err.contains("--retriever \"dense\": expected bm25 or run:FILE"), "{err}");

    let model = shared().join("golden/qwen2-tiny");
    let tok = shared().join("mirror/models/qwen2.5-coder-0.5b-instruct");
    let (model, tok, train) = (model.to_str().unwrap(), tok.to_str().unwrap(), train.to_str().unwrap());
    let (whole, resumed) = (d.join("whole"), d.join("resumed"));
    let (code, out, err) = drbench(d, &train_args(train, whole.to_str().unwrap(), tok, model));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("trained 6 steps (6 this run)"), "{out}");

    let mut crash = train_args(train, resumed.to_str().unwrap(), tok, model);
    crash.extend(["--abort-after-step", "3"]);
    let (code, _, _) = drbench(d, &crash);
    assert_ne!(code, 0, "the crash aid aborts");
    assert!(resumed.join("checkpoint-2/trainer_state.json").is_file() && !resumed.join("checkpoint-3").exists());
    assert_eq!(std::fs::read_to_string(resumed.join("train_log.jsonl")).unwrap().lines().count(), 3);
    let (code, out, err) = drbench(d, &train_args(train, resumed.to_str().unwrap(), tok, model));
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("resuming from") && out.contains("(4 this run)"), "{err}\n{out}");
    let bytes = |p: &Path| std::fs::read(p.join("adapter_model.safetensors")).unwrap();
    assert!(bytes(&whole) == bytes(&resumed), "a resumed run must end with the identical adapter");
    // Tevatron's form, gzip: read as a stream, served from a spool the run removes; the same groups, the same
    // adapter.
    let gz = d.join("train.jsonl.gz");
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut enc, &std::fs::read(train).unwrap()).unwrap();
    std::fs::write(&gz, enc.finish().unwrap()).unwrap();
    let from_gz = d.join("from-gz");
    let (code, out, err) = drbench(d, &train_args(gz.to_str().unwrap(), from_gz.to_str().unwrap(), tok, model));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("trained 6 steps (6 this run)"), "{out}");
    assert!(bytes(&whole) == bytes(&from_gz), "the gzip file trains the identical adapter");
    assert!(!from_gz.join(".train-groups.jsonl").exists(), "the spool is removed after the run");
    let losses = |p: &Path| -> Vec<f64> {
        std::fs::read_to_string(p.join("train_log.jsonl"))
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str::<drbench_native::train::run::LogLine>(l).unwrap().loss)
            .collect()
    };
    assert_eq!(losses(&whole), losses(&resumed));
    assert_eq!(losses(&whole).len(), 6);

    // Another recipe in the same folder is refused.
    let mut other = train_args(train, whole.to_str().unwrap(), tok, model);
    other.extend(["--seed", "7"]);
    let (code, _, err) = drbench(d, &other);
    assert_eq!(code, 1);
    assert!(err.contains("a checkpoint of another run is here"), "{err}");

    // The adapter in use: it changes the embeddings; merged and unmerged agree.
    let input = d.join("in.jsonl");
    std::fs::write(&input, "{\"id\":\"a\",\"text\":\"cells divide\"}\n{\"id\":\"b\",\"text\":\"the moon\"}\n").unwrap();
    let embed = |extra: &[&str], name: &str| {
        let out = d.join(name);
        let mut args = vec!["embed", "--model", model, "--tokenizer", tok, "--mode", "eos", "--role", "passage"];
        args.extend(["--input", input.to_str().unwrap(), "--out", out.to_str().unwrap()]);
        args.extend(extra);
        let (code, _, err) = drbench(d, &args);
        assert_eq!(code, 0, "{err}");
        embeddings(&out)
    };
    let adapter = whole.to_str().unwrap();
    let base = embed(&[], "base.jsonl");
    let unmerged = embed(&["--adapter", adapter], "unmerged.jsonl");
    let merged = embed(&["--adapter", adapter, "--merge"], "merged.jsonl");
    let max_diff = |a: &[Vec<f64>], b: &[Vec<f64>]| {
        a.iter().flatten().zip(b.iter().flatten()).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max)
    };
    assert!(max_diff(&base, &unmerged) > 1e-3, "training moved the embeddings");
    assert!(max_diff(&merged, &unmerged) < 1e-5, "merged vs unmerged: {}", max_diff(&merged, &unmerged));

    let fixture = common::root().join("datasets/fixtures/tiny-beir");
    let run_dir = d.join("run");
    let (code, out, err) = drbench(
        d,
        &[
            "run",
            "--model",
            model,
            "--tokenizer",
            tok,
            "--mode",
            "eos",
            "--adapter",
            adapter,
            "--task",
            fixture.to_str().unwrap(),
            "--out",
            run_dir.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("nDCG@10"), "{out}");
    // The adapter is part of what made the numbers: in the settings and in the encoder's signature.
    let record = drbench_pipeline::record::read_cell(&run_dir).unwrap().expect("a finished cell");
    let drbench_pipeline::retriever::RetrieverSpec::Dense(dense) = &record.settings.retriever else {
        panic!("a dense cell")
    };
    assert_eq!(dense.adapter.as_deref(), Some(adapter));
    let signature: drbench_native::encoders::signature::EncoderSignature =
        serde_json::from_str(record.retriever.json()).unwrap();
    assert!(signature.adapter.is_some_and(|a| !a.merged && a.sha256.len() == 64), "{}", record.retriever.json());
}
