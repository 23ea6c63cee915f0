//! Seeded paired bootstrap confidence interval for the mean difference of per-query values.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::error::{Error, Result};

/// A percentile bootstrap interval of mean(a - b).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BootstrapCi {
    /// Lower bound.
    pub low: f64,
    /// Upper bound.
    pub high: f64,
    /// Confidence level (e.g. 0.95).
    pub level: f64,
    /// Number of resamples.
    pub resamples: usize,
    /// Seed of the ChaCha8 generator.
    pub seed: u64,
}

/// The most bootstrap resamples (each is one mean kept in memory; 10,000 is the usual count).
pub const MAX_RESAMPLES: usize = 10_000_000;

/// Percentile bootstrap CI at `level` of the mean paired difference, resampling queries with replacement.
/// The same seed gives the same interval on every platform.
pub fn paired_bootstrap_ci(a: &[f64], b: &[f64], resamples: usize, level: f64, seed: u64) -> Result<BootstrapCi> {
    if a.len() != b.len() || a.is_empty() {
        return Err(Error::Invalid(format!(
            "bootstrap needs two non-empty samples of equal length ({} vs {})",
            a.len(),
            b.len()
        )));
    }
    if !(0.0 < level && level < 1.0) || resamples == 0 || resamples > MAX_RESAMPLES {
        return Err(Error::Invalid(format!(
            "bootstrap level must be in (0, 1) and resamples in 1..={MAX_RESAMPLES} (got {level}, {resamples})"
        )));
    }
    let diffs: Vec<f64> = a.iter().zip(b).map(|(x, y)| x - y).collect();
    let n = diffs.len();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut means: Vec<f64> =
        (0..resamples).map(|_| (0..n).map(|_| diffs[rng.random_range(0..n)]).sum::<f64>() / n as f64).collect();
    means.sort_by(f64::total_cmp);
    let alpha = (1.0 - level) / 2.0;
    let at = |q: f64| means[((q * resamples as f64).floor() as usize).min(resamples - 1)];
    Ok(BootstrapCi { low: at(alpha), high: at(1.0 - alpha), level, resamples, seed })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_and_bracketing_the_mean() {
        let a = [0.5, 0.7, 0.2, 0.9, 0.4, 0.6, 0.3, 0.8];
        let b = [0.4, 0.5, 0.25, 0.6, 0.4, 0.5, 0.1, 0.7];
        let ci = paired_bootstrap_ci(&a, &b, 2000, 0.95, 7).unwrap();
        let mean = a.iter().zip(&b).map(|(x, y)| x - y).sum::<f64>() / 8.0;
        assert!(ci.low < mean && mean < ci.high, "{ci:?}");
        assert_eq!(ci, paired_bootstrap_ci(&a, &b, 2000, 0.95, 7).unwrap());
        assert!(paired_bootstrap_ci(&a, &b[..3], 10, 0.95, 1).is_err());
    }
}
