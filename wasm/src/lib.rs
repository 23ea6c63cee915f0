//! drbench's browser runner: an int8 BERT encoder on wgpu compute shaders (WGSL), the same code in the browser
//! (WebGPU through wasm-bindgen) and natively (Vulkan; Mesa lavapipe on CPU-only machines), a CPU encoder over the
//! same weights (WebAssembly SIMD) for browsers whose WebGPU is missing or emulated, plus trec_eval-exact
//! evaluation of text held in memory (the harness compiled for wasm32).

pub mod bert;
pub mod bert_weights;
pub mod cpu;
pub mod encoder;
pub mod error;
pub mod eval;
pub mod gpu;
pub mod retriever;
pub mod tokenize;
#[cfg(target_arch = "wasm32")]
pub mod web;
pub mod yield_now;
