//! Criterion benchmarks of the metric core: scoring one 1,000-row query, and a whole in-memory run.

use criterion::{Criterion, black_box, criterion_group, criterion_main};
use drbench_harness::data::{Qrels, QueryJudgments, Run};
use drbench_harness::metrics::{EvalOptions, GroupScorer, Measure, QueryRows, evaluate_run};

fn lcg(state: &mut u64) -> u64 {
    *state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    *state >> 33
}

fn query_rows(seed: u64, n: usize) -> (QueryRows, QueryJudgments) {
    let mut s = seed;
    let mut rows = QueryRows::default();
    let mut score = 30.0;
    let mut rel = Vec::new();
    for i in 0..n {
        if lcg(&mut s) % 10 < 7 {
            score -= (lcg(&mut s) % 100) as f64 * 1e-4;
        }
        let docid = format!("{}", lcg(&mut s) % 8_841_823 + i as u64 * 10_000_000);
        if i % 97 == 3 {
            rel.push(docid.clone());
        }
        rows.push(docid.as_bytes(), score);
    }
    let j = QueryJudgments::from_pairs(rel.iter().map(|d| (d.as_str(), 1)));
    (rows, j)
}

fn bench(c: &mut Criterion) {
    let measures = vec![
        Measure::Ndcg(Some(10)),
        Measure::Rr(None),
        Measure::Recall(100),
        Measure::Recall(1000),
        Measure::Ap(None),
    ];
    let (rows, judgments) = query_rows(1, 1000);
    let mut scorer = GroupScorer::default();
    let mut out = vec![0.0; measures.len()];
    c.bench_function("score one query (1000 rows, 5 measures)", |b| {
        b.iter(|| {
            let mut r = rows.clone();
            scorer.score(b"q", &mut r, &judgments, &measures, false, &mut out).unwrap();
            black_box(&out);
        })
    });

    let mut run = Run::new();
    let mut qrels = Qrels::new();
    let mut s = 9u64;
    for q in 0..500 {
        let qid = q.to_string();
        for i in 0..1000 {
            let d = format!("d{}", (lcg(&mut s) % 1_000) * 1_000 + i);
            if i % 250 == 0 {
                qrels.insert(&qid, &d, 1);
            }
            run.push(&qid, d, -(i as f64));
        }
    }
    let opts = EvalOptions { measures, complete: true, remove_query_self: false };
    c.bench_function("evaluate_run (500 queries x 1000 rows)", |b| {
        b.iter(|| black_box(evaluate_run(&run, &qrels, &opts).unwrap()))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
