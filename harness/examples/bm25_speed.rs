//! Times BM25 indexing and searching on a BEIR folder, single-threaded and on all cores, and prints JSON.
//! Used by bench/bm25_vs_bm25s.sh. Usage: bm25_speed BEIR_DIR [SPLIT] [K] [REPEATS]
//! Search timing covers query analysis, scoring and exact top-k (internal ids + scores), like bm25s's
//! `retrieve`; writing a run file is not included.

use std::time::Instant;

use drbench_harness::bm25::{AnalyzerConfig, Bm25Index, Bm25Params, Bm25Searcher, FieldMode};
use drbench_harness::io::BeirFolder;
use rayon::prelude::*;

/// Median wall time of `repeats` calls of `f`, in seconds.
fn median_secs(repeats: usize, mut f: impl FnMut()) -> f64 {
    let mut v: Vec<f64> = (0..repeats.max(1))
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64()
        })
        .collect();
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let folder = BeirFolder::open(&args[1]).expect("a BEIR folder");
    let split = args.get(2).map_or("test", String::as_str);
    let k: usize = args.get(3).map_or(1000, |s| s.parse().expect("K"));
    let repeats: usize = args.get(4).map_or(5, |s| s.parse().expect("REPEATS"));
    let corpus = folder.corpus().unwrap();
    let qrels = folder.qrels(split).unwrap();
    let queries = folder.queries().unwrap().filter(|q| qrels.get(q.id).is_some());
    let texts: Vec<&str> = queries.iter().map(|q| q.text).collect();
    let build =
        || Bm25Index::build(&corpus, FieldMode::Flat, AnalyzerConfig::default(), Bm25Params::default(), &|_| {});
    let one = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
    let index_1t = median_secs(repeats, || {
        one.install(build);
    });
    let index_nt = median_secs(repeats, || {
        build();
    });
    let index = build();
    let search_1t = median_secs(repeats, || {
        // A fresh searcher per repeat, so its query-term cache starts cold each time.
        let mut s = Bm25Searcher::new(&index);
        for q in &texts {
            std::hint::black_box(s.search(q, k));
        }
    });
    let search_nt = median_secs(repeats, || {
        texts.par_iter().map_init(|| Bm25Searcher::new(&index), |s, q| s.search(q, k).len()).sum::<usize>();
    });
    let n = texts.len() as f64;
    println!(
        "{{\"docs\": {}, \"queries\": {}, \"k\": {k}, \"threads\": {}, \"index_s_1t\": {index_1t:.4}, \"index_s_nt\": {index_nt:.4}, \"qps_1t\": {:.0}, \"qps_nt\": {:.0}}}",
        corpus.len(),
        texts.len(),
        rayon::current_num_threads(),
        n / search_1t,
        n / search_nt
    );
}
