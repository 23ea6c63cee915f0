//! Differential: the streaming run-file evaluator (2 and 3 threads) equals the in-memory reader + evaluator,
//! on success and on failure alike.
#![no_main]
use std::io::Write;

use drbench_harness::data::Qrels;
use drbench_harness::io::{Strictness, read_trec_run};
use drbench_harness::metrics::{EvalOptions, evaluate_run, evaluate_run_file};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut f = tempfile_in_shm();
    f.1.write_all(data).unwrap();
    f.1.flush().unwrap();
    let mut qrels = Qrels::new();
    for (q, d) in [("1", "a"), ("1", "b"), ("2", "a"), ("q", "d")] {
        qrels.insert(q, d, 1);
    }
    let opts = EvalOptions { complete: data.len() % 2 == 0, ..EvalOptions::default() };
    let slow = read_trec_run(&f.0, Strictness::Strict).and_then(|r| evaluate_run(&r.value, &qrels, &opts));
    for threads in [2, 3] {
        let fast = evaluate_run_file(&f.0, &qrels, &opts, threads);
        match (&slow, &fast) {
            (Ok(a), Ok(b)) => assert_eq!(a, b),
            (Err(_), Err(_)) => {}
            _ => panic!("streaming and in-memory disagree: {:?} vs {:?}", slow.as_ref().map(|_| ()), fast.as_ref().map(|_| ())),
        }
    }
    let _ = std::fs::remove_file(&f.0);
});

fn tempfile_in_shm() -> (std::path::PathBuf, std::fs::File) {
    let dir = if std::path::Path::new("/dev/shm").is_dir() { "/dev/shm" } else { "/tmp" };
    let path = std::path::PathBuf::from(format!("{dir}/drbench-fuzz-{}.run", std::process::id()));
    let file = std::fs::File::create(&path).unwrap();
    (path, file)
}
