//! Hugging Face hub references: `hf://datasets/ORG/NAME@REVISION[#SUBSET]` for datasets (huggingface_hub's
//! file-system form; `#SUBSET` picks one of a repo's per-language configs, e.g. CoIR's `python-corpus`), and
//! `hf://ORG/NAME@REVISION` or `hf:ORG/NAME@REVISION` for models. The revision is required (`@main` is allowed;
//! the commit it resolves to is what results record).

use std::fmt;

use super::super::error::{Result, StoreError};

/// Which kind of repository.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RepoKind {
    /// `datasets/...`.
    Dataset,
    /// A model repository.
    Model,
}

impl RepoKind {
    /// The cache folder prefix (`datasets--`, `models--`).
    pub fn cache_prefix(self) -> &'static str {
        match self {
            RepoKind::Dataset => "datasets",
            RepoKind::Model => "models",
        }
    }

    /// The URL path prefix before `ORG/NAME` (`datasets/` or nothing).
    pub fn url_prefix(self) -> &'static str {
        match self {
            RepoKind::Dataset => "datasets/",
            RepoKind::Model => "",
        }
    }
}

/// A repository at a revision, optionally one subset (config prefix) of a dataset.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HubRef {
    /// Dataset or model.
    pub kind: RepoKind,
    /// `ORG/NAME`.
    pub repo: String,
    /// Branch, tag or commit.
    pub revision: String,
    /// A dataset subset: the `SUBSET-corpus`, `SUBSET-queries`, `SUBSET-qrels` configs.
    pub subset: Option<String>,
}

fn is_name_part(s: &str) -> bool {
    !s.is_empty()
        && s != "."
        && s != ".."
        && !s.starts_with('-')
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

impl HubRef {
    /// True when `s` is written as a hub reference (`hf://…` or `hf:…`).
    pub fn looks_like(s: &str) -> bool {
        s.starts_with("hf://") || s.starts_with("hf:")
    }

    /// Parses a reference; the error says which form is expected.
    pub fn parse(s: &str) -> Result<HubRef> {
        let bad = |why: &str| {
            StoreError::Unavailable(format!(
                "{s:?}: {why}; expected hf://datasets/ORG/NAME@REVISION[#SUBSET] or hf://ORG/NAME@REVISION \
                 (REVISION a branch, tag or commit; @main is allowed)"
            ))
        };
        let body =
            s.strip_prefix("hf://").or_else(|| s.strip_prefix("hf:")).ok_or_else(|| bad("not a hub reference"))?;
        let (kind, rest) = match body.strip_prefix("datasets/") {
            Some(r) => (RepoKind::Dataset, r),
            None => (RepoKind::Model, body.strip_prefix("models/").unwrap_or(body)),
        };
        let (rest, subset) = match rest.split_once('#') {
            Some((r, sub)) => (r, Some(sub.to_string())),
            None => (rest, None),
        };
        let (repo, revision) = rest.split_once('@').ok_or_else(|| bad("pin a revision with @REVISION"))?;
        let parts: Vec<&str> = repo.split('/').collect();
        if parts.len() != 2 || !parts.iter().all(|p| is_name_part(p)) {
            return Err(bad("the repository must be ORG/NAME (letters, digits, '-', '_', '.')"));
        }
        if revision.is_empty()
            || revision.split('/').any(|c| c.is_empty() || c == "." || c == "..")
            || revision.chars().any(|c| c.is_whitespace() || c.is_control() || c == '\\')
        {
            return Err(bad("the revision is empty or not a plain branch, tag or commit"));
        }
        if let Some(sub) = &subset
            && !is_name_part(sub)
        {
            return Err(bad("the subset must be a plain config prefix such as `python`"));
        }
        if kind == RepoKind::Model && subset.is_some() {
            return Err(bad("a model reference has no #SUBSET"));
        }
        Ok(HubRef { kind, repo: repo.to_string(), revision: revision.to_string(), subset })
    }

    /// The same repository and subset at `revision` (e.g. the resolved commit).
    pub fn at(&self, revision: &str) -> HubRef {
        HubRef { revision: revision.to_string(), ..self.clone() }
    }

    /// `ORG/NAME` as a URL path part after the kind prefix (`datasets/ORG/NAME` or `ORG/NAME`).
    pub fn url_repo(&self) -> String {
        format!("{}{}", self.kind.url_prefix(), self.repo)
    }
}

impl fmt::Display for HubRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "hf://{}@{}", self.url_repo(), self.revision)?;
        if let Some(s) = &self.subset {
            write!(f, "#{s}")?;
        }
        Ok(())
    }
}

/// True for a full 40-hex-digit git commit id.
pub fn is_commit(s: &str) -> bool {
    s.len() == 40 && s.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_form_and_refuses_the_rest() {
        let r = HubRef::parse("hf://datasets/mteb/scifact@d56462d0e63a25450459c4f213e49ffdb866f7f9").unwrap();
        assert_eq!((r.kind, r.repo.as_str(), r.subset.as_deref()), (RepoKind::Dataset, "mteb/scifact", None));
        assert_eq!(r.to_string(), "hf://datasets/mteb/scifact@d56462d0e63a25450459c4f213e49ffdb866f7f9");
        let r = HubRef::parse("hf://datasets/CoIR-Retrieval/CodeSearchNet@main#python").unwrap();
        assert_eq!((r.revision.as_str(), r.subset.as_deref()), ("main", Some("python")));
        assert_eq!(r.to_string(), "hf://datasets/CoIR-Retrieval/CodeSearchNet@main#python");
        let m = HubRef::parse("hf:Qwen/Qwen2.5-7B@refs/pr/1").unwrap();
        assert_eq!((m.kind, m.revision.as_str()), (RepoKind::Model, "refs/pr/1"));
        assert_eq!(HubRef::parse("hf://Qwen/Qwen2.5-7B@main").unwrap().url_repo(), "Qwen/Qwen2.5-7B");
        for bad in [
            "hf://datasets/mteb/scifact",
            "hf://datasets/mteb@main",
            "hf://datasets/a/b/c@main",
            "hf://datasets/../b@main",
            "hf://datasets/a/b@",
            "hf://datasets/a/b@x/../y",
            "hf://datasets/a/b@main#../x",
            "hf://a/b@main#python",
            "hf://datasets/a/b c@main",
        ] {
            assert!(HubRef::parse(bad).is_err(), "{bad}");
        }
        assert!(is_commit("d56462d0e63a25450459c4f213e49ffdb866f7f9") && !is_commit("main"));
    }
}
