//! Device and precision selection. A backend not compiled in (CUDA without the `cuda` feature) is a clear error,
//! so the command line is the same in every build.

use candle_core::{DType, Device};

use super::error::{ModelError, Result};

/// Where to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DeviceKind {
    /// All CPU cores.
    Cpu,
    /// The first CUDA GPU (build with `--features cuda`).
    Cuda,
}

/// Numeric precision of activations and dense weights.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Precision {
    /// 32-bit floats (reference precision).
    F32,
    /// bfloat16.
    Bf16,
    /// float16.
    F16,
}

impl Precision {
    /// The candle dtype.
    pub fn dtype(self) -> DType {
        match self {
            Precision::F32 => DType::F32,
            Precision::Bf16 => DType::BF16,
            Precision::F16 => DType::F16,
        }
    }

    /// Short name for signatures.
    pub fn name(self) -> &'static str {
        match self {
            Precision::F32 => "f32",
            Precision::Bf16 => "bf16",
            Precision::F16 => "f16",
        }
    }
}

/// The candle device for `kind`.
pub fn device(kind: DeviceKind) -> Result<Device> {
    match kind {
        DeviceKind::Cpu => Ok(Device::Cpu),
        DeviceKind::Cuda => {
            if cfg!(feature = "cuda") {
                Ok(Device::new_cuda(0)?)
            } else {
                Err(ModelError::Unsupported(
                    "this drbench was built without CUDA; rebuild with `--features cuda` on a machine with the CUDA toolkit"
                        .into(),
                ))
            }
        }
    }
}

/// Whether a CUDA device can be opened (false without the `cuda` feature).
pub fn cuda_available() -> bool {
    cfg!(feature = "cuda") && Device::new_cuda(0).is_ok()
}
