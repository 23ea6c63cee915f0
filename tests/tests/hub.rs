//! Hub datasets through the standard Hugging Face cache, against a stand-in hub on 127.0.0.1 serving NFCorpus
//! (../shared/mirror) re-laid in each layout: every layout's task equals the BEIR folder's and its BM25 run
//! equals the BEIR folder's to the last digit; then the cache: reuse offline (no request), a cache laid out by
//! Python's huggingface_hub, damaged blobs (re-fetched online, refused offline), a transfer cut in the middle
//! (resumed with Range), an interrupted download left by an earlier process, 404s, a gated repository.

use std::path::Path;
use std::time::Duration;

use drbench_harness::bm25::FieldMode;
use drbench_harness::metrics::Measure;
use drbench_native::store::Store;
use drbench_native::store::hub::HubSettings;
use drbench_pipeline::cell::{CellOptions, Retriever, run_cell};
use drbench_pipeline::progress::Silent;
use drbench_pipeline::retriever::Bm25Spec;
use drbench_pipeline::task::{Task, load_task};
use drbench_tests::hub_fixtures::{beir_files_repo, coir_repo, mteb_repo, older_pair};
use drbench_tests::hub_standin::{HubStandin, StandinRepo, sha256};
use drbench_tests::mirror_task;

fn nfcorpus(dir: &Path) -> Task {
    mirror_task("beir/nfcorpus", "test", &dir.join("mirror-cache"))
}

/// A store whose hub is `hub`, its Hugging Face cache at `hf_cache`.
fn store(dir: &Path, hub: &HubStandin, hf_cache: &Path, offline: bool) -> Store {
    let mut s = Store::new(dir.join("drbench-cache"), None);
    s.hub = HubSettings { endpoint: hub.url.clone(), token: None, offline, stall_timeout: Duration::from_secs(2) };
    s.hub_cache = hf_cache.to_path_buf();
    s
}

fn bm25_run(task: &Task) -> (Vec<String>, f64) {
    let opts = CellOptions { k: 1000, measures: vec![Measure::Ndcg(Some(10))], remove_query_self: false };
    let r = Retriever::Bm25 {
        spec: Bm25Spec { fields: FieldMode::Flat, ..Bm25Spec::default() },
        index_file: None,
        exact_scores: false,
    };
    let out = run_cell(task, r, &opts, &Silent).unwrap();
    let mut lines = Vec::new();
    for (q, hits) in out.run.iter() {
        for h in hits {
            lines.push(format!("{q} {} {:?}", h.docid, h.score));
        }
    }
    lines.sort();
    (lines, out.evaluation.unwrap().mean[0])
}

fn same_task(a: &Task, b: &Task) {
    let rows = |c: &drbench_harness::data::Collection| -> Vec<(String, String, String)> {
        c.iter().map(|r| (r.id.to_string(), r.title.to_string(), r.text.to_string())).collect()
    };
    assert_eq!(rows(&a.corpus), rows(&b.corpus), "corpus");
    assert_eq!(rows(&a.queries), rows(&b.queries), "queries");
    assert_eq!(a.qrels.to_sorted(), b.qrels.to_sorted(), "qrels");
}

#[test]
fn every_layout_gives_the_beir_folders_task_and_bm25_run() {
    let dir = tempfile::tempdir().unwrap();
    let beir = nfcorpus(dir.path());
    let (want_run, want_ndcg) = bm25_run(&beir);
    assert!((want_ndcg - 0.3218).abs() < 5e-4, "{want_ndcg}");
    let (c, q, r) = (&beir.corpus, &beir.queries, &beir.qrels);
    let [pair, pair_qrels] = older_pair("BeIR/nfcorpus", c, q, r);
    let hub = HubStandin::start(vec![
        mteb_repo("mteb/nfcorpus", c, q, r),
        beir_files_repo("someone/nfcorpus-beir", c, q, r),
        pair,
        pair_qrels,
        coir_repo("CoIR-Retrieval/nf-by-lang", &[("python", c, q, r), ("go", c, q, r)]),
    ]);
    let hf = dir.path().join("hf");
    let s = store(dir.path(), &hub, &hf, false);
    for (reference, layout) in [
        ("hf://datasets/mteb/nfcorpus@main", "CardConfigs"),
        ("hf://datasets/someone/nfcorpus-beir@main", "BeirFiles"),
        ("hf://datasets/BeIR/nfcorpus@main", "CardConfigs"),
        ("hf://datasets/CoIR-Retrieval/nf-by-lang@main#python", "CardConfigs"),
        ("hf://datasets/CoIR-Retrieval/nf-by-lang@main#go", "CardConfigs"),
    ] {
        let resolved = s.resolve(reference).unwrap_or_else(|e| panic!("{reference}: {e}"));
        let h = resolved.hub.as_ref().unwrap();
        assert_eq!(format!("{:?}", h.layout), layout, "{reference}");
        let revision = resolved.revision().unwrap();
        assert!(revision.contains('@') && !revision.contains("@main"), "the commit is recorded: {revision}");
        let task = load_task(&s, reference, Some("test")).unwrap_or_else(|e| panic!("{reference}: {e}"));
        assert_eq!(task.source.revision.as_deref(), Some(revision.as_str()));
        same_task(&task, &beir);
        let (run, ndcg) = bm25_run(&task);
        assert_eq!(ndcg.to_bits(), want_ndcg.to_bits(), "{reference}: nDCG@10 {ndcg} vs {want_ndcg}");
        assert!(run == want_run, "{reference}: the BM25 run differs from the BEIR folder's");
    }
    assert!(
        s.resolve("hf://datasets/BeIR/nfcorpus@main")
            .unwrap()
            .revision()
            .unwrap()
            .contains("(qrels: hf://datasets/BeIR/nfcorpus-qrels@")
    );
    // The cache is huggingface_hub's: refs/main, blobs named by sha256, relative links under snapshots/.
    let repo = hf.join("datasets--mteb--nfcorpus");
    let commit = std::fs::read_to_string(repo.join("refs/main")).unwrap();
    let link = repo.join("snapshots").join(&commit).join("corpus/corpus-00000-of-00002.parquet");
    let target = std::fs::read_link(&link).unwrap();
    assert!(target.starts_with("../../../blobs"), "{}", target.display());
    let bytes = std::fs::read(&link).unwrap();
    assert_eq!(target.file_name().unwrap().to_str().unwrap(), sha256(&bytes));
    // A subset the card lacks is named with the ones it has.
    let err = s.resolve("hf://datasets/CoIR-Retrieval/nf-by-lang@main#rust").unwrap_err().to_string();
    assert!(err.contains("no config rust-corpus") && err.contains("python-corpus"), "{err}");
}

fn small_repo(dir: &Path) -> (Task, StandinRepo) {
    let beir = nfcorpus(dir);
    let repo = mteb_repo("mteb/nfcorpus", &beir.corpus, &beir.queries, &beir.qrels);
    (beir, repo)
}

#[test]
fn offline_reuse_makes_no_request_and_refuses_what_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    let (beir, repo) = small_repo(dir.path());
    let hub = HubStandin::start(vec![repo]);
    let hf = dir.path().join("hf");
    load_task(&store(dir.path(), &hub, &hf, false), "hf://datasets/mteb/nfcorpus@main", None).unwrap();
    let before = hub.request_count();
    let offline = store(dir.path(), &hub, &hf, true);
    let task = load_task(&offline, "hf://datasets/mteb/nfcorpus@main", None).unwrap();
    same_task(&task, &beir);
    assert_eq!(hub.request_count(), before, "offline: no request");
    let err = load_task(&offline, "hf://datasets/mteb/other@main", None).unwrap_err().to_string();
    assert!(err.contains("HF_HUB_OFFLINE") && err.contains("datasets--mteb--other"), "{err}");
    // A commit the cache has is enough offline, whatever the branch says.
    let commit = std::fs::read_to_string(hf.join("datasets--mteb--nfcorpus/refs/main")).unwrap();
    load_task(&offline, &format!("hf://datasets/mteb/nfcorpus@{commit}"), None).unwrap();
    // A ref written before a download that never finished: refused as offline, not as a broken repository.
    let other = hf.join("datasets--mteb--other/refs");
    std::fs::create_dir_all(&other).unwrap();
    std::fs::write(other.join("main"), &commit).unwrap();
    let err = load_task(&offline, "hf://datasets/mteb/other@main", None).unwrap_err().to_string();
    assert!(err.contains("HF_HUB_OFFLINE is set") && err.contains("holds none of its files"), "{err}");
    // A snapshot missing its queries file says so, and that the cache is all there is.
    let snapshot = hf.join("datasets--mteb--nfcorpus/snapshots").join(commit.trim());
    std::fs::remove_file(snapshot.join("queries/queries-00000-of-00001.parquet")).unwrap();
    let err = load_task(&offline, "hf://datasets/mteb/nfcorpus@main", None).unwrap_err().to_string();
    assert!(err.contains("no data file matches") && err.contains("HF_HUB_OFFLINE is set: the cache holds"), "{err}");
}

/// A cache written the way Python's huggingface_hub writes it (`hf_hub_download`): refs/main, blobs named by
/// sha256 or git sha1, snapshots/<commit>/<path> as relative symlinks; drbench reads it offline, no server.
#[test]
fn reads_a_cache_laid_out_by_python_huggingface_hub() {
    let dir = tempfile::tempdir().unwrap();
    let (beir, repo) = small_repo(dir.path());
    let hf = dir.path().join("hf");
    let root = hf.join("datasets--mteb--nfcorpus");
    std::fs::create_dir_all(root.join("refs")).unwrap();
    std::fs::write(root.join("refs/main"), &repo.commit).unwrap();
    for (path, bytes) in &repo.files {
        let etag = if drbench_tests::hub_standin::is_lfs(path, bytes) {
            sha256(bytes)
        } else {
            drbench_tests::hub_standin::git_sha1(bytes)
        };
        std::fs::create_dir_all(root.join("blobs")).unwrap();
        std::fs::write(root.join("blobs").join(&etag), bytes).unwrap();
        let link = root.join("snapshots").join(&repo.commit).join(path);
        std::fs::create_dir_all(link.parent().unwrap()).unwrap();
        let up = "../".repeat(path.split('/').count() + 1);
        std::os::unix::fs::symlink(format!("{up}blobs/{etag}"), &link).unwrap();
    }
    let hub = HubStandin::start(vec![]);
    let task = load_task(&store(dir.path(), &hub, &hf, true), "hf://datasets/mteb/nfcorpus@main", None).unwrap();
    same_task(&task, &beir);
    assert_eq!(hub.request_count(), 0);
}

#[test]
fn damaged_blobs_are_fetched_again_online_and_refused_offline() {
    let dir = tempfile::tempdir().unwrap();
    let (beir, repo) = small_repo(dir.path());
    let sha = sha256(&repo.files["queries/queries-00000-of-00001.parquet"]);
    let hub = HubStandin::start(vec![repo]);
    let hf = dir.path().join("hf");
    load_task(&store(dir.path(), &hub, &hf, false), "hf://datasets/mteb/nfcorpus@main", None).unwrap();
    let blob = hf.join("datasets--mteb--nfcorpus/blobs").join(&sha);
    let mut bytes = std::fs::read(&blob).unwrap();
    bytes[100] ^= 1;
    std::fs::write(&blob, &bytes).unwrap();
    let err = load_task(&store(dir.path(), &hub, &hf, true), "hf://datasets/mteb/nfcorpus@main", None)
        .unwrap_err()
        .to_string();
    assert!(err.contains("queries/queries-00000-of-00001.parquet") && err.contains("damaged blob"), "{err}");
    let fetched = hub.requests(&format!("/cdn/{sha}")).len();
    let task = load_task(&store(dir.path(), &hub, &hf, false), "hf://datasets/mteb/nfcorpus@main", None).unwrap();
    same_task(&task, &beir);
    assert_eq!(hub.requests(&format!("/cdn/{sha}")).len(), fetched + 1, "fetched again once");
    // A truncated blob likewise.
    let len = std::fs::metadata(&blob).unwrap().len();
    std::fs::OpenOptions::new().write(true).open(&blob).unwrap().set_len(len / 2).unwrap();
    load_task(&store(dir.path(), &hub, &hf, false), "hf://datasets/mteb/nfcorpus@main", None).unwrap();
    assert_eq!(std::fs::metadata(&blob).unwrap().len(), len);
}

#[test]
fn cut_transfers_and_partial_files_resume_with_range() {
    let dir = tempfile::tempdir().unwrap();
    let (beir, repo) = small_repo(dir.path());
    let corpus = "corpus/corpus-00000-of-00002.parquet";
    let bytes = repo.files[corpus].clone();
    let sha = sha256(&bytes);
    let hub = HubStandin::start(vec![repo]);
    let hf = dir.path().join("hf");
    // An earlier process (drbench or Python) left the first third in blobs/<sha>.incomplete.
    let blobs = hf.join("datasets--mteb--nfcorpus/blobs");
    std::fs::create_dir_all(&blobs).unwrap();
    std::fs::write(blobs.join(format!("{sha}.incomplete")), &bytes[..bytes.len() / 3]).unwrap();
    // And the other corpus file's transfer is cut in the middle once.
    hub.state.lock().unwrap().cut_once.push("corpus/corpus-00001-of-00002.parquet".into());
    let task = load_task(&store(dir.path(), &hub, &hf, false), "hf://datasets/mteb/nfcorpus@main", None).unwrap();
    same_task(&task, &beir);
    let resumed = hub.requests(&format!("/cdn/{sha} Range {}-", bytes.len() / 3));
    assert_eq!(resumed.len(), 1, "resumed from the partial file: {:?}", hub.requests("/cdn/"));
    assert!(hub.requests(" Range ").len() >= 2, "the cut transfer resumed too: {:?}", hub.requests("/cdn/"));
    assert!(!blobs.join(format!("{sha}.incomplete")).exists());
}

#[test]
fn missing_repositories_revisions_and_gated_repositories_say_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let (_, mut repo) = small_repo(dir.path());
    repo.id = "datasets/org/gated".into();
    repo.gated_token = Some("hf_secret".into());
    let hub = HubStandin::start(vec![repo]);
    let hf = dir.path().join("hf");
    let s = store(dir.path(), &hub, &hf, false);
    let err = |r: &str, s: &Store| load_task(s, r, None).unwrap_err().to_string();
    let e = err("hf://datasets/org/nothing@main", &s);
    assert!(e.contains("no repository datasets/org/nothing") && e.contains("HF_TOKEN"), "{e}");
    let e = err("hf://datasets/org/gated@v9", &s);
    assert!(e.contains("has no revision \"v9\""), "{e}");
    let e = err("hf://datasets/org/gated@main", &s);
    assert!(e.contains("gated repository") && e.contains("HF_TOKEN") && e.contains("/datasets/org/gated"), "{e}");
    let mut wrong = store(dir.path(), &hub, &hf, false);
    wrong.hub.token = Some("hf_other".into());
    let e = err("hf://datasets/org/gated@main", &wrong);
    assert!(e.contains("token in use has no access"), "{e}");
    let mut ok = store(dir.path(), &hub, &hf, false);
    ok.hub.token = Some("hf_secret".into());
    load_task(&ok, "hf://datasets/org/gated@main", None).unwrap();
    let e = err("hf://datasets/org/gated", &s);
    assert!(e.contains("pin a revision"), "{e}");
}

/// CodeSearchNet through the registry, as `bench` runs it: the registry's pin (the commit MTEB pins), one cell
/// per language (`coir/codesearchnet#python`, …, each an MTEB score entry with its `hf_subset`), and the task's
/// score in the table the unweighted mean of the six languages' nDCG@10 — each language here a different sixth
/// of NFCorpus's queries, so the six scores differ and a pooled mean would not equal it.
#[test]
fn codesearchnet_runs_per_language_and_scores_the_mean_of_the_six() {
    use drbench_pipeline::bench::{BenchOptions, BenchPlan};
    use drbench_pipeline::preset::Preset;
    let dir = tempfile::tempdir().unwrap();
    let beir = nfcorpus(dir.path());
    let spec = Store::new(dir.path().join("c"), None).registry.get("coir/codesearchnet").unwrap().clone();
    let langs = spec.subsets.clone();
    let parts: Vec<Task> = (0..langs.len())
        .map(|i| {
            let queries = beir.queries.filter(|q| beir.queries.position(q.id).unwrap() % langs.len() == i);
            let mut qrels = beir.qrels.clone();
            qrels.retain(|q, _| queries.find(q).is_some());
            Task { info: beir.info.clone(), corpus: beir.corpus.clone(), queries, qrels, source: Default::default() }
        })
        .collect();
    let per_lang: Vec<(&str, &_, &_, &_)> =
        langs.iter().zip(&parts).map(|(l, t)| (l.as_str(), &t.corpus, &t.queries, &t.qrels)).collect();
    let mut repo = coir_repo("CoIR-Retrieval/CodeSearchNet", &per_lang);
    let commit = spec.hub.rsplit_once('@').unwrap().1.to_string();
    repo.refs = [("main".to_string(), commit.clone())].into();
    repo.commit = commit;
    let hub = HubStandin::start(vec![repo]);
    let s = store(dir.path(), &hub, &dir.path().join("hf"), false);

    let err = load_task(&s, "coir/codesearchnet", None).unwrap_err().to_string();
    assert!(err.contains("coir/codesearchnet#SUBSET") && err.contains("python, javascript"), "{err}");
    let err = load_task(&s, "coir/codesearchnet#rust", None).unwrap_err().to_string();
    assert!(err.contains("no subset \"rust\"") && err.contains("python, javascript, go"), "{err}");

    let preset = Preset::parse(
        "name = \"csn\"\ndescription = \"\"\ntasks = [\"coir/codesearchnet\"]\nmeasures = [\"nDCG@10\"]\n\
         [[model]]\nname = \"BM25\"\nkind = \"bm25\"\nfields = \"flat\"\n",
        Path::new("csn.toml"),
    )
    .unwrap();
    let options = BenchOptions {
        out: dir.path().join("out"),
        only: None,
        device: drbench_native::encoders::device::DeviceKind::Cpu,
        cache: dir.path().join("emb"),
        force: false,
    };
    let plan = BenchPlan::new(preset, options, &s).unwrap();
    let datasets: Vec<&str> = plan.cells.iter().map(|c| c.dataset.as_str()).collect();
    let want: Vec<String> = langs.iter().map(|l| format!("coir/codesearchnet#{l}")).collect();
    assert_eq!(datasets, want);
    let summary = plan.run(&s, &Silent, &mut |_| {}).unwrap();
    assert_eq!((summary.ran, summary.failed.len()), (6, 0), "{summary:?}");

    let scores: Vec<f64> = parts.iter().map(|t| bm25_run(t).1).collect();
    assert!(scores.windows(2).any(|w| w[0] != w[1]), "the languages differ: {scores:?}");
    let mean = scores.iter().sum::<f64>() / scores.len() as f64;
    let table = plan.table().unwrap();
    let value = table.cells[0][0].as_ref().expect("the task's mean is in the table").value;
    assert!((value - mean).abs() < 1e-12, "table {value} vs the mean of the six {mean} ({scores:?})");

    let results = std::fs::read_to_string(plan.cells[0].dir.join("results.json")).unwrap();
    let results: serde_json::Value = serde_json::from_str(&results).unwrap();
    assert_eq!(results["task_name"], "COIRCodeSearchNetRetrieval");
    assert_eq!(results["scores"]["test"][0]["hf_subset"], "python");
    assert_eq!(results["scores"]["test"][0]["languages"][0], "python-Code");
    assert!(results["drbench"]["dataset_revision"].as_str().unwrap().contains(&spec.hub[14..]));

    // `datasets pin`: every language's data files with size and sha256, pasted into the registry, then checked at
    // every use — a pin that does not match is refused, naming the file.
    let pins = s.hub_pins("coir/codesearchnet").unwrap();
    assert_eq!(pins.len(), 18, "{pins:?}");
    assert!(pins.iter().any(|p| p.path == "go-qrels/test-00000-of-00001.parquet"), "{pins:?}");
    let with_pins = |pins: &[drbench_datasets::FileSpec]| {
        let block: String = pins
            .iter()
            .map(|p| {
                format!("[[dataset.hub_files]]\npath = {:?}\nsize = {}\nsha256 = {:?}\n", p.path, p.size, p.sha256)
            })
            .collect();
        let next = "\n[[dataset]]\nname = \"coir/codetrans-contest\"";
        assert!(drbench_datasets::BUILTIN_TOML.contains(next));
        let text = drbench_datasets::BUILTIN_TOML.replacen(next, &format!("{block}{next}"), 1);
        let mut pinned = store(dir.path(), &hub, &dir.path().join("hf"), false);
        pinned.registry = drbench_datasets::Registry::parse(&text, "registry.toml").unwrap();
        pinned
    };
    load_task(&with_pins(&pins), "coir/codesearchnet#go", None).unwrap();
    let mut wrong = pins.clone();
    let i = wrong.iter().position(|p| p.path.starts_with("go-corpus/")).unwrap();
    wrong[i].sha256 = "0".repeat(64);
    let err = load_task(&with_pins(&wrong), "coir/codesearchnet#go", None).unwrap_err().to_string();
    assert!(err.contains("go-corpus/corpus-00000-of-00001.parquet") && err.contains("registry says 0000"), "{err}");
    let err = load_task(&with_pins(&pins[1..]), "coir/codesearchnet#go", None).unwrap_err().to_string();
    assert!(err.contains("do not pin"), "{err}");
}

/// Tevatron's training file by reference (`drbench train --train hf://datasets/Tevatron/msmarco-passage-aug@REV`):
/// fetched into the Hugging Face cache (default path `train.jsonl.gz`, or `@REV/PATH`), then read as the
/// streamed group file; a path the repository lacks is named with what it has.
#[test]
fn a_tevatron_training_file_comes_from_the_hub_by_reference() {
    use drbench_harness::io::{TrainGroup, TrainGroupFile, TrainGroupSource, TrainPassage};
    let dir = tempfile::tempdir().unwrap();
    let p = |id: String| TrainPassage { docid: id.clone(), title: String::new(), text: format!("text {id}") };
    let groups: Vec<TrainGroup> = (0..20)
        .map(|i| TrainGroup {
            query_id: i.to_string(),
            query: format!("q{i}"),
            positive_passages: vec![p(format!("p{i}"))],
            negative_passages: (0..3).map(|k| p(format!("n{i}-{k}"))).collect(),
        })
        .collect();
    let plain = dir.path().join("train.jsonl");
    drbench_harness::io::write_train_groups(&plain, &groups).unwrap();
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut enc, &std::fs::read(&plain).unwrap()).unwrap();
    let gz = enc.finish().unwrap();
    let files = [("train.jsonl.gz".to_string(), gz.clone()), ("dev/dev.jsonl.gz".to_string(), gz)].into();
    let hub = HubStandin::start(vec![StandinRepo::new("datasets/Tevatron/msmarco-passage-aug", files)]);
    let s = store(dir.path(), &hub, &dir.path().join("hf"), false);
    for reference in [
        "hf://datasets/Tevatron/msmarco-passage-aug@main",
        "hf://datasets/Tevatron/msmarco-passage-aug@main/dev/dev.jsonl.gz",
    ] {
        let path = s.hub_file(reference, "train.jsonl.gz").unwrap();
        assert!(path.starts_with(dir.path().join("hf/datasets--Tevatron--msmarco-passage-aug/snapshots")), "{path:?}");
        let file = TrainGroupFile::open(&path, &dir.path().join("spool.jsonl")).unwrap();
        assert_eq!(file.count(), 20);
        assert_eq!(file.group(7).unwrap(), groups[7]);
    }
    let err = s.hub_file("hf://datasets/Tevatron/msmarco-passage-aug@main/nope.jsonl", "x").unwrap_err().to_string();
    assert!(err.contains("no file nope.jsonl") && err.contains("train.jsonl.gz"), "{err}");
    let err = s.hub_file("hf://Tevatron/model@main", "x").unwrap_err().to_string();
    assert!(err.contains("a file of a dataset repository"), "{err}");
}
