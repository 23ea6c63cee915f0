//! The CPU encoder's matrix product: int8 weight matrices widened once at load into int16 panels of [`NR`] output
//! columns, activations quantized per row to int16 at the largest scale that keeps every sum inside i32, exact
//! integer products in [`MR`]-row blocks, then `· row scale · column scale + bias` and the GELU or residual as each
//! block is stored. Against f32 arithmetic on the same int8 weights the only new error is the activations'
//! rounding (relative ≤ 1/2·qmax of each row's largest value, qmax ≥ 10,000 for rows up to 1,690 wide).

use drbench_harness::fastmath::gelu;

use crate::bert_weights::Int8Matrix;
use crate::error::GpuError;

use super::simd::{MR, NR, micro_kernel, pair, panel_group};

/// Bytes of weight panels processed together, so that they stay in the L2 cache while every row block passes.
const PANEL_BLOCK_BYTES: usize = 256 * 1024;

/// What is applied to `x·Wᵀ + bias` as it is stored.
#[derive(Debug, Clone, Copy)]
pub enum Epilogue<'a> {
    /// Nothing more.
    None,
    /// BERT's exact (erf) GELU.
    Gelu,
    /// `+ residual[row, col]` (same shape as the output).
    Residual(&'a [f32]),
}

/// A linear layer `y = x·Wᵀ + b` with `W` (`n × k`) stored as int16 panels and per-output scales.
#[derive(Debug)]
pub struct PackedLinear {
    /// Output width.
    pub n: usize,
    /// Input width.
    pub k: usize,
    /// Per panel, per pair of inputs: the [`NR`] columns' two weights (laid out by [`panel_group`]).
    panels: Vec<[i16; 2 * NR]>,
    scales: Vec<f32>,
    bias: Vec<f32>,
}

/// Activations quantized per row: `x ≈ q · scale`, `q` as pairs of int16 (see [`pair`]).
#[derive(Debug, Default)]
pub struct QuantizedRows {
    pairs: Vec<i32>,
    scales: Vec<f32>,
}

impl QuantizedRows {
    /// Quantizes the `m` rows of `x` (`m × k`), reusing this buffer. `qmax` bounds `|q|` so that `k` products
    /// with int8 weights (`|w| ≤ 127`) never leave i32: `k · 127 · qmax < 2³¹`.
    pub fn quantize(&mut self, x: &[f32], m: usize, k: usize) {
        let qmax = (i32::MAX as f32 / (127.0 * k as f32)).floor().min(32_767.0);
        self.pairs.clear();
        self.scales.clear();
        for row in x[..m * k].chunks_exact(k) {
            let amax = row.iter().fold(0f32, |a, v| a.max(v.abs()));
            let scale = if amax > 0.0 { amax / qmax } else { 1.0 };
            let inv = 1.0 / scale;
            let q = |v: f32| (v * inv).round().clamp(-qmax, qmax) as i16;
            self.pairs.extend(row.chunks_exact(2).map(|p| pair(q(p[0]), q(p[1]))));
            self.scales.push(scale);
        }
    }
}

impl PackedLinear {
    /// Stacks int8 matrices (all `k` columns wide, each with its bias) along the output dimension: q, k and v
    /// become one product.
    pub fn stack(parts: &[(Int8Matrix<'_>, &[f32])]) -> Result<PackedLinear, GpuError> {
        let k = parts.first().map_or(0, |(m, _)| m.cols);
        let n: usize = parts.iter().map(|(m, _)| m.rows).sum();
        if !n.is_multiple_of(NR) || !k.is_multiple_of(2) || parts.iter().any(|(m, b)| m.cols != k || b.len() != m.rows)
        {
            return Err(GpuError::Model(format!(
                "linear layers of {n} outputs × {k} inputs: the CPU encoder takes outputs in multiples of {NR}, an \
                 even input width, equal widths and one bias per output"
            )));
        }
        let q: Vec<i8> = parts.iter().flat_map(|(m, _)| m.q.iter().copied()).collect();
        let scales: Vec<f32> = parts.iter().flat_map(|(m, _)| m.scales.iter().copied()).collect();
        let bias: Vec<f32> = parts.iter().flat_map(|(_, b)| b.iter().copied()).collect();
        let mut panels = Vec::with_capacity(n * k / 2);
        for p in 0..n / NR {
            for kp in 0..k / 2 {
                panels.push(panel_group(|j, e| i16::from(q[(p * NR + j) * k + 2 * kp + e])));
            }
        }
        Ok(PackedLinear { n, k, panels, scales, bias })
    }

    /// One int8 matrix and its bias.
    pub fn new(m: Int8Matrix<'_>, bias: &[f32]) -> Result<PackedLinear, GpuError> {
        PackedLinear::stack(&[(m, bias)])
    }

    /// `out = epilogue(x·Wᵀ + b)` for `x` of `m × k` and `out` of `m × n`, both row-major; `scratch` holds the
    /// quantized activations between calls.
    pub fn forward(&self, x: &[f32], m: usize, epilogue: Epilogue<'_>, out: &mut [f32], scratch: &mut QuantizedRows) {
        let (n, k) = (self.n, self.k);
        assert!(x.len() >= m * k && out.len() >= m * n, "matmul operands shorter than {m} rows");
        if let Epilogue::Residual(r) = epilogue {
            assert!(r.len() >= m * n, "residual shorter than {m} rows");
        }
        scratch.quantize(x, m, k);
        let pairs = k / 2;
        let block = (PANEL_BLOCK_BYTES / (pairs * 4 * NR)).max(1);
        for (b, chunk) in self.panels.chunks(pairs * block).enumerate() {
            for i0 in (0..m).step_by(MR) {
                let row = |r: usize| &scratch.pairs[(i0 + r) * pairs..(i0 + r + 1) * pairs];
                let row_scale = |r: usize| scratch.scales[i0 + r];
                for (p, panel) in chunk.chunks_exact(pairs).enumerate() {
                    let col = (b * block + p) * NR;
                    let mut store =
                        |r: usize, acc: &[i32; NR]| self.store(i0 + r, col, row_scale(r), acc, epilogue, out);
                    match (m - i0).min(MR) {
                        4 => micro_kernel::<4>([row(0), row(1), row(2), row(3)], panel, pairs)
                            .iter()
                            .enumerate()
                            .for_each(|(r, a)| store(r, a)),
                        3 => micro_kernel::<3>([row(0), row(1), row(2)], panel, pairs)
                            .iter()
                            .enumerate()
                            .for_each(|(r, a)| store(r, a)),
                        2 => micro_kernel::<2>([row(0), row(1)], panel, pairs)
                            .iter()
                            .enumerate()
                            .for_each(|(r, a)| store(r, a)),
                        _ => store(0, &micro_kernel::<1>([row(0)], panel, pairs)[0]),
                    }
                }
            }
        }
    }

    fn store(&self, row: usize, col: usize, row_scale: f32, acc: &[i32; NR], epilogue: Epilogue<'_>, out: &mut [f32]) {
        let at = row * self.n + col;
        let dst = &mut out[at..at + NR];
        let v = |j: usize| acc[j] as f32 * (row_scale * self.scales[col + j]) + self.bias[col + j];
        match epilogue {
            Epilogue::None => dst.iter_mut().enumerate().for_each(|(j, d)| *d = v(j)),
            Epilogue::Gelu => dst.iter_mut().enumerate().for_each(|(j, d)| *d = gelu(v(j))),
            Epilogue::Residual(r) => dst.iter_mut().enumerate().for_each(|(j, d)| *d = v(j) + r[at + j]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(x: &[f32], w: &[f32], scales: &[f32], bias: &[f32], m: usize, n: usize, k: usize) -> Vec<f32> {
        let mut out = vec![0f32; m * n];
        for i in 0..m {
            for j in 0..n {
                let dot: f32 = (0..k).map(|kk| x[i * k + kk] * w[j * k + kk] * scales[j]).sum();
                out[i * n + j] = dot + bias[j];
            }
        }
        out
    }

    /// Every row-block tail (m mod 4 = 1, 2, 3, 0), several panel blocks, stacked parts and all epilogues against
    /// a naive triple loop.
    #[test]
    fn forward_matches_a_naive_product() {
        let (n1, n2, k) = (16, 8, 2_000);
        let q: Vec<i8> = (0..(n1 + n2) * k).map(|i| ((i * 37 % 255) as i32 - 127) as i8).collect();
        let scales: Vec<f32> = (0..n1 + n2).map(|j| 0.01 + j as f32 * 1e-3).collect();
        let bias: Vec<f32> = (0..n1 + n2).map(|j| j as f32 * 0.1 - 1.0).collect();
        let top = Int8Matrix { q: &q[..n1 * k], scales: &scales[..n1], rows: n1, cols: k };
        let bottom = Int8Matrix { q: &q[n1 * k..], scales: &scales[n1..], rows: n2, cols: k };
        let lin = PackedLinear::stack(&[(top, &bias[..n1]), (bottom, &bias[n1..])]).unwrap();
        let mut scratch = QuantizedRows::default();
        let wf: Vec<f32> = q.iter().map(|&v| f32::from(v)).collect();
        let n = n1 + n2;
        for m in [1, 2, 3, 4, 5, 6, 7, 9] {
            let x: Vec<f32> = (0..m * k).map(|i| ((i * 13 % 17) as f32 - 8.0) * 0.01).collect();
            let want = naive(&x, &wf, &scales, &bias, m, n, k);
            let residual: Vec<f32> = (0..m * n).map(|i| i as f32 * 0.5).collect();
            let mut out = vec![0f32; m * n];
            lin.forward(&x, m, Epilogue::None, &mut out, &mut scratch);
            let close = |a: f32, b: f32| (a - b).abs() <= 1e-3 * (1.0 + b.abs());
            assert!(out.iter().zip(&want).all(|(a, b)| close(*a, *b)), "m = {m}");
            lin.forward(&x, m, Epilogue::Gelu, &mut out, &mut scratch);
            assert!(out.iter().zip(&want).all(|(a, b)| close(*a, gelu(*b))), "gelu, m = {m}");
            lin.forward(&x, m, Epilogue::Residual(&residual), &mut out, &mut scratch);
            assert!(
                out.iter().zip(want.iter().zip(&residual)).all(|(a, (b, r))| close(*a, b + r)),
                "residual, m = {m}"
            );
        }
    }

    /// The worst case for i32: every activation at ±its row maximum and every weight at ∓127, 1,536 wide (BERT's
    /// MLP down projection) — no overflow, and the sum is exact up to the activation rounding.
    #[test]
    fn the_widest_worst_case_sum_stays_inside_i32() {
        let k = 1_536;
        let q = vec![-127i8; NR * k];
        let scales = vec![1.0f32; NR];
        let bias = vec![0.0f32; NR];
        let lin = PackedLinear::new(Int8Matrix { q: &q, scales: &scales, rows: NR, cols: k }, &bias).unwrap();
        let x = vec![3.5f32; k];
        let mut out = vec![0f32; NR];
        lin.forward(&x, 1, Epilogue::None, &mut out, &mut QuantizedRows::default());
        let want = -127.0 * 3.5 * k as f32;
        assert!(out.iter().all(|v| (v - want).abs() <= 1e-4 * want.abs()), "{out:?} vs {want}");
    }

    #[test]
    fn stack_refuses_widths_that_are_not_panels() {
        let q = vec![0i8; 6 * 4];
        let s = vec![1f32; 6];
        let m = Int8Matrix { q: &q, scales: &s, rows: 6, cols: 4 };
        assert!(PackedLinear::new(m, &s).is_err());
    }
}
