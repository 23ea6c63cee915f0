//! Tokenization for the browser runner: Hugging Face `tokenizers` compiled for wasm32 (fancy-regex instead of
//! Oniguruma), the tokenizer file's own truncation and padding switched off, and sentence-transformers'
//! truncation (special tokens included, the last one kept) — the same ids as the native BERT encoder.

use drbench_harness::encoder::truncate_keeping_last;
use tokenizers::Tokenizer;

use crate::error::GpuError;

/// A `tokenizer.json` and the longest sequence the model takes.
#[derive(Debug)]
pub struct TextTokenizer {
    tokenizer: Tokenizer,
    max_len: usize,
}

impl TextTokenizer {
    /// Loads a `tokenizer.json` held in memory; `max_len` counts special tokens (a weight file's
    /// `max_seq_length`).
    pub fn from_json(json: &[u8], max_len: usize) -> Result<TextTokenizer, GpuError> {
        let mut tokenizer = Tokenizer::from_bytes(json).map_err(|e| GpuError::Tokenizer(e.to_string()))?;
        tokenizer.with_truncation(None).map_err(|e| GpuError::Tokenizer(e.to_string()))?;
        tokenizer.with_padding(None);
        if max_len < 2 {
            return Err(GpuError::Tokenizer(format!("max_len {max_len}: room for the special tokens is needed")));
        }
        Ok(TextTokenizer { tokenizer, max_len })
    }

    /// Token ids of `text` with the model's special tokens, cut to the maximum length.
    pub fn ids(&self, text: &str) -> Result<Vec<u32>, GpuError> {
        let enc = self.tokenizer.encode_fast(text, true).map_err(|e| GpuError::Tokenizer(e.to_string()))?;
        let mut ids = enc.get_ids().to_vec();
        truncate_keeping_last(&mut ids, self.max_len);
        Ok(ids)
    }

    /// Token ids of many texts.
    pub fn ids_all<S: AsRef<str>>(&self, texts: &[S]) -> Result<Vec<Vec<u32>>, GpuError> {
        texts.iter().map(|t| self.ids(t.as_ref())).collect()
    }
}
