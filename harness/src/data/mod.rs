//! The data model: collections (corpus, queries), qrels and runs; fixed subsets; training groups mined from them.

mod collection;
mod mine;
mod qrels;
mod run;
mod subset;

pub use collection::{Collection, Record};
pub use mine::{MineReport, mine_groups};
pub use qrels::{Qrels, QueryJudgments};
pub use run::{Run, ScoredDoc};
pub use subset::{SubsetSpec, cut_subset};

/// A corpus: documents with id, title and text.
pub type Corpus = Collection;
/// A query set: records with id and text (empty title).
pub type Queries = Collection;
