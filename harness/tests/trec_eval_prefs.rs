//! trec_eval's preference formats through the library entry point: the worked examples of trec_eval's own
//! documentation (get_prefs.c) counted, hand-checked rankings scored, inconsistent judgments refused by name, and
//! the measures on random consistent preferences equal to a deliberately naive reference.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use drbench_harness::trec_eval::{InputFile, Options, RelFormat, evaluate};
use proptest::prelude::*;

/// The summary values of `measures` for `prefs` (in `format`) against `run`.
fn summary(format: RelFormat, prefs: &str, run: &str, measures: &[&str]) -> Result<Vec<(String, f64)>, String> {
    let opts = Options {
        rel_format: format,
        measures: measures.iter().map(|m| m.to_string()).collect(),
        ..Options::default()
    };
    let rel = InputFile { path: Path::new("prefs"), bytes: prefs.as_bytes() };
    let res = InputFile { path: Path::new("run"), bytes: run.as_bytes() };
    let e = evaluate(&opts, rel, res, None).map_err(|e| e.to_string())?;
    Ok(e.summary().map(|(n, v)| (n.to_string(), v)).collect())
}

/// A run that retrieves only a document no preference names: every preference is "not occurring".
const UNRELATED_RUN: &str = "q Q0 other 1 1.0 r\n";

#[test]
fn the_documented_examples_count_their_preferences() {
    // (what get_prefs.c says, the file, the number of preferences it says the file expresses)
    let cases: &[(&str, &str, f64)] = [
        (
            "one complete ranking of six documents",
            "q u s d1 3\nq u s d2 2\nq u s d3 0\nq u s d4 6\nq u s d5 0\nq u s d6 2\n",
            13.0,
        ),
        // get_prefs.c lists 5 (1>2 1>3 2>3 4>1 4>2) and forgets the transitive 4>3; trec_eval 10.0 counts 6.
        (
            "two sub-groups, the duplicate 1>2 counted once",
            "q u s1 d1 3\nq u s1 d2 2\nq u s1 d3 1\nq u s2 d1 2\nq u s2 d2 1\nq u s2 d4 3\n",
            6.0,
        ),
        (
            "two users (groups) that disagree",
            "q u1 s d1 3\nq u1 s d2 2\nq u2 s d1 0\nq u2 s d3 6\nq u2 s d4 2\nq u2 t d1 0\nq u2 t d2 8\n",
            5.0,
        ),
        (
            "transitive through a second sub-group",
            "q u s1 d1 3\nq u s1 d2 2\nq u s1 d3 1\nq u s2 d2 5\nq u s2 d4 4\n",
            5.0,
        ),
    ]
    .as_slice();
    for (what, prefs, want) in cases {
        let got = summary(RelFormat::Prefs, prefs, UNRELATED_RUN, &["prefs_num_prefs_poss", "prefs_num_prefs_ful"])
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(got, vec![("prefs_num_prefs_poss".into(), *want), ("prefs_num_prefs_ful".into(), 0.0)], "{what}");
    }
}

#[test]
fn a_ranking_scores_what_its_order_fulfils() {
    // One user: a > b > c (c nonrelevant). The run ranks b, a and leaves c out.
    let prefs = "q u s a 2\nq u s b 1\nq u s c 0\n";
    let run = "q Q0 b 1 2.0 r\nq Q0 a 2 1.0 r\n";
    let got = summary(
        RelFormat::Prefs,
        prefs,
        run,
        &["prefs_num_prefs_poss", "prefs_num_prefs_ful", "prefs_num_prefs_ful_ret", "prefs_simp", "prefs_simp_ret"],
    )
    .unwrap();
    // a>b unfulfilled (both retrieved); a>c and b>c fulfilled by implication (c not retrieved).
    let want: Vec<(String, f64)> = [
        ("prefs_num_prefs_poss", 3.0),
        ("prefs_num_prefs_ful", 2.0),
        ("prefs_num_prefs_ful_ret", 0.0),
        ("prefs_simp", 2.0 / 3.0),
        ("prefs_simp_ret", 0.0),
    ]
    .map(|(n, v)| (n.to_string(), v))
    .to_vec();
    assert_eq!(got, want);
    // The same judgments as a qrels file (one sub-group per group): the same counts.
    let qrels = "q u a 2\nq u b 1\nq u c 0\n";
    let as_qrels = summary(RelFormat::QrelsPrefs, qrels, run, &["prefs_num_prefs_poss", "prefs_num_prefs_ful"]);
    assert_eq!(as_qrels.unwrap(), want[..2].to_vec());
}

#[test]
fn inconsistent_preferences_are_refused_by_name() {
    // (case, prefs file, what the message must say)
    let cases: &[(&str, &str, &str)] = &[
        (
            "sub-groups that contradict each other",
            "q u s1 a 2\nq u s1 b 1\nq u s2 b 2\nq u s2 a 1\n",
            "prefs: query q: the preferences of judgment group u conflict: documents a and b",
        ),
        (
            "a contradiction only through transitivity",
            "q u s1 a 2\nq u s1 b 1\nq u s2 b 2\nq u s2 c 1\nq u s3 c 2\nq u s3 a 1\n",
            "judgment group u conflict",
        ),
        ("one document at two levels of one sub-group", "q u s a 2\nq u s a 1\n", "document a has two different"),
        (
            "nonrelevant in one sub-group, relevant in another",
            "q u s1 a 2\nq u s1 b 0\nq u s2 b 1\nq u s2 c 0\n",
            "document b has both 0 and non-0 relevance levels in judgment group u",
        ),
        ("a line with four fields", "q u s a 2\nq u b 1\n", "prefs:2: a prefs line has 5 fields"),
    ];
    for (case, prefs, want) in cases {
        let err = summary(RelFormat::Prefs, prefs, UNRELATED_RUN, &["all_prefs"]).expect_err(case);
        assert!(err.contains(want), "{case}: {err}");
    }
    let err = summary(RelFormat::Prefs, "q u s a 1\n", UNRELATED_RUN, &["map"]).unwrap_err();
    assert!(err.contains("measure 'map' needs -R qrels"), "{err}");
}

/// One generated preference line: (judgment group, sub-group, document, level).
type Line = (u8, u8, u8, u8);

/// Random consistent preferences: per group a hidden order of documents (low scores nonrelevant), each
/// sub-group some of the documents at levels that follow that order, each document at most once per sub-group.
fn consistent_prefs() -> impl Strategy<Value = Vec<Line>> {
    let group = (
        prop::collection::vec(0u8..100, 12),
        1u8..4,
        prop::collection::vec(prop::collection::btree_set(0u8..12, 1..8), 1..4),
    );
    prop::collection::vec(group, 1..4).prop_map(|groups| {
        let mut lines = Vec::new();
        for (g, (hidden, steps, subs)) in groups.into_iter().enumerate() {
            for (s, docs) in subs.iter().enumerate() {
                for &d in docs {
                    let h = hidden[d as usize];
                    let level = if h < 30 { 0 } else { 1 + (u16::from(h - 30) * u16::from(steps) / 70) as u8 };
                    lines.push((g as u8, s as u8, d, level));
                }
            }
        }
        lines
    })
}

/// Deliberately naive counts: every preference of every group (pairs with a strictly higher level in one
/// sub-group, closed under transitivity by repetition), classified by which side the run retrieved.
fn naive(lines: &[Line], run: &[u8]) -> BTreeMap<&'static str, f64> {
    let rank = |d: u8| run.iter().position(|&r| r == d);
    let (mut all, mut ful, mut ful_ret, mut poss_ret, mut poss_imp, mut ful_imp) = (0, 0, 0, 0, 0, 0);
    let mut per_pair: BTreeMap<(u8, u8), (u32, u32)> = BTreeMap::new();
    let mut avgjg = Vec::new();
    for g in lines.iter().map(|l| l.0).collect::<BTreeSet<_>>() {
        let mine: Vec<&Line> = lines.iter().filter(|l| l.0 == g).collect();
        let mut prefs: BTreeSet<(u8, u8)> = BTreeSet::new();
        for a in &mine {
            for b in &mine {
                if a.1 == b.1 && a.3 > b.3 {
                    prefs.insert((a.2, b.2));
                }
            }
        }
        loop {
            let more: Vec<(u8, u8)> = prefs
                .iter()
                .flat_map(|&(a, b)| prefs.iter().filter(move |&&(c, _)| c == b).map(move |&(_, d)| (a, d)))
                .filter(|p| p.0 != p.1 && !prefs.contains(p))
                .collect();
            if more.is_empty() {
                break;
            }
            prefs.extend(more);
        }
        let (mut g_ful, mut g_all) = (0, 0);
        for &(a, b) in &prefs {
            all += 1;
            g_all += 1;
            let fulfilled = match (rank(a), rank(b)) {
                (Some(ra), Some(rb)) => {
                    poss_ret += 1;
                    ful_ret += usize::from(ra < rb);
                    ra < rb
                }
                (Some(_), None) => {
                    poss_imp += 1;
                    ful_imp += 1;
                    true
                }
                (None, Some(_)) => {
                    poss_imp += 1;
                    false
                }
                (None, None) => false,
            };
            ful += usize::from(fulfilled);
            g_ful += usize::from(fulfilled);
            let e = per_pair.entry((a.min(b), a.max(b))).or_default();
            if fulfilled { e.0 += 1 } else { e.1 += 1 }
        }
        if g_all > 0 {
            avgjg.push(g_ful as f64 / g_all as f64);
        } else {
            avgjg.push(0.0);
        }
    }
    let ratio = |a: usize, b: usize| if b > 0 { a as f64 / b as f64 } else { 0.0 };
    let sum: f64 = avgjg.iter().sum();
    // A pair's share: its preferences fulfilled by the run's order (pairs neither retrieved fulfil none).
    let pair = per_pair.values().map(|&(f, n)| f64::from(f) / f64::from(f + n)).sum::<f64>();
    BTreeMap::from([
        ("prefs_num_prefs_poss", all as f64),
        ("prefs_num_prefs_ful", ful as f64),
        ("prefs_num_prefs_ful_ret", ful_ret as f64),
        ("prefs_simp", ratio(ful, all)),
        ("prefs_simp_ret", ratio(ful_ret, poss_ret)),
        ("prefs_simp_imp", ratio(ful_ret + ful_imp, poss_ret + poss_imp)),
        ("prefs_pair", if per_pair.is_empty() { 0.0 } else { pair / per_pair.len() as f64 }),
        ("prefs_avgjg", if sum > 0.0 { sum / avgjg.len() as f64 } else { 0.0 }),
    ])
}

proptest! {
    #[test]
    fn prefs_measures_equal_a_naive_reference(
        lines in consistent_prefs(),
        run in prop::collection::btree_set(0u8..16, 1..12).prop_map(|s| s.into_iter().collect::<Vec<u8>>()).prop_shuffle(),
        multi in any::<bool>(),
    ) {
        // With `multi` off every sub-group is its own group's only one (trec_eval's class path).
        let lines: Vec<Line> = if multi { lines } else { lines.into_iter().map(|(g, s, d, l)| (g * 4 + s, 0, d, l)).collect() };
        let prefs: String = lines.iter().map(|(g, s, d, l)| format!("q g{g} s{s} d{d} {l}\n")).collect();
        let run_text: String =
            run.iter().enumerate().map(|(i, d)| format!("q Q0 d{d} {} {} r\n", i + 1, 100 - i)).collect();
        let want = naive(&lines, &run);
        let names: Vec<&str> = want.keys().copied().collect();
        let got: BTreeMap<String, f64> = summary(RelFormat::Prefs, &prefs, &run_text, &names).unwrap().into_iter().collect();
        for (name, w) in &want {
            prop_assert!((got[*name] - w).abs() < 1e-12, "{name}: got {}, naive {w}\n{prefs}{run_text}", got[*name]);
        }
    }
}
