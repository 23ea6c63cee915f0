//! Loading a Hugging Face `tokenizers` tokenizer and cutting texts to a token budget — without tokenizing more
//! of a long text than the budget needs ([`encode_enough`]), so the memory of preparing a text is bounded by the
//! maximum length, not by the text's size.

use std::path::Path;

use tokenizers::{Encoding, Tokenizer};

use super::error::{ModelError, Result};

/// Bytes of text tried first per token wanted (doubled while the prefix yields too few tokens).
const BYTES_PER_TOKEN: usize = 8;

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

/// The longest prefix of `text` of at most `max_bytes` bytes that ends where a whitespace run begins (so the
/// tokenizers' pre-tokenizers, which split at whitespace, see its words as they see them in the whole text), or
/// `None` when `text` is not longer or there is no such place.
fn prefix_before_whitespace(text: &str, max_bytes: usize) -> Option<&str> {
    if text.len() <= max_bytes {
        return None;
    }
    let mut end = max_bytes;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    // The cut must fall where a whitespace run begins: at `end` when whitespace follows, else at the last
    // whitespace before it; then back to the start of that run.
    if !text[end..].starts_with(char::is_whitespace) {
        end = text[..end].rfind(char::is_whitespace)?;
    }
    let prefix = text[..end].trim_end();
    (!prefix.is_empty()).then_some(prefix)
}

/// The encoding of `text`, or of a prefix of it whose first `enough` tokens are the whole text's: the shortest
/// prefix cut before a whitespace run (from [`BYTES_PER_TOKEN`] bytes a token, doubling) in which those tokens
/// end before its last word — the pre-tokenizers split at whitespace, so every token before the last word of a
/// prefix is a token of the whole text, while the last word's may not be (Qwen2's `!` before a newline is `!\n` in
/// the whole text). Offsets are byte offsets into `text`.
pub fn encode_enough(tok: &Tokenizer, text: &str, enough: usize, add_special: bool) -> Result<Encoding> {
    let whole = || tok.encode(text, add_special).map_err(|e| ModelError::Tokenizer(e.to_string()));
    if enough == 0 {
        return whole();
    }
    let mut budget = enough.saturating_add(1).saturating_mul(BYTES_PER_TOKEN).max(256);
    while let Some(prefix) = prefix_before_whitespace(text, budget) {
        // Where the whitespace before the prefix's last word begins: tokens ending there are the whole text's.
        let safe = prefix.rfind(char::is_whitespace).map(|w| prefix[..w].trim_end().len());
        if let Some(safe) = safe.filter(|&s| s > 0) {
            let enc = tok.encode(prefix, add_special).map_err(|e| ModelError::Tokenizer(e.to_string()))?;
            // More than `enough` + 1 tokens: the one at `enough - 1` is a text token, not a trailing [SEP].
            if enc.len() > enough + 1 && enc.get_offsets()[enough - 1].1 <= safe {
                return Ok(enc);
            }
        }
        budget = budget.saturating_mul(2);
    }
    whole()
}

/// `text` cut after its first `max_tokens` tokens (by the tokenizer's own offsets); unchanged when shorter.
/// Returns the (possibly) shortened text and whether it was cut.
pub fn cut_to_tokens<'a>(tok: &Tokenizer, text: &'a str, max_tokens: usize) -> Result<(&'a str, bool)> {
    let enc = encode_enough(tok, text, max_tokens, false)?;
    if enc.len() <= max_tokens || max_tokens == 0 {
        return Ok((text, false));
    }
    let end = enc.get_offsets()[max_tokens - 1].1;
    let mut end = end.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    Ok((&text[..end], true))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_end_before_a_whitespace_run() {
        // (text, max bytes, prefix)
        let cases = [
            ("one two three", 100, None),
            ("one two three", 9, Some("one two")),
            ("one two three", 8, Some("one two")),
            ("one two three", 7, Some("one two")),
            ("one two three", 6, Some("one")),
            ("one   two three", 10, Some("one   two")),
            ("one   two three", 5, Some("one")),
            ("onetwothree four", 8, None),
            ("é é é é", 4, Some("é")),
            ("\u{3000}日本 語", 6, None),
        ];
        for (text, max, want) in cases {
            assert_eq!(prefix_before_whitespace(text, max), want, "{text:?} in {max} bytes");
        }
    }
}
