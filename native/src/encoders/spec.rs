//! What an encoder is built from: the model files and every setting ([`EncoderSpec`]), and how texts become
//! vectors ([`Mode`]). Plain data: `build.rs` builds from it, `signature.rs` identifies what it builds.

use std::path::PathBuf;

use super::device::{DeviceKind, Precision};
use super::source::ModelFiles;
use super::weights::GgufWeights;

/// How texts become vectors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum Mode {
    /// LLM, zero-shot PromptReps prompt, last-token pooling.
    Promptreps,
    /// LLM, `Query: `/`Passage: ` + EOS, EOS pooling (RepLLaMA).
    Eos,
    /// Encoder, mean pooling.
    Mean,
    /// Encoder, [CLS] pooling.
    Cls,
}

impl Mode {
    /// The name presets and the command line use (`promptreps`, `eos`, `mean`, `cls`).
    pub fn name(self) -> &'static str {
        match self {
            Mode::Promptreps => "promptreps",
            Mode::Eos => "eos",
            Mode::Mean => "mean",
            Mode::Cls => "cls",
        }
    }
}

/// Everything needed to build an encoder.
#[derive(Debug, Clone)]
pub struct EncoderSpec {
    /// Model files.
    pub files: ModelFiles,
    /// Tokenizer folder (default: the model's).
    pub tokenizer: Option<PathBuf>,
    /// Mode.
    pub mode: Mode,
    /// Max text tokens (LLM) or max sequence length (encoder); None = the model's default (512 / max_seq_length).
    pub max_length: Option<usize>,
    /// Device.
    pub device: DeviceKind,
    /// Which CUDA device (0 = the first visible one; a torchrun process's `LOCAL_RANK`). Where, not what: no
    /// part of the signature or the records.
    pub cuda_ordinal: usize,
    /// Precision (`auto` is resolved for the device when the encoder is built).
    pub precision: Precision,
    /// GGUF weights kept quantized or dequantized.
    pub gguf: GgufWeights,
    /// L2 normalisation.
    pub normalize: bool,
    /// Max sequences per batch (LLM).
    pub batch_size: usize,
    /// Token budget per forward pass (batch × longest sequence); None = the encoder's default (8,192 for LLMs,
    /// 16,384 for BERT). GPUs want more than CPUs.
    pub max_batch_tokens: Option<usize>,
    /// A LoRA adapter folder (PEFT layout) for the LLM.
    pub adapter: Option<PathBuf>,
    /// Merge the adapter into the weights (dense weights only) instead of running it as a separate path.
    pub merge_adapter: bool,
}

impl EncoderSpec {
    /// The same spec with `auto` precision decided for its device.
    pub fn resolved(&self) -> EncoderSpec {
        EncoderSpec { precision: self.precision.resolve(self.device), ..self.clone() }
    }
}
