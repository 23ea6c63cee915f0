//! MS MARCO passage from its official form, served on 127.0.0.1: a `collectionandqueries.tar.gz` laid out as
//! Microsoft's (`collection.tsv` as `id<TAB>text`, `queries.dev.small.tsv`, `qrels.dev.small.tsv` in TREC form with
//! tabs, and other members that are not extracted), here holding the real DL19 passage pool of ../shared/mirror
//! as the collection and the real DL19 topics and NIST qrels as the dev set. Through the registry's real entries
//! (only the URL and the MD5 pointed at the fixture): `msmarco/passage` is extracted as it streams, checked against
//! the MD5, its files' checksums recorded and checked at later uses; `msmarco/dl19` and `msmarco/dev-small` search
//! its corpus with their own queries and qrels (the mirror's) — BM25 over it gives the pool folder's run, scored
//! against NIST's complete qrels.

use std::io::Read;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use drbench_datasets::{BUILTIN_TOML, Registry};
use drbench_harness::bm25::FieldMode;
use drbench_harness::io::{Strictness, read_trec_qrels};
use drbench_harness::metrics::{EvalOptions, Measure, evaluate_run};
use drbench_native::store::Store;
use drbench_pipeline::cell::{CellOptions, Retriever, run_cell};
use drbench_pipeline::progress::Silent;
use drbench_pipeline::retriever::Bm25Spec;
use drbench_pipeline::task::{Task, load_task};
use drbench_tests::{mirror_store, mirror_task, shared_dir};
use md5::Digest;

const OFFICIAL_URL: &str = "https://msmarco.z22.web.core.windows.net/msmarcoranking/collectionandqueries.tar.gz";
const PUBLISHED_MD5: &str = "31644046b18952c1386cd4564ba2ae69";

fn tar_gz(members: &[(&str, &[u8])]) -> Vec<u8> {
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let mut b = tar::Builder::new(gz);
    for (name, bytes) in members {
        let mut h = tar::Header::new_gnu();
        h.set_size(bytes.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        b.append_data(&mut h, name, *bytes).unwrap();
    }
    b.into_inner().unwrap().finish().unwrap()
}

/// Serves `bytes` at every path until dropped; counts requests.
struct ArchiveServer {
    url: String,
    requests: Arc<AtomicUsize>,
    server: Arc<tiny_http::Server>,
}

impl ArchiveServer {
    fn start(bytes: Vec<u8>) -> ArchiveServer {
        let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").unwrap());
        let url =
            format!("http://{}/msmarcoranking/collectionandqueries.tar.gz", server.server_addr().to_ip().unwrap());
        let requests = Arc::new(AtomicUsize::new(0));
        let (srv, n) = (Arc::clone(&server), Arc::clone(&requests));
        std::thread::spawn(move || {
            for req in srv.incoming_requests() {
                n.fetch_add(1, Ordering::SeqCst);
                let _ = req.respond(tiny_http::Response::from_data(bytes.clone()));
            }
        });
        ArchiveServer { url, requests, server }
    }
}

impl Drop for ArchiveServer {
    fn drop(&mut self) {
        self.server.unblock();
    }
}

/// The built-in registry with MS MARCO's archive at `url` and its MD5 `md5`.
fn store_for(cache: &Path, url: &str, md5: &str) -> Store {
    assert!(BUILTIN_TOML.contains(OFFICIAL_URL) && BUILTIN_TOML.contains(PUBLISHED_MD5));
    let text = BUILTIN_TOML.replace(OFFICIAL_URL, url).replace(PUBLISHED_MD5, md5);
    Store { registry: Registry::parse(&text, "registry.toml").unwrap(), ..mirror_store(cache) }
}

fn bm25(task: &Task) -> drbench_pipeline::cell::CellOutput {
    let opts = CellOptions { k: 1000, measures: vec![Measure::Ndcg(Some(10))], remove_query_self: false };
    let r = Retriever::Bm25 {
        spec: Bm25Spec { fields: FieldMode::Flat, ..Bm25Spec::default() },
        index_file: None,
        exact_scores: false,
    };
    run_cell(task, r, &opts, &Silent).unwrap()
}

#[test]
fn msmarco_from_its_archive_serves_the_dev_set_and_trec_dl_over_one_corpus() {
    let dir = tempfile::tempdir().unwrap();
    let pool = mirror_task("msmarco/dl19-pool", "test", &dir.path().join("pool-cache"));
    let mut collection = Vec::new();
    for r in pool.corpus.iter() {
        assert!(r.title.is_empty() && !r.text.contains(['\t', '\n']), "{}", r.id);
        collection.extend_from_slice(format!("{}\t{}\n", r.id, r.text).as_bytes());
    }
    let official = shared_dir().join("mirror/datasets/msmarco-trec-dl19/official");
    let topics = std::fs::read(official.join("topics.dl19-passage.txt")).unwrap();
    let qrels_text = std::fs::read_to_string(official.join("qrels.dl19-passage.txt")).unwrap().replace(' ', "\t");
    let archive = tar_gz(&[
        ("collection.tsv", &collection),
        ("queries.dev.small.tsv", &topics),
        ("qrels.dev.small.tsv", qrels_text.as_bytes()),
        ("queries.train.tsv", b"1\tnot extracted\n"),
    ]);
    let md5 = hex::encode(md5::Md5::digest(&archive));
    let server = ArchiveServer::start(archive);
    let cache = dir.path().join("cache");
    let store = store_for(&cache, &server.url, &md5);

    // TREC DL19: the mirror's topics and NIST's complete qrels, over the archive's collection.
    let dl19 = load_task(&store, "msmarco/dl19", None).unwrap();
    let rows = |c: &drbench_harness::data::Collection| -> Vec<(String, String)> {
        c.iter().map(|r| (r.id.to_string(), r.text.to_string())).collect()
    };
    assert_eq!(rows(&dl19.corpus), rows(&pool.corpus));
    assert_eq!((dl19.queries.len(), dl19.qrels.len(), dl19.qrels.num_judgments()), (43, 43, 9260));
    let passage = cache.join("datasets/msmarco-passage");
    let mut names: Vec<String> =
        std::fs::read_dir(&passage).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    names.sort();
    assert_eq!(names, [".drbench-recorded.json", "collection.tsv", "qrels.dev.small.tsv", "queries.dev.small.tsv"]);
    assert!(!cache.join("downloads/collectionandqueries.tar.gz").exists(), "the archive is removed once unpacked");
    let recorded = std::fs::read_to_string(passage.join(".drbench-recorded.json")).unwrap();
    assert!(recorded.contains(&format!("md5:{md5}")) && recorded.contains("collection.tsv"), "{recorded}");

    // BM25 over it is the pool folder's run (same corpus), scored against the complete qrels.
    let (full, pooled) = (bm25(&dl19), bm25(&pool));
    let lines = |o: &drbench_pipeline::cell::CellOutput| -> Vec<String> {
        o.run.iter().flat_map(|(q, hits)| hits.iter().map(move |h| format!("{q} {} {:?}", h.docid, h.score))).collect()
    };
    assert!(lines(&full) == lines(&pooled), "the same corpus gives the same BM25 run");
    let nist = read_trec_qrels(&official.join("qrels.dl19-passage.txt"), Strictness::Strict).unwrap().value;
    let opts = EvalOptions { measures: vec![Measure::Ndcg(Some(10))], complete: true, remove_query_self: false };
    let want = evaluate_run(&pooled.run, &nist, &opts).unwrap().mean[0];
    let got = full.evaluation.unwrap().mean[0];
    assert_eq!(got.to_bits(), want.to_bits(), "nDCG@10 {got} vs {want} against NIST's qrels");
    assert!(got < pooled.evaluation.unwrap().mean[0], "the pool's filtered qrels score higher than the complete ones");

    // The archive's own dev set, and msmarco/dev-small (the mirror's 6,980 queries) over the same corpus.
    let own = load_task(&store, "msmarco/passage", None).unwrap();
    assert_eq!((own.corpus.len(), own.queries.len(), own.qrels.num_judgments()), (pool.corpus.len(), 43, 9260));
    let dev = load_task(&store, "msmarco/dev-small", None).unwrap();
    assert_eq!((dev.corpus.len(), dev.queries.len()), (pool.corpus.len(), 6980));
    assert_eq!(server.requests.load(Ordering::SeqCst), 1, "one download for all three");

    // A changed byte in the extracted collection is caught by the recorded checksums, and the damaged copy in
    // drbench's own cache is fetched again (once) instead of failing every later load.
    let path = passage.join("collection.tsv");
    let mut bytes = Vec::new();
    std::fs::File::open(&path).unwrap().read_to_end(&mut bytes).unwrap();
    let whole = bytes.clone();
    bytes[100] ^= 1;
    std::fs::write(&path, &bytes).unwrap();
    let again = load_task(&store, "msmarco/dl19", None).unwrap();
    assert_eq!(again.corpus.len(), pool.corpus.len());
    assert_eq!(std::fs::read(&path).unwrap(), whole, "the damaged collection is replaced");
    assert_eq!(server.requests.load(Ordering::SeqCst), 2, "fetched again once");

    // An archive that does not match the published MD5 is refused, nothing extracted.
    let other = dir.path().join("other-cache");
    let err =
        load_task(&store_for(&other, &server.url, &"0".repeat(32)), "msmarco/dl19", None).unwrap_err().to_string();
    assert!(err.contains("MD5") && err.contains("expected 000"), "{err}");
    assert!(!other.join("datasets/msmarco-passage").exists());
}
