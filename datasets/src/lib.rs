//! drbench's dataset registry: for each dataset, the files it must have (sha256 + size), where it comes from
//! (mirror folder, official archive), its license, counts and reference scores. Pure data; fetching lives in
//! the `drbench` binary.

use std::collections::BTreeMap;

use serde::Deserialize;

/// The registry shipped with drbench (`registry/registry.toml`).
pub const BUILTIN_TOML: &str = include_str!("../registry/registry.toml");

/// Errors of the registry.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// The TOML text does not parse.
    #[error("{origin}: {source}")]
    Toml {
        /// Where the text came from.
        origin: String,
        /// The parser's message (with line and column).
        #[source]
        source: toml::de::Error,
    },
    /// An entry is inconsistent.
    #[error("{origin}: dataset {name:?}: {message}")]
    Entry {
        /// Where the text came from.
        origin: String,
        /// The dataset.
        name: String,
        /// What is wrong.
        message: String,
    },
    /// No dataset has that name.
    #[error("unknown dataset {0:?}; `drbench datasets list` shows the known ones, or pass a BEIR folder path")]
    Unknown(String),
}

/// One file of a dataset.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct FileSpec {
    /// Path relative to the dataset folder (`corpus.jsonl`, `qrels/test.tsv`).
    pub path: String,
    /// Size in bytes.
    pub size: u64,
    /// Lowercase hex sha256.
    pub sha256: String,
}

/// On-disk layout of a dataset folder.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Layout {
    /// corpus.jsonl, queries.jsonl, qrels/<split>.tsv.
    Beir,
}

/// One dataset.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DatasetSpec {
    /// Registry name, e.g. `beir/scifact`.
    pub name: String,
    /// Folder under a mirror root and under the cache, e.g. `datasets/scifact`.
    pub mirror: String,
    /// File layout.
    pub layout: Layout,
    /// Whether `files` is the whole dataset (false: the mirror lacks part of it, e.g. the corpus).
    pub complete: bool,
    /// Official archive URL.
    pub source_url: String,
    /// sha256 of the official archive; empty when it could not be pinned.
    pub source_sha256: String,
    /// Folder inside the archive that holds the dataset files.
    pub zip_root: String,
    /// License summary.
    pub license: String,
    /// Qrels splits.
    pub splits: Vec<String>,
    /// Split evaluated by default.
    pub default_split: String,
    /// Caveats.
    pub note: String,
    /// Official counts (docs, test_queries, test_qrels).
    pub counts: BTreeMap<String, u64>,
    /// Published scores (name -> value).
    pub reference: BTreeMap<String, f64>,
    /// The task's name in MTEB result files (empty: none).
    #[serde(default)]
    pub mteb_task: String,
    /// Drop a hit whose id equals the query id (ArguAna, Quora), as Pyserini's `--remove-query` and BEIR do.
    #[serde(default)]
    pub remove_query_self: bool,
    /// Files with checksums.
    #[serde(default)]
    pub files: Vec<FileSpec>,
}

impl DatasetSpec {
    /// The file spec for `path`, if registered.
    pub fn file(&self, path: &str) -> Option<&FileSpec> {
        self.files.iter().find(|f| f.path == path)
    }

    /// The dataset registered under MTEB task name `task` (case-insensitive).
    pub fn by_mteb_task<'r>(registry: &'r Registry, task: &str) -> Option<&'r DatasetSpec> {
        registry.datasets().iter().find(|d| !d.mteb_task.is_empty() && d.mteb_task.eq_ignore_ascii_case(task))
    }

    /// Whether the registry pins files for this dataset.
    pub fn is_pinned(&self) -> bool {
        !self.files.is_empty()
    }

    /// Total registered bytes.
    pub fn total_size(&self) -> u64 {
        self.files.iter().map(|f| f.size).sum()
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RegistryFile {
    dataset: Vec<DatasetSpec>,
}

/// A set of dataset specs.
#[derive(Debug, Clone, PartialEq)]
pub struct Registry {
    datasets: Vec<DatasetSpec>,
}

impl Registry {
    /// The built-in registry.
    pub fn builtin() -> Registry {
        Registry::parse(BUILTIN_TOML, "datasets/registry/registry.toml").expect("the built-in registry is valid")
    }

    /// Parses and checks a registry text; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Registry, RegistryError> {
        let file: RegistryFile =
            toml::from_str(text).map_err(|source| RegistryError::Toml { origin: origin.to_string(), source })?;
        let mut seen = std::collections::BTreeSet::new();
        for d in &file.dataset {
            let bad = |message: String| RegistryError::Entry { origin: origin.into(), name: d.name.clone(), message };
            if !seen.insert(d.name.clone()) {
                return Err(bad("listed twice".into()));
            }
            if !d.splits.contains(&d.default_split) {
                return Err(bad(format!("default split {:?} is not among {:?}", d.default_split, d.splits)));
            }
            for f in &d.files {
                let hex_ok =
                    f.sha256.len() == 64 && f.sha256.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
                if !hex_ok {
                    return Err(bad(format!("file {}: sha256 must be 64 lowercase hex digits", f.path)));
                }
                if f.path.starts_with('/') || f.path.split('/').any(|c| c == ".." || c.is_empty()) {
                    return Err(bad(format!("file {}: path must be relative and stay inside the folder", f.path)));
                }
            }
            if d.mirror.split('/').any(|c| c == ".." || c.is_empty()) {
                return Err(bad("mirror folder must be a relative path without `..`".into()));
            }
        }
        Ok(Registry { datasets: file.dataset })
    }

    /// All datasets, in registry order.
    pub fn datasets(&self) -> &[DatasetSpec] {
        &self.datasets
    }

    /// Looks a dataset up by its full name (`beir/scifact`) or its unique short name (`scifact`).
    pub fn get(&self, name: &str) -> Result<&DatasetSpec, RegistryError> {
        if let Some(d) = self.datasets.iter().find(|d| d.name == name) {
            return Ok(d);
        }
        let mut short = self.datasets.iter().filter(|d| d.name.rsplit('/').next() == Some(name));
        match (short.next(), short.next()) {
            (Some(d), None) => Ok(d),
            _ => Err(RegistryError::Unknown(name.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_registry_is_valid_and_complete_for_the_study() {
        let r = Registry::builtin();
        for name in [
            "beir/scifact",
            "beir/nfcorpus",
            "beir/arguana",
            "beir/fiqa",
            "beir/scidocs",
            "beir/quora",
            "beir/trec-covid",
            "msmarco/dev-small",
            "msmarco/dl19",
            "msmarco/dl20",
            "coir/apps",
            "coir/codefeedback-st",
        ] {
            assert!(r.get(name).is_ok(), "{name}");
        }
        let scifact = r.get("scifact").unwrap();
        assert_eq!(scifact.name, "beir/scifact");
        assert_eq!(scifact.reference["BM25 flat nDCG@10 (Pyserini)"], 0.6789);
        assert_eq!(scifact.file("corpus.jsonl").unwrap().size, 8_005_249);
        assert!(r.get("nope").is_err());
    }

    #[test]
    fn rejects_bad_entries() {
        let base = r#"[[dataset]]
name = "x/y"
mirror = "datasets/y"
layout = "beir"
complete = true
source_url = ""
source_sha256 = ""
zip_root = ""
license = ""
splits = ["test"]
default_split = "test"
note = ""
counts = {}
reference = {}
[[dataset.files]]
path = "PATH"
size = 1
sha256 = "SHA"
"#;
        let good = "0".repeat(64);
        assert!(Registry::parse(&base.replace("PATH", "a.tsv").replace("SHA", &good), "t").is_ok());
        assert!(Registry::parse(&base.replace("PATH", "../a").replace("SHA", &good), "t").is_err());
        assert!(Registry::parse(&base.replace("PATH", "a").replace("SHA", "xyz"), "t").is_err());
        let err = Registry::parse("[[dataset]]\nname = 3\n", "reg.toml").unwrap_err().to_string();
        assert!(err.starts_with("reg.toml:"), "{err}");
    }
}
