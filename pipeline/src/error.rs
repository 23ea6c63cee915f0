//! The pipeline's typed errors, a preset's included: each names the file, folder, dataset or cell concerned.

use std::path::PathBuf;

/// Everything that can go wrong running drbench's workflow.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// Reading data, metrics, files of the harness.
    #[error(transparent)]
    Harness(#[from] drbench_harness::Error),
    /// Resolving or fetching a dataset.
    #[error(transparent)]
    Store(#[from] drbench_native::store::StoreError),
    /// Loading or running a model.
    #[error(transparent)]
    Model(#[from] drbench_native::encoders::ModelError),
    /// An encoder failed on its input.
    #[error("encoder: {0}")]
    Encode(drbench_harness::encoder::EncodeError),
    /// The embedding cache.
    #[error(transparent)]
    Cache(#[from] drbench_harness::embed_cache::CacheError),
    /// A preset that does not parse or makes no sense.
    #[error(transparent)]
    Preset(#[from] PresetError),
    /// A dataset that cannot serve as a task.
    #[error("{task}: {message}")]
    Task {
        /// The dataset (name or folder).
        task: String,
        /// What is wrong.
        message: String,
    },
    /// A record file (results.json, per_query.json, subset.json) that cannot be read as this version writes it.
    #[error("{path}: {message}")]
    Record {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A finished cell whose settings differ from what is asked now.
    #[error("{dir}: {message}")]
    Settings {
        /// The cell folder.
        dir: PathBuf,
        /// Which settings differ, and what to do.
        message: String,
    },
    /// An output folder drbench may not write into (not its own, or of another kind), and what to do.
    #[error("{dir}: {message}")]
    OutDir {
        /// The folder.
        dir: PathBuf,
        /// Why, and what to do.
        message: String,
    },
    /// Local I/O.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// Arguments that make no sense together.
    #[error("{0}")]
    Invalid(String),
}

impl PipelineError {
    /// An I/O error on `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        PipelineError::Io { path: path.into(), source }
    }
}

/// Result alias of the pipeline.
pub type Result<T, E = PipelineError> = std::result::Result<T, E>;

/// What can be wrong with a preset.
#[derive(Debug, thiserror::Error)]
pub enum PresetError {
    /// The file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// TOML syntax or schema error (the message carries line and column).
    #[error("{path}: {message}")]
    Toml {
        /// The file.
        path: PathBuf,
        /// toml's message, with line and column.
        message: String,
    },
    /// A value that parses but makes no sense.
    #[error("{path}: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// Neither a shipped preset nor a file.
    #[error("preset {0:?}: not a shipped preset (default, smoke, paper, train-demo) nor a file")]
    Unknown(String),
}
