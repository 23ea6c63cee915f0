//! Device and precision selection. A backend not compiled in (CUDA without the `cuda` feature) is a clear error,
//! so the command line is the same in every build.

use candle_core::{DType, Device};

use super::cpu::bf16::Kernel;
use super::error::{ModelError, Result};

/// Where to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum DeviceKind {
    /// All CPU cores.
    Cpu,
    /// The first CUDA GPU (build with `--features cuda`).
    Cuda,
}

impl DeviceKind {
    /// `cpu` or `cuda`.
    pub fn name(self) -> &'static str {
        match self {
            DeviceKind::Cpu => "cpu",
            DeviceKind::Cuda => "cuda",
        }
    }
}

/// Numeric precision of activations and dense weights.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum Precision {
    /// 32-bit floats (reference precision).
    F32,
    /// bfloat16.
    Bf16,
    /// float16.
    F16,
    /// bf16 where it is fast at nearly f32's accuracy — a CPU with AVX512-BF16 (the packed forwards reach cosine
    /// ≥ 0.9999 to f32 at 1.5–2× its speed) or a CUDA GPU — else f32. Resolved before anything is built or
    /// recorded ([`Precision::resolve`]).
    Auto,
}

impl Precision {
    /// The concrete precision on `device` (`auto` decided; the others unchanged).
    pub fn resolve(self, device: DeviceKind) -> Precision {
        match (self, device) {
            (Precision::Auto, DeviceKind::Cuda) => Precision::Bf16,
            (Precision::Auto, DeviceKind::Cpu) if super::cpu::bf16::Kernel::detect() == Kernel::Avx512Bf16 => {
                Precision::Bf16
            }
            (Precision::Auto, DeviceKind::Cpu) => Precision::F32,
            (p, _) => p,
        }
    }

    /// The candle dtype (`auto` as on the CPU: callers resolve it for their device first).
    pub fn dtype(self) -> DType {
        match self.resolve(DeviceKind::Cpu) {
            Precision::F32 | Precision::Auto => DType::F32,
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
            Precision::Auto => "auto",
        }
    }
}

/// The candle device for `kind` (CUDA: the first visible GPU).
pub fn device(kind: DeviceKind) -> Result<Device> {
    device_at(kind, 0)
}

/// The candle device for `kind`, CUDA device `cuda_ordinal` (ignored on the CPU).
pub fn device_at(kind: DeviceKind, cuda_ordinal: usize) -> Result<Device> {
    match kind {
        DeviceKind::Cpu => Ok(Device::Cpu),
        DeviceKind::Cuda => {
            if cfg!(feature = "cuda") {
                Device::new_cuda(cuda_ordinal)
                    .map_err(|e| ModelError::Unsupported(format!("CUDA device {cuda_ordinal} cannot be opened: {e}")))
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
