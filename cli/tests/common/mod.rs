//! Helpers shared by the CLI integration tests: locating ../shared and running the `drbench` binary with the
//! mirror and a private cache.

#![allow(dead_code)] // each test binary uses its own subset

use std::path::{Path, PathBuf};
use std::process::Command;

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The shared folder (`$DRBENCH_SHARED`, default `../shared` beside the workspace).
pub fn shared() -> PathBuf {
    std::env::var_os("DRBENCH_SHARED").map(PathBuf::from).unwrap_or_else(|| root().join("../shared"))
}

/// `drbench ARGS` with `DRBENCH_MIRROR` = ../shared/mirror and `DRBENCH_CACHE` = `cache`.
pub fn command(cache: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_drbench"));
    c.args(args).env("DRBENCH_MIRROR", shared().join("mirror")).env("DRBENCH_CACHE", cache);
    c
}

/// Runs `drbench ARGS` to completion: exit code, stdout, stderr.
pub fn drbench(cache: &Path, args: &[&str]) -> (i32, String, String) {
    let out = command(cache, args).output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8(out.stdout).unwrap(), String::from_utf8(out.stderr).unwrap())
}
