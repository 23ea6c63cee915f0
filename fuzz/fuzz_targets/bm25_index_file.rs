//! Loading a BM25 index file: arbitrary bytes are rejected cleanly (magic, CRC, bounds), never a panic.
#![no_main]
use drbench_harness::bm25::Bm25Index;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let dir = if std::path::Path::new("/dev/shm").is_dir() { "/dev/shm" } else { "/tmp" };
    let path = std::path::PathBuf::from(format!("{dir}/drbench-fuzz-idx-{}", std::process::id()));
    // Half the inputs get a valid magic and CRC so that the parser behind them is exercised too.
    let mut bytes = data.to_vec();
    if data.first().is_some_and(|b| b % 2 == 0) {
        let mut framed = b"DRBM25\0\0".to_vec();
        framed.extend_from_slice(&data[1..]);
        let crc = crc32(&framed);
        framed.extend_from_slice(&crc.to_le_bytes());
        bytes = framed;
    }
    std::fs::write(&path, &bytes).unwrap();
    let _ = Bm25Index::load(&path);
    let _ = std::fs::remove_file(&path);
});

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}
