//! Typed errors of the harness: every error about input names the file and, where there is one, the line.

use std::path::{Path, PathBuf};

/// Result alias used throughout the harness.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in the harness.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file could not be opened or read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },
    /// One line of an input file is malformed.
    #[error("{path}:{line}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: u64,
        /// What is wrong with the line.
        message: String,
    },
    /// A whole input file is unusable (empty, wrong layout, ...).
    #[error("{path}: {message}")]
    File {
        /// The file (or folder).
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// A measure name that drbench does not know.
    #[error(
        "unknown measure {0:?} (known: nDCG@k, RR, RR@k, R@k, AP, AP@k, P@k, and trec_eval names such as ndcg_cut_10)"
    )]
    UnknownMeasure(String),
    /// Invalid arguments to a computation (e.g. paired samples of different lengths).
    #[error("{0}")]
    Invalid(String),
}

impl Error {
    /// An I/O error on `path`.
    pub fn io(path: impl AsRef<Path>, source: std::io::Error) -> Self {
        Error::Io { path: path.as_ref().to_path_buf(), source }
    }

    /// A malformed line `line` (1-based) of `path`.
    pub fn parse(path: impl AsRef<Path>, line: u64, message: impl Into<String>) -> Self {
        Error::Parse { path: path.as_ref().to_path_buf(), line, message: message.into() }
    }

    /// A problem with a whole file.
    pub fn file(path: impl AsRef<Path>, message: impl Into<String>) -> Self {
        Error::File { path: path.as_ref().to_path_buf(), message: message.into() }
    }
}
