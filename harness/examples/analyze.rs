//! Prints the Lucene-compatible analysis of each stdin line (space-separated terms), for diffing against
//! Lucene's own output (bench/lucene/AnalyzeDump.java). `analyze porter` stems one word per line instead.

use std::io::{BufRead, Write};

use drbench_harness::bm25::{AnalyzerConfig, EnglishAnalyzer, PorterStemmer};

fn main() {
    let porter = std::env::args().nth(1).as_deref() == Some("porter");
    let mut analyzer = EnglishAnalyzer::new(AnalyzerConfig::default());
    let mut stemmer = PorterStemmer::new();
    let stdin = std::io::stdin();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for line in stdin.lock().lines() {
        let line = line.expect("UTF-8 input");
        if porter {
            writeln!(out, "{}", stemmer.stem(&line)).unwrap();
        } else {
            writeln!(out, "{}", analyzer.analyze(&line).join(" ")).unwrap();
        }
    }
}
