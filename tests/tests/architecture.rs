//! ARCHITECTURE.md's invariants, checked on the source tree:
//! - no import cycles between files: within each crate, every reference from one file to an item of another (a
//!   `use` or a qualified path, resolved through the module tree and its re-exports) is an edge, except between a
//!   module and its own ancestors (a module and the submodules it declares are one unit, as Rust intends); the
//!   graph of the remaining edges must have no cycle;
//! - clap only in the binary: no library crate of the workspace depends on clap except as an optional feature
//!   (`cargo metadata`);
//! - one atomic writer: outside `harness/src/io/atomic.rs`, library and binary code creates, writes or renames
//!   files only through it (the exceptions are folder-level: staging folders renamed whole, and the training log,
//!   appended one flushed line per step).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use syn::visit::Visit;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The crates whose source trees are checked, by root file.
const CRATES: [&str; 7] = [
    "harness/src/lib.rs",
    "datasets/src/lib.rs",
    "native/src/lib.rs",
    "pipeline/src/lib.rs",
    "cli/src/main.rs",
    "wasm/src/lib.rs",
    "tests/src/lib.rs",
];

/// One module of a crate: the file holding it, its parent, its children and the names its `use` items bind.
#[derive(Debug, Default)]
struct Module {
    file: PathBuf,
    parent: Option<usize>,
    children: BTreeMap<String, usize>,
    /// Name bound by a `use` → the path it names (as written, from this module).
    imports: BTreeMap<String, Vec<String>>,
}

/// A crate's module tree and the paths each module's code mentions.
#[derive(Debug, Default)]
struct Crate {
    modules: Vec<Module>,
    /// (module, path as written) for every `use` and every qualified path in the code.
    references: Vec<(usize, Vec<String>)>,
}

/// Collects a module's `use` items, inline modules and paths.
struct Collector<'a> {
    krate: &'a mut Crate,
    module: usize,
    /// Where the current module's `mod x;` files are: `dir/x.rs` or `dir/x/mod.rs`.
    dir: PathBuf,
}

fn flatten_use(tree: &syn::UseTree, prefix: &mut Vec<String>, out: &mut Vec<(Option<String>, Vec<String>)>) {
    match tree {
        syn::UseTree::Path(p) => {
            prefix.push(p.ident.to_string());
            flatten_use(&p.tree, prefix, out);
            prefix.pop();
        }
        syn::UseTree::Name(n) => {
            let name = n.ident.to_string();
            let mut path = prefix.clone();
            if name != "self" {
                path.push(name.clone());
            }
            let bound = if name == "self" { prefix.last().cloned() } else { Some(name) };
            out.push((bound, path));
        }
        syn::UseTree::Rename(r) => {
            let mut path = prefix.clone();
            path.push(r.ident.to_string());
            out.push((Some(r.rename.to_string()), path));
        }
        syn::UseTree::Glob(_) => out.push((None, prefix.clone())),
        syn::UseTree::Group(g) => g.items.iter().for_each(|t| flatten_use(t, prefix, out)),
    }
}

impl<'ast> Visit<'ast> for Collector<'_> {
    fn visit_item_use(&mut self, u: &'ast syn::ItemUse) {
        let mut uses = Vec::new();
        flatten_use(&u.tree, &mut Vec::new(), &mut uses);
        for (bound, path) in uses {
            if let Some(name) = bound {
                self.krate.modules[self.module].imports.insert(name, path.clone());
            }
            self.krate.references.push((self.module, path));
        }
    }

    fn visit_item_mod(&mut self, m: &'ast syn::ItemMod) {
        let name = m.ident.to_string();
        let child = self.krate.modules.len();
        let parent = self.module;
        let flat = self.dir.join(format!("{name}.rs"));
        let file = match &m.content {
            Some(_) => self.krate.modules[parent].file.clone(),
            None if flat.is_file() => flat,
            None => self.dir.join(&name).join("mod.rs"),
        };
        let dir = self.dir.join(&name);
        self.krate.modules.push(Module { file: file.clone(), parent: Some(parent), ..Module::default() });
        self.krate.modules[parent].children.insert(name, child);
        match &m.content {
            Some((_, items)) => {
                let mut inner = Collector { krate: self.krate, module: child, dir };
                items.iter().for_each(|i| inner.visit_item(i));
            }
            None => collect_file(self.krate, child, &file, dir),
        }
    }

    fn visit_path(&mut self, p: &'ast syn::Path) {
        if p.segments.len() >= 2 {
            let path = p.segments.iter().map(|s| s.ident.to_string()).collect();
            self.krate.references.push((self.module, path));
        }
        syn::visit::visit_path(self, p);
    }
}

fn collect_file(krate: &mut Crate, module: usize, file: &Path, dir: PathBuf) {
    let text = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    let ast = syn::parse_file(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    let mut c = Collector { krate, module, dir };
    c.visit_file(&ast);
}

fn parse_crate(root_file: &Path) -> Crate {
    let mut krate =
        Crate { modules: vec![Module { file: root_file.to_path_buf(), ..Module::default() }], ..Crate::default() };
    let dir = root_file.parent().unwrap().to_path_buf();
    collect_file(&mut krate, 0, root_file, dir);
    krate
}

impl Crate {
    /// The module `path` (as written in module `from`) names, or the module holding the item it names; None for
    /// a path into another crate.
    fn resolve(&self, from: usize, path: &[String], depth: usize) -> Option<usize> {
        if depth > 16 || path.is_empty() {
            return None;
        }
        let (mut cur, mut rest) = match path[0].as_str() {
            "crate" => (0, &path[1..]),
            "self" => (from, &path[1..]),
            "super" => {
                let mut m = from;
                let mut i = 0;
                while path.get(i).is_some_and(|s| s == "super") {
                    m = self.modules[m].parent?;
                    i += 1;
                }
                (m, &path[i..])
            }
            first => {
                if let Some(&c) = self.modules[from].children.get(first) {
                    (c, &path[1..])
                } else if let Some(target) = self.modules[from].imports.get(first) {
                    if target.as_slice() == path {
                        return None;
                    }
                    let mut full = target.clone();
                    full.extend_from_slice(&path[1..]);
                    return self.resolve(from, &full, depth + 1);
                } else {
                    return None;
                }
            }
        };
        while let Some(seg) = rest.first() {
            if let Some(&c) = self.modules[cur].children.get(seg) {
                cur = c;
                rest = &rest[1..];
            } else if let Some(target) = self.modules[cur].imports.get(seg) {
                let mut full = target.clone();
                full.extend_from_slice(&rest[1..]);
                return self.resolve(cur, &full, depth + 1).or(Some(cur));
            } else {
                break;
            }
        }
        Some(cur)
    }

    fn is_ancestor(&self, a: usize, mut b: usize) -> bool {
        while let Some(p) = self.modules[b].parent {
            if p == a {
                return true;
            }
            b = p;
        }
        false
    }

    /// File → file edges, each with one example path that makes it.
    fn edges(&self) -> BTreeMap<(PathBuf, PathBuf), String> {
        let mut out = BTreeMap::new();
        for (from, path) in &self.references {
            let Some(to) = self.resolve(*from, path, 0) else { continue };
            let (a, b) = (&self.modules[*from].file, &self.modules[to].file);
            if a == b || self.is_ancestor(to, *from) || self.is_ancestor(*from, to) {
                continue;
            }
            // Files, not modules: an inline module's file is its parent's.
            let (fa, fb) = (self.file_module(*from), self.file_module(to));
            if self.is_ancestor(fb, fa) || self.is_ancestor(fa, fb) {
                continue;
            }
            out.entry((a.clone(), b.clone())).or_insert_with(|| path.join("::"));
        }
        out
    }

    /// The outermost module stored in the same file as `m`.
    fn file_module(&self, mut m: usize) -> usize {
        while let Some(p) = self.modules[m].parent {
            if self.modules[p].file != self.modules[m].file {
                break;
            }
            m = p;
        }
        m
    }
}

/// Strongly connected components with more than one file (Tarjan).
fn cycles(edges: &BTreeMap<(PathBuf, PathBuf), String>) -> Vec<Vec<PathBuf>> {
    let nodes: BTreeSet<&PathBuf> = edges.keys().flat_map(|(a, b)| [a, b]).collect();
    let index_of: BTreeMap<&PathBuf, usize> = nodes.iter().enumerate().map(|(i, n)| (*n, i)).collect();
    let names: Vec<&PathBuf> = nodes.into_iter().collect();
    let mut adj = vec![Vec::new(); names.len()];
    for (a, b) in edges.keys() {
        adj[index_of[a]].push(index_of[b]);
    }
    struct State {
        index: Vec<Option<usize>>,
        low: Vec<usize>,
        on_stack: Vec<bool>,
        stack: Vec<usize>,
        next: usize,
        out: Vec<Vec<usize>>,
    }
    fn connect(v: usize, adj: &[Vec<usize>], s: &mut State) {
        s.index[v] = Some(s.next);
        s.low[v] = s.next;
        s.next += 1;
        s.stack.push(v);
        s.on_stack[v] = true;
        for &w in &adj[v] {
            match s.index[w] {
                None => {
                    connect(w, adj, s);
                    s.low[v] = s.low[v].min(s.low[w]);
                }
                Some(i) if s.on_stack[w] => s.low[v] = s.low[v].min(i),
                Some(_) => {}
            }
        }
        if Some(s.low[v]) == s.index[v] {
            let mut scc = Vec::new();
            loop {
                let w = s.stack.pop().expect("on the stack");
                s.on_stack[w] = false;
                scc.push(w);
                if w == v {
                    break;
                }
            }
            if scc.len() > 1 {
                s.out.push(scc);
            }
        }
    }
    let n = names.len();
    let mut s = State {
        index: vec![None; n],
        low: vec![0; n],
        on_stack: vec![false; n],
        stack: Vec::new(),
        next: 0,
        out: Vec::new(),
    };
    for v in 0..n {
        if s.index[v].is_none() {
            connect(v, &adj, &mut s);
        }
    }
    s.out.into_iter().map(|scc| scc.into_iter().map(|i| names[i].clone()).collect()).collect()
}

#[test]
fn no_import_cycles_between_files() {
    let (mut found, mut modules) = (Vec::new(), 0);
    for krate in CRATES {
        let parsed = parse_crate(&root().join(krate));
        modules += parsed.modules.len();
        let edges = parsed.edges();
        for scc in cycles(&edges) {
            let members: BTreeSet<&PathBuf> = scc.iter().collect();
            let inside: Vec<String> = edges
                .iter()
                .filter(|((a, b), _)| members.contains(a) && members.contains(b))
                .map(|((a, b), via)| {
                    let rel = |p: &Path| p.strip_prefix(root()).unwrap_or(p).display().to_string();
                    format!("{} → {} ({via})", rel(a), rel(b))
                })
                .collect();
            found.push(format!("{krate}: {}", inside.join("; ")));
        }
    }
    assert!(modules > 100, "only {modules} modules found: the module tree was not read");
    assert!(found.is_empty(), "import cycles between files:\n{}", found.join("\n"));
}

/// The checker itself finds a cycle through a re-export and ignores parent ↔ child references.
#[test]
fn the_cycle_checker_sees_cycles_and_spares_parents() {
    let dir = tempfile::tempdir().unwrap();
    let files = [
        ("lib.rs", "mod data;\nmod io;\npub use data::Run;\n"),
        ("data/mod.rs", "mod run;\nmod qrels;\npub use run::Run;\npub use qrels::Qrels;\npub struct Parent;\n"),
        ("data/run.rs", "use super::Parent;\npub struct Run;\n"),
        ("data/qrels.rs", "pub struct Qrels;\nfn f() { crate::io::add(); }\n"),
        ("io/mod.rs", "mod trec;\npub use trec::add;\n"),
        ("io/trec.rs", "use crate::data::Qrels;\npub fn add() {}\n"),
    ];
    for (name, text) in files {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    let edges = parse_crate(&dir.path().join("lib.rs")).edges();
    let scc = cycles(&edges);
    assert_eq!(scc.len(), 1, "{edges:?}");
    let names: BTreeSet<String> =
        scc[0].iter().map(|p| p.strip_prefix(dir.path()).unwrap().display().to_string()).collect();
    assert_eq!(names, BTreeSet::from(["data/qrels.rs".to_string(), "io/trec.rs".to_string()]));
}

#[test]
fn clap_only_in_the_binary() {
    let out = std::process::Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--no-deps", "--offline"])
        .current_dir(root())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut libraries = 0;
    for package in meta["packages"].as_array().unwrap() {
        let targets = package["targets"].as_array().unwrap();
        let is_lib = targets.iter().any(|t| t["kind"].as_array().unwrap().iter().any(|k| k == "lib"));
        if !is_lib {
            continue;
        }
        libraries += 1;
        for dep in package["dependencies"].as_array().unwrap() {
            let normal = dep["kind"].is_null();
            assert!(
                !(dep["name"] == "clap" && normal && dep["optional"] != true),
                "library {} depends on clap (only the binary may; libraries may offer it as an optional feature)",
                package["name"]
            );
        }
    }
    assert!(libraries >= 5, "{libraries} library crates found");
}

/// Calls that create, write or rename a file, and the places allowed to make them.
const FILE_WRITES: [&str; 5] = ["fs::write(", "fs::rename(", "File::create(", "OpenOptions::new(", "fs::copy("];
const ALLOWED: [(&str, &str); 8] = [
    ("harness/src/io/atomic.rs", "the atomic writer itself"),
    (
        "native/src/store/http.rs",
        "appends to <file>.part (resumable with Range) and renames it to the target once size and hashes check",
    ),
    ("harness/src/embed_cache.rs", "renames an earlier drbench's cache folder to its new key"),
    ("native/src/store/archive.rs", "unpacks into a staging folder that is renamed whole"),
    ("native/src/store/mod.rs", "renames the verified staging folder into place"),
    (
        "native/src/store/hub/download.rs",
        "appends to the Hugging Face cache's <blob>.incomplete (resumable, shared with Python) and renames it into \
         blobs/ once its hash checks",
    ),
    ("native/src/train/checkpoint.rs", "renames a complete checkpoint folder into place"),
    ("native/src/train/run.rs", "appends one flushed line per step to the training log"),
];

#[test]
fn every_file_is_written_through_the_atomic_writer() {
    let mut offenders = Vec::new();
    for dir in ["harness/src", "datasets/src", "native/src", "pipeline/src", "cli/src", "wasm/src"] {
        let mut stack = vec![root().join(dir)];
        while let Some(d) = stack.pop() {
            for entry in std::fs::read_dir(&d).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                    continue;
                }
                if path.extension().is_none_or(|e| e != "rs") {
                    continue;
                }
                let rel = path.strip_prefix(root()).unwrap().display().to_string();
                if ALLOWED.iter().any(|(f, _)| *f == rel) {
                    continue;
                }
                let text = std::fs::read_to_string(&path).unwrap();
                // Unit tests write their fixtures any way they like.
                let code = text.split("#[cfg(test)]").next().unwrap_or("");
                for (i, line) in code.lines().enumerate() {
                    if let Some(call) = FILE_WRITES.iter().find(|c| line.contains(*c)) {
                        offenders.push(format!("{rel}:{}: {call} — {}", i + 1, line.trim()));
                    }
                }
            }
        }
    }
    assert!(offenders.is_empty(), "files written outside harness::io::atomic:\n{}", offenders.join("\n"));
}
