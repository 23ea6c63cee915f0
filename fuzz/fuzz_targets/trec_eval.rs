//! The trec_eval port: qrels, qrels_jg, prefs, qrels_prefs and run parsers, `-m` parameters, and every measure on any input, with
//! the flags that change the code paths (-q -c -J -M -l): never panic. Input: `measures\0qrels\0run`.
#![no_main]
use std::path::Path;

use drbench_harness::trec_eval::{InputFile, Options, RelFormat, trec_eval};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut parts = data.splitn(3, |&b| b == 0);
    let (Some(measures), Some(qrels), Some(run)) = (parts.next(), parts.next(), parts.next()) else { return };
    let Ok(measures) = std::str::from_utf8(measures) else { return };
    let mut measures: Vec<String> = measures.split_whitespace().map(String::from).collect();
    let flags = measures.first().map_or(0, |m| m.len());
    if measures.is_empty() {
        measures.push("all_trec".into());
    }
    let path = Path::new("fuzz");
    for rel_format in [RelFormat::Qrels, RelFormat::QrelsJg, RelFormat::Prefs, RelFormat::QrelsPrefs] {
        let opts = Options {
            per_query: true,
            average_complete: flags % 2 == 0,
            judged_docs_only: flags % 3 == 0,
            max_docs_per_topic: if flags % 5 == 0 { 3 } else { u64::MAX },
            relevance_level: (flags % 4) as i64 - 1,
            rel_format,
            measures: match rel_format {
                RelFormat::QrelsJg => vec!["qrels_jg".into()],
                RelFormat::Prefs | RelFormat::QrelsPrefs => vec!["all_prefs".into()],
                RelFormat::Qrels => measures.clone(),
            },
            ..Options::default()
        };
        let _ = trec_eval(&opts, InputFile { path, bytes: qrels }, InputFile { path, bytes: run }, None, &mut std::io::sink());
    }
});
