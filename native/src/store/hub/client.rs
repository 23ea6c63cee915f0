//! The few hub endpoints drbench calls, on the store's blocking HTTP client: repository info at a revision
//! (`/api/{datasets/}ORG/NAME/revision/REV`: the commit and the file list), a file's metadata (`HEAD
//! …/resolve/COMMIT/PATH` without following the CDN redirect: `X-Repo-Commit`, `X-Linked-Etag`/`ETag`,
//! `X-Linked-Size`) and its bytes (`GET`, resumed with `Range`). `HF_ENDPOINT`, `HF_TOKEN` (else the token file
//! huggingface_hub's login writes) and `HF_HUB_OFFLINE` are honoured; hub error codes become messages that say
//! what to do.

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::blocking::{Client, RequestBuilder, Response};
use serde::Deserialize;

use super::super::error::{Result, StoreError};
use super::super::http::{self, stall_timeout};
use super::cache::hf_home;
use super::reference::HubRef;

/// How to reach the hub.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HubSettings {
    /// Base URL (`HF_ENDPOINT`, default https://huggingface.co).
    pub endpoint: String,
    /// Access token (`HF_TOKEN`, else `HF_TOKEN_PATH`, else `HF_HOME/token`).
    pub token: Option<String>,
    /// `HF_HUB_OFFLINE=1`: the cache only.
    pub offline: bool,
    /// Longest wait for a byte before a transfer counts as stalled and is resumed (see [`stall_timeout`]).
    pub stall_timeout: Duration,
}

impl HubSettings {
    /// Settings from the environment, as huggingface_hub reads them.
    pub fn from_env() -> HubSettings {
        let var = |k: &str| std::env::var(k).ok().map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        let endpoint = var("HF_ENDPOINT")
            .or_else(|| var("DRBENCH_HF_ENDPOINT"))
            .unwrap_or_else(|| "https://huggingface.co".into())
            .trim_end_matches('/')
            .to_string();
        let token = var("HF_TOKEN").or_else(|| {
            let path = var("HF_TOKEN_PATH").map_or_else(|| hf_home().join("token"), std::path::PathBuf::from);
            std::fs::read_to_string(path).ok().map(|t| t.trim().to_string()).filter(|t| !t.is_empty())
        });
        let offline = var("HF_HUB_OFFLINE")
            .is_some_and(|v| matches!(v.to_ascii_lowercase().as_str(), "1" | "true" | "yes" | "on"));
        HubSettings { endpoint, token, offline, stall_timeout: stall_timeout() }
    }
}

/// What the hub says of a repository at a revision.
#[derive(Debug, Clone, Deserialize)]
pub struct RepoInfo {
    /// The commit the revision resolves to.
    pub sha: String,
    /// Its files.
    #[serde(default)]
    pub siblings: Vec<Sibling>,
}

/// One file of a repository.
#[derive(Debug, Clone, Deserialize)]
pub struct Sibling {
    /// Path in the repository.
    pub rfilename: String,
}

/// A file's identity at a commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileMeta {
    /// The commit the server resolved.
    pub commit: String,
    /// sha256 (LFS files) or git sha1 (others), lowercase hex: the blob's name in the cache.
    pub etag: String,
    /// Size in bytes, when announced.
    pub size: Option<u64>,
}

/// A hub client over the store's HTTP settings.
#[derive(Debug, Clone)]
pub struct HubClient {
    /// Endpoint, token, offline.
    pub settings: HubSettings,
    http: Client,
    /// Does not follow redirects: a LFS file's metadata is on the redirect itself.
    head: Client,
}

impl HubClient {
    /// A client with `settings`.
    pub fn new(settings: HubSettings) -> Result<HubClient> {
        let build = |redirects: reqwest::redirect::Policy| {
            Client::builder()
                .connect_timeout(Duration::from_secs(30))
                .timeout(settings.stall_timeout)
                .redirect(redirects)
                .user_agent(concat!("drbench/", env!("CARGO_PKG_VERSION"), "; hf_hub-compatible"))
                .build()
                .map_err(|e| StoreError::Http {
                    url: settings.endpoint.clone(),
                    message: format!("cannot build HTTP client: {e}"),
                })
        };
        Ok(HubClient {
            http: build(reqwest::redirect::Policy::limited(10))?,
            head: build(reqwest::redirect::Policy::none())?,
            settings,
        })
    }

    fn auth(&self, req: RequestBuilder) -> RequestBuilder {
        match &self.settings.token {
            Some(t) => req.bearer_auth(t),
            None => req,
        }
    }

    /// The commit and file list of `r` at its revision.
    pub fn repo_info(&self, r: &HubRef) -> Result<RepoInfo> {
        let kind = match r.kind {
            super::reference::RepoKind::Dataset => "datasets",
            super::reference::RepoKind::Model => "models",
        };
        let url = format!("{}/api/{kind}/{}/revision/{}", self.settings.endpoint, r.repo, encode(&r.revision));
        let resp = self.send(r, &url, || self.auth(self.http.get(&url)))?;
        let resp = self.check(r, &url, None, resp)?;
        let text = resp
            .text()
            .map_err(|e| StoreError::Http { url: url.clone(), message: format!("reading the answer: {e}") })?;
        serde_json::from_str(&text)
            .map_err(|e| StoreError::Http { url, message: format!("not the hub's repository info: {e}") })
    }

    /// The URL of `file` at `commit`.
    pub fn file_url(&self, r: &HubRef, commit: &str, file: &str) -> String {
        format!("{}/{}/resolve/{}/{}", self.settings.endpoint, r.url_repo(), encode(commit), encode_path(file))
    }

    /// The metadata of `file` at `commit` (HEAD; relative redirects of renamed repositories followed).
    pub fn file_meta(&self, r: &HubRef, commit: &str, file: &str) -> Result<FileMeta> {
        let mut url = self.file_url(r, commit, file);
        for _ in 0..5 {
            let resp = self.send(r, &url, || self.auth(self.head.head(&url)).header("Accept-Encoding", "identity"))?;
            let h = resp.headers();
            let get = |k: &str| h.get(k).and_then(|v| v.to_str().ok()).map(str::to_string);
            if resp.status().is_redirection() && get("x-linked-etag").is_none() {
                match get("location") {
                    Some(loc) if loc.starts_with('/') => {
                        url = format!("{}{loc}", self.settings.endpoint);
                        continue;
                    }
                    _ => {}
                }
            }
            let resp = if resp.status().is_redirection() { resp } else { self.check(r, &url, Some(file), resp)? };
            let h = resp.headers();
            let get = |k: &str| h.get(k).and_then(|v| v.to_str().ok()).map(str::to_string);
            let etag = get("x-linked-etag").or_else(|| get("etag")).map(|e| normalize_etag(&e)).ok_or_else(|| {
                StoreError::Http { url: url.clone(), message: "the hub sent no ETag for the file".into() }
            })?;
            let commit = get("x-repo-commit").unwrap_or_else(|| commit.to_string());
            let size = get("x-linked-size").or_else(|| get("content-length")).and_then(|s| s.parse().ok());
            return Ok(FileMeta { commit, etag, size });
        }
        Err(StoreError::Http { url, message: "too many redirects".into() })
    }

    /// GET `url` from byte `from` on (a `Range` request when `from > 0`).
    pub fn get_from(&self, r: &HubRef, url: &str, from: u64) -> Result<Response> {
        let resp = self.send(r, url, || {
            let req = self.auth(self.http.get(url));
            if from > 0 { req.header("Range", format!("bytes={from}-")) } else { req }
        })?;
        if resp.status() == StatusCode::RANGE_NOT_SATISFIABLE {
            return Ok(resp);
        }
        self.check(r, url, None, resp)
    }

    /// Sends with up to [`http::ATTEMPTS`] attempts on connection errors, 429 and 5xx answers ([`http::backoff`]).
    fn send(&self, r: &HubRef, url: &str, make: impl Fn() -> RequestBuilder) -> Result<Response> {
        if self.settings.offline {
            return Err(StoreError::Unavailable(format!(
                "{r}: HF_HUB_OFFLINE is set and the Hugging Face cache does not hold what is needed ({url}); \
                 run once online or unset HF_HUB_OFFLINE"
            )));
        }
        let mut last = String::new();
        for attempt in 0..http::ATTEMPTS {
            if attempt > 0 {
                std::thread::sleep(http::backoff(attempt));
            }
            match make().send() {
                Ok(resp) if resp.status() == StatusCode::TOO_MANY_REQUESTS || resp.status().is_server_error() => {
                    last = format!("server answered {}", resp.status());
                }
                Ok(resp) => return Ok(resp),
                Err(e) => last = format!("request failed: {e}"),
            }
        }
        Err(StoreError::Http { url: url.to_string(), message: format!("{last} ({} attempts)", http::ATTEMPTS) })
    }

    /// Turns an unsuccessful answer into a message naming the repository, revision or file.
    fn check(&self, r: &HubRef, url: &str, file: Option<&str>, resp: Response) -> Result<Response> {
        let status = resp.status();
        if status.is_success() {
            return Ok(resp);
        }
        let code = resp.headers().get("x-error-code").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
        let page = format!("{}/{}", self.settings.endpoint, r.url_repo());
        let message = match (code.as_str(), status.as_u16()) {
            ("GatedRepo", _) if self.settings.token.is_none() => format!(
                "{} is a gated repository and no token is set: accept its conditions at {page}, then set HF_TOKEN \
                 (or log in with `hf auth login`, which writes {})",
                r.repo,
                hf_home().join("token").display()
            ),
            ("GatedRepo", _) => format!(
                "{} is a gated repository and the token in use has no access to it: accept its conditions at {page} \
                 with the account the token belongs to",
                r.repo
            ),
            ("RepoNotFound", _) | ("", 401) => format!(
                "no repository {} on {} (or it is private{})",
                r.url_repo(),
                self.settings.endpoint,
                if self.settings.token.is_none() { ": set HF_TOKEN" } else { " and the token has no access" }
            ),
            ("RevisionNotFound", _) => format!("{} has no revision {:?}", r.url_repo(), r.revision),
            ("EntryNotFound", _) | ("", 404) => match file {
                Some(f) => format!("{} has no file {f} at this revision", r.url_repo()),
                None => format!("not found: {} at revision {:?}", r.url_repo(), r.revision),
            },
            (_, 403) => format!("access to {} refused (403)", r.url_repo()),
            _ => format!(
                "server answered {status}{}",
                if code.is_empty() { String::new() } else { format!(" ({code})") }
            ),
        };
        Err(StoreError::Http { url: url.to_string(), message })
    }
}

/// `"abc"`, `W/"abc"` → `abc`.
fn normalize_etag(e: &str) -> String {
    e.trim().trim_start_matches("W/").trim_matches('"').to_ascii_lowercase()
}

/// What a path segment keeps unescaped: RFC 3986's unreserved characters.
const SEGMENT: &percent_encoding::AsciiSet =
    &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

fn encode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, SEGMENT).to_string()
}

fn encode_path(p: &str) -> String {
    p.split('/').map(encode).collect::<Vec<_>>().join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etags_and_paths_are_normalised() {
        assert_eq!(normalize_etag("W/\"AbC\""), "abc");
        assert_eq!(encode_path("data/test-0 a.parquet"), "data/test-0%20a.parquet");
        assert_eq!(encode("refs/pr/1"), "refs%2Fpr%2F1");
    }
}
