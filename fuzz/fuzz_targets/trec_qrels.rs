//! TREC qrels reader and measure-name parser: never panic on any input.
#![no_main]
use std::io::Cursor;
use std::path::Path;

use drbench_harness::io::{LineReader, Strictness, read_trec_qrels_from};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for s in [Strictness::Strict, Strictness::Lenient] {
        let _ = read_trec_qrels_from(LineReader::new(Cursor::new(data), Path::new("fuzz")), s);
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = drbench_harness::metrics::Measure::parse_list(text);
    }
});
