//! TREC run reader (in memory): never panic; when it accepts the input, evaluation never panics either.
#![no_main]
use std::io::Cursor;
use std::path::Path;

use drbench_harness::data::Qrels;
use drbench_harness::io::{LineReader, Strictness, read_trec_run_from};
use drbench_harness::metrics::{EvalOptions, evaluate_run};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(run) = read_trec_run_from(LineReader::new(Cursor::new(data), Path::new("fuzz")), Strictness::Lenient) {
        let mut qrels = Qrels::new();
        for (q, docs) in run.value.iter().take(3) {
            if let Some(d) = docs.first() {
                qrels.insert(q, &d.docid, 1);
            }
        }
        let _ = evaluate_run(&run.value, &qrels, &EvalOptions::default());
    }
});
