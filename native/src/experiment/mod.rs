//! Experiments: presets (TOML files listing models, tasks and settings) and the result folder layout that
//! `drbench bench` fills cell by cell and `drbench report` reads.

pub mod layout;
pub mod preset;
