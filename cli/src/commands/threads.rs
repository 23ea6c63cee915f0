//! The global worker-thread count (rayon), from `--threads`.

/// Sets rayon's global pool to `n` threads (0 = all cores). Only the first call has an effect.
pub fn init(n: usize) -> anyhow::Result<()> {
    if n > 0 {
        let _ = rayon::ThreadPoolBuilder::new().num_threads(n).build_global();
    }
    Ok(())
}
