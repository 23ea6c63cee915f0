//! drbench's backend-agnostic core: data model, file formats, trec_eval-exact metrics and statistics.
//!
//! Backends (candle, wgpu) implement encoders elsewhere; everything that turns rankings into numbers lives here,
//! so every backend is judged by the same code. This crate depends on neither candle nor wgpu and builds for wasm32.

pub mod batching;
pub mod bert;
pub mod bm25;
pub mod data;
pub mod demo_data;
pub mod dense;
pub mod dense_stream;
pub mod embed_cache;
pub mod encoder;
pub mod error;
pub mod fastmath;
pub mod io;
pub mod launcher;
pub mod matmul;
pub mod metrics;
pub mod packed;
pub mod qweights;
pub mod report;
pub mod stats;
pub mod trec_eval;

pub use error::{Error, Result};
