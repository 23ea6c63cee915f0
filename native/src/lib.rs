//! drbench's backends and the outside world: the dataset store (cache → mirror → official source), candle
//! encoders (CPU, CUDA), LoRA contrastive training, and the static file server of the browser demo.

pub mod encoders;
pub mod serve;
pub mod store;
pub mod train;
