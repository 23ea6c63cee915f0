//! A Qwen2 GGUF file — its header, metadata and tensor infos — loaded (quantized and dequantized) and run on a
//! few tokens: never panics, never allocates from a size the file does not hold. Input: the file.
#![no_main]
use candle_core::{DType, Device};
use drbench_native::encoders::weights::{GgufWeights, load_gguf};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let base = if std::path::Path::new("/dev/shm").is_dir() { "/dev/shm" } else { "/tmp" };
    let path = std::path::PathBuf::from(format!("{base}/drbench-fuzz-gguf-{}.gguf", std::process::id()));
    std::fs::write(&path, data).unwrap();
    for mode in [GgufWeights::Quantized, GgufWeights::Dequantized] {
        if let Ok(model) = load_gguf(&path, mode, DType::F32, &Device::Cpu) {
            let vocab = model.cfg.vocab_size as u32;
            let ids: Vec<u32> = (0..3).map(|i| i % vocab).collect();
            let _ = model.last_hidden(&[ids], 0);
        }
    }
});
