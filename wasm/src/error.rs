//! What can go wrong in the browser runner: no GPU, a bad weight file, a model this runner does not handle.

/// Errors of the wgpu encoder.
#[derive(Debug, thiserror::Error)]
pub enum GpuError {
    /// No WebGPU/Vulkan adapter (the browser has WebGPU off, or no driver is installed).
    #[error(
        "no GPU adapter: {0} (in a browser: WebGPU must be enabled; natively: a Vulkan driver such as Mesa's lavapipe)"
    )]
    NoAdapter(String),
    /// The adapter refused a device, or the device failed.
    #[error("GPU device: {0}")]
    Device(String),
    /// The weight file is not a drbench int8 file or is corrupt.
    #[error("weight file: {0}")]
    Weights(#[from] drbench_harness::qweights::QWeightsError),
    /// The model is not one this runner handles, or a tensor is missing or has the wrong shape.
    #[error("model: {0}")]
    Model(String),
    /// The tokenizer file cannot be read, or a text cannot be tokenized.
    #[error("tokenizer: {0}")]
    Tokenizer(String),
}
