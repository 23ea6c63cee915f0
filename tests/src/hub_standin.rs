//! A stand-in of the Hugging Face hub on 127.0.0.1 for the store's tests: the endpoints drbench (and
//! huggingface_hub) call — repository info at a revision, `HEAD`/`GET …/resolve/REV/PATH` with `X-Repo-Commit`,
//! `ETag` (git sha1) or `X-Linked-Etag`/`X-Linked-Size` and a redirect to a CDN path (LFS files), `Range` — over
//! repositories held in memory, with the hub's error codes (RepoNotFound, RevisionNotFound, EntryNotFound,
//! GatedRepo) and faults on request: a transfer cut in the middle, a blob served with a flipped byte.

use std::collections::BTreeMap;
use std::io::Read;
use std::sync::{Arc, Mutex};

use sha2::Digest;

/// One repository at one commit.
#[derive(Debug, Clone, Default)]
pub struct StandinRepo {
    /// `datasets/ORG/NAME` or `ORG/NAME`.
    pub id: String,
    /// Its commit (40 hex digits).
    pub commit: String,
    /// Branches and tags → commit.
    pub refs: BTreeMap<String, String>,
    /// Path → bytes.
    pub files: BTreeMap<String, Vec<u8>>,
    /// Requests without `Authorization: Bearer <token>` are refused as the hub refuses a gated repository.
    pub gated_token: Option<String>,
}

impl StandinRepo {
    /// A repository `id` whose `main` is a commit derived from its files.
    pub fn new(id: &str, files: BTreeMap<String, Vec<u8>>) -> StandinRepo {
        let mut h = sha1::Sha1::new();
        h.update(id.as_bytes());
        for (p, b) in &files {
            h.update(p.as_bytes());
            h.update(b);
        }
        let commit = hex::encode(h.finalize());
        StandinRepo {
            id: id.into(),
            refs: [("main".to_string(), commit.clone())].into(),
            commit,
            files,
            gated_token: None,
        }
    }
}

/// Files the hub stores in LFS (and names by sha256): parquet, gzip, and anything over 10 kB.
pub fn is_lfs(path: &str, bytes: &[u8]) -> bool {
    path.ends_with(".parquet") || path.ends_with(".gz") || bytes.len() > 10_000
}

/// git's blob id of `bytes`.
pub fn git_sha1(bytes: &[u8]) -> String {
    let mut h = sha1::Sha1::new();
    h.update(format!("blob {}\0", bytes.len()).as_bytes());
    h.update(bytes);
    hex::encode(h.finalize())
}

/// sha256 of `bytes`, hex.
pub fn sha256(bytes: &[u8]) -> String {
    hex::encode(sha2::Sha256::digest(bytes))
}

/// Faults and counters shared with the test.
#[derive(Debug, Default)]
pub struct StandinState {
    /// Repositories by id.
    pub repos: BTreeMap<String, StandinRepo>,
    /// Paths whose next GET is cut after half of the bytes (once each).
    pub cut_once: Vec<String>,
    /// Every request: `METHOD path [Range]`.
    pub log: Vec<String>,
}

/// A running stand-in; stops when dropped.
pub struct HubStandin {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// Repositories, faults and the request log.
    pub state: Arc<Mutex<StandinState>>,
    server: Arc<tiny_http::Server>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl std::fmt::Debug for HubStandin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HubStandin").field("url", &self.url).finish_non_exhaustive()
    }
}

impl Drop for HubStandin {
    fn drop(&mut self) {
        self.server.unblock();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl HubStandin {
    /// Serves `repos` until dropped.
    pub fn start(repos: Vec<StandinRepo>) -> HubStandin {
        let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").unwrap());
        let url = format!("http://{}", server.server_addr().to_ip().unwrap());
        let state = Arc::new(Mutex::new(StandinState {
            repos: repos.into_iter().map(|r| (r.id.clone(), r)).collect(),
            ..Default::default()
        }));
        let (srv, st, base) = (Arc::clone(&server), Arc::clone(&state), url.clone());
        let thread = std::thread::spawn(move || {
            for req in srv.incoming_requests() {
                let (st, base) = (Arc::clone(&st), base.clone());
                // One thread per request: a client may hold a connection while it opens another.
                std::thread::spawn(move || answer(req, &st, &base));
            }
        });
        HubStandin { url, state, server, thread: Some(thread) }
    }

    /// Requests seen whose line contains `needle`.
    pub fn requests(&self, needle: &str) -> Vec<String> {
        self.state.lock().unwrap().log.iter().filter(|l| l.contains(needle)).cloned().collect()
    }

    /// All requests seen.
    pub fn request_count(&self) -> usize {
        self.state.lock().unwrap().log.len()
    }
}

fn header(name: &str, value: &str) -> tiny_http::Header {
    tiny_http::Header::from_bytes(name.as_bytes(), value.as_bytes()).unwrap()
}

fn error(req: tiny_http::Request, status: u16, code: &str, message: &str) {
    let resp = tiny_http::Response::from_string(format!("{{\"error\":{message:?}}}"))
        .with_status_code(status)
        .with_header(header("X-Error-Code", code))
        .with_header(header("X-Error-Message", message));
    let _ = req.respond(resp);
}

fn answer(req: tiny_http::Request, state: &Mutex<StandinState>, base: &str) {
    let raw = req.url().to_string();
    let path =
        percent_encoding::percent_decode_str(raw.split('?').next().unwrap_or("")).decode_utf8_lossy().to_string();
    let range = req.headers().iter().find(|h| h.field.equiv("Range")).and_then(|h| {
        h.value.as_str().strip_prefix("bytes=").and_then(|r| r.strip_suffix('-')).and_then(|n| n.parse::<u64>().ok())
    });
    let auth = req.headers().iter().find(|h| h.field.equiv("Authorization")).map(|h| h.value.as_str().to_string());
    let method = req.method().to_string();
    state
        .lock()
        .unwrap()
        .log
        .push(format!("{method} {path}{}", range.map_or(String::new(), |r| format!(" Range {r}-"))));
    // /cdn/<sha256>: an LFS blob's bytes (what the resolve redirect points at).
    if let Some(sha) = path.strip_prefix("/cdn/") {
        let found = {
            let st = state.lock().unwrap();
            st.repos
                .values()
                .flat_map(|r| r.files.iter())
                .find(|(_, b)| sha256(b) == sha)
                .map(|(p, b)| (p.clone(), b.clone()))
        };
        return match found {
            Some((p, bytes)) => send_bytes(req, &p, bytes, range, state, Vec::new()),
            None => error(req, 404, "EntryNotFound", "no such blob"),
        };
    }
    let (kind_repo, rest) = if let Some(r) = path.strip_prefix("/api/datasets/") {
        (format!("datasets/{r}"), None)
    } else if let Some(r) = path.strip_prefix("/api/models/") {
        (r.to_string(), None)
    } else if let Some((repo, rest)) = path.trim_start_matches('/').split_once("/resolve/") {
        (repo.to_string(), Some(rest.to_string()))
    } else {
        return error(req, 404, "", "no such endpoint");
    };
    let repo = {
        let st = state.lock().unwrap();
        // The repository id is the longest prefix that names a repository.
        st.repos.values().filter(|r| kind_repo.starts_with(&r.id)).max_by_key(|r| r.id.len()).cloned()
    };
    let Some(repo) = repo.filter(|r| kind_repo.len() == r.id.len() || kind_repo[r.id.len()..].starts_with('/')) else {
        return error(req, 401, "RepoNotFound", "Repository not found");
    };
    let after = &kind_repo[repo.id.len()..];
    let commit_of = |rev: &str| -> Option<String> {
        if rev == repo.commit { Some(repo.commit.clone()) } else { repo.refs.get(rev).cloned() }
    };
    match rest {
        None => {
            let Some(rev) = after.strip_prefix("/revision/") else { return error(req, 404, "", "no such endpoint") };
            let Some(commit) = commit_of(rev) else {
                return error(req, 404, "RevisionNotFound", &format!("Invalid rev id: {rev}"));
            };
            let siblings: Vec<_> = repo.files.keys().map(|f| serde_json::json!({"rfilename": f})).collect();
            let body = serde_json::json!({"id": repo.id, "sha": commit, "siblings": siblings, "gated": repo.gated_token.is_some()});
            let _ = req.respond(
                tiny_http::Response::from_string(body.to_string())
                    .with_header(header("Content-Type", "application/json")),
            );
        }
        Some(rest) => {
            if let Some(token) = &repo.gated_token
                && auth.as_deref() != Some(&format!("Bearer {token}"))
            {
                let message = format!(
                    "Access to dataset {} is restricted. You must have access to it and be authenticated to access it. Please log in.",
                    repo.id
                );
                return error(req, 401, "GatedRepo", &message);
            }
            let (rev, file) = rest.split_once('/').unwrap_or((&rest, ""));
            let Some(commit) = commit_of(rev) else {
                return error(req, 404, "RevisionNotFound", &format!("Invalid rev id: {rev}"));
            };
            let Some(bytes) = repo.files.get(file).cloned() else {
                return error(req, 404, "EntryNotFound", &format!("{file} does not exist on \"{rev}\""));
            };
            let mut headers = vec![header("X-Repo-Commit", &commit)];
            if is_lfs(file, &bytes) {
                let sha = sha256(&bytes);
                headers.push(header("X-Linked-Etag", &format!("\"{sha}\"")));
                headers.push(header("X-Linked-Size", &bytes.len().to_string()));
                headers.push(header("ETag", &format!("\"{sha}\"")));
                headers.push(header("Location", &format!("{base}/cdn/{sha}")));
                let mut resp = tiny_http::Response::empty(302);
                for h in headers {
                    resp.add_header(h);
                }
                let _ = req.respond(resp);
            } else {
                headers.push(header("ETag", &format!("\"{}\"", git_sha1(&bytes))));
                if method == "HEAD" {
                    let mut resp =
                        tiny_http::Response::empty(200).with_header(header("Content-Length", &bytes.len().to_string()));
                    for h in headers {
                        resp.add_header(h);
                    }
                    let _ = req.respond(resp);
                } else {
                    send_bytes(req, file, bytes, range, state, headers);
                }
            }
        }
    }
}

/// Sends `bytes` from `range` on (206) or whole (200); cuts the body in half once when the test asked.
fn send_bytes(
    req: tiny_http::Request,
    path: &str,
    bytes: Vec<u8>,
    range: Option<u64>,
    state: &Mutex<StandinState>,
    headers: Vec<tiny_http::Header>,
) {
    let from = range.unwrap_or(0) as usize;
    if from > bytes.len() {
        let _ = req.respond(tiny_http::Response::empty(416));
        return;
    }
    let cut = {
        let mut st = state.lock().unwrap();
        match st.cut_once.iter().position(|p| p == path) {
            Some(i) => {
                st.cut_once.remove(i);
                true
            }
            None => false,
        }
    };
    let body = bytes[from..].to_vec();
    let status = if from > 0 { 206 } else { 200 };
    let announced = body.len();
    let sent: Vec<u8> = if cut { body[..body.len() / 2].to_vec() } else { body };
    if cut {
        // Announce the whole length, send half, then drop the connection: a transfer cut in the middle.
        let mut stream = req.into_writer();
        let mut head = format!("HTTP/1.1 {status} OK\r\nContent-Length: {announced}\r\nConnection: close\r\n");
        for h in &headers {
            head += &format!("{}: {}\r\n", h.field.as_str(), h.value.as_str());
        }
        head += "\r\n";
        let _ = stream.write_all(head.as_bytes());
        let _ = stream.write_all(&sent);
        let _ = stream.flush();
        return;
    }
    let mut resp = tiny_http::Response::new(
        tiny_http::StatusCode(status),
        headers,
        std::io::Cursor::new(sent).take(announced as u64),
        Some(announced),
        None,
    );
    if from > 0 {
        resp.add_header(header("Content-Range", &format!("bytes {from}-{}/{}", bytes.len() - 1, bytes.len())));
    }
    let _ = req.respond(resp);
}

use std::io::Write as _;
