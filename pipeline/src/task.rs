//! A retrieval task — a dataset split's corpus, judged queries and qrels — loaded from a [`Store`] the caller
//! passes in, and what is known of it before loading (its name, split, MTEB name, query-self removal).

use drbench_harness::data::{Collection, Qrels, SubsetSpec, cut_subset};
use drbench_native::store::Store;
use drbench_native::store::hub::HubRef;

use crate::error::{PipelineError, Result};

/// What a dataset reference names, known without reading its files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskInfo {
    /// Display name (registry name, or the folder).
    pub name: String,
    /// Qrels split.
    pub split: String,
    /// The MTEB task name (empty when the dataset has none).
    pub mteb_task: String,
    /// Whether hits equal to the query id are dropped (ArguAna, Quora).
    pub remove_query_self: bool,
    /// MTEB's `hf_subset` of a task scored per subset (`python` of `coir/codesearchnet#python`), else None.
    pub subset: Option<String>,
}

impl TaskInfo {
    /// MTEB's `hf_subset` of the task's score entry (`default` for a task without subsets).
    pub fn hf_subset(&self) -> &str {
        self.subset.as_deref().unwrap_or("default")
    }

    /// MTEB's `languages` of the task's score entry: `{subset}-Code` for CoIR's per-language subsets (MTEB's
    /// `eval_langs` there), else `eng-Latn`.
    pub fn languages(&self) -> Vec<String> {
        vec![self.subset.as_ref().map_or_else(|| "eng-Latn".to_string(), |s| format!("{s}-Code"))]
    }
}

/// Where a loaded task's data came from, for the record.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TaskSource {
    /// A hub dataset's reference at the commit it resolved to (None for folders, the mirror, archives).
    pub revision: Option<String>,
}

/// Everything a retriever needs for one dataset split.
#[derive(Debug)]
pub struct Task {
    /// Name, split and conventions.
    pub info: TaskInfo,
    /// The corpus.
    pub corpus: Collection,
    /// Queries judged in the split, in file order.
    pub queries: Collection,
    /// Qrels of the split.
    pub qrels: Qrels,
    /// Where the data came from.
    pub source: TaskSource,
}

impl Task {
    /// The fixed subset `spec` describes (see `cut_subset`).
    pub fn subset(self, spec: SubsetSpec) -> Task {
        let (corpus, queries, qrels) = cut_subset(&self.corpus, &self.queries, &self.qrels, spec);
        Task { corpus, queries, qrels, ..self }
    }

    /// The subset when one is given, else the whole task.
    pub fn maybe_subset(self, spec: Option<SubsetSpec>) -> Task {
        match spec {
            Some(s) => self.subset(s),
            None => self,
        }
    }
}

/// What `dataset` (registry name or BEIR folder) is, with `split` or the dataset's default split.
pub fn describe_task(store: &Store, dataset: &str, split: Option<&str>) -> Result<TaskInfo> {
    let is_dir = std::path::Path::new(dataset).is_dir();
    let is_hub = !is_dir && HubRef::looks_like(dataset);
    if is_dir || is_hub {
        return Ok(TaskInfo {
            name: dataset.to_string(),
            split: split.unwrap_or("test").to_string(),
            mteb_task: String::new(),
            remove_query_self: false,
            subset: if is_hub { HubRef::parse(dataset)?.subset } else { None },
        });
    }
    let (spec, subset) = store.registry.get_subset(dataset).map_err(drbench_native::store::StoreError::from)?;
    if let Some(s) = split
        && !spec.splits.iter().any(|x| x == s)
    {
        return Err(PipelineError::Task {
            task: spec.name.clone(),
            message: format!("no split {s:?} (splits: {})", spec.splits.join(", ")),
        });
    }
    Ok(TaskInfo {
        name: subset.map_or_else(|| spec.name.clone(), |s| format!("{}#{s}", spec.name)),
        split: split.map_or_else(|| spec.default_split.clone(), str::to_string),
        mteb_task: spec.mteb_task.clone(),
        remove_query_self: spec.remove_query_self,
        subset: subset.map(str::to_string),
    })
}

/// Resolves `dataset` through `store` (verified) and loads the split (default: the dataset's default).
pub fn load_task(store: &Store, dataset: &str, split: Option<&str>) -> Result<Task> {
    let info = describe_task(store, dataset, split)?;
    let resolved = store.resolve(dataset)?;
    let files = resolved.files().map_err(|e| PipelineError::Task {
        task: match &resolved.spec {
            Some(spec) if !spec.note.is_empty() => format!("{}: {}", spec.name, spec.note),
            _ => info.name.clone(),
        },
        message: e.to_string(),
    })?;
    let qrels = files.qrels(&info.split)?;
    let corpus = files.corpus()?;
    let queries = files.queries()?.filter(|q| qrels.get(q.id).is_some());
    if queries.len() != qrels.len() {
        let missing: Vec<&str> = qrels.query_ids().into_iter().filter(|q| queries.find(q).is_none()).take(5).collect();
        return Err(PipelineError::Task {
            task: resolved.revision().unwrap_or_else(|| resolved.folder.display().to_string()),
            message: format!(
                "{} judged queries of split {} are missing from the queries (e.g. {missing:?})",
                qrels.len() - queries.len(),
                info.split
            ),
        });
    }
    Ok(Task { info, corpus, queries, qrels, source: TaskSource { revision: resolved.revision() } })
}
