//! Row-wise kernels of the packed CPU forwards — layer norm, RMSNorm, exact-erf GELU, SiLU, softmax, RoPE — written as straight-line
//! loops over fixed-width chunks so LLVM vectorises them, with `drbench_harness::fastmath`'s polynomial `exp` and
//! GELU (the one definition every CPU path shares) in place of libm's scalar calls. Each loop is compiled for AVX-512, AVX2+FMA
//! and the baseline, chosen at run time (`multiversion`). Large buffers are split over rayon's threads.

use drbench_harness::fastmath::{exp, gelu as gelu_scalar};
use multiversion::multiversion;
use rayon::prelude::*;

/// Lanes of the chunked reductions.
const LANES: usize = 16;

/// Rows handed to one rayon task by the row-wise kernels.
const ROWS_PER_TASK: usize = 32;

/// BERT's GELU, `x · Φ(x)` with the exact (erf) normal CDF, in place.
pub fn gelu(x: &mut [f32]) {
    x.par_chunks_mut(ROWS_PER_TASK * 1024).for_each(gelu_chunk);
}

#[multiversion(targets("x86_64+avx512f+avx512bw+avx512vl+avx512dq", "x86_64+avx2+fma"))]
fn gelu_chunk(x: &mut [f32]) {
    for v in x.iter_mut() {
        *v = gelu_scalar(*v);
    }
}

/// SwiGLU's gate: `gate[i] ← silu(gate[i]) · up[i]`, `silu(x) = x / (1 + e^(−x))`.
pub fn silu_mul(gate: &mut [f32], up: &[f32]) {
    assert_eq!(gate.len(), up.len(), "silu_mul: lengths");
    gate.par_chunks_mut(ROWS_PER_TASK * 1024)
        .zip(up.par_chunks(ROWS_PER_TASK * 1024))
        .for_each(|(g, u)| silu_mul_chunk(g, u));
}

#[multiversion(targets("x86_64+avx512f+avx512bw+avx512vl+avx512dq", "x86_64+avx2+fma"))]
fn silu_mul_chunk(gate: &mut [f32], up: &[f32]) {
    for (g, u) in gate.iter_mut().zip(up) {
        *g = *g / (1.0 + exp(-*g)) * u;
    }
}

/// Sum of a slice with `LANES` independent accumulators (vectorisable; f32 addition is not associative, so a
/// plain `.sum()` stays scalar).
#[inline(always)]
fn sum(x: &[f32]) -> f32 {
    let mut acc = [0f32; LANES];
    let chunks = x.chunks_exact(LANES);
    let tail: f32 = chunks.remainder().iter().sum();
    for c in chunks {
        for (a, v) in acc.iter_mut().zip(c) {
            *a += v;
        }
    }
    acc.iter().sum::<f32>() + tail
}

/// Layer norm of every `width`-wide row of `x` in place: `(x − mean) / sqrt(var + eps) · weight + bias`.
pub fn layer_norm(x: &mut [f32], width: usize, weight: &[f32], bias: &[f32], eps: f32) {
    assert!(weight.len() == width && bias.len() == width && x.len().is_multiple_of(width), "layer_norm: shapes");
    x.par_chunks_mut(ROWS_PER_TASK * width).for_each(|rows| layer_norm_rows(rows, width, weight, bias, eps));
}

#[multiversion(targets("x86_64+avx512f+avx512bw+avx512vl+avx512dq", "x86_64+avx2+fma"))]
fn layer_norm_rows(rows: &mut [f32], width: usize, weight: &[f32], bias: &[f32], eps: f32) {
    for row in rows.chunks_exact_mut(width) {
        let mean = sum(row) / width as f32;
        row.iter_mut().for_each(|v| *v -= mean);
        let mut acc = [0f32; LANES];
        let chunks = row.chunks_exact(LANES);
        let tail: f32 = chunks.remainder().iter().map(|v| v * v).sum();
        for c in chunks {
            for (a, v) in acc.iter_mut().zip(c) {
                *a += v * v;
            }
        }
        let var = (acc.iter().sum::<f32>() + tail) / width as f32;
        let inv = 1.0 / (var + eps).sqrt();
        for ((v, w), b) in row.iter_mut().zip(weight).zip(bias) {
            *v = *v * inv * w + b;
        }
    }
}

/// RMSNorm of every `width`-wide row of `x` into `out`: `x / sqrt(mean(x²) + eps) · weight`.
pub fn rms_norm(x: &[f32], out: &mut [f32], width: usize, weight: &[f32], eps: f32) {
    assert!(weight.len() == width && x.len().is_multiple_of(width) && out.len() >= x.len(), "rms_norm: shapes");
    out[..x.len()]
        .par_chunks_mut(ROWS_PER_TASK * width)
        .zip(x.par_chunks(ROWS_PER_TASK * width))
        .for_each(|(out, x)| rms_norm_rows(x, out, width, weight, eps));
}

#[multiversion(targets("x86_64+avx512f+avx512bw+avx512vl+avx512dq", "x86_64+avx2+fma"))]
fn rms_norm_rows(x: &[f32], out: &mut [f32], width: usize, weight: &[f32], eps: f32) {
    for (row, dst) in x.chunks_exact(width).zip(out.chunks_exact_mut(width)) {
        let mut acc = [0f32; LANES];
        let chunks = row.chunks_exact(LANES);
        let tail: f32 = chunks.remainder().iter().map(|v| v * v).sum();
        for c in chunks {
            for (a, v) in acc.iter_mut().zip(c) {
                *a += v * v;
            }
        }
        let inv = 1.0 / ((acc.iter().sum::<f32>() + tail) / width as f32 + eps).sqrt();
        for ((d, v), w) in dst.iter_mut().zip(row).zip(weight) {
            *d = v * inv * w;
        }
    }
}

/// Rotary position embedding (the rotate-half layout of Llama and Qwen2) in place: `x` is `positions.len()` rows of
/// `heads` heads of `dim` values; every head of row `r` is rotated by the angles of position `positions[r]`, whose
/// `dim / 2` cosines and sines start at `positions[r] · dim / 2` in `cos` and `sin`.
pub fn rope(x: &mut [f32], heads: usize, dim: usize, positions: &[u32], cos: &[f32], sin: &[f32]) {
    let width = heads * dim;
    assert!(dim.is_multiple_of(2) && x.len() == positions.len() * width, "rope: shapes");
    x.par_chunks_mut(ROWS_PER_TASK * width)
        .zip(positions.par_chunks(ROWS_PER_TASK))
        .for_each(|(rows, positions)| rope_rows(rows, heads, dim, positions, cos, sin));
}

#[multiversion(targets("x86_64+avx512f+avx512bw+avx512vl+avx512dq", "x86_64+avx2+fma"))]
fn rope_rows(rows: &mut [f32], heads: usize, dim: usize, positions: &[u32], cos: &[f32], sin: &[f32]) {
    let half = dim / 2;
    for (row, &p) in rows.chunks_exact_mut(heads * dim).zip(positions) {
        let (c, s) = (&cos[p as usize * half..][..half], &sin[p as usize * half..][..half]);
        for head in row.chunks_exact_mut(dim) {
            let (a, b) = head.split_at_mut(half);
            for i in 0..half {
                let (x1, x2) = (a[i], b[i]);
                a[i] = x1 * c[i] - x2 * s[i];
                b[i] = x2 * c[i] + x1 * s[i];
            }
        }
    }
}

/// Softmax of one row in place.
#[multiversion(targets("x86_64+avx512f+avx512bw+avx512vl+avx512dq", "x86_64+avx2+fma"))]
pub fn softmax(row: &mut [f32]) {
    let mut acc = [f32::NEG_INFINITY; LANES];
    let chunks = row.chunks_exact(LANES);
    let tail = chunks.remainder().iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v));
    for c in chunks {
        for (a, &v) in acc.iter_mut().zip(c) {
            *a = a.max(v);
        }
    }
    let max = acc.iter().fold(tail, |m, &v| m.max(v));
    row.iter_mut().for_each(|v| *v = exp(*v - max));
    let inv = 1.0 / sum(row);
    row.iter_mut().for_each(|v| *v *= inv);
}

/// Adds `bias` to every `bias.len()`-wide row of `x`.
pub fn add_bias(x: &mut [f32], bias: &[f32]) {
    x.par_chunks_mut(ROWS_PER_TASK * bias.len()).for_each(|rows| {
        for row in rows.chunks_exact_mut(bias.len()) {
            row.iter_mut().zip(bias).for_each(|(v, b)| *v += b);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn silu_mul_matches_its_formula() {
        let g: Vec<f32> = (0..70_000).map(|i| (i as f32 - 35_000.0) / 1_000.0).collect();
        let u: Vec<f32> = (0..70_000).map(|i| (i % 7) as f32 - 3.0).collect();
        let mut y = g.clone();
        silu_mul(&mut y, &u);
        for i in 0..g.len() {
            let want = g[i] as f64 / (1.0 + (-(g[i] as f64)).exp()) * u[i] as f64;
            assert!(
                (y[i] as f64 - want).abs() < 1e-6 * (1.0 + want.abs()),
                "silu({}) · {}: {} vs {want}",
                g[i],
                u[i],
                y[i]
            );
        }
    }

    /// Through the dispatched (SIMD) loop, on more elements than one task takes.
    #[test]
    fn gelu_matches_the_erf_formula() {
        let x: Vec<f32> = (0..100_000).map(|i| (i as f32 - 50_000.0) / 5_000.0).collect();
        let mut y = x.clone();
        gelu(&mut y);
        for (&x, &y) in x.iter().zip(&y) {
            let want = 0.5 * x as f64 * (1.0 + libm::erf(x as f64 / std::f64::consts::SQRT_2));
            assert!((y as f64 - want).abs() < 1e-6 * (1.0 + want.abs()), "gelu({x}) = {y}, want {want}");
        }
    }

    #[test]
    fn layer_norm_and_softmax_match_naive_formulas() {
        let width = 37;
        let x: Vec<f32> = (0..width * 3).map(|i| ((i * 7919) % 101) as f32 / 13.0 - 3.0).collect();
        let w: Vec<f32> = (0..width).map(|i| 0.5 + i as f32 / 50.0).collect();
        let b: Vec<f32> = (0..width).map(|i| i as f32 / 100.0 - 0.2).collect();
        let mut y = x.clone();
        layer_norm(&mut y, width, &w, &b, 1e-12);
        for (row_x, row_y) in x.chunks(width).zip(y.chunks(width)) {
            let mean = row_x.iter().map(|&v| v as f64).sum::<f64>() / width as f64;
            let var = row_x.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / width as f64;
            for i in 0..width {
                let want = (row_x[i] as f64 - mean) / (var + 1e-12).sqrt() * w[i] as f64 + b[i] as f64;
                assert!((row_y[i] as f64 - want).abs() < 1e-5, "layer norm {i}: {} vs {want}", row_y[i]);
            }
        }
        let mut s = x[..width].to_vec();
        softmax(&mut s);
        let max = x[..width].iter().cloned().fold(f32::MIN, f32::max) as f64;
        let z: f64 = x[..width].iter().map(|&v| (v as f64 - max).exp()).sum();
        for i in 0..width {
            let want = (x[i] as f64 - max).exp() / z;
            assert!((s[i] as f64 - want).abs() < 1e-6, "softmax {i}: {} vs {want}", s[i]);
        }
    }

    #[test]
    fn rms_norm_and_rope_match_naive_formulas() {
        let (heads, dim) = (3, 8);
        let width = heads * dim;
        let rows = 70; // more than one task's rows
        let x: Vec<f32> = (0..width * rows).map(|i| ((i * 7919) % 101) as f32 / 13.0 - 3.0).collect();
        let w: Vec<f32> = (0..width).map(|i| 0.5 + i as f32 / 50.0).collect();
        let mut y = vec![0f32; x.len()];
        rms_norm(&x, &mut y, width, &w, 1e-6);
        for (row_x, row_y) in x.chunks(width).zip(y.chunks(width)) {
            let ms = row_x.iter().map(|&v| (v as f64).powi(2)).sum::<f64>() / width as f64;
            for i in 0..width {
                let want = row_x[i] as f64 / (ms + 1e-6).sqrt() * w[i] as f64;
                assert!((row_y[i] as f64 - want).abs() < 1e-5, "rms norm {i}: {} vs {want}", row_y[i]);
            }
        }
        let positions: Vec<u32> = (0..rows as u32).map(|r| (r * 37) % 50).collect();
        let half = dim / 2;
        let angle = |p: u32, i: usize| p as f64 / 10_000f64.powf((2 * i) as f64 / dim as f64);
        let cos: Vec<f32> = (0..50).flat_map(|p| (0..half).map(move |i| angle(p, i).cos() as f32)).collect();
        let sin: Vec<f32> = (0..50).flat_map(|p| (0..half).map(move |i| angle(p, i).sin() as f32)).collect();
        let mut r = x.clone();
        rope(&mut r, heads, dim, &positions, &cos, &sin);
        for (row, &p) in positions.iter().enumerate() {
            for h in 0..heads {
                let at = |j: usize| x[row * width + h * dim + j] as f64;
                for j in 0..dim {
                    // x · cos + rotate_half(x) · sin, rotate_half(x) = (−x₂, x₁).
                    let rotated = if j < half { -at(j + half) } else { at(j - half) };
                    let a = angle(p, j % half);
                    let want = at(j) * a.cos() + rotated * a.sin();
                    let got = r[row * width + h * dim + j] as f64;
                    assert!((got - want).abs() < 1e-5, "rope row {row} head {h} {j}: {got} vs {want}");
                }
            }
        }
    }
}
