//! The demo page end to end in headless Chromium (driven over WebDriver by chromedriver): `drbench demo serve`
//! on a tiny SciFact subset; the page encodes it, scores the test queries and shows a search — on the CPU backend
//! in a browser without WebGPU (with the notice saying so), on the CPU when `auto` meets this machine's SwiftShader
//! adapter, and on the WebGPU kernels when asked (`?backend=webgpu`). The test checks what is rendered, that query
//! text is shown escaped, and saves a screenshot of the WebGPU page (`$CARGO_TARGET_TMPDIR/demo-page.png`, or
//! `DRBENCH_SCREENSHOT`). Before the browser, plain HTTP: another site's Host is refused, and so is any file the
//! demo did not lay out (its marker, a dotfile, a stray file in the folder). Needs the wasm package (`scripts/build-wasm`; `DRBENCH_WASM_PKG` to point
//! elsewhere), chromium and chromium-driver.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

mod common;

use common::{root, shared};
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};

/// A child process killed when dropped (so a failing assertion leaves no server or driver behind).
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `drbench demo serve` on a free port; returns the process and the page's address.
fn serve(dir: &Path, cache: &Path) -> (Killed, String) {
    let pkg = std::env::var_os("DRBENCH_WASM_PKG").map(PathBuf::from).unwrap_or_else(|| root().join("target-wasm/pkg"));
    assert!(pkg.join("drbench_wasm_bg.wasm").is_file(), "{}: no wasm package; run scripts/build-wasm", pkg.display());
    let mut child = Killed(
        Command::new(env!("CARGO_BIN_EXE_drbench"))
            .args(["demo", "serve", "--port", "0", "--queries", "3", "--docs", "20"])
            .arg("--dir")
            .arg(dir)
            .arg("--pkg")
            .arg(&pkg)
            .env("DRBENCH_MIRROR", shared().join("mirror"))
            .env("DRBENCH_CACHE", cache)
            .stdout(Stdio::piped())
            .spawn()
            .expect("drbench runs"),
    );
    let mut line = String::new();
    BufReader::new(child.0.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let url = line.split(" at ").nth(1).and_then(|s| s.split_whitespace().next()).unwrap_or_else(|| {
        panic!("drbench demo serve printed {line:?}, expected `serving DIR at http://127.0.0.1:PORT/`")
    });
    assert!(url.starts_with("http://127.0.0.1:"), "the demo must listen on 127.0.0.1 only: {url}");
    (child, url.to_string())
}

/// The status code of `GET path` sent to the server at `url` with the Host header `host`.
fn status_of(url: &str, path: &str, host: &str) -> u16 {
    let addr = url.trim_start_matches("http://").trim_end_matches('/');
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(stream, "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").unwrap();
    let mut reply = String::new();
    let _ = stream.read_to_string(&mut reply);
    let status = reply.split_whitespace().nth(1).and_then(|s| s.parse().ok());
    status.unwrap_or_else(|| panic!("GET {path} (Host {host}): no HTTP status in {:?}", &reply[..reply.len().min(200)]))
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// chromedriver on a free port, and a WebDriver session of headless Chromium (WebGPU on or off). Chromium's profile
/// lives in `profile` (a folder the caller removes): left to chromedriver, a killed driver leaves ~100 MB behind in
/// /tmp per session.
async fn browser(webgpu: bool, profile: &Path) -> (Killed, Client) {
    let port = free_port();
    let driver = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into());
    let child = Killed(
        Command::new(&driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{driver}: {e} (install chromium-driver)")),
    );
    let mut args = vec!["--headless", "--no-sandbox", "--disable-background-networking", "--disable-component-update"];
    args.extend(["--no-first-run", "--window-size=1200,1300"]);
    let profile = format!("--user-data-dir={}", profile.display());
    args.push(&profile);
    if webgpu {
        args.push("--enable-unsafe-webgpu");
    }
    let mut caps = serde_json::Map::new();
    caps.insert("goog:chromeOptions".into(), json!({"binary": "/usr/bin/chromium", "args": args}));
    let start = Instant::now();
    loop {
        match ClientBuilder::new(HttpConnector::new())
            .capabilities(caps.clone())
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
        {
            Ok(c) => return (child, c),
            Err(e) if start.elapsed() > Duration::from_secs(30) => panic!("no WebDriver session: {e}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(300)).await,
        }
    }
}

async fn text(c: &Client, id: &str) -> String {
    c.find(Locator::Id(id)).await.unwrap().text().await.unwrap()
}

/// Waits until the page's `data-state` leaves "loading".
async fn settled(c: &Client, limit: Duration) -> String {
    let start = Instant::now();
    loop {
        let state = c.execute("return document.body.dataset.state", vec![]).await.unwrap();
        let state = state.as_str().unwrap_or("").to_string();
        if state != "loading" || start.elapsed() > limit {
            return state;
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}

/// The page at `url` (whose query string picks the backend), in a Chromium with or without WebGPU: it settles
/// "ready", names the backend `expect` ("webgpu" or "cpu"), shows ten results for `?q=`, and its nDCG@10 is within
/// 0.01 of the native golden value it shows. With `screenshot`, also saves the screenshot and checks that a typed
/// query is rendered as text, not markup.
async fn check_page(url: &str, webgpu: bool, expect: &str, screenshot: bool) {
    let profile = tempfile::tempdir().unwrap();
    let (_driver, c) = browser(webgpu, profile.path()).await;
    c.goto(url).await.unwrap();
    let state = settled(&c, Duration::from_secs(900)).await;
    assert_eq!(state, "ready", "page state {state}; failure text: {:?}", text(&c, "failure-text").await);
    let timings: Value = c.execute("return window.drbenchTimings", vec![]).await.unwrap();
    assert_eq!(timings["backend"], expect, "{url}: backend");
    if expect == "cpu" {
        // The corpus went through the Web Workers, not the page-thread fallback.
        let facts = text(&c, "facts").await;
        assert!(timings["workers"].as_u64().unwrap_or(0) >= 1, "{url}: no encoder workers ran: {facts}");
    }
    let notice = c.find(Locator::Id("nogpu")).await.unwrap().is_displayed().await.unwrap();
    assert_eq!(notice, !webgpu, "the no-WebGPU notice is shown exactly when WebGPU is off");
    if !webgpu {
        assert!(text(&c, "nogpu").await.contains("WebGPU is not available"));
    }
    let results = c.find_all(Locator::Css("#results li")).await.unwrap();
    assert_eq!(results.len(), 10, "ten ranked documents for the URL's query");
    assert!(!results[0].text().await.unwrap().trim().is_empty());
    let page: f64 = text(&c, "eval-page").await.parse().expect("the page's nDCG@10 is a number");
    let golden: f64 = text(&c, "eval-f32").await.parse().expect("the native golden value is shown");
    assert!((page - golden).abs() <= 0.01, "page nDCG@10 {page} vs native {golden}");
    eprintln!("demo page {url} (WebGPU {webgpu}): nDCG@10 {page:.4} (native f32 {golden:.4}); timings {timings}");
    if !screenshot {
        c.close().await.unwrap();
        return;
    }

    let shot = std::env::var_os("DRBENCH_SCREENSHOT")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_TARGET_TMPDIR")).join("demo-page.png"));
    let png = c.screenshot().await.unwrap();
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n") && png.len() > 20_000, "a real screenshot ({} bytes)", png.len());
    std::fs::write(&shot, &png).unwrap();
    eprintln!("screenshot: {} ({} bytes)", shot.display(), png.len());

    // Text the user types is shown as text, never as markup.
    let query = c.find(Locator::Id("query")).await.unwrap();
    query.clear().await.unwrap();
    query.send_keys("<b id=injected>bone</b>").await.unwrap();
    c.find(Locator::Css("#search-form button")).await.unwrap().click().await.unwrap();
    let start = Instant::now();
    while !text(&c, "search-info").await.contains("<b id=injected>") {
        assert!(start.elapsed() < Duration::from_secs(120), "the second search never finished");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert!(c.find(Locator::Id("injected")).await.is_err(), "query text became markup");
    c.close().await.unwrap();
}

#[test]
fn demo_page_encodes_scores_and_searches_in_headless_chromium() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("demo");
    std::fs::create_dir_all(dir.join("data")).unwrap();
    std::fs::write(dir.join("data/stray.json"), "{}").unwrap();
    std::fs::write(dir.join(".drbench"), r#"{"kind":"demo","drbench":"0"}"#).unwrap();
    let (_server, url) = serve(&dir, &tmp.path().join("cache"));
    let this = url.trim_start_matches("http://").trim_end_matches('/').to_string();
    let port = this.rsplit_once(':').unwrap().1;
    // (path, Host, status)
    let cases = [
        ("/", this.clone(), 200),
        ("/data/subset.json", format!("localhost:{port}"), 200),
        ("/", format!("rebound.example:{port}"), 403),
        ("/data/subset.json", "127.0.0.1:1".to_string(), 403),
        ("/.drbench", this.clone(), 404),
        ("/data/stray.json", this.clone(), 404),
    ];
    for (path, host, want) in &cases {
        assert_eq!(status_of(&url, path, host), *want, "GET {path} with Host {host}");
    }
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let q = "q=vitamin%20D%20deficiency";
        // No WebGPU at all: the CPU backend, with the notice.
        check_page(&format!("{url}?{q}"), false, "cpu", false).await;
        // This machine's only adapter is SwiftShader, a CPU emulation: `auto` takes the CPU.
        check_page(&format!("{url}?{q}"), true, "cpu", false).await;
        // The WebGPU kernels, asked for.
        check_page(&format!("{url}?backend=webgpu&{q}"), true, "webgpu", true).await;
    });
}
