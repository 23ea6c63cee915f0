//! Encoding in length-sorted batches (`drbench_harness::batching`), rows scattered back into input order.

use drbench_harness::batching::length_sorted_batches;

/// Runs `forward` on each length-sorted batch of `inputs` and scatters the rows (`dim` floats each) back into
/// input order. Returns the embeddings and the number of tokens processed.
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
    let mut tokens = 0u64;
    for range in batches {
        let batch: Vec<&Vec<T>> = order[range.clone()].iter().map(|&i| &inputs[i]).collect();
        let emb = forward(&batch)?;
        for (row, &i) in order[range].iter().enumerate() {
            out[i * dim..(i + 1) * dim].copy_from_slice(&emb[row * dim..(row + 1) * dim]);
            tokens += lens[i] as u64;
        }
    }
    Ok((out, tokens))
}
