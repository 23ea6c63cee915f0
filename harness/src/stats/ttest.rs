//! Two-sided paired Student's t-test over per-query values (exact p from the t distribution).

use serde::Serialize;
use statrs::distribution::{ContinuousCDF, StudentsT};

use crate::error::{Error, Result};

/// The outcome of a paired t-test of `a` against `b`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct TTest {
    /// Number of pairs.
    pub n: usize,
    /// Mean of `a - b`.
    pub mean_diff: f64,
    /// The t statistic (0 when every difference is 0).
    pub t: f64,
    /// Degrees of freedom (n - 1).
    pub df: f64,
    /// Two-sided p-value.
    pub p: f64,
}

/// Paired two-sided t-test, as `scipy.stats.ttest_rel(a, b)`. Needs at least two pairs.
/// When all differences are equal the variance is 0: p = 1 if they are all 0, else p = 0.
pub fn paired_t_test(a: &[f64], b: &[f64]) -> Result<TTest> {
    if a.len() != b.len() {
        return Err(Error::Invalid(format!("paired samples differ in length: {} vs {}", a.len(), b.len())));
    }
    let n = a.len();
    if n < 2 {
        return Err(Error::Invalid(format!("a paired t-test needs at least 2 pairs, got {n}")));
    }
    let diffs: Vec<f64> = a.iter().zip(b).map(|(x, y)| x - y).collect();
    let nf = n as f64;
    let mean = diffs.iter().sum::<f64>() / nf;
    let var = diffs.iter().map(|d| (d - mean).powi(2)).sum::<f64>() / (nf - 1.0);
    let df = nf - 1.0;
    if var == 0.0 {
        let (t, p) = if mean == 0.0 { (0.0, 1.0) } else { (mean.signum() * f64::INFINITY, 0.0) };
        return Ok(TTest { n, mean_diff: mean, t, df, p });
    }
    let t = mean / (var / nf).sqrt();
    let dist = StudentsT::new(0.0, 1.0, df).map_err(|e| Error::Invalid(e.to_string()))?;
    let p = (2.0 * dist.sf(t.abs())).min(1.0);
    Ok(TTest { n, mean_diff: mean, t, df, p })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_scipy_ttest_rel() {
        // scipy.stats.ttest_rel([0.1,0.5,0.3,0.9,0.4], [0.2,0.3,0.1,0.5,0.45])
        // -> statistic=1.4184162865339502, pvalue=0.2290586333905194 (scipy 1.17.1)
        let r = paired_t_test(&[0.1, 0.5, 0.3, 0.9, 0.4], &[0.2, 0.3, 0.1, 0.5, 0.45]).unwrap();
        assert!((r.t - 1.4184162865339502).abs() < 1e-12, "{r:?}");
        assert!((r.p - 0.2290586333905194).abs() < 1e-12, "{r:?}");
        assert_eq!(r.df, 4.0);
    }

    #[test]
    fn degenerate_inputs() {
        assert_eq!(paired_t_test(&[1.0, 2.0], &[1.0, 2.0]).unwrap().p, 1.0);
        assert_eq!(paired_t_test(&[2.0, 3.0], &[1.0, 2.0]).unwrap().p, 0.0);
        assert!(paired_t_test(&[1.0], &[1.0]).is_err());
        assert!(paired_t_test(&[1.0, 2.0], &[1.0]).is_err());
    }
}
