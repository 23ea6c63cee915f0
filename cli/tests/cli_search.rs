//! `drbench search` end to end: over `.npy` shards (f32 and f16) under budgets small enough to need many blocks
//! and passes, equal to a naive f64 search of the same values; over the tiny Qwen2's `drbench embed` output, equal
//! to `drbench run`'s own run; and every unusable input refused, naming the file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use drbench_harness::io::npy::{RowType, write_npy};

mod common;

use common::{drbench, root, shared};

/// Small integer-valued rows: every dot product is exact in f32, so ties are real and their order is checked.
fn rows(n: usize, dim: usize, seed: u64) -> Vec<f32> {
    let mut s = seed;
    (0..n * dim)
        .map(|_| {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((s >> 61) as i32 - 4) as f32
        })
        .collect()
}

fn write_ids(path: &Path, prefix: &str, n: usize) {
    std::fs::write(path, (0..n).map(|i| format!("{prefix}{i}\n")).collect::<String>()).unwrap();
}

/// query → (doc, score) in rank order, from a TREC run.
fn read_run(path: &Path) -> BTreeMap<String, Vec<(String, f64)>> {
    let mut run: BTreeMap<String, Vec<(String, f64)>> = BTreeMap::new();
    for line in std::fs::read_to_string(path).unwrap().lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        let hits = run.entry(f[0].to_string()).or_default();
        assert_eq!(f[3].parse::<usize>().unwrap(), hits.len() + 1, "{line}");
        hits.push((f[2].to_string(), f[4].parse().unwrap()));
    }
    run
}

/// The top `k` by a full f64 sort (score descending, corpus row ascending), then in trec_eval's order (score
/// descending, id descending) as runs are written.
fn naive(docs: &[f32], queries: &[f32], dim: usize, k: usize) -> BTreeMap<String, Vec<(String, f64)>> {
    queries
        .chunks(dim)
        .enumerate()
        .map(|(qi, q)| {
            let mut all: Vec<(usize, f64)> = docs
                .chunks(dim)
                .enumerate()
                .map(|(i, d)| (i, q.iter().zip(d).map(|(a, b)| f64::from(*a) * f64::from(*b)).sum()))
                .collect();
            all.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            all.truncate(k);
            let mut hits: Vec<(String, f64)> = all.into_iter().map(|(i, s)| (format!("d{i}"), s)).collect();
            hits.sort_by(|a, b| b.1.total_cmp(&a.1).then(b.0.as_bytes().cmp(a.0.as_bytes())));
            (format!("q{qi}"), hits)
        })
        .collect()
}

fn search_args<'a>(dir: &'a Path, corpus: &'a [PathBuf], k: &'a str, budget: &'a str, out: &'a Path) -> Vec<String> {
    let mut a: Vec<String> = vec!["search".into()];
    for c in corpus {
        a.extend(["--corpus".into(), c.display().to_string()]);
    }
    for (flag, file) in [("--corpus-ids", "corpus.ids"), ("--queries", "q.npy"), ("--query-ids", "q.ids")] {
        a.extend([flag.to_string(), dir.join(file).display().to_string()]);
    }
    a.extend(["--k", k, "--memory-budget", budget, "--out"].map(String::from));
    a.push(out.display().to_string());
    a
}

fn run_drbench(cache: &Path, args: &[String]) -> (i32, String) {
    let (code, _, err) = drbench(cache, &args.iter().map(String::as_str).collect::<Vec<_>>());
    (code, err)
}

#[test]
fn sharded_f32_and_f16_corpora_under_small_budgets_equal_a_naive_search() {
    let dir = tempfile::tempdir().unwrap();
    let (dim, n_docs, n_q) = (8, 3000, 40);
    let docs = rows(n_docs, dim, 1);
    let queries = rows(n_q, dim, 2);
    // Three shards, the middle one f16 (small integers are exact in f16) and one empty.
    let cuts = [0, 1100, 1100, 2300, n_docs];
    let types = [RowType::F32, RowType::F32, RowType::F16, RowType::F32];
    let shards: Vec<PathBuf> = (0..4).map(|i| dir.path().join(format!("c{i}.npy"))).collect();
    for (i, shard) in shards.iter().enumerate() {
        write_npy(shard, &docs[cuts[i] * dim..cuts[i + 1] * dim], dim, types[i]).unwrap();
    }
    write_npy(&dir.path().join("q.npy"), &queries, dim, RowType::F32).unwrap();
    write_ids(&dir.path().join("corpus.ids"), "d", n_docs);
    write_ids(&dir.path().join("q.ids"), "q", n_q);
    // (k, budget, passes over the corpus: one, or several when the budget cannot hold all queries' buffers)
    for (k, budget, several_passes) in [("10", "1GiB", false), ("7", "128KiB", true), ("3000", "16MiB", false)] {
        let out = dir.path().join(format!("run-{k}-{budget}.trec"));
        let (code, err) = run_drbench(dir.path(), &search_args(dir.path(), &shards, k, budget, &out));
        assert_eq!(code, 0, "{err}");
        assert!(err.contains("40 queries x 3000 docs (8 values, f16)"), "{err}");
        let passes: usize = err.split(" pass(es)").next().and_then(|s| s.rsplit(' ').next()).unwrap().parse().unwrap();
        assert_eq!(passes > 1, several_passes, "{err}");
        assert_eq!(read_run(&out), naive(&docs, &queries, dim, k.parse().unwrap()), "k {k}, budget {budget}");
    }
}

fn tiny_qwen2() -> Vec<String> {
    [
        "--model",
        &shared().join("golden/qwen2-tiny").display().to_string(),
        "--tokenizer",
        &shared().join("mirror/models/qwen2.5-coder-0.5b-instruct").display().to_string(),
        "--mode",
        "promptreps",
    ]
    .map(String::from)
    .to_vec()
}

#[test]
fn embeddings_from_drbench_embed_search_to_drbench_run_s_run() {
    let dir = tempfile::tempdir().unwrap();
    let task = root().join("datasets/fixtures/tiny-beir");
    let mut run = vec!["run".to_string()];
    run.extend(tiny_qwen2());
    run.extend(
        ["--task", &task.display().to_string(), "--out", &dir.path().join("cell").display().to_string()]
            .map(String::from),
    );
    let (code, err) = run_drbench(dir.path(), &run);
    assert_eq!(code, 0, "{err}");
    for (role, input, out) in [("passage", "corpus.jsonl", "corpus.npy"), ("query", "queries.jsonl", "q.npy")] {
        let mut embed = vec!["embed".to_string()];
        embed.extend(tiny_qwen2());
        embed.extend(["--role", role, "--input", &task.join(input).display().to_string(), "--out"].map(String::from));
        embed.push(dir.path().join(out).display().to_string());
        let (code, err) = run_drbench(dir.path(), &embed);
        assert_eq!(code, 0, "{err}");
        assert!(err.contains("(<f4), ids to"), "{err}");
    }
    let out = dir.path().join("search.trec");
    let (code, err) =
        run_drbench(dir.path(), &search_args(dir.path(), &[dir.path().join("corpus.npy")], "1000", "64MiB", &out));
    assert_eq!(code, 0, "{err}");
    let (ours, theirs) = (read_run(&out), read_run(&dir.path().join("cell/run.trec")));
    assert_eq!(ours.keys().collect::<Vec<_>>(), theirs.keys().collect::<Vec<_>>());
    for (q, hits) in &theirs {
        let mine = &ours[q];
        assert_eq!(mine.len(), hits.len(), "{q}");
        for ((d1, s1), (d2, s2)) in mine.iter().zip(hits) {
            assert_eq!(d1, d2, "{q}");
            assert!((s1 - s2).abs() < 1e-6, "{q} {d1}: {s1} vs {s2}");
        }
    }
}

#[test]
fn unusable_inputs_are_refused_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write_npy(&d.join("c.npy"), &rows(10, 4, 3), 4, RowType::F32).unwrap();
    write_npy(&d.join("q.npy"), &rows(2, 4, 4), 4, RowType::F16).unwrap();
    write_npy(&d.join("q3.npy"), &rows(2, 3, 4), 3, RowType::F32).unwrap();
    write_ids(&d.join("corpus.ids"), "d", 10);
    write_ids(&d.join("q.ids"), "q", 2);
    write_ids(&d.join("nine.ids"), "d", 9);
    write_npy(&d.join("q0.npy"), &[], 4, RowType::F32).unwrap();
    std::fs::write(d.join("none.ids"), "").unwrap();
    std::fs::write(d.join("dup.ids"), "a\nb\nc\nd\ne\nc\nf\ng\nh\ni\n").unwrap();
    std::fs::write(d.join("space.ids"), "a\nb c\n").unwrap();
    std::fs::write(d.join("not.npy"), "id\ttext\n").unwrap();
    let p = |f: &str| d.join(f).display().to_string();
    let base = |corpus: &str, cids: &str, q: &str, qids: &str, extra: &[&str]| -> Vec<String> {
        let mut a: Vec<String> =
            ["search", "--corpus", &p(corpus), "--corpus-ids", &p(cids), "--queries", &p(q)].map(String::from).to_vec();
        a.extend(["--query-ids".to_string(), p(qids), "--out".into(), p("run.trec")]);
        a.extend(extra.iter().map(|s| s.to_string()));
        a
    };
    let cases: Vec<(&str, Vec<String>, String)> = vec![
        (
            "not npy",
            base("not.npy", "corpus.ids", "q.npy", "q.ids", &[]),
            format!("{}: not a NumPy .npy file", p("not.npy")),
        ),
        ("missing", base("gone.npy", "corpus.ids", "q.npy", "q.ids", &[]), format!("{}: No such file", p("gone.npy"))),
        (
            "dims",
            base("c.npy", "corpus.ids", "q3.npy", "q.ids", &[]),
            format!("{}: its rows have 3 values, but the corpus's have 4", p("q3.npy")),
        ),
        (
            "too few ids",
            base("c.npy", "nine.ids", "q.npy", "q.ids", &[]),
            format!("{}: 9 ids for the 10 rows of the corpus embeddings", p("nine.ids")),
        ),
        (
            "too many ids",
            base("c.npy", "corpus.ids", "q.npy", "nine.ids", &[]),
            format!("{}:3: more ids than the 2 rows of the queries embeddings", p("nine.ids")),
        ),
        (
            "repeated id",
            base("c.npy", "dup.ids", "q.npy", "q.ids", &[]),
            format!("{}:6: id \"c\" is also on line 3", p("dup.ids")),
        ),
        (
            "space in id",
            base("c.npy", "corpus.ids", "q.npy", "space.ids", &[]),
            format!("{}:2: \"b c\" is not an id", p("space.ids")),
        ),
        (
            "no queries",
            base("c.npy", "corpus.ids", "q0.npy", "none.ids", &[]),
            format!("{}: no query rows to search", p("q0.npy")),
        ),
        ("k 0", base("c.npy", "corpus.ids", "q.npy", "q.ids", &["--k", "0"]), "--k must be at least 1".into()),
        (
            "budget",
            base("c.npy", "corpus.ids", "q.npy", "q.ids", &["--memory-budget", "1KiB"]),
            "a memory budget of 1 KiB is too small for 2 queries".into(),
        ),
        (
            "bad size",
            base("c.npy", "corpus.ids", "q.npy", "q.ids", &["--memory-budget", "lots"]),
            "\"lots\" is not a size".into(),
        ),
        (
            "out is input",
            {
                let mut a = base("c.npy", "corpus.ids", "q.npy", "q.ids", &[]);
                let n = a.len();
                a[n - 1] = p("q.ids");
                a
            },
            "that is an input".into(),
        ),
    ];
    for (name, args, want) in cases {
        let (code, err) = run_drbench(d, &args);
        assert_ne!(code, 0, "{name} succeeded");
        assert!(err.contains(&want), "{name}: {err}");
        assert!(!d.join("run.trec").exists(), "{name} wrote a run");
    }
}

#[test]
fn embed_refuses_ids_its_ids_file_cannot_hold_before_encoding() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.jsonl");
    std::fs::write(&input, "{\"id\": \"a\", \"text\": \"one\"}\n{\"id\": \"b c\", \"text\": \"two\"}\n").unwrap();
    let out = dir.path().join("out.npy");
    let mut embed = vec!["embed".to_string()];
    embed.extend(tiny_qwen2());
    embed.extend(
        ["--role", "query", "--input", &input.display().to_string(), "--out", &out.display().to_string()]
            .map(String::from),
    );
    let (code, err) = run_drbench(dir.path(), &embed);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("id \"b c\" cannot be written one per line"), "{err}");
    assert!(!out.exists() && !dir.path().join("out.ids").exists());
    // JSONL output holds such ids; the f16 choice is for .npy alone.
    embed.pop();
    embed.extend(["out.jsonl".to_string(), "--npy-dtype".into(), "f16".into()]);
    let (code, err) = run_drbench(dir.path(), &embed);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("--npy-dtype f16 is for a .npy --out"), "{err}");
}
