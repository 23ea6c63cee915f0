//! Library side of the `drbench` binary: dataset store (cache → mirror → official source), candle encoders,
//! experiment presets, LoRA contrastive training, and the static file server of the browser demo.

pub mod encoders;
pub mod experiment;
pub mod serve;
pub mod store;
pub mod train;
