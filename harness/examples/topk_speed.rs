//! Times exact top-k (`dense::exact_top_k`) on raw little-endian f32 matrices and prints JSON; with an
//! output path it also writes the top-k doc indices (u32, row-major) for a cross-check against peers.
//! Used by bench/topk_vs_faiss.py. Usage: topk_speed DOCS.f32 QUERIES.f32 DIM K [REPEATS] [OUT_IDS.u32]

use std::time::Instant;

use drbench_harness::dense::exact_top_k;

fn read_f32(path: &str) -> Vec<f32> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    bytes.chunks_exact(4).map(|c| f32::from_le_bytes(c.try_into().expect("4 bytes"))).collect()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 5 {
        eprintln!("usage: topk_speed DOCS.f32 QUERIES.f32 DIM K [REPEATS] [OUT_IDS.u32]");
        std::process::exit(2);
    }
    let docs = read_f32(&args[1]);
    let queries = read_f32(&args[2]);
    let dim: usize = args[3].parse().expect("DIM");
    let k: usize = args[4].parse().expect("K");
    let repeats: usize = args.get(5).map_or(5, |s| s.parse().expect("REPEATS"));
    let mut times = Vec::new();
    let mut hits = Vec::new();
    for _ in 0..repeats.max(1) {
        let t = Instant::now();
        hits = exact_top_k(&docs, &queries, dim, k);
        times.push(t.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    if let Some(out) = args.get(6) {
        let ids: Vec<u8> = hits.iter().flat_map(|q| q.iter().flat_map(|h| h.doc.to_le_bytes())).collect();
        std::fs::write(out, ids).unwrap_or_else(|e| panic!("{out}: {e}"));
    }
    println!(
        "{{\"docs\": {}, \"queries\": {}, \"dim\": {dim}, \"k\": {k}, \"threads\": {}, \"median_s\": {:.6}, \"min_s\": {:.6}}}",
        docs.len() / dim,
        queries.len() / dim,
        rayon::current_num_threads(),
        times[times.len() / 2],
        times[0]
    );
}
