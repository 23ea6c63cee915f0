//! Significance testing over per-query values: paired t-test, Holm correction, paired bootstrap CI.

mod bootstrap;
mod holm;
mod ttest;

pub use bootstrap::{BootstrapCi, paired_bootstrap_ci};
pub use holm::holm;
pub use ttest::{TTest, paired_t_test};
