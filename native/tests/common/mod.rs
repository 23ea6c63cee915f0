//! Helpers shared by the library's integration tests: locating ../shared and the devices every parity test body
//! runs on.

#![allow(dead_code)] // each test binary uses its own subset

use std::path::{Path, PathBuf};

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The shared folder (`$DRBENCH_SHARED`, default `../shared` beside the workspace).
pub fn shared() -> PathBuf {
    std::env::var_os("DRBENCH_SHARED").map(PathBuf::from).unwrap_or_else(|| root().join("../shared"))
}

/// Whether the expensive tier runs (`DRBENCH_SLOW=1`): checks that take minutes on 2 cores beyond what the
/// default tier already covers, e.g. candle's quantized GGUF matmuls over every golden input.
pub fn slow_tier() -> bool {
    std::env::var_os("DRBENCH_SLOW").is_some_and(|v| v == "1")
}

/// The candle devices every parity test body runs on: the CPU, plus the first CUDA GPU when drbench is built with
/// `--features cuda`. `DRBENCH_TEST_DEVICES=cpu,cuda` (any subset) narrows the list; a CUDA device that is asked
/// for but cannot be opened fails the test rather than skipping it.
pub fn devices() -> Vec<(&'static str, candle_core::Device)> {
    let wanted = std::env::var("DRBENCH_TEST_DEVICES")
        .unwrap_or_else(|_| if cfg!(feature = "cuda") { "cpu,cuda".into() } else { "cpu".into() });
    wanted
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|name| match name {
            "cpu" => ("cpu", candle_core::Device::Cpu),
            "cuda" => (
                "cuda",
                candle_core::Device::new_cuda(0)
                    .unwrap_or_else(|e| panic!("DRBENCH_TEST_DEVICES names cuda, but no CUDA device opens: {e}")),
            ),
            other => panic!("DRBENCH_TEST_DEVICES: unknown device {other:?} (cpu, cuda)"),
        })
        .collect()
}
