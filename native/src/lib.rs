//! Library side of the `drbench` binary: dataset store (cache → mirror → official source), candle encoders,
//! experiment presets and LoRA contrastive training.

pub mod encoders;
pub mod experiment;
pub mod store;
pub mod train;
