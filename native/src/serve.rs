//! A static file server for the browser demo: 127.0.0.1 only, GET/HEAD only, requests whose Host is not
//! 127.0.0.1 or localhost refused (a page of another site reaching it through DNS rebinding), and only the files
//! the demo laid out served (paths are percent-decoded, then every component must be a plain name that is not a
//! dotfile; symbolic links that lead outside are refused after canonicalisation), with content types a browser
//! needs for ES modules and WebAssembly.

use std::collections::HashSet;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Component, Path, PathBuf};

use percent_encoding::percent_decode_str;
use tiny_http::{Header, Method, Response, Server};

/// Errors of the demo server.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The directory to serve does not exist or cannot be resolved.
    #[error("{path}: {source}")]
    Root {
        /// The directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The port cannot be bound.
    #[error("cannot listen on 127.0.0.1:{port}: {message}")]
    Bind {
        /// The port asked for.
        port: u16,
        /// Why.
        message: String,
    },
}

/// Where a request path leads inside `root`, or `None` when it would leave it, names a dotfile, a file not in
/// `files` (paths relative to `root`) or no regular file. `/` and paths ending in `/` mean `index.html`; the
/// query string is ignored.
pub fn resolve(root: &Path, files: &HashSet<PathBuf>, url: &str) -> Option<PathBuf> {
    let path = url.split(['?', '#']).next().unwrap_or("");
    let decoded = percent_decode_str(path).decode_utf8().ok()?;
    if decoded.contains('\0') || decoded.contains('\\') {
        return None;
    }
    let mut rel = PathBuf::new();
    for part in decoded.split('/').filter(|p| !p.is_empty()) {
        let mut comps = Path::new(part).components();
        match (comps.next(), comps.next()) {
            (Some(Component::Normal(name)), None) if !name.to_string_lossy().starts_with('.') => rel.push(name),
            _ => return None,
        }
    }
    if decoded.ends_with('/') || rel.as_os_str().is_empty() {
        rel.push("index.html");
    }
    if !files.contains(&rel) {
        return None;
    }
    let full = root.join(&rel).canonicalize().ok()?;
    (full.starts_with(root) && full.is_file()).then_some(full)
}

/// Whether a request's Host header names this server as a page of it would: `127.0.0.1:PORT` or
/// `localhost:PORT` (any case), and without the port only when it is 80. A missing Host is refused too.
pub fn host_allowed(host: Option<&str>, port: u16) -> bool {
    let Some(host) = host else { return false };
    let (name, given_port) = match host.rsplit_once(':') {
        Some((n, p)) => (n, p.parse::<u16>().ok()),
        None => (host, Some(80)),
    };
    given_port == Some(port) && (name == "127.0.0.1" || name.eq_ignore_ascii_case("localhost"))
}

/// The Content-Type of a served file.
pub fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" => "application/json",
        "wasm" => "application/wasm",
        "png" => "image/png",
        "svg" => "image/svg+xml",
        "txt" | "trec" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// A bound server, ready to [`DemoServer::run`].
pub struct DemoServer {
    server: Server,
    root: PathBuf,
    files: HashSet<PathBuf>,
}

impl std::fmt::Debug for DemoServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DemoServer").field("addr", &self.addr()).field("root", &self.root).finish()
    }
}

impl DemoServer {
    /// Binds 127.0.0.1:`port` (0: any free port) to serve `files` (paths relative to `root`) and nothing else.
    pub fn bind(root: &Path, files: &[PathBuf], port: u16) -> Result<DemoServer, ServeError> {
        let root = root.canonicalize().map_err(|source| ServeError::Root { path: root.to_path_buf(), source })?;
        let server = Server::http(SocketAddr::from((Ipv4Addr::LOCALHOST, port)))
            .map_err(|e| ServeError::Bind { port, message: e.to_string() })?;
        Ok(DemoServer { server, root, files: files.iter().cloned().collect() })
    }

    /// The address actually bound.
    pub fn addr(&self) -> SocketAddr {
        self.server.server_addr().to_ip().expect("an IP listener")
    }

    /// Serves requests until the process ends.
    pub fn run(&self) {
        let port = self.addr().port();
        for request in self.server.incoming_requests() {
            let head = *request.method() == Method::Head;
            let host = request.headers().iter().find(|h| h.field.equiv("Host")).map(|h| h.value.as_str());
            let host_ok = host_allowed(host, port);
            let found = match request.method() {
                Method::Get | Method::Head if host_ok => resolve(&self.root, &self.files, request.url()),
                _ => None,
            };
            let headers = |ct: &str| {
                [
                    Header::from_bytes("Content-Type", ct).expect("ascii"),
                    Header::from_bytes("X-Content-Type-Options", "nosniff").expect("ascii"),
                    Header::from_bytes("Cache-Control", "no-cache").expect("ascii"),
                    Header::from_bytes(
                        "Content-Security-Policy",
                        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'",
                    )
                    .expect("ascii"),
                ]
            };
            let result = match found.and_then(|p| std::fs::File::open(&p).ok().map(|f| (p, f))) {
                Some((path, file)) => {
                    let mut resp = Response::from_file(file);
                    for h in headers(content_type(&path)) {
                        resp.add_header(h);
                    }
                    if head {
                        request.respond(resp.with_data(std::io::empty(), Some(0)))
                    } else {
                        request.respond(resp)
                    }
                }
                None if !host_ok => {
                    let mut resp = Response::from_string(format!(
                        "forbidden: this server answers only http://127.0.0.1:{port}/ and http://localhost:{port}/\n"
                    ))
                    .with_status_code(403);
                    for h in headers("text/plain; charset=utf-8") {
                        resp.add_header(h);
                    }
                    request.respond(resp)
                }
                None => {
                    let mut resp = Response::from_string("not found\n").with_status_code(404);
                    for h in headers("text/plain; charset=utf-8") {
                        resp.add_header(h);
                    }
                    request.respond(resp)
                }
            };
            if let Err(e) = result {
                eprintln!("demo server: {e}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_stay_inside_the_root() {
        let tmp = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let root = tmp.path().join("site");
        std::fs::create_dir_all(root.join("data")).unwrap();
        std::fs::write(root.join("index.html"), "<p>hi</p>").unwrap();
        std::fs::write(root.join("data/a b.json"), "{}").unwrap();
        std::fs::write(root.join("data/left-over.json"), "{}").unwrap();
        std::fs::write(root.join(".env"), "SECRET=1").unwrap();
        std::fs::create_dir_all(root.join(".git")).unwrap();
        std::fs::write(root.join(".git/config"), "x").unwrap();
        std::fs::write(tmp.path().join("secret.txt"), "no").unwrap();
        std::fs::write(outside.path().join("secret.txt"), "no").unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(outside.path().join("secret.txt"), root.join("link.txt")).unwrap();
        let root = root.canonicalize().unwrap();
        // What the demo laid out; `.env`, `.git/config` and `data/left-over.json` are in the folder but not in it.
        let mut files: HashSet<PathBuf> =
            ["index.html", "data/a b.json", "link.txt", ".env"].iter().map(PathBuf::from).collect();
        files.insert(PathBuf::from(".git/config"));
        let ok = |u: &str| resolve(&root, &files, u).map(|p| p.strip_prefix(&root).unwrap().to_path_buf());
        assert_eq!(ok("/"), Some("index.html".into()));
        assert_eq!(ok("/index.html?x=1#y"), Some("index.html".into()));
        assert_eq!(ok("/data/a%20b.json"), Some("data/a b.json".into()));
        for bad in [
            "/../secret.txt",
            "/data/../../secret.txt",
            "/%2e%2e/secret.txt",
            "/data/%2e%2e%2f%2e%2e%2fsecret.txt",
            "/..%5csecret.txt",
            "//etc/passwd",
            "/data",
            "/missing.js",
            "/index.html%00.js",
            "/link.txt",
            "/.env",
            "/%2eenv",
            "/.git/config",
            "/data/left-over.json",
        ] {
            assert_eq!(ok(bad), None, "{bad} must not be served");
        }
    }

    #[test]
    fn only_hosts_naming_this_server_are_answered() {
        // (Host header, allowed on port 8000)
        let cases = [
            (Some("127.0.0.1:8000"), true),
            (Some("localhost:8000"), true),
            (Some("LocalHost:8000"), true),
            (Some("127.0.0.1:8001"), false),
            (Some("127.0.0.1"), false),
            (Some("attacker.example:8000"), false),
            (Some("localhost.attacker.example:8000"), false),
            (Some("127.0.0.1.nip.io:8000"), false),
            (Some(""), false),
            (Some("localhost:"), false),
            (None, false),
        ];
        for (host, allowed) in cases {
            assert_eq!(host_allowed(host, 8000), allowed, "{host:?}");
        }
        assert!(host_allowed(Some("localhost"), 80), "port 80 may be left out");
    }

    #[test]
    fn content_types_suit_modules_and_wasm() {
        assert_eq!(content_type(Path::new("pkg/x_bg.wasm")), "application/wasm");
        assert_eq!(content_type(Path::new("demo.js")), "text/javascript; charset=utf-8");
        assert_eq!(content_type(Path::new("model.drbq")), "application/octet-stream");
    }
}
