//! A Hugging Face Qwen2 folder — config.json and model.safetensors (its header and data) — loaded and run on a
//! few tokens: never panics, never allocates from a size the file does not hold. Input: `config.json\0safetensors`.
#![no_main]
use candle_core::{DType, Device};
use drbench_native::encoders::weights::load_hf;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut parts = data.splitn(2, |&b| b == 0);
    let (Some(config), Some(weights)) = (parts.next(), parts.next()) else { return };
    let base = if std::path::Path::new("/dev/shm").is_dir() { "/dev/shm" } else { "/tmp" };
    let dir = std::path::PathBuf::from(format!("{base}/drbench-fuzz-qwen2-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("config.json"), config).unwrap();
    std::fs::write(dir.join("model.safetensors"), weights).unwrap();
    if let Ok(model) = load_hf(&dir, DType::F32, &Device::Cpu) {
        let vocab = model.cfg.vocab_size as u32;
        let ids: Vec<u32> = (0..3).map(|i| i % vocab).collect();
        let _ = model.last_hidden(&[ids], 0);
    }
});
