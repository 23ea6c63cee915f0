//! Retrieval metrics equal to trec_eval's (nDCG@k, RR, RR@k, R@k, AP, AP@k, P@k, and every other trec_eval qrels
//! measure through the trec_eval port), per query and averaged.

mod evaluate;
mod group;
mod measure;
mod query;
mod ranking;
mod stream;
mod trec_measure;

pub use evaluate::{EvalOptions, EvalSummary, Evaluation, evaluate_run};
pub use group::{DuplicateDoc, GroupScorer, QueryRows};
pub use measure::Measure;
pub use query::score_ranking;
pub use ranking::UNJUDGED;
pub use ranking::trec_cmp;
pub use stream::evaluate_run_file;
pub use trec_measure::{Aggregate, TrecMeasure};
