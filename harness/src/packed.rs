//! A batch of token-id sequences packed row after row without padding (ids + sequence offsets), validated
//! before any activation is allocated: what every packed forward takes (BERT natively and in the browser,
//! Qwen2 natively).

use std::ops::Range;

/// Why a batch cannot be encoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BatchError {
    /// No sequences.
    #[error("an empty batch")]
    Empty,
    /// A sequence without tokens.
    #[error("sequence {0} has no tokens")]
    EmptySequence(usize),
    /// A sequence longer than the model takes.
    #[error("sequence {index} has {len} tokens, more than the model's {max}")]
    TooLong {
        /// Which sequence.
        index: usize,
        /// Its tokens.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A token id past the vocabulary.
    #[error("token id {id} is outside the vocabulary ({vocab})")]
    UnknownToken {
        /// The id.
        id: u32,
        /// Vocabulary size.
        vocab: usize,
    },
}

/// Token ids of several sequences, back to back, with `offsets[i]..offsets[i + 1]` the rows of sequence `i`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackedBatch {
    ids: Vec<u32>,
    offsets: Vec<usize>,
}

impl PackedBatch {
    /// Packs `seqs`, each 1 to `max_len` tokens with ids below `vocab`.
    pub fn new<S: AsRef<[u32]>>(seqs: &[S], max_len: usize, vocab: usize) -> Result<PackedBatch, BatchError> {
        if seqs.is_empty() {
            return Err(BatchError::Empty);
        }
        for (index, s) in seqs.iter().enumerate() {
            let s = s.as_ref();
            if s.is_empty() {
                return Err(BatchError::EmptySequence(index));
            }
            if s.len() > max_len {
                return Err(BatchError::TooLong { index, len: s.len(), max: max_len });
            }
            if let Some(&id) = s.iter().find(|&&id| id as usize >= vocab) {
                return Err(BatchError::UnknownToken { id, vocab });
            }
        }
        let mut offsets = Vec::with_capacity(seqs.len() + 1);
        offsets.push(0);
        let mut ids = Vec::with_capacity(seqs.iter().map(|s| s.as_ref().len()).sum());
        for s in seqs {
            ids.extend_from_slice(s.as_ref());
            offsets.push(ids.len());
        }
        Ok(PackedBatch { ids, offsets })
    }

    /// Sequences in the batch.
    pub fn len(&self) -> usize {
        self.offsets.len() - 1
    }

    /// Always false: a batch holds at least one sequence.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Tokens in the batch (rows of the packed activations).
    pub fn rows(&self) -> usize {
        self.ids.len()
    }

    /// Every token id, sequence after sequence.
    pub fn ids(&self) -> &[u32] {
        &self.ids
    }

    /// Row offsets: `len() + 1` values from 0 to `rows()`.
    pub fn offsets(&self) -> &[usize] {
        &self.offsets
    }

    /// The rows of each sequence.
    pub fn ranges(&self) -> impl ExactSizeIterator<Item = Range<usize>> + '_ {
        self.offsets.windows(2).map(|w| w[0]..w[1])
    }

    /// Each sequence's tokens with their positions (0, 1, …) and packed row.
    pub fn tokens(&self) -> impl Iterator<Item = (usize, usize, u32)> + '_ {
        self.ranges().flat_map(move |r| r.clone().map(move |row| (row, row - r.start, self.ids[row])))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packs_and_refuses_what_no_forward_can_take() {
        let b = PackedBatch::new(&[vec![5u32, 6, 7], vec![8]], 3, 9).unwrap();
        assert_eq!((b.len(), b.rows(), b.offsets()), (2, 4, &[0, 3, 4][..]));
        assert_eq!(b.tokens().collect::<Vec<_>>(), [(0, 0, 5), (1, 1, 6), (2, 2, 7), (3, 0, 8)]);
        let cases: [(&[Vec<u32>], BatchError); 4] = [
            (&[], BatchError::Empty),
            (&[vec![1], vec![]], BatchError::EmptySequence(1)),
            (&[vec![1; 4]], BatchError::TooLong { index: 0, len: 4, max: 3 }),
            (&[vec![1, 9]], BatchError::UnknownToken { id: 9, vocab: 9 }),
        ];
        for (seqs, want) in cases {
            assert_eq!(PackedBatch::new(seqs, 3, 9).unwrap_err(), want);
        }
    }
}
