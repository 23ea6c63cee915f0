//! Dense encoders on candle (CPU now, CUDA behind the `cuda` feature): BERT sentence encoders and Qwen2-family
//! LLM retrievers, loaded from a Hugging Face folder or a GGUF file.

pub mod bert;
pub mod build;
pub mod cpu;
pub mod device;
pub mod error;
pub mod frozen;
pub mod gguf_bounds;
pub mod llm;
pub mod lora;
pub mod packed_bert;
pub mod prompt;
pub mod quantize;
pub mod qwen2;
pub mod signature;
pub mod source;
pub mod spec;
pub mod tokenize;
pub mod weights;

pub use error::{ModelError, Result};
