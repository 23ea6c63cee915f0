//! One safe door to the `gemm` crate's f32 matrix product: strided views checked against their slices, so search
//! (query × document blocks) and the native CPU encoder (packed token rows × weights, attention per head) share a
//! single `unsafe` call.

/// A matrix inside a slice: element `(i, j)` is `data[i * row_stride + j * col_stride]`. A transposed view of a
/// row-major matrix swaps the strides.
#[derive(Debug, Clone, Copy)]
pub struct MatView<'a> {
    /// The storage.
    pub data: &'a [f32],
    /// Rows.
    pub rows: usize,
    /// Columns.
    pub cols: usize,
    /// Distance between rows, in elements.
    pub row_stride: usize,
    /// Distance between columns, in elements.
    pub col_stride: usize,
}

impl<'a> MatView<'a> {
    /// A row-major `rows × cols` matrix.
    pub fn row_major(data: &'a [f32], rows: usize, cols: usize) -> Self {
        MatView { data, rows, cols, row_stride: cols, col_stride: 1 }
    }

    /// The transpose (no copy).
    pub fn t(self) -> Self {
        MatView {
            data: self.data,
            rows: self.cols,
            cols: self.rows,
            row_stride: self.col_stride,
            col_stride: self.row_stride,
        }
    }

    /// Columns `from..from + cols` of every row.
    pub fn columns(self, from: usize, cols: usize) -> Self {
        assert!(from + cols <= self.cols, "columns {from}..{} of a {}-column view", from + cols, self.cols);
        let start = (from * self.col_stride).min(self.data.len());
        MatView { data: &self.data[start..], cols, ..self }
    }

    /// Rows `from..from + rows`.
    pub fn rows(self, from: usize, rows: usize) -> Self {
        assert!(from + rows <= self.rows, "rows {from}..{} of a {}-row view", from + rows, self.rows);
        let start = (from * self.row_stride).min(self.data.len());
        MatView { data: &self.data[start..], rows, ..self }
    }

    /// Whether every element lies inside `data`.
    fn in_bounds(&self) -> bool {
        self.rows == 0
            || self.cols == 0
            || (self.rows - 1) * self.row_stride + (self.cols - 1) * self.col_stride < self.data.len()
    }
}

/// How a product is spread over threads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Threads {
    /// Rayon's pool (all its threads).
    Pool,
    /// The calling thread only (for products already inside a parallel loop).
    One,
}

/// `dst = scale · lhs · rhs`, or `dst += scale · lhs · rhs` with `accumulate`. `dst` is `lhs.rows × rhs.cols` with
/// unit column stride and row stride `dst_row_stride`. Panics if a view reaches outside its slice or the shapes
/// disagree.
#[allow(unsafe_code)]
pub fn matmul(
    dst: &mut [f32],
    dst_row_stride: usize,
    lhs: MatView<'_>,
    rhs: MatView<'_>,
    scale: f32,
    accumulate: bool,
    threads: Threads,
) {
    let (m, k, n) = (lhs.rows, lhs.cols, rhs.cols);
    assert_eq!(rhs.rows, k, "matmul: lhs is {m}×{k}, rhs is {}×{n}", rhs.rows);
    assert!(lhs.in_bounds() && rhs.in_bounds(), "matmul: a view reaches outside its slice");
    assert!(m == 0 || n == 0 || (m - 1) * dst_row_stride + n <= dst.len(), "matmul: dst too small for {m}×{n}");
    assert!(n <= dst_row_stride || m <= 1, "matmul: dst rows overlap");
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            dst.chunks_mut(dst_row_stride).take(m).for_each(|r| r[..n].fill(0.0));
        }
        return;
    }
    let parallelism = match threads {
        Threads::Pool => gemm::Parallelism::Rayon(0),
        Threads::One => gemm::Parallelism::None,
    };
    // SAFETY: the asserts above keep every element gemm reads or writes inside its slice: (i, j) of lhs is at
    // i·row_stride + j·col_stride ≤ the last element checked by `in_bounds`, the same for rhs, and dst's (i, j) is
    // at i·dst_row_stride + j < dst.len(). dst is borrowed mutably and so cannot overlap lhs or rhs; distinct dst
    // elements have distinct offsets (n ≤ dst_row_stride).
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            dst_row_stride as isize,
            accumulate,
            lhs.data.as_ptr(),
            lhs.col_stride as isize,
            lhs.row_stride as isize,
            rhs.data.as_ptr(),
            rhs.col_stride as isize,
            rhs.row_stride as isize,
            1.0f32,
            scale,
            false,
            false,
            false,
            parallelism,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(lhs: MatView<'_>, rhs: MatView<'_>) -> Vec<f32> {
        let mut out = vec![0f32; lhs.rows * rhs.cols];
        for i in 0..lhs.rows {
            for j in 0..rhs.cols {
                let mut s = 0f64;
                for p in 0..lhs.cols {
                    s += lhs.data[i * lhs.row_stride + p * lhs.col_stride] as f64
                        * rhs.data[p * rhs.row_stride + j * rhs.col_stride] as f64;
                }
                out[i * rhs.cols + j] = s as f32;
            }
        }
        out
    }

    fn filled(n: usize, seed: u32) -> Vec<f32> {
        (0..n)
            .map(|i| (((i as u32).wrapping_mul(2_654_435_761).wrapping_add(seed) >> 8) % 1000) as f32 / 500.0 - 1.0)
            .collect()
    }

    #[test]
    fn strided_views_match_a_naive_product() {
        // lhs: columns 5..12 of a 9×20 matrix; rhs: the transpose of a 6×7 row-major matrix; dst row stride 10.
        let a = filled(9 * 20, 1);
        let b = filled(6 * 7, 2);
        let lhs = MatView::row_major(&a, 9, 20).columns(5, 7);
        let rhs = MatView::row_major(&b, 6, 7).t();
        for threads in [Threads::Pool, Threads::One] {
            let mut dst = vec![1f32; 9 * 10];
            matmul(&mut dst, 10, lhs, rhs, 0.5, true, threads);
            let want = naive(lhs, rhs);
            for i in 0..9 {
                for j in 0..10 {
                    let got = dst[i * 10 + j];
                    let expect = if j < 6 { 1.0 + 0.5 * want[i * 6 + j] } else { 1.0 };
                    assert!((got - expect).abs() < 1e-5, "({i},{j}): {got} vs {expect}");
                }
            }
        }
    }

    #[test]
    fn a_row_range_is_those_rows_of_the_product() {
        let (a, b) = (filled(9 * 20, 3), filled(7 * 5, 4));
        let whole = MatView::row_major(&a, 9, 20).columns(5, 7);
        let rhs = MatView::row_major(&b, 7, 5);
        let mut dst = vec![0f32; 4 * 5];
        matmul(&mut dst, 5, whole.rows(3, 4), rhs, 1.0, false, Threads::One);
        let want = naive(whole, rhs);
        for (got, want) in dst.iter().zip(&want[3 * 5..7 * 5]) {
            assert!((got - want).abs() < 1e-5, "{got} vs {want}");
        }
    }

    #[test]
    #[should_panic(expected = "outside its slice")]
    fn a_view_past_its_slice_is_refused() {
        let a = vec![0f32; 10];
        let view = MatView { data: &a, rows: 3, cols: 4, row_stride: 4, col_stride: 1 };
        let mut dst = vec![0f32; 9];
        matmul(&mut dst, 3, view, MatView::row_major(&a, 4, 2), 1.0, false, Threads::One);
    }
}
