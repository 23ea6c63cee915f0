//! Length-sorted batching of token sequences, shared by every encoder backend (candle in native/, wgpu in wasm/):
//! longest inputs first, each batch capped by a sequence count and a token budget (batch size × longest
//! sequence), so padding stays small and memory bounded; each batch's rows are put back in input order by
//! [`scatter_rows`], the one loop every backend uses.

use std::ops::Range;

/// The input order (longest first) and the batches as ranges of that order.
pub fn length_sorted_batches(lens: &[usize], max_tokens: usize, max_seqs: usize) -> (Vec<usize>, Vec<Range<usize>>) {
    let mut order: Vec<usize> = (0..lens.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(lens[i]));
    let mut batches = Vec::new();
    let mut start = 0;
    while start < order.len() {
        let longest = lens[order[start]].max(1);
        let fit = (max_tokens / longest).clamp(1, max_seqs.max(1));
        let end = (start + fit).min(order.len());
        batches.push(start..end);
        start = end;
    }
    (order, batches)
}

/// Copies the `dim`-wide rows of one batch's output (`rows`, in batch order) to their inputs' places in `out`
/// (`inputs × dim`): row `r` belongs to input `indices[r]`.
pub fn scatter_rows(out: &mut [f32], dim: usize, indices: &[usize], rows: &[f32]) {
    assert_eq!(rows.len(), indices.len() * dim, "scatter_rows: a batch output of another size");
    for (row, &i) in rows.chunks_exact(dim).zip(indices) {
        out[i * dim..(i + 1) * dim].copy_from_slice(row);
    }
}

/// Runs `forward` on each length-sorted batch of `inputs` (token sequences) and returns the rows (`dim` floats
/// each) in input order, with the number of tokens processed.
pub fn encode_in_batches<T, E>(
    inputs: &[Vec<T>],
    dim: usize,
    max_tokens: usize,
    max_seqs: usize,
    mut forward: impl FnMut(&[&Vec<T>]) -> Result<Vec<f32>, E>,
) -> Result<(Vec<f32>, u64), E> {
    let lens: Vec<usize> = inputs.iter().map(Vec::len).collect();
    let (order, batches) = length_sorted_batches(&lens, max_tokens, max_seqs);
    let mut out = vec![0f32; inputs.len() * dim];
    for range in batches {
        let indices = &order[range];
        let batch: Vec<&Vec<T>> = indices.iter().map(|&i| &inputs[i]).collect();
        scatter_rows(&mut out, dim, indices, &forward(&batch)?);
    }
    Ok((out, lens.iter().map(|&n| n as u64).sum()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_respect_both_caps_and_cover_every_input_once() {
        let lens = [5, 100, 30, 30, 7, 100, 1];
        let (order, batches) = length_sorted_batches(&lens, 120, 3);
        assert_eq!(order[..2], [1, 5]);
        let mut seen: Vec<usize> = batches.iter().flat_map(|r| order[r.clone()].to_vec()).collect();
        seen.sort();
        assert_eq!(seen, (0..lens.len()).collect::<Vec<_>>());
        for r in &batches {
            let longest = order[r.clone()].iter().map(|&i| lens[i]).max().unwrap();
            assert!(r.len() <= 3 && (r.len() == 1 || r.len() * longest <= 120), "{r:?}");
        }
    }

    #[test]
    fn batched_rows_come_back_in_input_order() {
        let inputs: Vec<Vec<u8>> = vec![vec![1], vec![1, 2, 3], vec![1, 2], vec![9; 5]];
        let (out, tokens) = encode_in_batches(&inputs, 2, 6, 2, |batch| {
            Ok::<_, ()>(batch.iter().flat_map(|s| [s.len() as f32, f32::from(s[0])]).collect())
        })
        .unwrap();
        assert_eq!(out, [1.0, 1.0, 3.0, 1.0, 2.0, 1.0, 5.0, 9.0]);
        assert_eq!(tokens, 11);
    }
}
