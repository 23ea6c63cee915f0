//! BEIR JSONL collections, BEIR qrels TSV and MS MARCO TSV readers: never panic on any input.
#![no_main]
use drbench_harness::io::{Strictness, read_beir_qrels, read_jsonl_collection, read_tsv_collection};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let dir = if std::path::Path::new("/dev/shm").is_dir() { "/dev/shm" } else { "/tmp" };
    let path = std::path::PathBuf::from(format!("{dir}/drbench-fuzz-beir-{}", std::process::id()));
    std::fs::write(&path, data).unwrap();
    for s in [Strictness::Strict, Strictness::Lenient] {
        let _ = read_jsonl_collection(&path, s);
        let _ = read_beir_qrels(&path, s);
        let _ = read_tsv_collection(&path, s);
    }
    let _ = std::fs::remove_file(&path);
});
