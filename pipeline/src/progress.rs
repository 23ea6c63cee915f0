//! How long work reports its progress: the pipeline calls a [`Progress`] the caller passes in (the `drbench`
//! binary draws bars on stderr; tests and libraries pass [`Silent`]).

/// Receives the progress of one phase at a time (indexing, encoding, ...).
pub trait Progress: Sync {
    /// A phase of `total` units begins (`label`: what is being done).
    fn start(&self, label: &str, total: u64);
    /// `n` more units are done (called from worker threads too).
    fn advance(&self, n: u64);
    /// The phase is over.
    fn finish(&self);
}

/// Reports nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct Silent;

impl Progress for Silent {
    fn start(&self, _label: &str, _total: u64) {}
    fn advance(&self, _n: u64) {}
    fn finish(&self) {}
}
