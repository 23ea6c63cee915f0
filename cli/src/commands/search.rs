//! `drbench search`: exact top-k over `.npy` embeddings made anywhere, under a memory budget, to a TREC run.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use drbench_harness::dense_stream::human_bytes;
use drbench_pipeline::search::{SearchOptions, search_embeddings};

use super::progress::Bars;

#[derive(Debug, Args)]
#[command(after_help = "Example: drbench search --corpus corpus.npy --corpus-ids corpus.ids --queries q.npy \
    --query-ids q.ids --k 1000 --out run.trec --memory-budget 4GiB\n\n\
    The matrices are numpy.save files of shape (rows, dim), float32 or float16, C order; a corpus in shards is \
    --corpus given once per shard, in row order, with one ids file for all of them. Scores are dot products \
    (cosine for normalised rows), computed in f32; ties are broken by corpus row. The corpus is read one block \
    at a time, so the memory used follows --memory-budget, not the corpus size.")]
pub struct SearchArgs {
    /// Corpus embeddings (.npy, f32 or f16); repeat for shards, in row order.
    #[arg(long, required = true, value_name = "FILE.npy")]
    corpus: Vec<PathBuf>,
    /// Corpus ids, one per line, one per corpus row.
    #[arg(long, value_name = "FILE")]
    corpus_ids: PathBuf,
    /// Query embeddings (.npy, f32 or f16), held in memory.
    #[arg(long, value_name = "FILE.npy")]
    queries: PathBuf,
    /// Query ids, one per line, one per query row.
    #[arg(long, value_name = "FILE")]
    query_ids: PathBuf,
    /// Hits kept per query.
    #[arg(long, default_value_t = 1000)]
    k: usize,
    /// The TREC run to write.
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// The most memory the search holds (ids, queries, results, blocks): 512MiB, 4GiB, 2G (K/M/G/T are powers
    /// of 1024; KB/MB/GB/TB of 1000). Default: a quarter of the machine's memory.
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    memory_budget: Option<usize>,
    /// Run tag.
    #[arg(long, default_value = "drbench-search")]
    tag: String,
}

pub fn run(a: SearchArgs) -> anyhow::Result<ExitCode> {
    let mut inputs: Vec<&std::path::Path> = a.corpus.iter().map(PathBuf::as_path).collect();
    inputs.extend([a.corpus_ids.as_path(), a.queries.as_path(), a.query_ids.as_path()]);
    super::outputs::refuse_input_as_output(&a.out, &inputs)?;
    let options = SearchOptions {
        corpus: a.corpus,
        corpus_ids: a.corpus_ids,
        queries: a.queries,
        query_ids: a.query_ids,
        k: a.k,
        memory_budget: a.memory_budget,
        out: a.out,
        tag: a.tag,
    };
    let s = search_embeddings(&options, &Bars::default())?;
    eprintln!(
        "{} queries x {} docs ({} values, {}) searched exactly in {} pass(es) of {}-row blocks (at most {} of the \
         {} budget) -> {} rows in {}; ids {:.2} s, search {:.2} s, writing {:.2} s",
        s.queries,
        s.docs,
        s.dim,
        s.corpus_type.name(),
        s.plan.passes(s.queries),
        s.plan.doc_block,
        human_bytes(s.plan.peak_bytes),
        human_bytes(s.memory_budget),
        s.rows_written,
        options.out.display(),
        s.ids_s,
        s.search_s,
        s.write_s
    );
    Ok(ExitCode::SUCCESS)
}

/// `256MiB`, `4GiB`, `2G`, `1.5GB`, `1000000` → bytes.
fn parse_size(s: &str) -> Result<usize, String> {
    let t = s.trim();
    let split = t.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let value: f64 = number.parse().map_err(|_| format!("{s:?} is not a size such as 512MiB, 4GiB or 2G"))?;
    let scale: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kib" => 1024.0,
        "m" | "mib" => 1024f64.powi(2),
        "g" | "gib" => 1024f64.powi(3),
        "t" | "tib" => 1024f64.powi(4),
        "kb" => 1e3,
        "mb" => 1e6,
        "gb" => 1e9,
        "tb" => 1e12,
        other => {
            return Err(format!("unknown unit {other:?} in {s:?} (B, KiB, MiB, GiB, TiB, K, M, G, T, KB, MB, GB, TB)"));
        }
    };
    let bytes = value * scale;
    if !bytes.is_finite() || bytes < 1.0 || bytes > usize::MAX as f64 {
        return Err(format!("{s:?} is not a usable memory budget"));
    }
    Ok(bytes as usize)
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn sizes_parse_with_binary_and_decimal_units() {
        for (s, want) in [
            ("256MiB", 256usize << 20),
            ("4GiB", 4 << 30),
            ("2G", 2 << 30),
            ("1.5GB", 1_500_000_000),
            ("1000", 1000),
            ("64 k", 64 << 10),
        ] {
            assert_eq!(parse_size(s), Ok(want), "{s}");
        }
        for bad in ["", "MiB", "-1G", "0", "1.2.3G", "5 parsecs", "1e400"] {
            assert!(parse_size(bad).is_err(), "{bad} parsed");
        }
    }
}
