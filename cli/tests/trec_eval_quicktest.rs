//! trec_eval 10.0's own `make quicktest`: every command of its Makefile, run through drbench called as
//! `trec_eval` (a symlink, as users install it) from a folder laid out like trec_eval's, stdout diffed byte for
//! byte against trec_eval's expected output (datasets/fixtures/trec_eval, with its licence notice).

mod common;

use std::path::Path;
use std::process::Command;

/// The `quicktest` target of trec_eval 10.0's Makefile, verbatim: (command line, expected output).
const QUICKTEST: &[(&str, &str)] = &[
    ("./trec_eval test/qrels.test test/results.test", "test/out.test"),
    ("./trec_eval test/qrels.test.with-comments test/results.test", "test/out.test"),
    ("./trec_eval test/qrels.comment.test test/results.comment.test", "test/out.comment.test"),
    ("./trec_eval -m all_trec test/qrels.test test/results.test", "test/out.test.a"),
    ("./trec_eval -m all_trec -q test/qrels.test test/results.test", "test/out.test.aq"),
    ("./trec_eval -m all_trec -q -c test/qrels.test test/results.trunc", "test/out.test.aqc"),
    ("./trec_eval -m all_trec -q -c -M100 test/qrels.test test/results.trunc", "test/out.test.aqcM"),
    ("./trec_eval -m all_trec -mrelstring.20 -q -l2 test/qrels.rel_level test/results.test", "test/out.test.aql"),
    ("./trec_eval -m all_prefs -q -R prefs test/prefs.test test/prefs.results.test", "test/out.test.prefs"),
    ("./trec_eval -m all_prefs -q -R prefs test/prefs.comment.test test/prefs.results.test", "test/out.test.prefs"),
    ("./trec_eval -m all_prefs -q -R qrels_prefs test/qrels.test test/results.test", "test/out.test.qrels_prefs"),
    ("./trec_eval -m qrels_jg -q -R qrels_jg  test/qrels.123 test/results.test", "test/out.test.qrels_jg"),
    ("./trec_eval -m qrels_jg -q -R qrels_jg  test/qrels.comments.123 test/results.test", "test/out.test.qrels_jg"),
    (
        "./trec_eval -q -miprec_at_recall..10,.20,.25,.75,.50 -m P.5,7,3 -m recall.20,2000 -m Rprec_mult.5.0,0.2,0.35 \
         -mutility.2,-1,0,0 -m 11pt_avg..25,.5,.75 -mndcg.1=3,2=9,4=4.5 -mndcg_cut.10,20,23.4 -msuccess.2,5,20 \
         test/qrels.test test/results.test",
        "test/out.test.meas_params",
    ),
    ("./trec_eval -q -m all_trec -Z test/zscores_file test/qrels.test test/results.test", "test/out.test.aqZ"),
];

/// A folder like trec_eval's checkout: `trec_eval` (a symlink to drbench) and `test/` (the fixtures, unzipped).
fn trec_eval_checkout() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let test = dir.path().join("test");
    std::fs::create_dir(&test).unwrap();
    for entry in std::fs::read_dir(common::root().join("datasets/fixtures/trec_eval")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_string();
        match name.strip_suffix(".gz") {
            Some(plain) => {
                let mut text = Vec::new();
                std::io::Read::read_to_end(
                    &mut flate2::read::GzDecoder::new(std::fs::File::open(&path).unwrap()),
                    &mut text,
                )
                .unwrap();
                std::fs::write(test.join(plain), text).unwrap();
            }
            None => {
                std::fs::copy(&path, test.join(&name)).unwrap();
            }
        }
    }
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_drbench"), dir.path().join("trec_eval")).unwrap();
    dir
}

/// Runs one quicktest line in `dir`: (exit code, stdout, stderr).
fn run_line(dir: &Path, line: &str) -> (i32, Vec<u8>, String) {
    let mut words = line.split_whitespace();
    let program = words.next().unwrap();
    let out = Command::new(dir.join(program)).args(words).current_dir(dir).output().unwrap();
    (out.status.code().unwrap_or(-1), out.stdout, String::from_utf8_lossy(&out.stderr).into_owned())
}

/// The first differing line of two outputs, for the failure message.
fn first_difference(got: &[u8], want: &[u8]) -> String {
    let (got, want) = (String::from_utf8_lossy(got), String::from_utf8_lossy(want));
    for (i, (g, w)) in got.lines().zip(want.lines()).enumerate() {
        if g != w {
            return format!("line {}: got {g:?}, want {w:?}", i + 1);
        }
    }
    format!("{} lines, want {}", got.lines().count(), want.lines().count())
}

#[test]
fn trec_eval_quicktest_is_byte_identical() {
    let dir = trec_eval_checkout();
    let mut failures = Vec::new();
    assert_eq!(QUICKTEST.len(), 15, "the Makefile's quicktest commands");
    for (line, expected) in QUICKTEST {
        let want = std::fs::read(dir.path().join(expected)).unwrap();
        let (code, got, stderr) = run_line(dir.path(), line);
        if code != 0 || got != want {
            failures.push(format!("{line}\n  exit {code}, {}\n  stderr: {stderr}", first_difference(&got, &want)));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} quicktest commands fail:\n{}",
        failures.len(),
        QUICKTEST.len(),
        failures.join("\n")
    );
}

/// `(measure, query) → value` of trec_eval-layout lines (`name \t qid \t value`, any padding).
fn values_by_key(out: &[u8]) -> std::collections::BTreeMap<(String, String), String> {
    String::from_utf8_lossy(out)
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split('\t').map(str::trim).collect();
            (f.len() == 3).then(|| ((f[0].to_string(), f[1].to_string()), f[2].to_string()))
        })
        .collect()
}

#[test]
fn drbench_eval_gives_trec_evals_values_for_every_measure() {
    use drbench_harness::metrics::Measure;
    let dir = trec_eval_checkout();
    for (qrels, run, complete) in
        [("test/qrels.test", "test/results.test", false), ("test/qrels.test", "test/results.trunc", true)]
    {
        let mut args = vec!["-m", "all_trec", "-q"];
        if complete {
            args.push("-c");
        }
        let (code, out, stderr) = run_line(dir.path(), &format!("./trec_eval {} {qrels} {run}", args.join(" ")));
        assert_eq!(code, 0, "{stderr}");
        let want = values_by_key(&out);
        // Every value name trec_eval prints, except the run id, the query count and the relevance string.
        let names: Vec<String> = want
            .keys()
            .map(|(m, _)| m.clone())
            .filter(|m| !["runid", "num_q", "relstring"].contains(&m.as_str()))
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        assert!(names.len() > 90, "all_trec prints {} value names", names.len());
        let mut eval = vec!["eval".to_string(), "--qrels".into(), qrels.into(), "--run".into(), run.into()];
        eval.extend(["-m".into(), names.join(","), "-q".into()]);
        if complete {
            eval.push("-c".into());
        }
        let out = Command::new(env!("CARGO_BIN_EXE_drbench")).args(&eval).current_dir(dir.path()).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let got = values_by_key(&out.stdout);
        let mut differences = Vec::new();
        for ((name, qid), value) in &want {
            if !names.contains(name) {
                continue;
            }
            // drbench prints its five built-in measures under their ir_measures names (ndcg_cut_10 as nDCG@10).
            let printed = name.parse::<Measure>().unwrap_or_else(|e| panic!("{name}: {e}")).to_string();
            match got.get(&(printed.clone(), qid.clone())) {
                Some(v) if v == value => {}
                other => {
                    differences.push(format!("{name} ({printed}) {qid}: trec_eval {value}, drbench eval {other:?}"))
                }
            }
        }
        assert!(
            differences.is_empty(),
            "{run} (-c {complete}): {} differences:\n{}",
            differences.len(),
            differences.join("\n")
        );
    }
}
