//! Length-sorted batching of token sequences, shared by every encoder backend (candle in native/, wgpu in wasm/):
//! longest inputs first, each batch capped by a sequence count and a token budget (batch size × longest
//! sequence), so padding stays small and memory bounded.

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
}
