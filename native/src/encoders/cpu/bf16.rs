//! bf16 matrix products for the packed BERT forward: weights rounded to bf16 once at load and laid out in panels
//! of 32 output columns × pairs of inputs, activations rounded to bf16 per call, products summed in f32. On a CPU
//! with AVX512-BF16 the micro-kernel is `vdpbf16ps` (32 multiply-adds per instruction, twice an f32 FMA's);
//! elsewhere a portable loop computes the same products (exact in f32) in another summation order.

use multiversion::multiversion;
use rayon::prelude::*;

/// Output columns per panel (two 16-lane registers).
const PANEL: usize = 32;
/// Rows per micro-kernel call.
const ROWS: usize = 8;
/// Rows per parallel task.
const ROWS_PER_TASK: usize = 64;

/// f32 → bf16 bits, rounding to nearest even (NaN stays NaN).
#[inline(always)]
pub fn to_bf16(x: f32) -> u16 {
    let b = x.to_bits();
    if x.is_nan() {
        return ((b >> 16) | 0x40) as u16;
    }
    ((b + 0x7fff + ((b >> 16) & 1)) >> 16) as u16
}

/// bf16 bits → f32 (exact).
#[inline(always)]
pub fn from_bf16(h: u16) -> f32 {
    f32::from_bits((h as u32) << 16)
}

/// A weight matrix (`outputs × inputs`, PyTorch's layout) in bf16 panels: for panel `p`, input pair `k` and column
/// `c` of the panel, the two bf16 values `W[32p + c][2k]` and `W[32p + c][2k + 1]` are one u32 at
/// `panels[(p · pairs + k) · 32 + c]`. Columns past `outputs` and the odd input past `inputs` are zero.
#[derive(Debug)]
pub struct Bf16Weights {
    panels: Vec<u32>,
    inputs: usize,
    outputs: usize,
    pairs: usize,
}

impl Bf16Weights {
    /// Rounds `weight` (`outputs × inputs`, row-major) to bf16 and packs it.
    pub fn new(weight: &[f32], inputs: usize, outputs: usize) -> Self {
        assert_eq!(weight.len(), inputs * outputs, "Bf16Weights: shape");
        let pairs = inputs.div_ceil(2);
        let n_panels = outputs.div_ceil(PANEL);
        let mut panels = vec![0u32; n_panels * pairs * PANEL];
        let w = |o: usize, i: usize| if o < outputs && i < inputs { to_bf16(weight[o * inputs + i]) } else { 0 };
        for p in 0..n_panels {
            for k in 0..pairs {
                for c in 0..PANEL {
                    let o = p * PANEL + c;
                    panels[(p * pairs + k) * PANEL + c] = w(o, 2 * k) as u32 | (w(o, 2 * k + 1) as u32) << 16;
                }
            }
        }
        Bf16Weights { panels, inputs, outputs, pairs }
    }

    /// Output columns.
    pub fn outputs(&self) -> usize {
        self.outputs
    }

    /// Input columns.
    pub fn inputs(&self) -> usize {
        self.inputs
    }

    /// `out += bf16(x) · bf16(W)ᵀ` for `x` of `rows × inputs` and `out` of `rows × outputs` (row-major).
    pub fn accumulate(&self, x: &[f32], out: &mut [f32]) {
        let rows = x.len() / self.inputs;
        assert!(x.len() == rows * self.inputs && out.len() >= rows * self.outputs, "Bf16Weights: shapes");
        let kernel = Kernel::detect();
        out[..rows * self.outputs].par_chunks_mut(ROWS_PER_TASK * self.outputs).enumerate().for_each(|(t, out)| {
            let x = &x[t * ROWS_PER_TASK * self.inputs..];
            let n = out.len() / self.outputs;
            // This task's activations as bf16 pairs, `pairs` u32 per row.
            let mut a = vec![0u32; n * self.pairs];
            for (r, dst) in a.chunks_exact_mut(self.pairs).enumerate() {
                pack_pairs(&x[r * self.inputs..(r + 1) * self.inputs], dst);
            }
            // Eight rows of activations (L1) meet every panel in turn (the weights stream from L2).
            for r0 in (0..n).step_by(ROWS) {
                let m = ROWS.min(n - r0);
                for p in 0..self.outputs.div_ceil(PANEL) {
                    let panel = &self.panels[p * self.pairs * PANEL..(p + 1) * self.pairs * PANEL];
                    let cols = PANEL.min(self.outputs - p * PANEL);
                    let mut acc = [[0f32; PANEL]; ROWS];
                    kernel.run(&a[r0 * self.pairs..(r0 + m) * self.pairs], m, self.pairs, panel, &mut acc);
                    for (r, row) in acc.iter().take(m).enumerate() {
                        let dst = &mut out[(r0 + r) * self.outputs + p * PANEL..][..cols];
                        dst.iter_mut().zip(row).for_each(|(d, v)| *d += v);
                    }
                }
            }
        });
    }
}

/// `dst[k]` = the bf16 pair (`src[2k]`, `src[2k + 1]`), low half first; a missing odd element is zero.
#[multiversion(targets("x86_64+avx512f+avx512bw+avx512vl+avx512dq", "x86_64+avx2+fma"))]
fn pack_pairs(src: &[f32], dst: &mut [u32]) {
    let pairs = src.chunks_exact(2);
    if let Some(&last) = pairs.remainder().first() {
        dst[src.len() / 2] = to_bf16(last) as u32;
    }
    for (d, p) in dst.iter_mut().zip(pairs) {
        *d = to_bf16(p[0]) as u32 | (to_bf16(p[1]) as u32) << 16;
    }
}

/// Which micro-kernel this CPU runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kernel {
    /// `vdpbf16ps` on 512-bit registers.
    Avx512Bf16,
    /// Plain Rust (the same products, in f32).
    Portable,
}

impl Kernel {
    /// The best kernel for this CPU.
    pub fn detect() -> Self {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx512bf16") && std::arch::is_x86_feature_detected!("avx512f") {
            return Kernel::Avx512Bf16;
        }
        Kernel::Portable
    }

    /// `acc[r][c] = Σ_k a[r][k] · panel[k][c]` (pairs of bf16 per u32) for `m ≤ ROWS` rows of `pairs` u32 each.
    #[allow(unsafe_code)]
    pub fn run(self, a: &[u32], m: usize, pairs: usize, panel: &[u32], acc: &mut [[f32; PANEL]; ROWS]) {
        assert!(m <= ROWS && a.len() >= m * pairs && panel.len() >= pairs * PANEL, "micro-kernel: shapes");
        match self {
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx512Bf16 => {
                // SAFETY: `detect` returned this variant only after checking the CPU has AVX512F and AVX512-BF16,
                // the features the function is compiled for; the assert above bounds every load it makes.
                unsafe { avx512::kernel(a, m, pairs, panel, acc) }
            }
            _ => portable(a, m, pairs, panel, acc),
        }
    }
}

fn portable(a: &[u32], m: usize, pairs: usize, panel: &[u32], acc: &mut [[f32; PANEL]; ROWS]) {
    for (r, out) in acc.iter_mut().enumerate().take(m) {
        *out = [0.0; PANEL];
        for k in 0..pairs {
            let v = a[r * pairs + k];
            let (lo, hi) = (from_bf16(v as u16), from_bf16((v >> 16) as u16));
            for (o, &w) in out.iter_mut().zip(&panel[k * PANEL..(k + 1) * PANEL]) {
                *o += lo * from_bf16(w as u16) + hi * from_bf16((w >> 16) as u16);
            }
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
mod avx512 {
    use std::arch::x86_64::*;

    use super::{PANEL, ROWS};

    /// 32 bf16 values packed in an integer register, as the bf16 type.
    #[inline(always)]
    fn bh(v: __m512i) -> __m512bh {
        // SAFETY: both are 64-byte plain vectors; every bit pattern is a valid value of either.
        unsafe { std::mem::transmute::<__m512i, __m512bh>(v) }
    }

    /// The AVX512-BF16 micro-kernel: up to 8 rows × 32 columns of f32 accumulators (16 registers), each step
    /// broadcasting one bf16 pair per row against two registers of the panel.
    ///
    /// # Safety
    /// The CPU must have AVX512F and AVX512-BF16, `a` must hold `m · pairs` values and `panel` `pairs · 32`.
    #[target_feature(enable = "avx512f,avx512bf16")]
    pub unsafe fn kernel(a: &[u32], m: usize, pairs: usize, panel: &[u32], acc: &mut [[f32; PANEL]; ROWS]) {
        let mut c = [[_mm512_setzero_ps(); 2]; ROWS];
        let w = panel.as_ptr();
        // The same loop twice: with the constant row count LLVM unrolls it and keeps all 16 accumulators in
        // registers; the tail block (m < 8) takes the variable bound.
        macro_rules! steps {
            ($rows:expr) => {
                for k in 0..pairs {
                    // SAFETY: k < pairs, so panel[k·32 .. k·32 + 32] is in bounds (asserted by the caller).
                    let (b0, b1) = unsafe {
                        (_mm512_loadu_si512(w.add(k * PANEL).cast()), _mm512_loadu_si512(w.add(k * PANEL + 16).cast()))
                    };
                    let (b0, b1) = (bh(b0), bh(b1));
                    for r in 0..$rows {
                        let x = bh(_mm512_set1_epi32(a[r * pairs + k] as i32));
                        c[r][0] = _mm512_dpbf16_ps(c[r][0], x, b0);
                        c[r][1] = _mm512_dpbf16_ps(c[r][1], x, b1);
                    }
                }
            };
        }
        if m == ROWS {
            steps!(ROWS);
        } else {
            steps!(m);
        }
        for r in 0..m {
            // SAFETY: acc[r] is 32 f32, two 16-lane stores.
            unsafe {
                _mm512_storeu_ps(acc[r].as_mut_ptr(), c[r][0]);
                _mm512_storeu_ps(acc[r].as_mut_ptr().add(16), c[r][1]);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bf16_rounding_is_to_nearest_even() {
        assert_eq!(to_bf16(1.0), 0x3f80);
        assert_eq!(from_bf16(to_bf16(1.0 + 1.0 / 256.0)), 1.0, "ties go to even");
        assert_eq!(from_bf16(to_bf16(1.0 + 3.0 / 256.0)), 1.0 + 4.0 / 256.0);
        assert!(from_bf16(to_bf16(f32::NAN)).is_nan());
        assert_eq!(from_bf16(to_bf16(-2.5)), -2.5);
    }

    /// Every row-block tail and a column count that is not a multiple of the panel, against a naive product of
    /// the bf16-rounded operands, on the kernel this CPU runs and the portable one.
    #[test]
    fn products_match_a_naive_bf16_product() {
        let (rows, inputs, outputs) = (75, 37, 70);
        let x: Vec<f32> = (0..rows * inputs).map(|i| ((i * 7919 % 2003) as f32 / 1001.0 - 1.0) * 1.7).collect();
        let w: Vec<f32> = (0..outputs * inputs).map(|i| (i * 104_729 % 1999) as f32 / 999.0 - 1.0).collect();
        let packed = Bf16Weights::new(&w, inputs, outputs);
        let mut out = vec![0.5f32; rows * outputs];
        packed.accumulate(&x, &mut out);
        let round = |v: f32| from_bf16(to_bf16(v)) as f64;
        for r in 0..rows {
            for o in 0..outputs {
                let want: f64 =
                    0.5 + (0..inputs).map(|i| round(x[r * inputs + i]) * round(w[o * inputs + i])).sum::<f64>();
                let got = out[r * outputs + o] as f64;
                assert!((got - want).abs() < 1e-4 * (1.0 + want.abs()), "({r},{o}): {got} vs {want}");
            }
        }
        // The portable kernel gives the same sums as the detected one (to f32 summation order).
        let a: Vec<u32> = (0..ROWS * 19)
            .map(|i| (to_bf16(i as f32 / 7.0) as u32) | (to_bf16(-(i as f32) / 5.0) as u32) << 16)
            .collect();
        let panel: Vec<u32> =
            (0..19 * PANEL).map(|i| (to_bf16(i as f32 / 300.0) as u32) | (to_bf16(0.25) as u32) << 16).collect();
        for m in [ROWS, 3] {
            let (mut fast, mut slow) = ([[0f32; PANEL]; ROWS], [[0f32; PANEL]; ROWS]);
            Kernel::detect().run(&a, m, 19, &panel, &mut fast);
            Kernel::Portable.run(&a, m, 19, &panel, &mut slow);
            for r in 0..m {
                for c in 0..PANEL {
                    assert!((fast[r][c] - slow[r][c]).abs() <= 1e-3 * (1.0 + slow[r][c].abs()), "m {m} ({r},{c})");
                }
            }
        }
    }
}
