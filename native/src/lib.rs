//! Library side of the `drbench` binary: dataset store (cache → mirror → official source) and shared CLI helpers.

pub mod encoders;
pub mod experiment;
pub mod store;
