//! Property tests: every metric equals a deliberately naive reference implementation, on random runs with many
//! ties, and the streaming file evaluator equals the in-memory one.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;

use drbench_harness::data::{Qrels, Run};
use drbench_harness::metrics::{Aggregate, EvalOptions, Measure, evaluate_run, evaluate_run_file};
use proptest::prelude::*;

/// Naive trec_eval: rank = sort by (score desc, docid desc as bytes); binary relevance at grade >= 1.
fn naive(measure: Measure, ranked: &[(String, f64)], judged: &BTreeMap<String, i32>) -> f64 {
    let grade = |d: &str| judged.get(d).copied().unwrap_or(0);
    let relevant: Vec<i32> = judged.values().copied().filter(|&g| g >= 1).collect();
    let r = relevant.len() as f64;
    if relevant.is_empty() {
        return 0.0;
    }
    let top =
        |k: Option<u32>| -> Vec<&(String, f64)> { ranked.iter().take(k.map_or(usize::MAX, |k| k as usize)).collect() };
    match measure {
        Measure::Trec(_) => panic!("the naive reference covers the five built-in measures"),
        Measure::P(k) => top(Some(k)).iter().filter(|(d, _)| grade(d) >= 1).count() as f64 / k as f64,
        Measure::Recall(k) => top(Some(k)).iter().filter(|(d, _)| grade(d) >= 1).count() as f64 / r,
        Measure::Rr(k) => {
            for (i, (d, _)) in top(k).iter().enumerate() {
                if grade(d) >= 1 {
                    return 1.0 / (i as f64 + 1.0);
                }
            }
            0.0
        }
        Measure::Ap(k) => {
            let list = top(k);
            let mut total = 0.0;
            for (i, (d, _)) in list.iter().enumerate() {
                if grade(d) >= 1 {
                    let rel_above = list[..=i].iter().filter(|(d, _)| grade(d) >= 1).count() as f64;
                    total += rel_above / (i as f64 + 1.0);
                }
            }
            total / r
        }
        Measure::Ndcg(k) => {
            let dcg =
                |gains: &[f64]| -> f64 { gains.iter().enumerate().map(|(i, g)| g / (i as f64 + 2.0).log2()).sum() };
            let gains: Vec<f64> = top(k).iter().map(|(d, _)| grade(d).max(0) as f64).collect();
            let mut ideal: Vec<f64> = judged.values().map(|&g| g.max(0) as f64).collect();
            ideal.sort_by(|a, b| b.partial_cmp(a).unwrap());
            ideal.truncate(k.map_or(usize::MAX, |k| k as usize));
            let idcg = dcg(&ideal);
            if idcg == 0.0 { 0.0 } else { dcg(&gains) / idcg }
        }
    }
}

fn measures() -> Vec<Measure> {
    vec![
        Measure::Ndcg(Some(1)),
        Measure::Ndcg(Some(5)),
        Measure::Ndcg(None),
        Measure::Rr(None),
        Measure::Rr(Some(3)),
        Measure::Recall(4),
        Measure::Ap(None),
        Measure::Ap(Some(5)),
        Measure::P(3),
    ]
}

#[derive(Debug, Clone)]
struct Case {
    /// qid -> docid -> grade
    qrels: BTreeMap<String, BTreeMap<String, i32>>,
    /// qid -> rows (unique docids), in file order
    run: BTreeMap<String, Vec<(String, f64)>>,
}

fn case() -> impl Strategy<Value = Case> {
    let docid = prop::sample::select(vec!["1", "10", "100", "9", "a", "B", "b1", "d-2", "0", "00", "z", "x9"]);
    let query = (
        prop::collection::btree_map(docid.clone(), -1i32..4, 0..8),
        prop::collection::btree_map(docid, (0i32..6).prop_map(|s| s as f64 * 0.5), 0..12),
    );
    prop::collection::vec(query, 1..5).prop_map(|qs| {
        let mut qrels = BTreeMap::new();
        let mut run = BTreeMap::new();
        for (i, (j, r)) in qs.into_iter().enumerate() {
            let qid = format!("q{i}");
            if !j.is_empty() {
                qrels.insert(qid.clone(), j.into_iter().map(|(d, g)| (d.to_string(), g)).collect());
            }
            if !r.is_empty() {
                run.insert(qid, r.into_iter().map(|(d, s)| (d.to_string(), s)).collect());
            }
        }
        Case { qrels, run }
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn metrics_equal_naive_reference(c in case(), complete in any::<bool>()) {
        let mut qrels = Qrels::new();
        for (q, docs) in &c.qrels {
            for (d, g) in docs {
                qrels.insert(q, d, *g);
            }
        }
        let mut run = Run::new();
        for (q, rows) in &c.run {
            for (d, s) in rows {
                run.push(q, d.clone(), *s);
            }
        }
        let opts = EvalOptions { measures: measures(), complete, remove_query_self: false };
        let eval = evaluate_run(&run, &qrels, &opts).unwrap();

        let mut expected_queries = BTreeSet::new();
        for (q, judged) in &c.qrels {
            let rows = c.run.get(q);
            if rows.is_none() && !complete {
                continue;
            }
            expected_queries.insert(q.clone());
            let mut ranked: Vec<(String, f64)> = rows.cloned().unwrap_or_default();
            ranked.sort_by(|a, b| b.1.partial_cmp(&a.1).unwrap().then_with(|| b.0.as_bytes().cmp(a.0.as_bytes())));
            let got = &eval.per_query[q];
            for (i, m) in measures().iter().enumerate() {
                let want = naive(*m, &ranked, judged);
                prop_assert!((got[i] - want).abs() < 1e-12, "{q} {m}: got {} want {want}", got[i]);
            }
        }
        prop_assert_eq!(eval.per_query.keys().cloned().collect::<BTreeSet<_>>(), expected_queries);

        // The streaming evaluator reads the same rows from a file, in shuffled-but-grouped order.
        let mut file = tempfile::NamedTempFile::new().unwrap();
        for (q, rows) in &c.run {
            for (i, (d, s)) in rows.iter().enumerate() {
                writeln!(file, "{q} Q0 {d} {} {s} tag", i + 1).unwrap();
            }
        }
        file.flush().unwrap();
        if c.run.is_empty() {
            prop_assert!(evaluate_run_file(file.path(), &qrels, &opts, 1).is_err(), "an empty run file is an error");
            return Ok(());
        }
        for threads in [1, 2, 4] {
            let streamed = evaluate_run_file(file.path(), &qrels, &opts, threads).unwrap();
            prop_assert_eq!(&streamed, &eval);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// The trec_eval port (`drbench trec_eval`) and the metrics of `drbench eval` are two implementations of the
    /// five built-in measures, and one (through the port's calculations) of all the others: on random runs they
    /// give the same per-query and summary values for every name of `all_trec`.
    #[test]
    fn trec_eval_port_equals_metrics(c in case(), complete in any::<bool>()) {
        use drbench_harness::trec_eval::{InputFile, Options, evaluate};
        prop_assume!(!c.qrels.is_empty() && !c.run.is_empty());
        let mut qrels_text = String::new();
        let mut qrels = Qrels::new();
        for (q, docs) in &c.qrels {
            for (d, g) in docs {
                qrels.insert(q, d, *g);
                qrels_text.push_str(&format!("{q} 0 {d} {g}\n"));
            }
        }
        let mut run = Run::new();
        let mut run_text = String::new();
        for (q, rows) in &c.run {
            for (i, (d, s)) in rows.iter().enumerate() {
                run.push(q, d.clone(), *s);
                run_text.push_str(&format!("{q} Q0 {d} {} {s} tag\n", i + 1));
            }
        }
        let te_opts = Options {
            average_complete: complete,
            measures: ["all_trec", "ndcg_cut.1,5", "ndcg", "recip_rank", "recall.4", "map", "map_cut.5", "P.3"]
                .map(String::from)
                .to_vec(),
            ..Options::default()
        };
        let path = std::path::Path::new("case");
        let rel_info = InputFile { path, bytes: qrels_text.as_bytes() };
        let results = InputFile { path, bytes: run_text.as_bytes() };
        let Ok(te) = evaluate(&te_opts, rel_info, results, None) else {
            // trec_eval refuses a run that shares no query with the qrels; drbench eval then has none either.
            let eval = evaluate_run(&run, &qrels, &EvalOptions { measures: measures(), complete, remove_query_self: false }).unwrap();
            prop_assert!(eval.per_query.is_empty());
            return Ok(());
        };
        // Every value trec_eval prints under a name drbench eval takes: the built-in measures and the rest.
        let mut ours: Vec<Measure> = Vec::new();
        for (name, _) in te.summary() {
            if let Ok(m) = name.parse::<Measure>() && !ours.contains(&m) {
                ours.push(m);
            }
        }
        prop_assert!(ours.len() > 60, "{} measures", ours.len());
        let opts = EvalOptions { measures: ours.clone(), complete, remove_query_self: false };
        let eval = evaluate_run(&run, &qrels, &opts).unwrap();
        let index = |name: &str| ours.iter().position(|m| m.trec_eval_name().as_deref() == Some(name));
        let mut seen = BTreeSet::new();
        for (qid, name, value) in te.per_query() {
            let qid = std::str::from_utf8(qid).unwrap();
            // trec_eval keeps a geometric mean's logarithm per query; drbench the value.
            let Some(i) = index(name).filter(|&i| ours[i].aggregate() != Aggregate::GeoMean) else { continue };
            let want = eval.per_query[qid][i];
            prop_assert!(value == want || (value - want).abs() < 1e-12, "{qid} {name}: trec_eval port {value}, metrics {want}");
            seen.insert(qid.to_string());
        }
        for (name, value) in te.summary() {
            let Some(i) = index(name) else { continue };
            let want = eval.mean[i];
            prop_assert!(value == want || (value - want).abs() < 1e-12, "all {name}: trec_eval port {value}, metrics {want}");
        }
        prop_assert_eq!(seen, eval.per_query.keys().cloned().collect::<BTreeSet<_>>());
    }
}

/// Lines of whitespace-separated tokens chosen to hit the trec_eval parsers' edges: comments, short and long
/// lines, huge, negative and fractional numbers, inf/nan, CR line ends.
fn noisy_file() -> impl Strategy<Value = Vec<u8>> {
    let token = prop::sample::select(vec![
        "1",
        "2",
        "0",
        "-1",
        "-2",
        "7",
        "3.5",
        "1e308",
        "-1e308",
        "inf",
        "-inf",
        "nan",
        "Q0",
        "#",
        "# c",
        "a",
        "b",
        "",
        "\t",
        "\r",
        "999999",
        "18446744073709551616",
        "x#y",
        "\u{feff}",
    ]);
    prop::collection::vec(prop::collection::vec(token, 0..8), 0..20)
        .prop_map(|lines| lines.iter().map(|l| l.join(" ")).collect::<Vec<_>>().join("\n").into_bytes())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    /// Any qrels/run/parameter combination is evaluated or refused with an error, never a panic.
    #[test]
    fn trec_eval_port_never_panics(qrels in noisy_file(), run in noisy_file(), flags in 0u32..64, format in 0usize..4) {
        use drbench_harness::trec_eval::{InputFile, Options, RelFormat, trec_eval};
        let rel_format = [RelFormat::Qrels, RelFormat::QrelsJg, RelFormat::Prefs, RelFormat::QrelsPrefs][format];
        let measures = match rel_format {
            RelFormat::QrelsJg => vec!["qrels_jg".to_string()],
            RelFormat::Prefs | RelFormat::QrelsPrefs => vec!["all_prefs".to_string()],
            RelFormat::Qrels => [
                "all_trec", "P.1,1000000", "ndcg.1=-3,2=9,x=1", "rbp.p=2,1=7", "relstring.1e9", "Rprec_mult.1e300", "dcg",
                "ideal_dcg",
            ]
            .map(String::from)
            .to_vec(),
        };
        let opts = Options {
            per_query: true,
            average_complete: flags & 1 != 0,
            judged_docs_only: flags & 2 != 0,
            max_docs_per_topic: if flags & 4 != 0 { 2 } else { u64::MAX },
            relevance_level: i64::from(flags >> 4) - 1,
            rel_format,
            measures,
            ..Options::default()
        };
        let path = std::path::Path::new("noise");
        let _ = trec_eval(&opts, InputFile { path, bytes: &qrels }, InputFile { path, bytes: &run }, None, &mut std::io::sink());
    }
}
