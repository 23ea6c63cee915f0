//! The `drbench` command line: clap arguments mapped onto the libraries' types (pipeline cells, bench, demo,
//! training, evaluation, significance tests, the dataset store), progress bars and printing; no pipeline logic.

mod commands;

/// mimalloc: candle allocates a large tensor per operation; glibc's mmap/munmap round trips for each one cost a
/// third of the encoding time (measured on MiniLM), mimalloc keeps and reuses those pages.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::Parser;

fn main() -> std::process::ExitCode {
    // Called as `trec_eval` (a symlink or a copy): trec_eval's command line, so its scripts run unchanged.
    let called_as_trec_eval = std::env::args_os()
        .next()
        .and_then(|argv0| std::path::Path::new(&argv0).file_stem().map(|s| s == "trec_eval"))
        .unwrap_or(false);
    let result = if called_as_trec_eval {
        commands::trec_eval::run(commands::trec_eval::TrecEvalArgs::parse())
    } else {
        commands::run(commands::Cli::parse())
    };
    match result {
        Ok(code) => code,
        // `drbench ... | head`: the reader went away; that is not an error.
        Err(e) if is_broken_pipe(&e) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("drbench: error: {}", one_line(&e));
            std::process::ExitCode::FAILURE
        }
    }
}

/// The error and its causes on one line, skipping a cause whose text the message already contains.
fn one_line(e: &anyhow::Error) -> String {
    let mut msg = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if !msg.contains(&text) {
            if !msg.is_empty() {
                msg.push_str(": ");
            }
            msg.push_str(&text);
        }
    }
    msg
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| c.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe))
}
