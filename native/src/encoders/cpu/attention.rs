//! Scaled dot-product attention of packed sequences: each sequence attends to its own rows only (no padding, no
//! mask tensor), head by head, bidirectional (BERT) or causal (decoders), with grouped-query heads (several query
//! heads reading one key/value head, as in Qwen2).

use std::cell::RefCell;

use drbench_harness::matmul::{MatView, Threads, matmul};
use rayon::prelude::*;

use super::ops;

/// The head layout of an attention layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Heads {
    /// Query heads.
    pub query: usize,
    /// Key/value heads (a divisor of `query`; query head `h` reads key/value head `h / (query / kv)`).
    pub kv: usize,
    /// Width of one head.
    pub dim: usize,
    /// Whether a token sees only itself and the tokens before it.
    pub causal: bool,
}

thread_local! {
    /// One sequence's attention scores for one head, per rayon thread.
    static SCORES: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
}

/// `context = softmax(q·kᵀ/√d [+ causal mask]) · v` for every sequence and head. `q` is `tokens × query·dim`,
/// `k` and `v` are `tokens × kv·dim` (any row strides); `offsets` are the sequences' first rows followed by the
/// total (`[0, len₀, len₀ + len₁, …]`); `context` is row-major `tokens × query·dim`.
pub fn attention(q: MatView<'_>, k: MatView<'_>, v: MatView<'_>, offsets: &[usize], heads: Heads, context: &mut [f32]) {
    let d = heads.dim;
    let width = heads.query * d;
    assert!(
        heads.kv > 0 && heads.query.is_multiple_of(heads.kv),
        "attention: {} query heads, {} kv",
        heads.query,
        heads.kv
    );
    let tokens = *offsets.last().expect("attention: offsets");
    assert!(q.cols == width && k.cols == heads.kv * d && v.cols == heads.kv * d, "attention: widths");
    assert!(q.rows == tokens && k.rows == tokens && v.rows == tokens, "attention: rows");
    let group = heads.query / heads.kv;
    let scale = 1.0 / (d as f32).sqrt();
    // Split `context` into each sequence's rows, then work on sequences in parallel.
    let mut parts = Vec::with_capacity(offsets.len().saturating_sub(1));
    let mut rest = &mut context[..tokens * width];
    for w in offsets.windows(2) {
        let (part, tail) = rest.split_at_mut((w[1] - w[0]) * width);
        parts.push((w[0], part));
        rest = tail;
    }
    parts.into_par_iter().for_each(|(start, out)| {
        let len = out.len() / width;
        let (q, k, v) = (q.rows(start, len), k.rows(start, len), v.rows(start, len));
        SCORES.with_borrow_mut(|scores| {
            scores.resize(len * len, 0.0);
            let scores = &mut scores[..len * len];
            for head in 0..heads.query {
                let kv = head / group;
                let kh = k.columns(kv * d, d);
                matmul(scores, len, q.columns(head * d, d), kh.t(), scale, false, Threads::One);
                for (i, row) in scores.chunks_exact_mut(len).enumerate() {
                    if heads.causal {
                        ops::softmax(&mut row[..=i]);
                        row[i + 1..].fill(0.0);
                    } else {
                        ops::softmax(row);
                    }
                }
                let probs = MatView::row_major(scores, len, len);
                matmul(&mut out[head * d..], width, probs, v.columns(kv * d, d), 1.0, false, Threads::One);
            }
        });
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filled(n: usize, seed: u32) -> Vec<f32> {
        (0..n)
            .map(|i| (((i as u32).wrapping_mul(2_654_435_761).wrapping_add(seed) >> 8) % 1000) as f32 / 250.0 - 2.0)
            .collect()
    }

    /// The textbook formula in f64, one sequence, head and query row at a time.
    fn naive(q: &[f32], k: &[f32], v: &[f32], offsets: &[usize], h: Heads) -> Vec<f32> {
        let (qw, kw) = (h.query * h.dim, h.kv * h.dim);
        let mut out = vec![0f32; q.len()];
        for w in offsets.windows(2) {
            for head in 0..h.query {
                let kv = head / (h.query / h.kv);
                for i in w[0]..w[1] {
                    let keys: Vec<usize> = (w[0]..w[1]).filter(|&j| !h.causal || j <= i).collect();
                    let s: Vec<f64> = keys
                        .iter()
                        .map(|&j| {
                            (0..h.dim)
                                .map(|c| q[i * qw + head * h.dim + c] as f64 * k[j * kw + kv * h.dim + c] as f64)
                                .sum::<f64>()
                                / (h.dim as f64).sqrt()
                        })
                        .collect();
                    let max = s.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                    let e: Vec<f64> = s.iter().map(|x| (x - max).exp()).collect();
                    let total: f64 = e.iter().sum();
                    for c in 0..h.dim {
                        let y: f64 =
                            keys.iter().zip(&e).map(|(&j, p)| p / total * v[j * kw + kv * h.dim + c] as f64).sum();
                        out[i * qw + head * h.dim + c] = y as f32;
                    }
                }
            }
        }
        out
    }

    #[test]
    fn packed_attention_matches_the_formula() {
        let offsets = [0, 1, 6, 13, 21];
        let tokens = 21;
        for heads in [
            Heads { query: 4, kv: 4, dim: 8, causal: false },
            Heads { query: 6, kv: 2, dim: 8, causal: true },
            Heads { query: 3, kv: 1, dim: 5, causal: true },
        ] {
            let (qw, kw) = (heads.query * heads.dim, heads.kv * heads.dim);
            // q, k and v side by side in one buffer (as BERT's stacked projection writes them).
            let stacked = filled(tokens * (qw + 2 * kw), 7);
            let all = MatView::row_major(&stacked, tokens, qw + 2 * kw);
            let (q, k, v) = (all.columns(0, qw), all.columns(qw, kw), all.columns(qw + kw, kw));
            let dense = |m: MatView<'_>| -> Vec<f32> {
                (0..m.rows).flat_map(|i| (0..m.cols).map(move |j| m.data[i * m.row_stride + j])).collect()
            };
            let want = naive(&dense(q), &dense(k), &dense(v), &offsets, heads);
            let mut got = vec![f32::NAN; tokens * qw];
            attention(q, k, v, &offsets, heads, &mut got);
            for (i, (g, w)) in got.iter().zip(&want).enumerate() {
                assert!((g - w).abs() < 1e-5, "{heads:?} element {i}: {g} vs {w}");
            }
        }
    }
}
