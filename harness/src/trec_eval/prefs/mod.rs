//! trec_eval's preference judgments (`-R prefs`, `-R qrels_prefs`) and their 14 measures: [`read`] reads the
//! files → [`ranks`] gives each judged document a docid rank from the run → [`counts`] counts the preferences
//! fulfilled per judgment group → [`measures`] turns the counts into values.

pub mod counts;
pub mod measures;
mod ranks;
pub mod read;

use super::input::Retrieved;
use counts::{Inconsistency, QueryCounts};
use read::Pref;

/// Why one query's preferences cannot be evaluated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault<'r> {
    /// The ranked run holds this document twice.
    DuplicateDoc(&'r [u8]),
    /// The judgments are inconsistent (or too large).
    Judgments(Inconsistency),
}

/// Counts one query's preferences against the run's `docs` (top `max_docs`); `track_pairs` for `prefs_pair*`.
pub fn count_query<'r>(
    prefs: &[Pref<'_>],
    docs: &[Retrieved<'r>],
    max_docs: u64,
    track_pairs: bool,
) -> Result<QueryCounts, Fault<'r>> {
    let ranked = ranks::rank_prefs(prefs, docs, max_docs).map_err(Fault::DuplicateDoc)?;
    counts::count(&ranked, track_pairs).map_err(Fault::Judgments)
}
