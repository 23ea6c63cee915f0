//! Which files of a hub dataset are its corpus, queries and qrels: read from the dataset card's YAML `configs`
//! when it has them (MTEB's `corpus` / `queries` / `default` configs, CoIR's `SUBSET-corpus` / `SUBSET-queries` /
//! `SUBSET-qrels`, the `datasets` library's `data_files` globs), else from the BEIR and MTEB file names
//! (`corpus.jsonl[.gz]`, `queries.jsonl[.gz]`, `qrels/<split>.tsv`; `corpus/*.parquet`, `queries/*.parquet`,
//! `data/<split>-*.parquet`). Split choice follows MTEB's loader: the config's `corpus`/`queries` split, else
//! its only split. Pure functions of the file list and the card, so every rule is unit-tested.

use std::collections::BTreeMap;

use drbench_harness::io::DataFormat;
use globset::GlobBuilder;
use serde::Deserialize;

/// Repository paths of a dataset's parts; `qrels` may be empty (then they live in a `NAME-qrels` repo).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RepoLayout {
    /// Which rule found the files (shown by `datasets fetch` and recorded).
    pub kind: LayoutKind,
    /// Corpus files.
    pub corpus: Vec<String>,
    /// Query files.
    pub queries: Vec<String>,
    /// Qrels files per split.
    pub qrels: BTreeMap<String, Vec<String>>,
}

/// The layouts drbench recognises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LayoutKind {
    /// The dataset card's `configs` (MTEB, CoIR, BeIR on the hub).
    #[default]
    CardConfigs,
    /// BEIR's file names in the repository.
    BeirFiles,
    /// MTEB's parquet folders without a card.
    MtebFolders,
}

#[derive(Debug, Deserialize)]
struct Card {
    #[serde(default)]
    configs: Vec<ConfigEntry>,
}

#[derive(Debug, Deserialize)]
struct ConfigEntry {
    config_name: String,
    #[serde(default)]
    data_files: Option<DataFiles>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum DataFiles {
    One(String),
    Many(Vec<SplitFiles>),
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum SplitFiles {
    Split { split: String, path: Paths },
    Path(String),
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Paths {
    One(String),
    Many(Vec<String>),
}

/// A config's data files per split, as globs.
pub type Configs = BTreeMap<String, BTreeMap<String, Vec<String>>>;

/// The `configs` of a dataset card (README.md with a YAML front matter); empty when it has none. A card that
/// has a front matter which does not parse is an error naming the YAML problem.
pub fn card_configs(readme: &str) -> Result<Configs, String> {
    let text = readme.strip_prefix('\u{feff}').unwrap_or(readme);
    let Some(rest) = text.strip_prefix("---") else { return Ok(Configs::new()) };
    let Some(end) = rest.find("\n---") else { return Ok(Configs::new()) };
    let card: Card = serde_yaml_ng::from_str(&rest[..end]).map_err(|e| format!("dataset card YAML: {e}"))?;
    let mut out = Configs::new();
    for c in card.configs {
        let mut splits: BTreeMap<String, Vec<String>> = BTreeMap::new();
        match c.data_files {
            None => {}
            Some(DataFiles::One(p)) => splits.entry("train".into()).or_default().push(p),
            Some(DataFiles::Many(v)) => {
                for s in v {
                    match s {
                        SplitFiles::Split { split, path: Paths::One(p) } => splits.entry(split).or_default().push(p),
                        SplitFiles::Split { split, path: Paths::Many(ps) } => {
                            splits.entry(split).or_default().extend(ps)
                        }
                        SplitFiles::Path(p) => splits.entry("train".into()).or_default().push(p),
                    }
                }
            }
        }
        out.insert(c.config_name, splits);
    }
    Ok(out)
}

/// The data files of `files` that match `patterns` (fsspec globs: `*` stays within a folder), sorted.
fn matching(files: &[String], patterns: &[String]) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    for p in patterns {
        let m = GlobBuilder::new(p)
            .literal_separator(true)
            .build()
            .map_err(|e| format!("bad data_files pattern {p:?}: {e}"))?
            .compile_matcher();
        out.extend(files.iter().filter(|f| m.is_match(f.as_str()) && DataFormat::from_name(f).is_some()).cloned());
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// Each split's data files matching its globs (splits with no match left out).
pub fn matching_splits(
    files: &[String],
    splits: &BTreeMap<String, Vec<String>>,
) -> Result<BTreeMap<String, Vec<String>>, String> {
    let mut out = BTreeMap::new();
    for (split, globs) in splits {
        let found = matching(files, globs)?;
        if !found.is_empty() {
            out.insert(split.clone(), found);
        }
    }
    Ok(out)
}

/// Finds the layout of a repository with `files` (repository paths) and card `configs`, for `subset`.
pub fn detect(files: &[String], configs: &Configs, subset: Option<&str>) -> Result<RepoLayout, String> {
    let name = |part: &str| subset.map_or_else(|| part.to_string(), |s| format!("{s}-{part}"));
    if !configs.is_empty() {
        let corpus_cfg = name("corpus");
        let queries_cfg = if subset.is_none() && !configs.contains_key("queries") && configs.contains_key("query") {
            "query".to_string()
        } else {
            name("queries")
        };
        let qrels_cfg = match subset {
            Some(s) => Some(format!("{s}-qrels")),
            None => ["default", "qrels"].iter().find(|c| configs.contains_key(**c)).map(|c| c.to_string()),
        };
        if let Some(corpus) = configs.get(&corpus_cfg) {
            let queries = configs.get(&queries_cfg).ok_or_else(|| {
                format!(
                    "the dataset card has a {corpus_cfg:?} config but no {queries_cfg:?} (configs: {})",
                    keys(configs)
                )
            })?;
            let one = |cfg: &str, splits: &BTreeMap<String, Vec<String>>, want: &str| -> Result<Vec<String>, String> {
                let globs = splits.get(want).or_else(|| (splits.len() == 1).then(|| splits.values().next()).flatten());
                let globs =
                    globs.ok_or_else(|| format!("config {cfg:?} has no split {want:?} and more than one split"))?;
                let found = matching(files, globs)?;
                if found.is_empty() {
                    return Err(format!("config {cfg:?}: no data file matches {globs:?}"));
                }
                Ok(found)
            };
            let mut layout = RepoLayout {
                kind: LayoutKind::CardConfigs,
                corpus: one(&corpus_cfg, corpus, "corpus")?,
                queries: one(&queries_cfg, queries, "queries")?,
                qrels: BTreeMap::new(),
            };
            if let Some(splits) = qrels_cfg.as_deref().and_then(|c| configs.get(c)) {
                layout.qrels = matching_splits(files, splits)?;
            }
            return Ok(layout);
        }
        if let Some(s) = subset {
            return Err(format!("the dataset card has no config {s}-corpus (configs: {})", keys(configs)));
        }
    }
    if let Some(s) = subset {
        return Err(format!("subset {s:?} asked for, but the repository has no dataset card configs"));
    }
    let first = |names: &[&str]| names.iter().find(|n| files.iter().any(|f| f == *n)).map(|n| vec![n.to_string()]);
    if let (Some(corpus), Some(queries)) =
        (first(&["corpus.jsonl", "corpus.jsonl.gz"]), first(&["queries.jsonl", "queries.jsonl.gz"]))
    {
        return Ok(RepoLayout { kind: LayoutKind::BeirFiles, corpus, queries, qrels: qrels_by_name(files) });
    }
    let under = |dir: &str| -> Vec<String> {
        files.iter().filter(|f| f.starts_with(dir) && f.ends_with(".parquet")).cloned().collect()
    };
    let (corpus, queries) = (under("corpus/"), under("queries/"));
    if !corpus.is_empty() && !queries.is_empty() {
        return Ok(RepoLayout { kind: LayoutKind::MtebFolders, corpus, queries, qrels: qrels_by_name(files) });
    }
    Err("no corpus and queries found: the repository has no dataset card configs, no corpus.jsonl[.gz] + \
         queries.jsonl[.gz], and no corpus/ + queries/ parquet folders"
        .into())
}

/// Qrels found by file name alone: `qrels/<split>.tsv[.gz]`, `<split>.tsv` at the top (a `NAME-qrels` repo),
/// `data/<split>-*.parquet`, `qrels/<split>-*.parquet`.
pub fn qrels_by_name(files: &[String]) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for f in files {
        let base = f.strip_suffix(".gz").unwrap_or(f);
        let split = if let Some(s) = base.strip_prefix("qrels/").and_then(|s| s.strip_suffix(".tsv")) {
            Some(s)
        } else if let Some(s) = base.strip_suffix(".tsv").filter(|s| !s.contains('/')) {
            Some(s)
        } else {
            ["data/", "qrels/"]
                .iter()
                .find_map(|d| base.strip_prefix(d))
                .filter(|s| s.ends_with(".parquet") && !s.contains('/'))
                .and_then(|s| s.split_once('-').map(|(a, _)| a).or(s.strip_suffix(".parquet")))
        };
        if let Some(s) = split.filter(|s| !s.is_empty() && !s.contains('/')) {
            out.entry(s.to_string()).or_default().push(f.clone());
        }
    }
    for v in out.values_mut() {
        v.sort();
    }
    out
}

fn keys(configs: &Configs) -> String {
    configs.keys().cloned().collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    const MTEB_CARD: &str = "---\nlanguage:\n- en\nconfigs:\n- config_name: default\n  data_files:\n  - split: test\n    path: qrels/test.jsonl\n- config_name: corpus\n  data_files:\n  - split: corpus\n    path: corpus.jsonl\n- config_name: queries\n  data_files:\n  - split: queries\n    path: queries.jsonl\n---\n# card\n";

    #[test]
    fn mteb_configs_parquet_and_jsonl() {
        let card = "---\nconfigs:\n- config_name: corpus\n  data_files:\n  - split: corpus\n    path: corpus/corpus-*\n- config_name: default\n  data_files:\n  - split: test\n    path: data/test-*\n  - split: train\n    path: data/train-*\n- config_name: queries\n  data_files:\n  - split: queries\n    path: queries/queries-*\n---\n";
        let f = files(&[
            ".gitattributes",
            "README.md",
            "corpus/corpus-00000-of-00002.parquet",
            "corpus/corpus-00001-of-00002.parquet",
            "data/test-00000-of-00001.parquet",
            "data/train-00000-of-00001.parquet",
            "queries/queries-00000-of-00001.parquet",
        ]);
        let l = detect(&f, &card_configs(card).unwrap(), None).unwrap();
        assert_eq!(l.kind, LayoutKind::CardConfigs);
        assert_eq!(l.corpus.len(), 2);
        assert_eq!(l.queries, ["queries/queries-00000-of-00001.parquet"]);
        assert_eq!(l.qrels.keys().collect::<Vec<_>>(), ["test", "train"]);
        // A card whose qrels are JSONL is read too (`.jsonl` qrels are refused later, by the reader).
        let j = detect(
            &files(&["corpus.jsonl", "queries.jsonl", "qrels/test.jsonl"]),
            &card_configs(MTEB_CARD).unwrap(),
            None,
        );
        assert_eq!(j.unwrap().qrels["test"], ["qrels/test.jsonl"]);
    }

    #[test]
    fn coir_subsets_pick_their_own_configs() {
        let mut card = String::from("---\nconfigs:\n");
        for lang in ["go", "python"] {
            for (part, split) in [("corpus", "corpus"), ("queries", "queries"), ("qrels", "test")] {
                card += &format!(
                    "- config_name: {lang}-{part}\n  data_files:\n  - split: {split}\n    path: {lang}-{part}/*\n"
                );
            }
        }
        card += "---\n";
        let mut f = Vec::new();
        for lang in ["go", "python"] {
            for part in ["corpus", "queries", "qrels"] {
                f.push(format!("{lang}-{part}/{part}-00000-of-00001.parquet"));
            }
        }
        let configs = card_configs(&card).unwrap();
        let l = detect(&f, &configs, Some("python")).unwrap();
        assert_eq!(l.corpus, ["python-corpus/corpus-00000-of-00001.parquet"]);
        assert_eq!(l.qrels["test"], ["python-qrels/qrels-00000-of-00001.parquet"]);
        let err = detect(&f, &configs, Some("rust")).unwrap_err();
        assert!(err.contains("no config rust-corpus") && err.contains("go-corpus"), "{err}");
        assert!(detect(&f, &configs, None).is_err());
    }

    #[test]
    fn beir_files_and_qrels_repos_by_name() {
        let l = detect(
            &files(&["corpus.jsonl.gz", "queries.jsonl.gz", "qrels/test.tsv", "qrels/dev.tsv"]),
            &Configs::new(),
            None,
        )
        .unwrap();
        assert_eq!((l.kind, l.corpus[0].as_str()), (LayoutKind::BeirFiles, "corpus.jsonl.gz"));
        assert_eq!(l.qrels.keys().collect::<Vec<_>>(), ["dev", "test"]);
        let q = qrels_by_name(&files(&["README.md", "test.tsv", "train.tsv", "data/dev-00000-of-00001.parquet"]));
        assert_eq!(q.keys().collect::<Vec<_>>(), ["dev", "test", "train"]);
        let m =
            detect(&files(&["corpus/a.parquet", "queries/b.parquet", "data/test-0.parquet"]), &Configs::new(), None)
                .unwrap();
        assert_eq!((m.kind, m.qrels["test"][0].as_str()), (LayoutKind::MtebFolders, "data/test-0.parquet"));
        let err = detect(&files(&["README.md"]), &Configs::new(), None).unwrap_err();
        assert!(err.contains("no corpus and queries"), "{err}");
    }

    #[test]
    fn cards_without_configs_and_broken_cards() {
        assert!(card_configs("# no front matter").unwrap().is_empty());
        assert!(card_configs("---\nlicense: mit\n---\n").unwrap().is_empty());
        let err = card_configs("---\nconfigs: [\n---\n").unwrap_err();
        assert!(err.starts_with("dataset card YAML"), "{err}");
        let c = card_configs("---\nconfigs:\n- config_name: corpus\n  data_files: corpus.jsonl\n---\n").unwrap();
        assert_eq!(c["corpus"]["train"], ["corpus.jsonl"]);
    }
}
