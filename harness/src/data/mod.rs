//! The data model: collections (corpus, queries), qrels and runs.

mod collection;
mod qrels;
mod run;

pub use collection::{Collection, Record};
pub use qrels::{Qrels, QueryJudgments};
pub use run::{Run, ScoredDoc};

/// A corpus: documents with id, title and text.
pub type Corpus = Collection;
/// A query set: records with id and text (empty title).
pub type Queries = Collection;
