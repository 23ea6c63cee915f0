//! Scalar `exp`, `erf` and GELU written branch-free, so that the loops calling them vectorise (native packed
//! forwards, the browser's CPU encoder); `#[inline(always)]` so each caller compiles them for its own target
//! features. These are the one definition of BERT's GELU: every CPU path computes it with this arithmetic
//! (the wgpu kernels, in WGSL, compute the same formula on the GPU).

/// `e^x` to ~2 ulp for x in [-87, 88] (clamped outside): Cephes' expf, branch-free so it vectorises.
#[inline(always)]
pub fn exp(x: f32) -> f32 {
    let x = x.clamp(-87.0, 88.0);
    // n = round(x / ln 2) by the 1.5·2²³ trick (exact for |n| < 2²²).
    const ROUND: f32 = 12_582_912.0;
    let n = (x * std::f32::consts::LOG2_E + ROUND) - ROUND;
    let r = x - n * 0.693_359_4 - n * -2.121_944_4e-4;
    let p = 1.987_569_1e-4;
    let p = p * r + 1.398_2e-3;
    let p = p * r + 8.333_452e-3;
    let p = p * r + 4.166_579_6e-2;
    let p = p * r + 1.666_666_5e-1;
    let p = p * r + 0.5;
    let y = p * r * r + r + 1.0;
    y * f32::from_bits(((n as i32 + 127) as u32) << 23)
}

/// erf(x) by Abramowitz & Stegun 7.1.26: |error| ≤ 1.5e-7 in exact arithmetic, ≤ 5e-7 evaluated in f32.
#[inline(always)]
pub fn erf(x: f32) -> f32 {
    let a = x.abs().min(6.0);
    let t = 1.0 / (1.0 + 0.327_591_1 * a);
    let poly = ((((1.061_405_4 * t - 1.453_152) * t + 1.421_413_8) * t - 0.284_496_74) * t + 0.254_829_6) * t;
    let y = 1.0 - poly * exp(-a * a);
    y.copysign(x)
}

/// BERT's GELU (`hidden_act = "gelu"`): `x · Φ(x) = ½ · x · (1 + erf(x / √2))`, the exact (erf) form, not the tanh
/// approximation. Within 1e-6 · (1 + |gelu(x)|) of the formula in f64.
#[inline(always)]
pub fn gelu(x: f32) -> f32 {
    0.5 * x * (1.0 + erf(x * std::f32::consts::FRAC_1_SQRT_2))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// erf in f64 by its Maclaurin series (|x| ≤ 3) or the continued fraction of erfc (beyond): a reference that
    /// owes nothing to the polynomial under test.
    fn erf_f64(x: f64) -> f64 {
        let a = x.abs();
        let v = if a <= 3.0 {
            let (mut term, mut sum, mut n) = (a, a, 0.0);
            while term.abs() > 1e-17 * sum.abs() {
                n += 1.0;
                term *= -a * a / n;
                sum += term / (2.0 * n + 1.0);
            }
            sum * 2.0 / std::f64::consts::PI.sqrt()
        } else {
            let mut f = 0.0;
            for k in (1..60).rev() {
                f = (k as f64 / 2.0) / (a + f);
            }
            1.0 - (-a * a).exp() / (std::f64::consts::PI.sqrt() * (a + f))
        };
        v.copysign(x)
    }

    #[test]
    fn exp_is_within_3_ulp_over_its_range() {
        for i in -870..=880 {
            let x = i as f32 / 10.0;
            let (got, want) = (exp(x) as f64, (x as f64).exp());
            assert!((got - want).abs() <= 3.0 * f64::from(f32::EPSILON) * want, "exp({x}) = {got}, want {want}");
        }
    }

    #[test]
    fn erf_and_gelu_are_within_their_documented_bounds() {
        let mut worst = 0f64;
        for i in -8000..=8000 {
            let x = i as f32 / 1000.0;
            worst = worst.max((erf(x) as f64 - erf_f64(x as f64)).abs());
            let want = 0.5 * x as f64 * (1.0 + erf_f64(x as f64 / std::f64::consts::SQRT_2));
            let got = gelu(x) as f64;
            assert!((got - want).abs() < 1e-6 * (1.0 + want.abs()), "gelu({x}) = {got}, want {want}");
        }
        assert!(worst <= 5e-7, "erf error {worst:e}");
        assert_eq!(erf(0.0), 0.0);
        assert_eq!(erf(-1.0), -erf(1.0));
    }
}
