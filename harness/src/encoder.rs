//! The interface every dense backend implements (candle on CPU/CUDA, wgpu): texts in, one vector per text out.
//! Everything downstream — caching, search, metrics, reports — is shared and backend-agnostic.

/// Whether a text is a query or a passage (prompts and prefixes differ).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// A search query.
    Query,
    /// A corpus passage (title + " " + text).
    Passage,
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Role::Query => "query",
            Role::Passage => "passage",
        })
    }
}

/// An error from a backend (boxed: each backend has its own error type).
pub type EncodeError = Box<dyn std::error::Error + Send + Sync>;

/// A text encoder: a batch of texts → one embedding per text, in input order.
pub trait Encoder {
    /// A stable description of the model and settings (used in cache keys and reports).
    fn signature(&self) -> String;
    /// The signature an earlier drbench gave the same model and settings, so that its embedding cache is found
    /// and adopted (see `embed_cache`); None when there is none.
    fn legacy_signature(&self) -> Option<String> {
        None
    }
    /// Embedding dimension.
    fn dim(&self) -> usize;
    /// Encodes `texts` (any length; the encoder batches internally) into row-major `texts.len() × dim` floats.
    fn encode(&mut self, texts: &[&str], role: Role) -> Result<Vec<f32>, EncodeError>;
    /// Number of non-padding tokens processed so far (for throughput reports).
    fn tokens_processed(&self) -> u64 {
        0
    }
}

/// Cuts a tokenized sequence (special tokens included) to `max_len` tokens keeping its last token, as
/// sentence-transformers does for BERT: `[CLS] a b c … [SEP]` → `[CLS] a b [SEP]`. Unchanged when it fits.
pub fn truncate_keeping_last(ids: &mut Vec<u32>, max_len: usize) {
    if ids.len() > max_len && max_len > 0 {
        let last = ids[ids.len() - 1];
        ids.truncate(max_len - 1);
        ids.push(last);
    }
}

/// L2-normalises each `dim`-sized row in place (rows of zeros stay zero).
pub fn l2_normalize_rows(data: &mut [f32], dim: usize) {
    for row in data.chunks_exact_mut(dim) {
        let norm = row.iter().map(|x| f64::from(*x) * f64::from(*x)).sum::<f64>().sqrt() as f32;
        if norm > 0.0 {
            row.iter_mut().for_each(|x| *x /= norm);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_keeps_the_last_token() {
        let mut ids = vec![101, 1, 2, 3, 102];
        truncate_keeping_last(&mut ids, 4);
        assert_eq!(ids, [101, 1, 2, 102]);
        truncate_keeping_last(&mut ids, 4);
        assert_eq!(ids, [101, 1, 2, 102], "a sequence that fits is unchanged");
    }
}
