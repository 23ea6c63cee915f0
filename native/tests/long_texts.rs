//! Issue "Hostile and careless input", a 50 MB text: a text longer than the maximum length is tokenized only as
//! far as needed (`tokenize::encode_enough`), and what comes out is what tokenizing the whole text and cutting it
//! gives — for both tokenizers drbench runs (BERT WordPiece, Qwen2 byte-level BPE), against that naive reference.

mod common;

use drbench_native::encoders::tokenize::{cut_to_tokens, encode_enough, load_tokenizer};
use proptest::prelude::*;
use tokenizers::Tokenizer;

fn tokenizers() -> Vec<(&'static str, Tokenizer)> {
    ["all-MiniLM-L6-v2", "qwen2.5-coder-0.5b-instruct"]
        .into_iter()
        .map(|m| (m, load_tokenizer(&common::shared().join("mirror/models").join(m).join("tokenizer.json")).unwrap()))
        .collect()
}

/// A word longer than WordPiece's 100 characters (it becomes [UNK]).
const LONG_WORD: &str = "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx";

/// Words, punctuation, digits, accents, CJK, emoji and every kind of whitespace drbench's corpora hold.
fn text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("the"),
        Just("Vitamin"),
        Just("deficiency,"),
        Just("(p<0.05)"),
        Just("12345"),
        Just("naïve"),
        Just("café"),
        Just("e\u{301}"),
        Just("日本語"),
        Just("🙂"),
        Just("don't"),
        Just(LONG_WORD),
        Just("fn main() { println!(\"hi\"); }"),
        Just(" "),
        Just("  "),
        Just("\n"),
        Just("\t"),
        Just("\u{a0}"),
        Just("\u{3000}"),
        Just("\r\n"),
    ];
    proptest::collection::vec(piece, 0..400).prop_map(|p| p.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn the_first_tokens_of_a_prefix_are_the_whole_texts(text in text(), max in prop_oneof![Just(1usize), 2..40usize, Just(128usize), Just(512usize)]) {
        for (name, tok) in &*TOKENIZERS {
            for special in [false, true] {
                let full = tok.encode_fast(text.as_str(), special).unwrap();
                let got = encode_enough(tok, &text, max, special).unwrap();
                let n = max.min(full.len());
                prop_assert_eq!(&got.get_ids()[..n], &full.get_ids()[..n], "{} special={} max={}", name, special, max);
                if full.len() <= max + 1 {
                    prop_assert_eq!(got.get_ids(), full.get_ids(), "{}: a short text is encoded whole", name);
                }
            }
            // The cut text the LLM encoder prompts with: as cutting the whole text's encoding.
            let (cut, truncated) = cut_to_tokens(tok, &text, max).unwrap();
            let full = tok.encode(text.as_str(), false).unwrap();
            let want = if full.len() <= max { text.len() } else { full.get_offsets()[max - 1].1.min(text.len()) };
            prop_assert_eq!(truncated, full.len() > max);
            prop_assert!(cut.len() <= want && want - cut.len() < 4, "{}: cut at {} not {}", name, cut.len(), want);
        }
    }
}

static TOKENIZERS: std::sync::LazyLock<Vec<(&'static str, Tokenizer)>> = std::sync::LazyLock::new(tokenizers);

#[test]
fn a_50_mb_text_is_tokenized_only_as_far_as_the_max_length_needs() {
    let text = "Vitamin D deficiency and bone density, a study. ".repeat(50_000_000 / 48);
    for (name, tok) in &*TOKENIZERS {
        let got = encode_enough(tok, &text, 512, true).unwrap();
        let head = tok.encode_fast(&text[..48 * 200], true).unwrap();
        assert!(got.len() > 513 && got.len() < 4096, "{name}: {} tokens encoded", got.len());
        assert_eq!(&got.get_ids()[..512], &head.get_ids()[..512], "{name}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// What `encode_enough` rests on, at every place a prefix can be cut (before a whitespace run): the tokens
    /// of the prefix that end before the whitespace preceding its last word are the whole text's first tokens.
    #[test]
    fn tokens_before_a_prefixs_last_word_are_the_whole_texts(text in text()) {
        for (name, tok) in &*TOKENIZERS {
            let full = tok.encode(text.as_str(), false).unwrap();
            let cuts = text.char_indices().filter(|&(i, c)| c.is_whitespace() && i > 0 && !text[..i].ends_with(char::is_whitespace));
            for (cut, _) in cuts.step_by(7) {
                let prefix = &text[..cut];
                let Some(w) = prefix.rfind(char::is_whitespace) else { continue };
                let safe = prefix[..w].trim_end().len();
                let enc = tok.encode(prefix, false).unwrap();
                let n = enc.get_offsets().iter().take_while(|o| o.1 <= safe).count();
                prop_assert_eq!(&enc.get_ids()[..n], &full.get_ids()[..n], "{} cut at {}", name, cut);
            }
        }
    }
}

#[test]
fn a_prefixs_last_word_may_tokenize_otherwise_than_in_the_whole_text() {
    // Qwen2's pre-tokenizer keeps newlines with the punctuation before them: `!` alone at the end of a prefix,
    // `!\n\n` in the whole text — why `encode_enough` takes only tokens before the prefix's last word.
    let (_, qwen) = &TOKENIZERS[1];
    let (prefix, whole) = (qwen.encode("one two!", false).unwrap(), qwen.encode("one two!\n\nthree", false).unwrap());
    let n = prefix.len();
    assert_ne!(&prefix.get_ids()[..n], &whole.get_ids()[..n]);
}
