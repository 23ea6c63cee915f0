//! The encoder on the CPU, for browsers without WebGPU and for WebGPU adapters that are themselves CPU emulations
//! (SwiftShader, lavapipe), where running the arithmetic directly in WebAssembly SIMD is far faster.

pub mod bert;
pub mod gemm;
pub mod simd;
