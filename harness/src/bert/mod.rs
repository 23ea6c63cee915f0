//! What every BERT backend shares — the native forwards (packed CPU and candle), the browser's wgpu kernels and its
//! CPU encoder: the typed model config, pooling, and the int8 file's header. The packed batch they take is
//! [`crate::packed`]; the arithmetic is defined once too (GELU in [`crate::fastmath`], L2 normalisation in
//! [`crate::encoder`]).

mod config;
mod pooling;

pub use config::{BertConfig, Int8Architecture, Int8Header};
pub use pooling::{Pooling, pool_packed};
