//! The model arguments shared by `embed` and `run`, mapped onto the pipeline's `DenseSpec`.

use std::path::PathBuf;

use clap::Args;
use drbench_native::encoders::device::{DeviceKind, Precision};
use drbench_native::encoders::spec::{EncoderSpec, Mode};
use drbench_native::encoders::weights::GgufWeights;
use drbench_native::store::Store;
use drbench_pipeline::retriever::DenseSpec;

#[derive(Debug, Clone, Args)]
pub struct ModelArgs {
    /// Model: a Hugging Face folder, a .gguf file, `mirror:NAME` (DRBENCH_MIRROR/models/NAME), `registry:NAME` (a
    /// model file the registry pins, fetched sha256-checked into the cache), `cache:PATH`, or
    /// `hf:ORG/NAME@REVISION` (downloaded once into the cache).
    #[arg(long, value_name = "SRC")]
    pub model: String,
    /// Folder with tokenizer.json (and the chat template) when it is not beside the model.
    #[arg(long, value_name = "DIR")]
    pub tokenizer: Option<PathBuf>,
    /// promptreps / eos for LLMs (last-token pooling), mean / cls for encoders.
    #[arg(long, value_enum)]
    pub mode: Mode,
    /// Max text tokens for LLMs (default 512; the text is cut before it goes in the prompt), max sequence
    /// length for encoders (default: the model's max_seq_length).
    #[arg(long, value_name = "N", value_parser = clap::builder::TypedValueParser::map(clap::value_parser!(u32).range(1..), |n| n as usize))]
    pub max_length: Option<usize>,
    /// Device.
    #[arg(long, value_enum, default_value_t = DeviceKind::Cpu)]
    pub device: DeviceKind,
    /// Precision of activations and dense weights. On the CPU, f32 and bf16 run the packed (padding-free) forward;
    /// bf16 rounds the inputs of each projection to bf16 and multiplies on AVX512-BF16 where the CPU has it (a
    /// portable loop elsewhere) while norms, attention and the residual stay f32: cosine ≥ 0.9999 to f32 and ~1.5–2×
    /// its speed. BERT encoders take f32 or bf16. `auto`: bf16 on a CPU with AVX512-BF16 or on CUDA, else f32.
    #[arg(long, value_enum, default_value_t = Precision::F32)]
    pub dtype: Precision,
    /// GGUF weights: quantized matmuls, or dequantized to dense weights (in `--dtype`).
    #[arg(long, value_enum, default_value_t = GgufWeights::Quantized)]
    pub gguf_weights: GgufWeights,
    /// Do not L2-normalise embeddings (score = dot product of raw vectors).
    #[arg(long)]
    pub no_normalize: bool,
    /// Max sequences per forward pass (LLMs; batches are also capped by --max-batch-tokens).
    #[arg(long, default_value_t = 16)]
    pub batch_size: usize,
    /// Token budget per forward pass, batch × longest sequence (default 8,192 for LLMs, 16,384 for encoders);
    /// raise it on a GPU.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub max_batch_tokens: Option<u64>,
    /// A LoRA adapter folder (PEFT layout: adapter_config.json + adapter_model.safetensors), e.g. from
    /// `drbench train`, run beside the frozen weights.
    #[arg(long, value_name = "DIR")]
    pub adapter: Option<PathBuf>,
    /// Merge the adapter into the weights once at load (faster; dense weights only, so GGUF files need
    /// --gguf-weights dequantized).
    #[arg(long, requires = "adapter")]
    pub merge: bool,
}

impl ModelArgs {
    /// The dense retriever's settings (as results record them).
    pub fn dense(&self) -> DenseSpec {
        DenseSpec {
            tokenizer: self.tokenizer.as_ref().map(|t| t.display().to_string()),
            max_length: self.max_length,
            dtype: self.dtype.resolve(self.device),
            gguf_weights: self.gguf_weights,
            normalize: !self.no_normalize,
            batch_size: self.batch_size,
            max_batch_tokens: self.max_batch_tokens.map(|n| n as usize),
            adapter: self.adapter.as_ref().map(|a| a.display().to_string()),
            merge_adapter: self.merge,
            ..DenseSpec::new(&self.model, self.mode)
        }
    }

    /// The encoder spec, with the model source resolved.
    pub fn spec(&self, store: &Store) -> anyhow::Result<EncoderSpec> {
        Ok(self.dense().encoder_spec(store, self.device)?)
    }
}
