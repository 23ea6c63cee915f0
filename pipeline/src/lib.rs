//! drbench's workflow as a library — what `drbench run`, `drbench bench`, `drbench demo prepare` and the golden
//! tests all execute: a [`task`] loaded from the [`Store`](drbench_native::store::Store) the caller passes in, one
//! (retriever, task) [`cell`] computed through the embedding cache and written as typed [`record`]s, a
//! [`preset`] planned into cells, checked against what a results folder holds and resumed ([`bench`]), the time
//! it will take ([`estimate`]), the browser [`demo`]'s folder, and exact [`search`] over embeddings made anywhere. Long work reports to a [`progress::Progress`]
//! the caller passes in. No clap, no printing: the binary maps its arguments onto these types.

pub mod bench;
pub mod cell;
pub mod demo;
pub mod error;
pub mod estimate;
pub mod layout;
pub mod out_dir;
pub mod preset;
pub mod progress;
pub mod record;
pub mod retriever;
pub mod search;
pub mod subset_mean;
pub mod task;

pub use error::{PipelineError, Result};
