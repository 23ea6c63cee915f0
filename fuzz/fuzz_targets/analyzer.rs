//! The Lucene-compatible analyzer: never panics, and the Porter stemmer never panics on any token.
#![no_main]
use drbench_harness::bm25::{AnalyzerConfig, EnglishAnalyzer, PorterStemmer};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let terms = EnglishAnalyzer::new(AnalyzerConfig::default()).analyze(text);
        assert!(terms.iter().all(|t| !t.is_empty()));
        let mut stemmer = PorterStemmer::new();
        for word in text.split_whitespace() {
            let _ = stemmer.stem(&word.to_lowercase());
        }
    }
});
