//! Fetch speed and peak memory of a large hub dataset (bench/results/hub_scale.cpu2.txt): `hub_scale fetch ROWS
//! DIR` writes an MTEB-layout repository with a ROWS-row synthetic parquet corpus (MS MARCO-sized passages), serves
//! it from the hub stand-in on 127.0.0.1 and fetches it into `DIR/hf` (download + sha256 of every blob);
//! `hub_scale read DIR` — in a fresh process, so the stand-in's copy is not counted — reads the cached corpus
//! through `DatasetFiles` (row group by row group) and prints rows/s and the process's peak resident memory;
//! `hub_scale messages DIR` prints what the user reads for a gated repository, a missing revision, a damaged blob
//! offline and a missing file offline (quoted in issue 17's note); `hub_scale untar ARCHIVE.tar.gz DIR` unpacks a tar.gz through the store's streaming extractor (MB/s, peak RSS);
//! `hub_scale train-write GROUPS FILE.gz` writes Tevatron-shaped groups, `train-stream FILE.gz SPOOL` and
//! `train-memory FILE.gz SPOOL` read them as `drbench train` does and all into memory (time, peak RSS).

use std::time::Instant;

use drbench_harness::data::{Collection, Qrels};
use drbench_harness::io::{TrainGroup, TrainGroupFile, TrainGroupSource, TrainPassage, read_train_groups};
use drbench_native::store::hub::{Hub, HubRef, HubSettings};
use drbench_tests::hub_fixtures::mteb_repo;
use drbench_tests::hub_standin::HubStandin;

/// A hub client of the stand-in at `endpoint` over the Hugging Face cache `hf`.
fn hub_client(endpoint: &str, hf: &std::path::Path, offline: bool) -> Hub {
    let settings = HubSettings {
        endpoint: endpoint.into(),
        token: None,
        offline,
        stall_timeout: std::time::Duration::from_secs(60),
    };
    Hub::new(settings, hf).unwrap()
}

/// Peak resident set size of this process, MiB (Linux `VmHWM`).
fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kb = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok());
    kb.unwrap_or(f64::NAN) / 1024.0
}

/// A passage of ~55 words drawn from a 30k-word vocabulary (MS MARCO passages average ~56 words, ~330 bytes).
fn passage(seed: &mut u64) -> String {
    let mut words = Vec::with_capacity(56);
    for _ in 0..56 {
        *seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let w = (*seed >> 33) % 30_000;
        words.push(format!("w{w}"));
    }
    words.join(" ")
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let reference = "hf://datasets/bench/large@main";
    match args.get(1).map(String::as_str) {
        Some("fetch") => {
            let rows: usize = args[2].parse().expect("ROWS");
            let dir = std::path::Path::new(&args[3]);
            let t = Instant::now();
            let mut corpus = Collection::new();
            let mut seed = 7u64;
            for i in 0..rows {
                corpus.push(&format!("{i}"), "", &passage(&mut seed));
            }
            corpus.finish().unwrap();
            let mut queries = Collection::new();
            queries.push("q1", "", "w1 w2");
            queries.finish().unwrap();
            let mut qrels = Qrels::new();
            qrels.insert("q1", "0", 1);
            let repo = mteb_repo("bench/large", &corpus, &queries, &qrels);
            let bytes: usize = repo.files.values().map(Vec::len).sum();
            drop(corpus);
            eprintln!(
                "made {rows} rows, {:.1} MB of parquet in {:.1} s",
                bytes as f64 / 1e6,
                t.elapsed().as_secs_f64()
            );
            let hub = HubStandin::start(vec![repo]);
            let client = hub_client(&hub.url, &dir.join("hf"), false);
            let t = Instant::now();
            let ds = client.dataset(&HubRef::parse(reference).unwrap(), None).unwrap();
            let s = t.elapsed().as_secs_f64();
            println!(
                "fetch: {} files, {:.1} MB in {s:.2} s = {:.0} MB/s (HTTP on 127.0.0.1 + sha256 of every blob + snapshot links)",
                ds.files.corpus.len() + ds.files.queries.len() + 1,
                bytes as f64 / 1e6,
                bytes as f64 / 1e6 / s
            );
        }
        Some("read") => {
            let dir = std::path::Path::new(&args[2]);
            let client = hub_client("http://127.0.0.1:9", &dir.join("hf"), true);
            let t = Instant::now();
            let ds = client.dataset(&HubRef::parse(reference).unwrap(), None).unwrap();
            let verified = t.elapsed().as_secs_f64();
            let size: u64 = ds.files.corpus.iter().map(|f| std::fs::metadata(&f.path).map_or(0, |m| m.len())).sum();
            let before = peak_rss_mib();
            let t = Instant::now();
            let corpus = ds.files.corpus().unwrap();
            let s = t.elapsed().as_secs_f64();
            let text: usize = corpus.iter().map(|r| r.id.len() + r.title.len() + r.text.len()).sum();
            println!(
                "read (offline, cache only): verify {verified:.2} s; corpus {} rows from {:.1} MB of parquet in {s:.2} s = {:.0} rows/s; \
                 text held {:.1} MB; peak RSS {:.0} MiB (before reading {:.0} MiB)",
                corpus.len(),
                size as f64 / 1e6,
                corpus.len() as f64 / s,
                text as f64 / 1e6,
                peak_rss_mib(),
                before
            );
        }
        Some("untar") => {
            let (archive, dir) = (std::path::Path::new(&args[2]), std::path::Path::new(&args[3]));
            let size = std::fs::metadata(archive).map_or(0, |m| m.len());
            let t = Instant::now();
            let files = drbench_native::store::archive::extract(archive, "", dir, u64::MAX, &[]).unwrap();
            let s = t.elapsed().as_secs_f64();
            let out: u64 = files.iter().map(|f| std::fs::metadata(dir.join(f)).map_or(0, |m| m.len())).sum();
            println!(
                "untar: {} files, {:.0} MB compressed -> {:.0} MB in {s:.1} s = {:.0} MB/s of archive, {:.0} MB/s written; peak RSS {:.0} MiB",
                files.len(),
                size as f64 / 1e6,
                out as f64 / 1e6,
                size as f64 / 1e6 / s,
                out as f64 / 1e6 / s,
                peak_rss_mib()
            );
        }
        Some("train-write") => {
            // GROUPS Tevatron groups (1 positive, 30 negatives: Tevatron's MS MARCO file's shape) as train.jsonl.gz.
            let groups: usize = args[2].parse().expect("GROUPS");
            let path = std::path::Path::new(&args[3]);
            let mut seed = 11u64;
            let mut enc = flate2::write::GzEncoder::new(
                std::io::BufWriter::new(std::fs::File::create(path).unwrap()),
                flate2::Compression::fast(),
            );
            for i in 0..groups {
                let p =
                    |seed: &mut u64, id: String| TrainPassage { docid: id, title: String::new(), text: passage(seed) };
                let g = TrainGroup {
                    query_id: i.to_string(),
                    query: format!("query {i}"),
                    positive_passages: vec![p(&mut seed, format!("p{i}"))],
                    negative_passages: (0..30).map(|k| p(&mut seed, format!("n{i}-{k}"))).collect(),
                };
                serde_json::to_writer(&mut enc, &g).unwrap();
                std::io::Write::write_all(&mut enc, b"\n").unwrap();
            }
            enc.finish().unwrap();
            println!("{groups} groups, {:.0} MB gzip", std::fs::metadata(path).unwrap().len() as f64 / 1e6);
        }
        Some(mode @ ("train-stream" | "train-memory")) => {
            // Read the groups as `drbench train` does (stream + spool) or all into memory; then 1,000 by index.
            let (path, spool) = (std::path::Path::new(&args[2]), std::path::Path::new(&args[3]));
            let t = Instant::now();
            let source: Box<dyn TrainGroupSource> = if mode == "train-stream" {
                Box::new(TrainGroupFile::open(path, spool).unwrap())
            } else {
                Box::new(read_train_groups(path).unwrap())
            };
            let open_s = t.elapsed().as_secs_f64();
            let t = Instant::now();
            let n = source.count();
            let mut chars = 0;
            for k in 0..1000 {
                chars += source.group((k * 7919) % n).unwrap().negative_passages.len();
            }
            println!(
                "{mode}: {n} groups opened in {open_s:.1} s, 1,000 groups by index in {:.3} s ({chars} negatives); peak RSS {:.0} MiB",
                t.elapsed().as_secs_f64(),
                peak_rss_mib()
            );
        }
        Some("messages") => messages(std::path::Path::new(&args[2])),
        _ => eprintln!(
            "usage: hub_scale fetch ROWS DIR | read DIR | untar ARCHIVE DIR | messages DIR | train-write GROUPS FILE.gz | \
             train-stream FILE.gz SPOOL | train-memory FILE.gz SPOOL"
        ),
    }
}

/// The errors users read, from a small repository on the stand-in.
fn messages(dir: &std::path::Path) {
    let mut corpus = Collection::new();
    let mut seed = 1u64;
    for i in 0..50 {
        corpus.push(&format!("d{i}"), "", &passage(&mut seed));
    }
    corpus.finish().unwrap();
    let mut queries = Collection::new();
    queries.push("q1", "", "w1 w2");
    queries.finish().unwrap();
    let mut qrels = Qrels::new();
    qrels.insert("q1", "d0", 1);
    let open = mteb_repo("mteb/small", &corpus, &queries, &qrels);
    let mut gated = mteb_repo("org/gated", &corpus, &queries, &qrels);
    gated.gated_token = Some("hf_secret".into());
    let queries_blob = drbench_tests::hub_standin::sha256(&open.files["queries/queries-00000-of-00001.parquet"]);
    let hub = HubStandin::start(vec![open, gated]);
    let hf = dir.join("hf");
    let client = |offline: bool| hub_client(&hub.url, &hf, offline);
    let say = |what: &str, r: &str, offline: bool| match client(offline).dataset(&HubRef::parse(r).unwrap(), None) {
        Ok(d) => println!("{what}: ok, {}", d.resolved),
        Err(e) => println!("{what}: {e}"),
    };
    say("gated repository, no token", "hf://datasets/org/gated@main", false);
    say("missing revision", "hf://datasets/mteb/small@v9", false);
    say("missing repository", "hf://datasets/mteb/nothing@main", false);
    say("fetch", "hf://datasets/mteb/small@main", false);
    let blob = hf.join("datasets--mteb--small/blobs").join(&queries_blob);
    let mut bytes = std::fs::read(&blob).unwrap();
    bytes[100] ^= 1;
    std::fs::write(&blob, &bytes).unwrap();
    say("damaged blob, offline", "hf://datasets/mteb/small@main", true);
    say("damaged blob, online (fetched again)", "hf://datasets/mteb/small@main", false);
    say("offline, not in the cache", "hf://datasets/org/gated@main", true);
}
