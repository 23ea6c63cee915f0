//! Exact dense top-k search: blocked matrix products (the `gemm` crate, multi-threaded) over query and document
//! blocks, and a per-query candidate buffer of packed u64 keys (score order, then doc) pruned with
//! `select_nth_unstable`. Scores are dot products (cosine for L2-normalised vectors).

use rayon::prelude::*;

use crate::data::{Run, ScoredDoc};
use crate::matmul::{MatView, Threads, matmul};

/// One hit of a dense search.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DenseHit {
    /// Document row.
    pub doc: u32,
    /// Dot product.
    pub score: f32,
}

const QUERY_BLOCK: usize = 512;
const DOC_BLOCK: usize = 16384;

/// Maps a float to a u32 whose unsigned order is the float's order (`-0.0` counts as `0.0`).
#[inline]
fn ordered_bits(x: f32) -> u32 {
    let b = if x == 0.0 { 0 } else { x.to_bits() };
    if b & 0x8000_0000 != 0 { !b } else { b | 0x8000_0000 }
}

#[inline]
fn from_ordered_bits(o: u32) -> f32 {
    f32::from_bits(if o & 0x8000_0000 != 0 { o & 0x7fff_ffff } else { !o })
}

/// `dst (m×n) = lhs (m×k) · rhsᵀ` where `rhs` is `n×k`, all row-major.
fn matmul_transposed(dst: &mut [f32], lhs: &[f32], rhs: &[f32], m: usize, n: usize, k: usize) {
    let lhs = MatView::row_major(&lhs[..m * k], m, k);
    let rhs = MatView::row_major(&rhs[..n * k], n, k).t();
    matmul(dst, n, lhs, rhs, 1.0, false, Threads::Pool);
}

/// The `k` highest-scoring documents for every query (score descending, then doc ascending).
/// `docs` is `n_docs × dim`, `queries` is `n_queries × dim`, both row-major.
pub fn exact_top_k(docs: &[f32], queries: &[f32], dim: usize, k: usize) -> Vec<Vec<DenseHit>> {
    top_k_blocked(docs, queries, dim, k, QUERY_BLOCK, DOC_BLOCK)
}

/// The run of `hits` (one list per query, in `query_ids` order): document rows named by `doc_id`, at most `k`
/// per query, a hit whose id equals its query's dropped first when `remove_query_self` (ArguAna, Quora: search
/// `k + 1` then).
pub fn hits_to_run<'a>(
    hits: &[Vec<DenseHit>],
    query_ids: &[&str],
    doc_id: impl Fn(u32) -> &'a str,
    k: usize,
    remove_query_self: bool,
) -> Run {
    let mut run = Run::new();
    for (qid, qh) in query_ids.iter().zip(hits) {
        let docs: Vec<ScoredDoc> = qh
            .iter()
            .map(|h| (doc_id(h.doc), h.score))
            .filter(|(d, _)| !(remove_query_self && d == qid))
            .take(k)
            .map(|(d, score)| ScoredDoc { docid: d.to_string(), score: f64::from(score) })
            .collect();
        run.insert_query(*qid, docs);
    }
    run
}

fn top_k_blocked(
    docs: &[f32],
    queries: &[f32],
    dim: usize,
    k: usize,
    query_block: usize,
    doc_block: usize,
) -> Vec<Vec<DenseHit>> {
    assert!(
        dim > 0 && docs.len().is_multiple_of(dim) && queries.len().is_multiple_of(dim),
        "vectors must be multiples of dim"
    );
    let (n_docs, n_q) = (docs.len() / dim, queries.len() / dim);
    let mut results: Vec<Vec<DenseHit>> = Vec::with_capacity(n_q);
    let mut scores = vec![0f32; query_block.min(n_q.max(1)) * doc_block.min(n_docs.max(1))];
    for q0 in (0..n_q).step_by(query_block) {
        let qn = query_block.min(n_q - q0);
        let block_queries = &queries[q0 * dim..(q0 + qn) * dim];
        let mut cands = CandidateBlock::new(qn, k.min(n_docs), doc_block.min(n_docs));
        for d0 in (0..n_docs).step_by(doc_block) {
            let dn = doc_block.min(n_docs - d0);
            cands.add_doc_block(&mut scores, block_queries, &docs[d0 * dim..(d0 + dn) * dim], d0, dim);
        }
        results.extend(cands.into_hits());
    }
    results
}

/// The candidates of one block of queries while document blocks pass by: per query, packed keys (score order in
/// the high half, document row in the low half, so the smaller key is the better hit) and, once pruned, the k-th
/// best key (nothing worse can enter the top k). What the in-memory and the streaming search share.
pub(crate) struct CandidateBlock {
    k: usize,
    cands: Vec<(Vec<u64>, Option<u64>)>,
}

impl CandidateBlock {
    /// Buffers for `queries` queries keeping `k` hits each, fed document blocks of at most `doc_block` rows.
    pub(crate) fn new(queries: usize, k: usize, doc_block: usize) -> Self {
        let cands = (0..queries).map(|_| (Vec::with_capacity(2 * k.max(1) + doc_block), None)).collect();
        CandidateBlock { k, cands }
    }

    /// Bytes these buffers take at most for `queries` queries, `k` hits and blocks of `doc_block` rows.
    pub(crate) fn bytes(queries: usize, k: usize, doc_block: usize) -> usize {
        let keys = k.max(1).saturating_mul(2).saturating_add(doc_block);
        queries.saturating_mul(keys).saturating_mul(std::mem::size_of::<u64>())
    }

    /// Scores the block's queries (`qn × dim`) against `block` (rows `d0..`, `dn × dim`) into `scores` and keeps the
    /// candidates.
    pub(crate) fn add_doc_block(&mut self, scores: &mut [f32], queries: &[f32], block: &[f32], d0: usize, dim: usize) {
        let (qn, dn) = (self.cands.len(), block.len() / dim);
        if dn == 0 {
            return;
        }
        matmul_transposed(scores, queries, block, qn, dn, dim);
        let k = self.k.max(1);
        self.cands.par_iter_mut().enumerate().for_each(|(qi, (c, floor))| {
            let row = &scores[qi * dn..(qi + 1) * dn];
            for (j, &s) in row.iter().enumerate() {
                let key = (u64::from(!ordered_bits(s)) << 32) | (d0 + j) as u64;
                if floor.is_none_or(|f| key < f) {
                    c.push(key);
                }
            }
            if c.len() > 2 * k {
                c.select_nth_unstable(k - 1);
                c.truncate(k);
                *floor = c.iter().max().copied();
            }
        });
    }

    /// Each query's top k, best first.
    pub(crate) fn into_hits(self) -> Vec<Vec<DenseHit>> {
        let k = self.k;
        self.cands
            .into_iter()
            .map(|(mut c, _)| {
                c.sort_unstable();
                c.truncate(k);
                c.into_iter()
                    .map(|key| DenseHit {
                        doc: (key & 0xffff_ffff) as u32,
                        score: from_ordered_bits(!((key >> 32) as u32)),
                    })
                    .collect()
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn naive(docs: &[f32], queries: &[f32], dim: usize, k: usize) -> Vec<Vec<DenseHit>> {
        queries
            .chunks(dim)
            .map(|q| {
                let mut all: Vec<DenseHit> = docs
                    .chunks(dim)
                    .enumerate()
                    .map(|(i, d)| DenseHit { doc: i as u32, score: q.iter().zip(d).map(|(a, b)| a * b).sum() })
                    .collect();
                all.sort_by(|a, b| b.score.partial_cmp(&a.score).unwrap().then(a.doc.cmp(&b.doc)));
                all.iter_mut().for_each(|h| h.score += 0.0); // -0.0 → 0.0, as the search reports it
                all.truncate(k);
                all
            })
            .collect()
    }

    #[test]
    fn ordered_bits_round_trip_and_order() {
        let xs = [-3.5f32, 0.0, 1e-30, 2.0, f32::MAX, f32::MIN];
        for &x in &xs {
            assert_eq!(from_ordered_bits(ordered_bits(x)).to_bits(), x.to_bits());
        }
        assert_eq!(ordered_bits(-0.0), ordered_bits(0.0));
        assert!(ordered_bits(-1.0) < ordered_bits(0.5) && ordered_bits(0.5) < ordered_bits(2.0));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        /// Equal to a naive full sort; small integer-valued vectors make exact ties common.
        #[test]
        fn equals_naive_top_k(n_docs in 1usize..40, n_q in 1usize..5, dim in 1usize..6, k in 0usize..45,
                              seed in any::<u64>()) {
            let mut s = seed;
            let mut next = || { s = s.wrapping_mul(6364136223846793005).wrapping_add(1); ((s >> 60) as i32 - 8) as f32 };
            let docs: Vec<f32> = (0..n_docs * dim).map(|_| next()).collect();
            let queries: Vec<f32> = (0..n_q * dim).map(|_| next()).collect();
            let want = naive(&docs, &queries, dim, k);
            prop_assert_eq!(&exact_top_k(&docs, &queries, dim, k), &want);
            // Small blocks: several query and document blocks, pruning across blocks.
            prop_assert_eq!(&top_k_blocked(&docs, &queries, dim, k, 2, 3), &want);
        }
    }
}
