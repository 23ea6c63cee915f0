//! Exact dense top-k over document rows that need not fit in memory: the rows come one block at a time from a
//! [`DocRows`] source (`.npy` files, or a slice), read on a second thread while the previous block is scored, and
//! pass through the same blocked products and candidate buffers as [`crate::dense::exact_top_k`]; the block sizes
//! follow from a memory budget ([`BlockPlan`]), so peak memory does not grow with the corpus.

use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use crate::dense::{CandidateBlock, DenseHit};
use crate::error::{Error, Result};

/// Document rows readable one block at a time, as f32.
pub trait DocRows: Send {
    /// How many rows.
    fn rows(&self) -> usize;
    /// Values per row.
    fn dim(&self) -> usize;
    /// Bytes per value of a block the source holds while reading it, beside the f32 block it fills (an f16
    /// file's raw bytes, say): what the memory budget counts for reading.
    fn scratch_bytes_per_value(&self) -> usize;
    /// Rows `start..start + count` into `out` (row-major, resized to `count × dim`).
    fn read_block(&mut self, start: usize, count: usize, out: &mut Vec<f32>) -> Result<()>;
}

/// Rows already in memory (row-major `rows × dim`).
#[derive(Debug, Clone, Copy)]
pub struct SliceRows<'a> {
    data: &'a [f32],
    dim: usize,
}

impl<'a> SliceRows<'a> {
    /// `data` as rows of `dim` values; `None` when `dim` is 0 or does not divide the length.
    pub fn new(data: &'a [f32], dim: usize) -> Option<Self> {
        (dim > 0 && data.len().is_multiple_of(dim)).then_some(SliceRows { data, dim })
    }
}

impl DocRows for SliceRows<'_> {
    fn rows(&self) -> usize {
        self.data.len() / self.dim
    }
    fn dim(&self) -> usize {
        self.dim
    }
    fn scratch_bytes_per_value(&self) -> usize {
        0
    }
    fn read_block(&mut self, start: usize, count: usize, out: &mut Vec<f32>) -> Result<()> {
        let rows = self
            .data
            .get(start * self.dim..(start + count) * self.dim)
            .ok_or_else(|| Error::Invalid(format!("rows {start}..{} asked of {} rows", start + count, self.rows())))?;
        out.clear();
        out.extend_from_slice(rows);
        Ok(())
    }
}

/// The most document rows one block holds: the in-memory search's block, large enough for the products to run at
/// full speed.
pub const MAX_DOC_BLOCK: usize = 16384;
/// The fewest document rows per block a budget must allow (fewer would spend the time in synchronisation).
pub const MIN_DOC_BLOCK: usize = 256;
/// Document blocks in memory at once: one being scored, one read ahead, one being read.
const BLOCKS_IN_FLIGHT: usize = 3;

/// Block sizes for a search under a memory budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockPlan {
    /// Queries scored per pass over the documents.
    pub query_block: usize,
    /// Document rows per block.
    pub doc_block: usize,
    /// Bytes the search holds at most with these blocks (queries, results, buffers, and what was reserved).
    pub peak_bytes: usize,
}

impl BlockPlan {
    /// The largest query block (fewest passes over the documents) whose buffers, with at least
    /// [`MIN_DOC_BLOCK`] document rows per block, fit in `budget` bytes beside `reserved` bytes the caller holds
    /// anyway (ids, say); an error saying what the smallest budget would be when none does.
    pub fn for_budget(
        n_docs: usize,
        n_queries: usize,
        dim: usize,
        k: usize,
        scratch_bytes_per_value: usize,
        budget: usize,
        reserved: usize,
    ) -> Result<BlockPlan> {
        let k = k.min(n_docs);
        let min_docs = MIN_DOC_BLOCK.min(n_docs.max(1));
        let mut qn = n_queries.max(1);
        loop {
            let fixed = Self::fixed_bytes(n_queries, dim, k).saturating_add(reserved);
            let per_doc = Self::per_doc_bytes(qn, dim, scratch_bytes_per_value).max(1);
            let per_query_block = CandidateBlock::bytes(qn, k, 0);
            let doc_block = budget.saturating_sub(fixed.saturating_add(per_query_block)) / per_doc;
            if doc_block >= min_docs {
                let doc_block = doc_block.min(MAX_DOC_BLOCK).min(n_docs.max(1));
                let peak_bytes = fixed + per_query_block + doc_block * per_doc;
                return Ok(BlockPlan { query_block: qn, doc_block, peak_bytes });
            }
            if qn == 1 {
                let least = fixed.saturating_add(per_query_block).saturating_add(min_docs.saturating_mul(per_doc));
                return Err(Error::Invalid(format!(
                    "a memory budget of {} is too small for {n_queries} queries of {dim} values and k = {k}: the \
                     queries, their results{} and one query's buffers need at least {}",
                    human_bytes(budget),
                    if reserved > 0 { format!(", {} held beside them", human_bytes(reserved)) } else { String::new() },
                    human_bytes(least)
                )));
            }
            qn = qn.div_ceil(2);
        }
    }

    /// What does not depend on the blocks: the queries as f32 and every query's hits.
    fn fixed_bytes(n_queries: usize, dim: usize, k: usize) -> usize {
        let hits = n_queries.saturating_mul(k).saturating_mul(std::mem::size_of::<DenseHit>());
        n_queries.saturating_mul(dim).saturating_mul(4).saturating_add(hits)
    }

    /// What one more document row per block costs: its f32 copies in flight, its scratch bytes while read, its
    /// scores and its candidate keys for `qn` queries.
    fn per_doc_bytes(qn: usize, dim: usize, scratch_bytes_per_value: usize) -> usize {
        let rows = dim.saturating_mul(BLOCKS_IN_FLIGHT * 4 + scratch_bytes_per_value);
        rows.saturating_add(qn.saturating_mul(4 + std::mem::size_of::<u64>()))
    }

    /// How many passes over the documents a search of `n_queries` makes.
    pub fn passes(&self, n_queries: usize) -> usize {
        n_queries.div_ceil(self.query_block)
    }
}

/// `n` bytes for people: `256 MiB`, `1.5 GiB`, `900 B`.
pub fn human_bytes(n: usize) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 { format!("{n} B") } else { format!("{:.1} {}", v, UNITS[u]).replace(".0 ", " ") }
}

/// The `k` highest-scoring document rows of `docs` for every query (score descending, then row ascending; equal to
/// [`crate::dense::exact_top_k`] over the same f32 rows), reading `docs` one block of `plan.doc_block` rows at a
/// time, once per block of `plan.query_block` queries. `on_block(rows)` is called after every scored block.
pub fn stream_top_k(
    docs: &mut dyn DocRows,
    queries: &[f32],
    k: usize,
    plan: BlockPlan,
    on_block: &(dyn Fn(usize) + Sync),
) -> Result<Vec<Vec<DenseHit>>> {
    let (n_docs, dim) = (docs.rows(), docs.dim());
    if dim == 0 || !queries.len().is_multiple_of(dim) {
        return Err(Error::Invalid(format!(
            "the queries hold {} values, which is not a whole number of rows of the documents' {dim}",
            queries.len()
        )));
    }
    if u32::try_from(n_docs).is_err() {
        return Err(Error::Invalid(format!("{n_docs} document rows: at most {} can be searched at once", u32::MAX)));
    }
    if plan.query_block == 0 || plan.doc_block == 0 {
        return Err(Error::Invalid("a search plan needs blocks of at least one query and one document".into()));
    }
    let n_q = queries.len() / dim;
    let k = k.min(n_docs);
    let mut results = Vec::with_capacity(n_q);
    let mut scores = vec![0f32; plan.query_block.min(n_q.max(1)) * plan.doc_block.min(n_docs.max(1))];
    for q0 in (0..n_q).step_by(plan.query_block) {
        let qn = plan.query_block.min(n_q - q0);
        let block_queries = &queries[q0 * dim..(q0 + qn) * dim];
        let mut cands = CandidateBlock::new(qn, k, plan.doc_block.min(n_docs));
        let (full_tx, full_rx) = sync_channel::<Result<(usize, Vec<f32>)>>(1);
        let (empty_tx, empty_rx) = sync_channel::<Vec<f32>>(BLOCKS_IN_FLIGHT);
        for _ in 0..BLOCKS_IN_FLIGHT - 1 {
            let _ = empty_tx.send(Vec::new());
        }
        std::thread::scope(|scope| -> Result<()> {
            let source: &mut dyn DocRows = &mut *docs;
            let reader = scope.spawn(move || read_blocks(source, plan.doc_block, full_tx, empty_rx));
            let mut outcome = Ok(());
            for block in full_rx.iter() {
                match block {
                    Ok((d0, rows)) => {
                        cands.add_doc_block(&mut scores, block_queries, &rows, d0, dim);
                        on_block(rows.len() / dim);
                        let _ = empty_tx.send(rows);
                    }
                    Err(e) => {
                        outcome = Err(e);
                        break;
                    }
                }
            }
            drop(empty_tx);
            drop(full_rx);
            let _ = reader.join();
            outcome
        })?;
        results.extend(cands.into_hits());
    }
    Ok(results)
}

/// The reading side of [`stream_top_k`]: fills recycled buffers with consecutive blocks until the rows end, the
/// scorer stops taking them, or a read fails (sent on as the last message).
fn read_blocks(
    docs: &mut dyn DocRows,
    doc_block: usize,
    full: SyncSender<Result<(usize, Vec<f32>)>>,
    empty: Receiver<Vec<f32>>,
) {
    let n_docs = docs.rows();
    for d0 in (0..n_docs).step_by(doc_block) {
        let Ok(mut buf) = empty.recv() else { return };
        let dn = doc_block.min(n_docs - d0);
        let message = docs.read_block(d0, dn, &mut buf).map(|()| (d0, buf));
        let failed = message.is_err();
        if full.send(message).is_err() || failed {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dense::exact_top_k;
    use proptest::prelude::*;

    /// Rows that fail to read from `fail_at` on, to check that a read error ends the search with that error.
    struct Failing<'a>(SliceRows<'a>, usize);

    impl DocRows for Failing<'_> {
        fn rows(&self) -> usize {
            self.0.rows()
        }
        fn dim(&self) -> usize {
            self.0.dim()
        }
        fn scratch_bytes_per_value(&self) -> usize {
            4
        }
        fn read_block(&mut self, start: usize, count: usize, out: &mut Vec<f32>) -> Result<()> {
            if start + count > self.1 {
                return Err(Error::Invalid(format!("cannot read row {start}")));
            }
            self.0.read_block(start, count, out)
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        /// Any blocks give the in-memory search's answer (itself checked against a naive sort in `dense`).
        #[test]
        fn equals_in_memory_top_k(n_docs in 1usize..60, n_q in 1usize..6, dim in 1usize..6, k in 0usize..70,
                                  qb in 1usize..7, db in 1usize..20, seed in any::<u64>()) {
            let mut s = seed;
            let mut next = || { s = s.wrapping_mul(6364136223846793005).wrapping_add(1); ((s >> 60) as i32 - 8) as f32 };
            let docs: Vec<f32> = (0..n_docs * dim).map(|_| next()).collect();
            let queries: Vec<f32> = (0..n_q * dim).map(|_| next()).collect();
            let want = exact_top_k(&docs, &queries, dim, k);
            let plan = BlockPlan { query_block: qb, doc_block: db, peak_bytes: 0 };
            let seen = std::sync::atomic::AtomicUsize::new(0);
            let got = stream_top_k(&mut SliceRows::new(&docs, dim).unwrap(), &queries, k, plan,
                                   &|n| { seen.fetch_add(n, std::sync::atomic::Ordering::Relaxed); }).unwrap();
            prop_assert_eq!(got, want);
            prop_assert_eq!(seen.into_inner(), n_docs * n_q.div_ceil(qb));
        }
    }

    #[test]
    fn a_read_error_ends_the_search_with_it() {
        let docs: Vec<f32> = (0..40).map(|i| i as f32).collect();
        let plan = BlockPlan { query_block: 1, doc_block: 3, peak_bytes: 0 };
        let err = stream_top_k(&mut Failing(SliceRows::new(&docs, 2).unwrap(), 10), &[1.0, 0.0], 5, plan, &|_| {})
            .unwrap_err();
        assert_eq!(err.to_string(), "cannot read row 9");
        let err = stream_top_k(&mut SliceRows::new(&docs, 2).unwrap(), &[1.0, 0.0, 3.0], 5, plan, &|_| {}).unwrap_err();
        assert!(err.to_string().contains("not a whole number of rows"), "{err}");
    }

    #[test]
    fn plans_fit_their_budget_and_refuse_one_too_small() {
        for &(n_docs, n_q, dim, k, scratch, budget) in &[
            (2_000_000usize, 500usize, 256usize, 100usize, 4usize, 256usize << 20),
            (8_841_823, 6980, 3584, 1000, 2, 4 << 30),
            (8_841_823, 6980, 3584, 1000, 2, 1 << 30),
            (100, 3, 8, 10, 4, 1 << 20),
        ] {
            let plan = BlockPlan::for_budget(n_docs, n_q, dim, k, scratch, budget, 0).unwrap();
            assert!(plan.peak_bytes <= budget, "{plan:?} over {budget}");
            assert!(plan.doc_block >= MIN_DOC_BLOCK.min(n_docs) && plan.doc_block <= MAX_DOC_BLOCK, "{plan:?}");
            assert!(plan.query_block >= 1 && plan.query_block <= n_q, "{plan:?}");
        }
        // MS MARCO dev at the 7B width in f16 (bench/results/README.md): one pass under 1 GiB, two under 256 MiB.
        let plan = BlockPlan::for_budget(8_841_823, 6980, 3584, 1000, 2, 1 << 30, 0).unwrap();
        assert_eq!((plan.query_block, plan.passes(6980)), (6980, 1), "{plan:?}");
        let plan = BlockPlan::for_budget(8_841_823, 6980, 3584, 1000, 2, 256 << 20, 0).unwrap();
        assert_eq!(plan.passes(6980), 2, "{plan:?}");
        // All 500 queries in one pass under 256 MiB: the corpus is read once.
        let plan = BlockPlan::for_budget(2_000_000, 500, 256, 100, 4, 256 << 20, 0).unwrap();
        assert_eq!(plan.query_block, 500);
        let err = BlockPlan::for_budget(1000, 6980, 3584, 1000, 2, 64 << 20, 0).unwrap_err().to_string();
        assert!(err.starts_with("a memory budget of 64 MiB is too small for 6980 queries"), "{err}");
        // Sizes no file could have are refused, not overflowed.
        assert!(BlockPlan::for_budget(usize::MAX, usize::MAX, usize::MAX, usize::MAX, 2, 1 << 30, usize::MAX).is_err());
        // What the caller reserves counts: a budget that fits alone does not fit beside it.
        let alone = BlockPlan::for_budget(10_000, 10, 64, 10, 0, 1 << 20, 0).unwrap();
        assert!(alone.peak_bytes <= 1 << 20);
        let err = BlockPlan::for_budget(10_000, 10, 64, 10, 0, 1 << 20, 1 << 20).unwrap_err().to_string();
        assert!(err.contains("1 MiB held beside them"), "{err}");
    }

    #[test]
    fn bytes_read_for_people() {
        assert_eq!(human_bytes(900), "900 B");
        assert_eq!(human_bytes(256 << 20), "256 MiB");
        assert_eq!(human_bytes(3 << 29), "1.5 GiB");
    }
}
