//! The retriever's encoder, on one of two backends: the wgpu kernels (WebGPU, Vulkan) or the CPU (WebAssembly
//! SIMD in a browser). `Auto` takes the GPU unless there is none or the adapter is a CPU emulation (a fallback
//! adapter, SwiftShader, lavapipe/llvmpipe), where the CPU backend is much faster than the GPU kernels.

use drbench_harness::batching::{length_sorted_batches, scatter_rows};

use crate::bert::GpuBert;
use crate::cpu::bert::CpuBert;
use crate::error::GpuError;
use crate::gpu::Gpu;
use crate::yield_now::yield_now;

/// Which backend to run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// The GPU if a real one is there and starts, else the CPU.
    Auto,
    /// The wgpu kernels, whatever the adapter (an error without one).
    Gpu,
    /// The CPU.
    Cpu,
}

impl std::str::FromStr for Backend {
    type Err = GpuError;

    fn from_str(s: &str) -> Result<Backend, GpuError> {
        match s {
            "" | "auto" => Ok(Backend::Auto),
            "gpu" | "webgpu" | "wgpu" => Ok(Backend::Gpu),
            "cpu" => Ok(Backend::Cpu),
            _ => Err(GpuError::Model(format!("backend {s:?}: expected auto, webgpu or cpu"))),
        }
    }
}

/// An encoder on its backend.
#[derive(Debug)]
pub enum Encoder {
    /// wgpu kernels.
    Gpu(Box<GpuBert>),
    /// CPU.
    Cpu {
        /// The model.
        model: Box<CpuBert>,
        /// Why the CPU was chosen (for reports): asked for, no adapter, or the adapter is a CPU.
        reason: String,
    },
}

/// Whether an adapter is a CPU implementation of a GPU API.
pub fn is_cpu_adapter(gpu: &Gpu) -> bool {
    let name = gpu.adapter.to_lowercase();
    gpu.is_cpu || ["swiftshader", "llvmpipe", "lavapipe"].iter().any(|n| name.contains(n))
}

impl Encoder {
    /// Loads the bytes of a drbench int8 weight file on `backend`.
    pub async fn load(weights: &[u8], backend: Backend) -> Result<Encoder, GpuError> {
        let cpu = |reason: String| -> Result<Encoder, GpuError> {
            Ok(Encoder::Cpu { model: Box::new(CpuBert::from_bytes(weights)?), reason })
        };
        match backend {
            Backend::Cpu => cpu("asked for".into()),
            Backend::Gpu => Ok(Encoder::Gpu(Box::new(GpuBert::from_bytes(Gpu::new().await?, weights)?))),
            Backend::Auto => match Gpu::new().await {
                Ok(gpu) if is_cpu_adapter(&gpu) => cpu(format!("the GPU adapter, {}, is a CPU emulation", gpu.adapter)),
                Ok(gpu) => Ok(Encoder::Gpu(Box::new(GpuBert::from_bytes(gpu, weights)?))),
                Err(GpuError::NoAdapter(e)) => cpu(format!("no GPU adapter ({e})")),
                Err(e) => cpu(format!("the GPU did not start: {e}")),
            },
        }
    }

    /// `"webgpu"` (wgpu kernels) or `"cpu"`.
    pub fn backend(&self) -> &'static str {
        match self {
            Encoder::Gpu(_) => "webgpu",
            Encoder::Cpu { .. } => "cpu",
        }
    }

    /// What runs the encoder, for reports: the adapter, or the CPU and why.
    pub fn device(&self) -> String {
        match self {
            Encoder::Gpu(m) => m.adapter().to_string(),
            Encoder::Cpu { reason, .. } if cfg!(all(target_arch = "wasm32", target_feature = "simd128")) => {
                format!("CPU, WebAssembly SIMD ({reason})")
            }
            Encoder::Cpu { reason, .. } => format!("CPU ({reason})"),
        }
    }

    /// Embedding width.
    pub fn dim(&self) -> usize {
        match self {
            Encoder::Gpu(m) => m.dim(),
            Encoder::Cpu { model, .. } => model.dim(),
        }
    }

    /// The truncation length, special tokens included.
    pub fn max_seq_length(&self) -> usize {
        match self {
            Encoder::Gpu(m) => m.max_seq_length,
            Encoder::Cpu { model, .. } => model.max_seq_length,
        }
    }

    /// Size of the weight file, bytes.
    pub fn weight_bytes(&self) -> usize {
        match self {
            Encoder::Gpu(m) => m.weight_bytes,
            Encoder::Cpu { model, .. } => model.weight_bytes,
        }
    }

    /// Tokens per batch (batch × longest): a GPU wants large batches; the CPU wants the page to repaint about
    /// every second.
    pub fn batch_tokens(&self) -> usize {
        match self {
            Encoder::Gpu(_) => 8_192,
            Encoder::Cpu { .. } => 2_048,
        }
    }

    /// L2-normalised (if `normalize`) embeddings of many token id sequences in length-sorted batches of at most
    /// [`Encoder::batch_tokens`] (batch × longest), returned in input order; `progress(done, total)` after each
    /// batch. On the CPU, control goes back to the browser after each batch so that the page repaints.
    pub async fn embed_all(
        &self,
        inputs: &[Vec<u32>],
        normalize: bool,
        mut progress: impl FnMut(usize, usize),
    ) -> Result<Vec<f32>, GpuError> {
        let dim = self.dim();
        let lens: Vec<usize> = inputs.iter().map(Vec::len).collect();
        let (order, batches) = length_sorted_batches(&lens, self.batch_tokens(), usize::MAX);
        let mut out = vec![0f32; inputs.len() * dim];
        for range in batches {
            let idx = &order[range.clone()];
            let batch: Vec<&[u32]> = idx.iter().map(|&i| inputs[i].as_slice()).collect();
            let emb = match self {
                Encoder::Gpu(m) => m.embed_batch(&batch, normalize).await?,
                Encoder::Cpu { model, .. } => model.embed_batch(&batch, normalize)?,
            };
            scatter_rows(&mut out, dim, idx, &emb);
            progress(range.end, order.len());
            if let Encoder::Cpu { .. } = self {
                yield_now().await;
            }
        }
        Ok(out)
    }
}
