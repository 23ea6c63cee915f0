//! The CPU encoder's inner loops: an integer matmul micro-kernel (int16 activations × int8 weights widened to
//! int16, exact int32 sums: WebAssembly's `i32x4.dot_i16x8_s` does 8 multiply-adds per instruction, twice what f32
//! SIMD does) and `y += a·x` in f32, each with a wasm SIMD (simd128) body in the browser build and a portable body
//! elsewhere. Integer sums are exact, so both bodies give bit-identical products.

/// Columns of a packed weight panel: two 4-lane vectors.
pub const NR: usize = 8;

/// Rows of the activation block one micro-kernel call covers (4 rows × 2 vectors = 8 accumulators, which fit
/// the 16 registers a wasm engine maps SIMD values to, with room for the operands).
pub const MR: usize = 4;

/// `out[r][j] = Σ_kp x[2kp]·w[j][2kp] + x[2kp+1]·w[j][2kp+1]` for the first `R` rows (`R ≤ MR`): each row holds
/// `kp` pairs of int16 activations (see [`pair`]); `panel` holds, per pair, the [`NR`] columns' two weights as
/// [`panel_group`] lays them out. The caller keeps every sum inside i32.
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
pub fn micro_kernel<const R: usize>(rows: [&[i32]; R], panel: &[[i16; 2 * NR]], pairs: usize) -> [[i32; NR]; R] {
    let mut acc = [[0i32; NR]; R];
    let rows = rows.map(|r| &r[..pairs]);
    for (kp, b) in panel.iter().take(pairs).enumerate() {
        let (even, odd) = b.split_at(NR);
        for r in 0..R {
            let (lo, hi) = (i32::from(rows[r][kp] as i16), rows[r][kp] >> 16);
            // Wrapping, as WebAssembly's i32x4 lanes are (sums never wrap: the caller bounds them), so that
            // debug builds' overflow checks do not keep LLVM from vectorising this loop.
            for j in 0..NR {
                let dot = lo.wrapping_mul(i32::from(even[j])).wrapping_add(hi.wrapping_mul(i32::from(odd[j])));
                acc[r][j] = acc[r][j].wrapping_add(dot);
            }
        }
    }
    acc
}

/// One pair's group of a weight panel from `w(j, e)`, the weight of column `j` for the pair's input `e` (0 or 1):
/// natively the 8 columns' first inputs then their second ones (a layout LLVM vectorises for the host).
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
pub fn panel_group(w: impl Fn(usize, usize) -> i16) -> [i16; 2 * NR] {
    std::array::from_fn(|i| w(i % NR, i / NR))
}

/// One pair's group of a weight panel from `w(j, e)`, the weight of column `j` for the pair's input `e` (0 or 1):
/// in the browser each column's two weights side by side, the operand layout of `i32x4.dot_i16x8_s`.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub fn panel_group(w: impl Fn(usize, usize) -> i16) -> [i16; 2 * NR] {
    std::array::from_fn(|i| w(i / 2, i % 2))
}

/// `out[r][j] = Σ_kp x[2kp]·w[j][2kp] + x[2kp+1]·w[j][2kp+1]` for the first `R` rows (`R ≤ MR`): each row holds
/// `kp` pairs of int16 activations (see [`pair`]); `panel` holds, per pair, the [`NR`] columns' two weights as
/// [`panel_group`] lays them out. The caller keeps every sum inside i32.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub fn micro_kernel<const R: usize>(rows: [&[i32]; R], panel: &[[i16; 2 * NR]], pairs: usize) -> [[i32; NR]; R] {
    use core::arch::wasm32::{i32x4_add, i32x4_dot_i16x8, i32x4_splat, v128};
    let zero = i32x4_splat(0);
    let (mut lo, mut hi) = ([zero; R], [zero; R]);
    let rows = rows.map(|r| &r[..pairs]);
    for (kp, b) in panel.iter().take(pairs).enumerate() {
        let halves: &[[i16; NR]; 2] = bytemuck::cast_ref(b);
        let (b0, b1): (v128, v128) = (bytemuck::cast(halves[0]), bytemuck::cast(halves[1]));
        for r in 0..R {
            let a = i32x4_splat(rows[r][kp]);
            lo[r] = i32x4_add(lo[r], i32x4_dot_i16x8(a, b0));
            hi[r] = i32x4_add(hi[r], i32x4_dot_i16x8(a, b1));
        }
    }
    std::array::from_fn(|r| {
        let (l, h): ([i32; 4], [i32; 4]) = (bytemuck::cast(lo[r]), bytemuck::cast(hi[r]));
        [l[0], l[1], l[2], l[3], h[0], h[1], h[2], h[3]]
    })
}

/// `y += a · x` (equal lengths).
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
pub fn axpy(a: f32, x: &[f32], y: &mut [f32]) {
    for (y, x) in y.iter_mut().zip(x) {
        *y += a * x;
    }
}

/// `y += a · x` (equal lengths).
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub fn axpy(a: f32, x: &[f32], y: &mut [f32]) {
    use core::arch::wasm32::{f32x4_add, f32x4_mul, f32x4_splat, v128};
    let av = f32x4_splat(a);
    let mut yc = y.chunks_exact_mut(4);
    let mut xc = x.chunks_exact(4);
    for (y4, x4) in (&mut yc).zip(&mut xc) {
        let xv: v128 = bytemuck::cast([x4[0], x4[1], x4[2], x4[3]]);
        let yv: v128 = bytemuck::cast([y4[0], y4[1], y4[2], y4[3]]);
        let r: [f32; 4] = bytemuck::cast(f32x4_add(yv, f32x4_mul(av, xv)));
        y4.copy_from_slice(&r);
    }
    for (y, x) in yc.into_remainder().iter_mut().zip(xc.remainder()) {
        *y += a * x;
    }
}

/// Two int16 values in one i32, `lo` in the low half (the layout `i32x4.dot_i16x8_s` pairs up).
pub fn pair(lo: i16, hi: i16) -> i32 {
    (u32::from(lo as u16) | (u32::from(hi as u16) << 16)) as i32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn micro_kernel_matches_naive_sums() {
        let pairs = 13;
        let x: Vec<Vec<i16>> =
            (0..3).map(|r| (0..2 * pairs + 4).map(|i| ((r * 7919 + i * 104_729) % 60_001) as i16).collect()).collect();
        let rows: Vec<Vec<i32>> = x.iter().map(|r| r.chunks_exact(2).map(|p| pair(p[0], p[1])).collect()).collect();
        let weight = |kp: usize, j: usize, e: usize| (((kp * 31 + j * 34 + e * 17) % 255) as i16) - 127;
        let w: Vec<[i16; 2 * NR]> = (0..pairs).map(|kp| panel_group(|j, e| weight(kp, j, e))).collect();
        let got = micro_kernel::<3>([&rows[0], &rows[1], &rows[2]], &w, pairs);
        for (r, got) in got.iter().enumerate() {
            for (j, &got) in got.iter().enumerate() {
                let want: i64 = (0..pairs)
                    .map(|kp| {
                        i64::from(x[r][2 * kp]) * i64::from(weight(kp, j, 0))
                            + i64::from(x[r][2 * kp + 1]) * i64::from(weight(kp, j, 1))
                    })
                    .sum();
                assert_eq!(i64::from(got), want, "row {r} col {j}");
            }
        }
    }

    #[test]
    fn pair_puts_the_first_value_in_the_low_half() {
        assert_eq!(pair(1, 2), 0x0002_0001);
        assert_eq!(pair(-1, 0), 0x0000_ffff);
        assert_eq!(pair(0, -1) as u32, 0xffff_0000);
    }

    #[test]
    fn axpy_adds_scaled_vectors_including_the_tail() {
        let x: Vec<f32> = (0..11).map(|i| i as f32).collect();
        let mut y = vec![1.0; 11];
        axpy(0.5, &x, &mut y);
        assert_eq!(y, (0..11).map(|i| 1.0 + 0.5 * i as f32).collect::<Vec<_>>());
    }
}
