//! The global worker-thread count (rayon), from `--threads`.

/// The most worker threads `--threads` takes.
pub const MAX_THREADS: usize = 1024;

/// Sets rayon's global pool to `n` threads (0 = all cores, at most [`MAX_THREADS`]). Only the first call has an
/// effect.
pub fn init(n: usize) -> anyhow::Result<()> {
    if n > MAX_THREADS {
        anyhow::bail!("--threads {n}: at most {MAX_THREADS} worker threads (0 = all cores)");
    }
    if n > 0 {
        let _ = rayon::ThreadPoolBuilder::new().num_threads(n).build_global();
    }
    Ok(())
}
