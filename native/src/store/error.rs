//! Errors of the dataset store, each naming the file, URL or archive entry concerned.

use std::path::PathBuf;

/// Everything that can go wrong while resolving, fetching or verifying a dataset.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Local I/O failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// An HTTP request failed (connection, status, or a transfer that ended early).
    #[error("{url}: {message}")]
    Http {
        /// The URL.
        url: String,
        /// What happened.
        message: String,
    },
    /// A file's size or checksum differs from the registry.
    #[error("{path}: {message}")]
    Mismatch {
        /// The file (or URL).
        path: String,
        /// Expected vs found.
        message: String,
    },
    /// An archive is unsafe or malformed.
    #[error("{archive}: {message}")]
    Archive {
        /// The archive.
        archive: PathBuf,
        /// What is wrong (e.g. an entry escaping the target directory).
        message: String,
    },
    /// The dataset cannot be obtained from any configured source.
    #[error("{0}")]
    Unavailable(String),
    /// Registry lookup failed.
    #[error(transparent)]
    Registry(#[from] drbench_datasets::RegistryError),
}

impl StoreError {
    /// An I/O error on `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        StoreError::Io { path: path.into(), source }
    }
}

/// Result alias of the store.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;
