//! The record files: a cell written and read back through the one module that owns them, what a bench refuses
//! (another record format, a folder that is not a cell), the settings that differ named, and MTEB's result files
//! read beside drbench's for reports.

use std::path::Path;

use drbench_datasets::Registry;
use drbench_harness::data::{Run, ScoredDoc, SubsetSpec};
use drbench_harness::metrics::{EvalOptions, Measure, evaluate_run};
use drbench_harness::{bm25::FieldMode, data::Qrels};
use drbench_native::encoders::device::Precision;
use drbench_native::encoders::spec::Mode;
use drbench_pipeline::record::{
    CellFiles, CellSettings, Counts, Described, DrbenchRecord, RECORD_FORMAT, Timings, read_cell, read_results,
    write_cell,
};
use drbench_pipeline::retriever::{Bm25Spec, DenseSpec, RetrieverSpec};

const NDCG10: Measure = Measure::Ndcg(Some(10));

fn settings() -> CellSettings {
    CellSettings {
        retriever: RetrieverSpec::Dense(DenseSpec { dtype: Precision::Bf16, ..DenseSpec::new("mirror:m", Mode::Mean) }),
        task: "beir/scifact".into(),
        split: "test".into(),
        subset: Some(SubsetSpec { queries: 2, docs: 10 }),
        measures: vec![NDCG10, Measure::Recall(100)],
        k: 100,
        remove_query_self: false,
    }
}

/// A two-query evaluation: q1 finds its relevant document first, q2 second.
fn evaluation(measures: Vec<Measure>) -> (Run, drbench_harness::metrics::Evaluation) {
    let mut qrels = Qrels::new();
    qrels.insert("q1", "d1", 1);
    qrels.insert("q2", "d2", 2);
    let mut run = Run::new();
    run.insert_query(
        "q1",
        vec![ScoredDoc { docid: "d1".into(), score: 0.9 }, ScoredDoc { docid: "d3".into(), score: 0.1 }],
    );
    run.insert_query(
        "q2",
        vec![ScoredDoc { docid: "d3".into(), score: 0.9 }, ScoredDoc { docid: "d2".into(), score: 0.5 }],
    );
    let eval = evaluate_run(&run, &qrels, &EvalOptions { measures, complete: true, remove_query_self: false }).unwrap();
    (run, eval)
}

fn record(settings: CellSettings) -> DrbenchRecord {
    DrbenchRecord {
        format: RECORD_FORMAT,
        model: "m".into(),
        task: settings.task.clone(),
        split: settings.split.clone(),
        dataset_revision: None,
        settings,
        retriever: Described::of(r#"{"version":2,"mode":"mean"}"#),
        device: Some("cpu".into()),
        timings_s: Timings { load: 1.0, index: 2.0, ..Timings::default() },
        encoding: None,
        counts: Counts { docs: 3, queries: 2, queries_scored: 2 },
        conventions: "trec_eval -c".into(),
    }
}

fn write(dir: &Path, record: &DrbenchRecord) {
    let (run, eval) = evaluation(record.settings.measures.clone());
    write_cell(
        dir,
        CellFiles {
            record,
            mteb_task: "SciFact",
            subset: ("default", vec!["eng-Latn".into()]),
            evaluation: &eval,
            run: &run,
            tag: "t",
        },
    )
    .unwrap();
}

#[test]
fn a_cell_reads_back_as_written_and_reports_read_it_too() {
    let dir = tempfile::tempdir().unwrap();
    let cell = dir.path().join("m/beir__scifact");
    let written = record(settings());
    write(&cell, &written);
    assert_eq!(read_cell(&cell).unwrap(), Some(written.clone()));
    assert_eq!(read_cell(&dir.path().join("nothing")).unwrap(), None, "an unfinished cell");
    // The signature stays JSON, not a string holding JSON.
    let text = std::fs::read_to_string(cell.join("results.json")).unwrap();
    assert!(text.contains(r#""retriever": {"version":2,"mode":"mean"}"#), "{text}");
    assert_eq!(Described::of("BM25 flat").json(), r#""BM25 flat""#);

    let cells = read_results(&[dir.path().to_path_buf()], &Registry::builtin()).unwrap();
    assert_eq!(cells.len(), 1);
    let c = &cells[0];
    assert_eq!((c.model.as_str(), c.task.as_str(), c.split.as_str()), ("m", "beir/scifact", "test"));
    assert_eq!(c.scores[&NDCG10], (1.0 + 0.6309297535714575) / 2.0);
    let per_query = c.per_query.as_ref().unwrap();
    assert_eq!((per_query["q1"][&NDCG10], per_query["q2"][&Measure::Recall(100)]), (1.0, 1.0));
}

#[test]
fn a_cells_trec_eval_measures_read_back_under_their_trec_eval_names() {
    let dir = tempfile::tempdir().unwrap();
    let cell = dir.path().join("m/beir__scifact");
    let names = ["success_1", "num_rel_ret", "bpref"];
    let trec: Vec<Measure> = names.iter().map(|n| n.parse().unwrap()).collect();
    let written = record(CellSettings { measures: [vec![NDCG10], trec.clone()].concat(), ..settings() });
    write(&cell, &written);
    assert_eq!(read_cell(&cell).unwrap(), Some(written));
    let text = std::fs::read_to_string(cell.join("results.json")).unwrap();
    assert!(names.iter().all(|n| text.contains(&format!("\"{n}\""))), "{text}");
    let cells = read_results(&[dir.path().to_path_buf()], &Registry::builtin()).unwrap();
    // q1 finds its document first, q2 second: success_1 is a mean, num_rel_ret a sum (as trec_eval sums it).
    let scores: Vec<f64> = trec.iter().map(|m| cells[0].scores[m]).collect();
    assert_eq!(scores, vec![0.5, 2.0, 1.0]);
    assert_eq!(cells[0].per_query.as_ref().unwrap()["q2"][&trec[0]], 0.0);
}

#[test]
fn report_conflicting_results_for_one_cell_are_an_error_naming_both_files() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    write(&a.path().join("m/beir__scifact"), &record(settings()));
    write(&b.path().join("m/beir__scifact"), &record(CellSettings { measures: vec![NDCG10], ..settings() }));
    let roots = [a.path().to_path_buf(), b.path().to_path_buf()];
    let err = read_results(&roots, &Registry::builtin()).unwrap_err().to_string();
    let (first, second) = (a.path().join("m/beir__scifact"), b.path().join("m/beir__scifact"));
    let names_both = [&first, &second].iter().all(|p| err.contains(&p.display().to_string()));
    assert!(names_both && err.contains("has other results"), "{err}");
    // The same folder twice is one result, not a conflict.
    let twice = [a.path().to_path_buf(), a.path().to_path_buf()];
    assert_eq!(read_results(&twice, &Registry::builtin()).unwrap().len(), 1);
}

#[test]
fn other_formats_and_foreign_files_are_refused_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let older = record(settings());
    write(dir.path(), &DrbenchRecord { format: 1, ..older });
    let err = read_cell(dir.path()).unwrap_err().to_string();
    assert!(err.contains("written by another drbench version (record format 1, this one writes 2)"), "{err}");
    std::fs::write(dir.path().join("results.json"), r#"{"task_name": "X", "scores": {}}"#).unwrap();
    assert!(read_cell(dir.path()).unwrap_err().to_string().contains("not a drbench cell"));
    std::fs::write(dir.path().join("results.json"), "{\n  \"task_name\": \"X\",\n  \"scores\": [1,").unwrap();
    let err = read_cell(dir.path()).unwrap_err().to_string();
    assert!(err.contains("results.json:3:"), "{err}");
}

#[test]
fn the_settings_that_differ_are_named() {
    let a = settings();
    let RetrieverSpec::Dense(dense) = &a.retriever else { unreachable!() };
    let cases: [(CellSettings, &[&str]); 4] = [
        (a.clone(), &[]),
        (
            CellSettings {
                retriever: RetrieverSpec::Dense(DenseSpec {
                    dtype: Precision::F32,
                    max_length: Some(64),
                    ..dense.clone()
                }),
                ..a.clone()
            },
            &["max_length", "dtype"],
        ),
        (CellSettings { k: 10, subset: None, ..a.clone() }, &["subset", "k"]),
        (
            CellSettings {
                retriever: RetrieverSpec::Bm25(Bm25Spec { fields: FieldMode::Flat, k1: 0.9, b: 0.4 }),
                ..a.clone()
            },
            &["kind"],
        ),
    ];
    for (other, want) in cases {
        assert_eq!(a.differences(&other), want, "{other:?}");
        assert_eq!(a == other, want.is_empty());
    }
}

#[test]
fn mteb_result_files_and_drbench_cells_are_read_together() {
    let dir = tempfile::tempdir().unwrap();
    let mteb = dir.path().join("mteb/sentence-transformers__all-MiniLM-L6-v2/8b3219a92973c328a8e22fadcfa821b5dc75636a");
    std::fs::create_dir_all(&mteb).unwrap();
    std::fs::write(
        mteb.join("SciFact.json"),
        r#"{"dataset_revision": "x", "task_name": "SciFact", "mteb_version": "1.12.0", "evaluation_time": 10.5,
            "scores": {"test": [{"hf_subset": "default", "languages": ["eng-Latn"], "main_score": 0.64508,
            "ndcg_at_10": 0.64508, "map_at_10": 0.59, "recall_at_100": 0.925, "naucs_at_10_max": 0.3}]}}"#,
    )
    .unwrap();
    std::fs::write(mteb.join("model_meta.json"), r#"{"name": "sentence-transformers/all-MiniLM-L6-v2"}"#).unwrap();
    write(&dir.path().join("bench/m/beir__scifact"), &record(settings()));

    let cells = read_results(&[dir.path().to_path_buf()], &Registry::builtin()).unwrap();
    assert_eq!(cells.len(), 2, "{cells:#?}");
    let ours = cells.iter().find(|c| c.model == "m").unwrap();
    assert_eq!(ours.task, "beir/scifact");
    assert!(ours.per_query.is_some());
    let minilm = cells.iter().find(|c| c.model == "sentence-transformers/all-MiniLM-L6-v2").unwrap();
    assert_eq!((minilm.task.as_str(), minilm.split.as_str()), ("beir/scifact", "test"));
    assert_eq!(minilm.scores[&NDCG10], 0.64508);
    assert_eq!(minilm.scores[&Measure::Ap(Some(10))], 0.59);
    assert!(minilm.per_query.is_none());

    std::fs::write(dir.path().join("mteb/broken.json"), "{\"task_name\": \"X\",\n \"scores\": [1,").unwrap();
    let err = read_results(&[dir.path().to_path_buf()], &Registry::builtin()).unwrap_err().to_string();
    assert!(err.contains("broken.json:2:"), "{err}");
}

#[test]
fn an_mteb_file_with_one_entry_per_subset_scores_their_mean_as_mteb_does() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("mteb/org__model/rev");
    std::fs::create_dir_all(&folder).unwrap();
    let langs = ["python", "javascript", "go", "ruby", "java", "php"];
    let entries: Vec<String> = langs
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let v = 0.1 * (i + 1) as f64;
            format!(r#"{{"hf_subset": "{l}", "languages": ["{l}-Code"], "main_score": {v}, "ndcg_at_10": {v}}}"#)
        })
        .collect();
    let text =
        format!(r#"{{"task_name": "COIRCodeSearchNetRetrieval", "scores": {{"test": [{}]}}}}"#, entries.join(","));
    std::fs::write(folder.join("COIRCodeSearchNetRetrieval.json"), text).unwrap();
    let cells = read_results(&[dir.path().to_path_buf()], &Registry::builtin()).unwrap();
    assert_eq!(cells.len(), 1, "{cells:#?}");
    assert_eq!((cells[0].task.as_str(), cells[0].model.as_str()), ("coir/codesearchnet", "org/model"));
    let naive = (1..=6).map(|i| 0.1 * i as f64).sum::<f64>() / 6.0;
    assert!((cells[0].scores[&NDCG10] - naive).abs() < 1e-15, "{:?}", cells[0].scores);
}
