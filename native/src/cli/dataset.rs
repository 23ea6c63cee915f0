//! Loading a retrieval task (corpus, the split's judged queries, qrels) from a dataset name or BEIR folder.

use anyhow::{Context, bail};
use drbench_harness::data::{Collection, Qrels, SubsetSpec, cut_subset};
use drbench_harness::io::BeirFolder;
use drbench_native::store::Store;

/// Everything a retriever needs for one dataset split.
pub struct Task {
    /// Display name.
    pub name: String,
    /// Split.
    pub split: String,
    /// The corpus.
    pub corpus: Collection,
    /// Queries judged in the split, in file order.
    pub queries: Collection,
    /// Qrels of the split.
    pub qrels: Qrels,
    /// The MTEB task name (empty when the dataset has none).
    pub mteb_task: String,
    /// Whether hits equal to the query id are dropped (ArguAna, Quora).
    pub remove_query_self: bool,
}

impl Task {
    /// The fixed subset `spec` describes (see `cut_subset`); the name records it.
    pub fn subset(self, spec: SubsetSpec) -> Task {
        let (corpus, queries, qrels) = cut_subset(&self.corpus, &self.queries, &self.qrels, spec);
        Task { corpus, queries, qrels, ..self }
    }
}

/// Resolves `dataset` (registry name or BEIR folder) and loads the split (default: the dataset's default).
pub fn load_task(dataset: &str, split: Option<&str>) -> anyhow::Result<Task> {
    let resolved = Store::from_env().resolve(dataset)?;
    let split = match (split, &resolved.spec) {
        (Some(s), _) => s.to_string(),
        (None, Some(spec)) => spec.default_split.clone(),
        (None, None) => "test".to_string(),
    };
    let folder = BeirFolder::open(resolved.folder.clone()).with_context(|| match &resolved.spec {
        Some(spec) if !spec.note.is_empty() => format!("{}: {}", spec.name, spec.note),
        _ => format!("dataset {dataset}"),
    })?;
    let qrels = folder.qrels(&split)?;
    let corpus = folder.corpus()?;
    let all_queries = folder.queries()?;
    let queries = all_queries.filter(|q| qrels.get(q.id).is_some());
    if queries.len() != qrels.len() {
        let missing: Vec<&str> = qrels.query_ids().into_iter().filter(|q| queries.find(q).is_none()).take(5).collect();
        bail!(
            "{}: {} judged queries of split {split} are missing from queries.jsonl (e.g. {missing:?})",
            folder.root().display(),
            qrels.len() - queries.len()
        );
    }
    let (mteb_task, remove_query_self) =
        resolved.spec.as_ref().map_or((String::new(), false), |s| (s.mteb_task.clone(), s.remove_query_self));
    Ok(Task { name: resolved.name(), split, corpus, queries, qrels, mteb_task, remove_query_self })
}
