//! Errors of model loading and encoding, naming the file concerned.

use std::path::PathBuf;

/// What can go wrong while loading or running an encoder.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// A model file is missing or unreadable.
    #[error("{path}: {message}")]
    File {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// candle failed.
    #[error("candle: {0}")]
    Candle(#[from] candle_core::Error),
    /// The tokenizer failed.
    #[error("tokenizer: {0}")]
    Tokenizer(String),
    /// The chat template failed to render.
    #[error("chat template: {0}")]
    Template(String),
    /// Training data could not be read.
    #[error("{0}")]
    Data(#[from] drbench_harness::Error),
    /// A configuration or argument is not supported.
    #[error("{0}")]
    Unsupported(String),
}

impl ModelError {
    /// A problem with `path`.
    pub fn file(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        ModelError::File { path: path.into(), message: message.into() }
    }
}

/// Result alias.
pub type Result<T, E = ModelError> = std::result::Result<T, E>;
