//! Significance testing over per-query values: paired t-test, Holm correction, paired bootstrap CI, and a run
//! compared with a baseline measure by measure.

mod bootstrap;
mod compare;
mod holm;
mod ttest;

pub use bootstrap::{BootstrapCi, MAX_RESAMPLES, paired_bootstrap_ci};
pub use compare::{BootstrapSettings, Comparison, MeasureComparison, compare_evaluations};
pub use holm::holm;
pub use ttest::{TTest, paired_t_test};
