//! Lucene-compatible English analysis as Anserini/Pyserini index with by default: StandardTokenizer (UAX#29
//! word boundaries, tokens cut at 255 UTF-16 units), English possessive removal, lowercasing (per code point,
//! like Java's `Character.toLowerCase`), Lucene's 33 English stopwords, and the original Porter stemmer.

use unicode_properties::{GeneralCategory, UnicodeEmoji, UnicodeGeneralCategory};
use unicode_segmentation::UnicodeSegmentation;

use super::porter::PorterStemmer;

/// Lucene's `EnglishAnalyzer.ENGLISH_STOP_WORDS_SET`.
pub const ENGLISH_STOPWORDS: [&str; 33] = [
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into", "is", "it", "no", "not", "of",
    "on", "or", "such", "that", "the", "their", "then", "there", "these", "they", "this", "to", "was", "will", "with",
];

/// Lucene StandardTokenizer's default maximum token length (longer tokens are split), in UTF-16 units.
pub const MAX_TOKEN_LENGTH: usize = 255;

/// Which analysis steps run after tokenization.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AnalyzerConfig {
    /// Drop Lucene's English stopwords.
    pub stopwords: bool,
    /// Apply the Porter stemmer.
    pub stem: bool,
}

impl Default for AnalyzerConfig {
    fn default() -> Self {
        AnalyzerConfig { stopwords: true, stem: true }
    }
}

/// Splits `text` into StandardTokenizer tokens (before possessive removal and lowercasing), calling `emit`
/// for each. Word boundaries never cross ASCII whitespace, so the text is cut at whitespace first and each
/// pure-ASCII piece takes a fast path that applies UAX#29's rules for ASCII directly; other pieces go through
/// `unicode-segmentation`.
pub fn standard_tokens(text: &str, mut emit: impl FnMut(&str)) {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        let start = i;
        let mut ascii = true;
        while i < bytes.len() && !bytes[i].is_ascii_whitespace() {
            ascii &= bytes[i] < 0x80;
            i += 1;
        }
        if start == i {
            break;
        }
        let piece = &text[start..i];
        if ascii {
            ascii_tokens(piece, &mut emit);
        } else {
            unicode_tokens(piece, &mut emit);
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Wb {
    /// ALetter.
    Letter,
    /// Numeric.
    Digit,
    /// ExtendNumLet (`_`).
    Connector,
    /// MidLetter (`:`).
    MidLetter,
    /// MidNumLet and Single_Quote (`.` and `'`).
    MidNumLet,
    /// MidNum (`,` and `;`).
    MidNum,
    Other,
}

#[inline]
fn wb(b: u8) -> Wb {
    match b {
        b'a'..=b'z' | b'A'..=b'Z' => Wb::Letter,
        b'0'..=b'9' => Wb::Digit,
        b'_' => Wb::Connector,
        b':' => Wb::MidLetter,
        b'.' | b'\'' => Wb::MidNumLet,
        b',' | b';' => Wb::MidNum,
        _ => Wb::Other,
    }
}

/// UAX#29 word segmentation restricted to ASCII without whitespace (rules WB5–WB13b), emitting the segments
/// that hold a letter or digit.
fn ascii_tokens(piece: &str, emit: &mut impl FnMut(&str)) {
    use Wb::*;
    let b = piece.as_bytes();
    let n = b.len();
    let mut i = 0;
    while i < n {
        let c = wb(b[i]);
        if !matches!(c, Letter | Digit | Connector) {
            i += 1;
            continue;
        }
        let start = i;
        let mut alnum = c != Connector;
        let mut j = i + 1;
        while j < n {
            let (prev, cur) = (wb(b[j - 1]), wb(b[j]));
            let joins = match (prev, cur) {
                (Letter | Digit, Letter | Digit) => true,        // WB5, WB8, WB9, WB10
                (Letter | Digit | Connector, Connector) => true, // WB13a
                (Connector, Letter | Digit) => true,             // WB13b
                _ => false,
            };
            if joins {
                alnum |= cur != Connector;
                j += 1;
                continue;
            }
            let next = if j + 1 < n { wb(b[j + 1]) } else { Other };
            let across = match (prev, cur, next) {
                (Letter, MidLetter | MidNumLet, Letter) => true, // WB6, WB7
                (Digit, MidNum | MidNumLet, Digit) => true,      // WB11, WB12
                _ => false,
            };
            if across {
                j += 2;
                continue;
            }
            break;
        }
        if alnum {
            emit_limited(&piece[start..j], emit);
        }
        i = j;
    }
}

/// The general path: `unicode-segmentation`'s UAX#29 word bounds, plus Lucene's runs of South-East Asian text.
fn unicode_tokens(text: &str, emit: &mut impl FnMut(&str)) {
    let mut pending_sa: Option<(usize, usize)> = None; // a run of South-East Asian segments, kept as one token
    for (start, seg) in text.split_word_bound_indices() {
        let end = start + seg.len();
        if is_complex_context(seg) {
            pending_sa = Some(match pending_sa {
                Some((s, e)) if e == start => (s, end),
                _ => {
                    if let Some((s, e)) = pending_sa {
                        emit_limited(&text[s..e], emit);
                    }
                    (start, end)
                }
            });
            continue;
        }
        if let Some((s, e)) = pending_sa.take() {
            emit_limited(&text[s..e], emit);
        }
        if is_token(seg) {
            emit_limited(seg, emit);
        }
    }
    if let Some((s, e)) = pending_sa {
        emit_limited(&text[s..e], emit);
    }
}

/// A UAX#29 segment is a token when it holds a letter, a decimal digit (Nd) or a non-ASCII emoji character
/// (Lucene's token types); punctuation, symbols, spaces and other numerics such as `²` or `½` are not.
fn is_token(seg: &str) -> bool {
    seg.chars().any(|c| {
        c.is_ascii_alphanumeric()
            || (!c.is_ascii()
                && (c.is_alphabetic() || c.general_category() == GeneralCategory::DecimalNumber || c.is_emoji_char()))
    })
}

/// Scripts whose words Lucene keeps as runs (Line_Break = Complex_Context): Thai, Lao, Myanmar, Khmer, Tai scripts.
fn is_complex_context(seg: &str) -> bool {
    seg.chars().next().is_some_and(|c| {
        matches!(c as u32, 0x0E00..=0x0EFF | 0x1000..=0x109F | 0x1780..=0x17FF | 0x1950..=0x19DF | 0x1A20..=0x1AAF | 0xAA60..=0xAADF)
    })
}

/// Emits `tok`, split into pieces of at most [`MAX_TOKEN_LENGTH`] UTF-16 units.
fn emit_limited(tok: &str, emit: &mut impl FnMut(&str)) {
    if tok.len() <= MAX_TOKEN_LENGTH {
        emit(tok);
        return;
    }
    let mut start = 0;
    let mut units = 0;
    for (i, c) in tok.char_indices() {
        let w = c.len_utf16();
        if units + w > MAX_TOKEN_LENGTH {
            emit(&tok[start..i]);
            start = i;
            units = 0;
        }
        units += w;
    }
    emit(&tok[start..]);
}

/// Lucene's EnglishPossessiveFilter: drops a trailing `'s`, `’s` or `＇s` (either case of s).
pub fn strip_possessive(tok: &str) -> &str {
    let b = tok.as_bytes();
    let Some((&last, rest)) = b.split_last() else { return tok };
    if last != b's' && last != b'S' {
        return tok;
    }
    for apos in ["\'", "\u{2019}", "\u{FF07}"] {
        if rest.ends_with(apos.as_bytes()) {
            return &tok[..rest.len() - apos.len()];
        }
    }
    tok
}

/// Java's `Character.toLowerCase` applied per code point (always one char out, unlike `str::to_lowercase`).
pub fn java_lowercase(tok: &str, out: &mut String) {
    out.clear();
    if tok.is_ascii() {
        out.push_str(tok);
        out.make_ascii_lowercase();
        return;
    }
    for c in tok.chars() {
        let mut lower = c.to_lowercase();
        match (lower.next(), lower.next()) {
            (Some(l), None) => out.push(l),
            // Only U+0130 (İ) lowercases to two chars in Unicode; Java maps it to a plain 'i'.
            _ => out.push(if c == '\u{0130}' { 'i' } else { c }),
        }
    }
}

/// True for Lucene's English stopwords.
pub fn is_stopword(tok: &str) -> bool {
    tok.len() <= 5 && ENGLISH_STOPWORDS.contains(&tok)
}

/// The full analysis chain, with a reusable stemmer and buffers.
#[derive(Debug, Default)]
pub struct EnglishAnalyzer {
    config: AnalyzerConfig,
    stemmer: PorterStemmer,
    lower: String,
}

impl EnglishAnalyzer {
    /// An analyzer with `config`.
    pub fn new(config: AnalyzerConfig) -> Self {
        EnglishAnalyzer { config, stemmer: PorterStemmer::new(), lower: String::new() }
    }

    /// The configuration.
    pub fn config(&self) -> AnalyzerConfig {
        self.config
    }

    /// Analyzes one token already lowercased and possessive-stripped: `None` when it is a stopword.
    pub fn finish_token(&mut self, lower: &str) -> Option<String> {
        if self.config.stopwords && is_stopword(lower) {
            return None;
        }
        Some(if self.config.stem { self.stemmer.stem(lower) } else { lower.to_string() })
    }

    /// Analyzes `text` into terms.
    pub fn analyze(&mut self, text: &str) -> Vec<String> {
        let mut out = Vec::new();
        let mut toks = Vec::new();
        standard_tokens(text, |t| toks.push(t.to_string()));
        for t in toks {
            let mut lower = std::mem::take(&mut self.lower);
            java_lowercase(strip_possessive(&t), &mut lower);
            if let Some(term) = self.finish_token(&lower) {
                out.push(term);
            }
            self.lower = lower;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str, expected: &str) {
        let got = EnglishAnalyzer::new(AnalyzerConfig::default()).analyze(text).join(" ");
        assert_eq!(got, expected, "{text:?}");
    }

    /// Expected values are Lucene's own output (Anserini 0.22.1 DefaultEnglishAnalyzer), see bench/lucene.
    #[test]
    fn matches_lucene_on_edge_cases() {
        check("The dog's bones aren't U.S.A. 3.14 1,000 foo_bar", "dog bone aren't u.s.a 3.14 1,000 foo_bar");
        check(
            "caresses ponies ties caress cats running generalization HELLO",
            "caress poni ti caress cat run gener hello",
        );
        check("a:b c;d e,f 1,000.5 3.14.15 a.b. x_y __ _a a_ co-op", "a:b c d e f 1,000.5 3.14.15 a.b x_y _a a_ co op");
        check(
            "don\u{2019}t O\u{2019}Neil\u{2019}s ABC'S \u{e9}t\u{e9} na\u{ef}ve",
            "don\u{2019}t o\u{2019}neil abc \u{e9}t\u{e9} na\u{ef}v",
        );
        check(
            "\u{4e2d}\u{6587} \u{3072}\u{3089} \u{30ab}\u{30bf}\u{30ab}\u{30ca}",
            "\u{4e2d} \u{6587} \u{3072} \u{3089} \u{30ab}\u{30bf}\u{30ab}\u{30ca}",
        );
        check(
            "\u{0e20}\u{0e32}\u{0e29}\u{0e32}\u{0e44}\u{0e17}\u{0e22}",
            "\u{0e20}\u{0e32}\u{0e29}\u{0e32}\u{0e44}\u{0e17}\u{0e22}",
        );
        check(
            "1a2b a1 12ab \u{0130}stanbul \u{03a3}\u{039f}\u{03a3} \u{b5}m \u{b1} \u{2212} \u{bd} 2\u{b2}",
            "1a2b a1 12ab istanbul \u{03c3}\u{03bf}\u{03c3} \u{b5}m 2",
        );
        check(
            "\u{a9} 2024 \u{ae} \u{2122} \u{2194} \u{2606} \u{1F600}",
            "\u{a9} 2024 \u{ae} \u{2122} \u{2194} \u{1F600}",
        );
        check(
            "x\u{b7}y a/b a@b.com http://x.org/a?b=c #tag $5 50% I.B.M. 1.e5 l\u{2019}amour",
            "x\u{b7}y b b.com http x.org b c tag 5 50 i.b.m 1 e5 l\u{2019}amour",
        );
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]
        /// The ASCII fast path segments exactly like unicode-segmentation (UAX#29) on ASCII.
        #[test]
        fn ascii_fast_path_equals_uax29(piece in "[aZ09_.:',;\\-\"!@#/x]{0,24}") {
            let mut fast = Vec::new();
            ascii_tokens(&piece, &mut |t: &str| fast.push(t.to_string()));
            let mut slow = Vec::new();
            unicode_tokens(&piece, &mut |t: &str| slow.push(t.to_string()));
            proptest::prop_assert_eq!(fast, slow, "{:?}", piece);
        }
    }

    #[test]
    fn long_tokens_are_split_at_255_units() {
        let long = "x".repeat(300);
        let got = EnglishAnalyzer::new(AnalyzerConfig { stopwords: true, stem: false }).analyze(&long);
        assert_eq!(got.iter().map(String::len).collect::<Vec<_>>(), vec![255, 45]);
    }

    #[test]
    fn possessives_and_stopwords() {
        assert_eq!(strip_possessive("dog's"), "dog");
        assert_eq!(strip_possessive("DOG'S"), "DOG");
        assert_eq!(strip_possessive("dog\u{FF07}s"), "dog");
        assert_eq!(strip_possessive("'s"), "");
        assert_eq!(strip_possessive("dogs"), "dogs");
        assert!(ENGLISH_STOPWORDS.iter().all(|w| is_stopword(w)));
        assert!(!is_stopword("they're"));
        check("The AND of THE", "");
    }
}
