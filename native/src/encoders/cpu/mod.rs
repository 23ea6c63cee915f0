//! The CPU building blocks of the packed (padding-free) forward passes of BERT (`packed_bert`) and Qwen2
//! (`packed_qwen2`): linear layers over packed token rows in f32 or bf16, multi-head attention per sequence, and
//! the vectorised row-wise kernels (norms, activations, softmax, RoPE).

pub mod attention;
pub mod bf16;
pub mod linear;
pub mod ops;
