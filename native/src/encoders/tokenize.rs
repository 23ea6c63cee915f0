//! Loading a Hugging Face `tokenizers` tokenizer and cutting texts to a token budget.

use std::path::Path;

use tokenizers::Tokenizer;

use super::error::{ModelError, Result};

/// Loads `tokenizer.json`, with its own truncation and padding switched off (drbench truncates and pads itself:
/// the mirrored MiniLM file carries a fixed 128-token padding that sentence-transformers ignores).
pub fn load_tokenizer(path: &Path) -> Result<Tokenizer> {
    let mut tok =
        Tokenizer::from_file(path).map_err(|e| ModelError::file(path, format!("cannot load tokenizer: {e}")))?;
    tok.with_truncation(None).map_err(|e| ModelError::Tokenizer(e.to_string()))?;
    tok.with_padding(None);
    Ok(tok)
}

/// Token ids of `text` (no special tokens added).
pub fn ids(tok: &Tokenizer, text: &str, add_special: bool) -> Result<Vec<u32>> {
    Ok(tok.encode_fast(text, add_special).map_err(|e| ModelError::Tokenizer(e.to_string()))?.get_ids().to_vec())
}

/// `text` cut after its first `max_tokens` tokens (by the tokenizer's own offsets); unchanged when shorter.
/// Returns the (possibly) shortened text and whether it was cut.
pub fn cut_to_tokens<'a>(tok: &Tokenizer, text: &'a str, max_tokens: usize) -> Result<(&'a str, bool)> {
    let enc = tok.encode(text, false).map_err(|e| ModelError::Tokenizer(e.to_string()))?;
    if enc.len() <= max_tokens {
        return Ok((text, false));
    }
    let end = enc.get_offsets()[max_tokens - 1].1;
    let mut end = end.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    Ok((&text[..end], true))
}
