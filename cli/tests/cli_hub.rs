//! `drbench datasets fetch|verify` and `drbench bm25` on a Hugging Face hub reference, against the test suite's
//! hub stand-in on 127.0.0.1 with a private Hugging Face cache: online fetch, offline reuse, the registry's pins in
//! `datasets list`.

mod common;

use std::path::Path;
use std::process::Command;

use common::command;
use drbench_tests::hub_fixtures::mteb_repo;
use drbench_tests::hub_standin::HubStandin;
use drbench_tests::mirror_task;

/// `drbench ARGS` with the stand-in as `HF_ENDPOINT` and `hf` as `HF_HUB_CACHE` (no token, online unless
/// `offline`): exit code, stdout, stderr.
fn drbench(cache: &Path, hub: &HubStandin, hf: &Path, offline: bool, args: &[&str]) -> (i32, String, String) {
    let mut c: Command = command(cache, args);
    c.env("HF_ENDPOINT", &hub.url).env("HF_HUB_CACHE", hf).env_remove("HF_TOKEN").env("HF_TOKEN_PATH", hf.join("none"));
    c.env_remove("HF_HUB_OFFLINE");
    if offline {
        c.env("HF_HUB_OFFLINE", "1");
    }
    let out = c.output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8(out.stdout).unwrap(), String::from_utf8(out.stderr).unwrap())
}

#[test]
fn fetch_verify_and_bm25_on_a_hub_dataset_then_offline() {
    let dir = tempfile::tempdir().unwrap();
    let nf = mirror_task("beir/nfcorpus", "test", &dir.path().join("mirror-cache"));
    let hub = HubStandin::start(vec![mteb_repo("mteb/nfcorpus", &nf.corpus, &nf.queries, &nf.qrels)]);
    let (cache, hf) = (dir.path().join("cache"), dir.path().join("hf"));
    let reference = "hf://datasets/mteb/nfcorpus@main";
    let (code, _, err) = drbench(&cache, &hub, &hf, false, &["datasets", "fetch", reference]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("data files verified (CardConfigs layout; splits test)"), "{err}");
    assert!(hf.join("datasets--mteb--nfcorpus/refs/main").is_file());

    // Offline from here on: the cache alone, no request.
    let before = hub.requests("").len();
    let (code, out, err) = drbench(&cache, &hub, &hf, true, &["datasets", "verify", reference]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("ok") && out.contains("corpus/corpus-00000-of-"), "{out}");
    let run = dir.path().join("run.trec").display().to_string();
    let (code, out, err) = drbench(&cache, &hub, &hf, true, &["bm25", "--dataset", reference, "--out", &run]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("nDCG@10 0.3218"), "NFCorpus BM25 flat, as from the BEIR folder: {out}");
    assert_eq!(hub.requests("").len(), before, "offline runs made requests: {:?}", hub.requests(""));
    let (code, _, err) = drbench(&cache, &hub, &hf, true, &["datasets", "fetch", "hf://datasets/mteb/scifact@main"]);
    assert_ne!(code, 0);
    assert!(err.contains("HF_HUB_OFFLINE"), "{err}");

    let (code, out, _) = drbench(&cache, &hub, &hf, true, &["datasets", "list"]);
    assert_eq!(code, 0);
    assert!(out.contains("hf://datasets/CoIR-Retrieval/apps@f22508f96b7a36c2415181ed8bb76f76e04ae2d5"), "{out}");
    assert!(out.contains("hf://datasets/mteb/scifact@d56462d0e63a25450459c4f213e49ffdb866f7f9"), "{out}");
}
