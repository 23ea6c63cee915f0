//! The `drbench` command line: evaluation, significance tests and the dataset store.

mod cli;

use clap::Parser;

fn main() -> std::process::ExitCode {
    let args = cli::Cli::parse();
    match cli::run(args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("drbench: error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
