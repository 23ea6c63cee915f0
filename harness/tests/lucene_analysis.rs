//! The analyzer against Lucene's own output: the Porter vocabulary (word → stem from Lucene's PorterStemFilter)
//! and, for every SciFact and NFCorpus document and query in ../shared/mirror, a hash of the terms Lucene
//! (Anserini's DefaultEnglishAnalyzer) produced. Fixtures: datasets/fixtures/lucene (made by bench/lucene).

use std::path::{Path, PathBuf};

use drbench_harness::bm25::{AnalyzerConfig, EnglishAnalyzer, PorterStemmer};
use drbench_harness::io::BeirFolder;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../datasets/fixtures/lucene")
}

fn mirror() -> PathBuf {
    std::env::var_os("DRBENCH_MIRROR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/mirror"))
}

fn fnv1a(s: &str) -> u64 {
    s.bytes().fold(0xcbf29ce484222325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100000001b3))
}

#[test]
fn porter_vocabulary_equals_lucene() {
    let text = std::fs::read_to_string(fixtures().join("porter-vocabulary.tsv")).unwrap();
    let mut stemmer = PorterStemmer::new();
    let mut n = 0;
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let (word, stem) = line.split_once('\t').unwrap();
        assert_eq!(stemmer.stem(word), stem, "{word}");
        n += 1;
    }
    assert!(n > 10_000, "{n} words");
}

fn check_dataset(name: &str) {
    let folder = BeirFolder::open(mirror().join("datasets").join(name)).unwrap();
    let text = std::fs::read_to_string(fixtures().join(format!("{name}-analysis.fnv1a"))).unwrap();
    let mut expected = std::collections::HashMap::new();
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let mut f = line.split('\t');
        let (kind, id, hash) = (f.next().unwrap(), f.next().unwrap(), f.next().unwrap());
        expected.insert((kind.to_string(), id.to_string()), u64::from_str_radix(hash, 16).unwrap());
    }
    let mut analyzer = EnglishAnalyzer::new(AnalyzerConfig::default());
    let mut checked = 0;
    for (kind, coll) in [("doc", folder.corpus().unwrap()), ("query", folder.queries().unwrap())] {
        for r in coll.iter() {
            let text = if kind == "doc" { r.flat_text() } else { r.text.to_string() };
            let terms = analyzer.analyze(&text).join(" ");
            let want = expected[&(kind.to_string(), r.id.to_string())];
            assert_eq!(fnv1a(&terms), want, "{name} {kind} {}: our terms differ from Lucene's: {terms}", r.id);
            checked += 1;
        }
    }
    assert_eq!(checked, expected.len());
}

#[test]
fn scifact_analysis_equals_lucene() {
    check_dataset("scifact");
}

#[test]
fn nfcorpus_analysis_equals_lucene() {
    check_dataset("nfcorpus");
}
