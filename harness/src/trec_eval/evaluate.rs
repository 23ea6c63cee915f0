//! One trec_eval invocation: judgments and run read, every query of both evaluated (in parallel), per-query lines
//! and the summary printed in trec_eval's order.

use std::io::Write;
use std::path::Path;

use rayon::prelude::*;

use crate::{Error, Result};

use super::calc::{MIN_GEO_MEAN, calc};
use super::catalog::{Average, Id, Needs, Shape};
use super::input::{self, QueryQrels, Retrieved, Zscores};
use super::jg::calc_jg;
use super::options::{Options, RelFormat};
use super::params::{self, Instance};
use super::print::{double_line, long_line, text_line};
use super::res_rels::{ResRels, duplicate_doc, form_res_rels, rank_documents};

/// A Z score trec_eval prints when the Z-score file lacks the query or measure.
const MISSING_ZSCORE_VALUE: f64 = -1_000_000.0;

/// The document trec_eval ranks for a query the run lacks under `-c`.
const BOGUS_DOC: &[u8] = b"ceci_nest_pas_un_docno";

/// An input file: its name (for messages; `-` is standard input) and its bytes.
#[derive(Debug, Clone, Copy)]
pub struct InputFile<'a> {
    /// Where it came from.
    pub path: &'a Path,
    /// Its contents.
    pub bytes: &'a [u8],
}

/// The values of one query.
#[derive(Debug)]
struct QueryEval<'a> {
    qid: &'a [u8],
    values: Vec<f64>,
    relstring: String,
}

/// Evaluates `results` against `rel_info` as `trec_eval` with `opts` does and writes its output to `out`.
pub fn trec_eval(
    opts: &Options,
    rel_info: InputFile<'_>,
    results: InputFile<'_>,
    zscores: Option<&Zscores>,
    out: &mut impl Write,
) -> Result<()> {
    evaluate(opts, rel_info, results, zscores)?.write(opts, out).map_err(|e| Error::io(Path::new("<output>"), e))
}

/// The values of one trec_eval invocation, before printing.
#[derive(Debug)]
pub struct Evaluated<'a> {
    instances: Vec<Instance>,
    evals: Vec<QueryEval<'a>>,
    summary: Vec<f64>,
    run_id: &'a [u8],
    zscore: bool,
}

impl<'a> Evaluated<'a> {
    /// Every per-query value: (query id, value name, value), in trec_eval's printing order (no `relstring`).
    pub fn per_query(&self) -> impl Iterator<Item = (&'a [u8], &str, f64)> + '_ {
        self.evals.iter().flat_map(move |e| {
            self.instances.iter().filter(|i| i.def.id != Id::relstring).flat_map(move |i| {
                i.names.iter().enumerate().map(move |(k, n)| (e.qid, n.as_str(), e.values[i.offset + k]))
            })
        })
    }

    /// Every summary value: (value name, value).
    pub fn summary(&self) -> impl Iterator<Item = (&str, f64)> + '_ {
        self.instances
            .iter()
            .filter(|i| i.def.id != Id::relstring)
            .flat_map(move |i| i.names.iter().enumerate().map(move |(k, n)| (n.as_str(), self.summary[i.offset + k])))
    }

    /// trec_eval's output: per-query lines (with `-q`), then the summary (unless `-n`).
    pub fn write(&self, opts: &Options, out: &mut impl Write) -> std::io::Result<()> {
        if opts.per_query {
            for e in &self.evals {
                for inst in self.instances.iter().filter(|i| i.def.per_query) {
                    print_values(out, inst, self.zscore, e.qid, &e.values, Some(&e.relstring))?;
                }
            }
        }
        if opts.summary {
            for inst in &self.instances {
                match inst.def.id {
                    Id::runid => text_line(out, "runid", b"all", self.run_id)?,
                    Id::relstring => {}
                    _ => print_values(out, inst, self.zscore, b"all", &self.summary, None)?,
                }
            }
        }
        Ok(())
    }
}

/// Evaluates `results` against `rel_info` as `trec_eval` with `opts` does.
pub fn evaluate<'a>(
    opts: &Options,
    rel_info: InputFile<'a>,
    results: InputFile<'a>,
    zscores: Option<&Zscores>,
) -> Result<Evaluated<'a>> {
    let instances = params::instances(&opts.measures)?;
    check_formats(&instances, opts.rel_format)?;
    let qrels = match opts.rel_format {
        RelFormat::Qrels => input::parse_qrels(rel_info.path, rel_info.bytes)?,
        RelFormat::QrelsJg => input::parse_qrels_jg(rel_info.path, rel_info.bytes)?,
        RelFormat::Prefs | RelFormat::QrelsPrefs => unreachable!("check_formats refuses preference formats"),
    };
    let run = input::parse_results(results.path, results.bytes)?;
    let num_values: usize = instances.iter().map(|i| i.names.len()).sum();
    let bogus: Vec<Retrieved> = vec![(BOGUS_DOC, 1.0)];

    // Queries with both judgments and results (with -c, every judged query).
    let pairs: Vec<(&QueryQrels, Option<&[Retrieved]>)> = qrels
        .queries
        .iter()
        .filter_map(|q| {
            let found = run.queries.binary_search_by(|r| r.qid.cmp(q.qid)).ok();
            match found {
                Some(i) => Some((q, Some(run.queries[i].docs.as_slice()))),
                None if opts.average_complete => Some((q, None)),
                None => None,
            }
        })
        .collect();
    if pairs.is_empty() {
        return Err(Error::Invalid("trec_eval: No queries with both results and relevance info".into()));
    }
    let evals: Vec<QueryEval> = pairs
        .par_iter()
        .map(|&(q, docs)| {
            let mut e = evaluate_query(&instances, opts, q, docs.unwrap_or(&bogus), num_values).map_err(|doc| {
                Error::file(results.path, format!("query {} retrieves document {} twice", lossy(q.qid), lossy(&doc)))
            })?;
            if docs.is_none() {
                clear_bogus(&instances, &mut e);
            }
            if let Some(z) = zscores {
                to_zscores(&instances, z, &mut e);
            }
            Ok(e)
        })
        .collect::<Result<_>>()?;
    let summary = summarize(&instances, opts, &qrels.queries, &evals, num_values);
    Ok(Evaluated { instances, evals, summary, run_id: run.run_id, zscore: zscores.is_some() })
}

/// Refuses measures whose relevance format is not the one read.
fn check_formats(instances: &[Instance], format: RelFormat) -> Result<()> {
    if matches!(format, RelFormat::Prefs | RelFormat::QrelsPrefs) {
        return Err(Error::Invalid(
            "trec_eval: the preference formats (-R prefs, -R qrels_prefs) and their measures are not implemented in drbench yet"
                .into(),
        ));
    }
    for inst in instances {
        let wanted = match inst.def.needs {
            Needs::Any => continue,
            Needs::Qrels => RelFormat::Qrels,
            Needs::QrelsJg => RelFormat::QrelsJg,
            Needs::Prefs => RelFormat::Prefs,
        };
        if wanted != format {
            return Err(Error::Invalid(format!(
                "trec_eval: measure '{}' needs -R {} (the relevance file is read as {})",
                inst.def.name,
                format_name(wanted),
                format_name(format)
            )));
        }
    }
    Ok(())
}

fn format_name(f: RelFormat) -> &'static str {
    match f {
        RelFormat::Qrels => "qrels",
        RelFormat::QrelsJg => "qrels_jg",
        RelFormat::Prefs => "prefs",
        RelFormat::QrelsPrefs => "qrels_prefs",
    }
}

fn lossy(b: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(b)
}

/// Every value of one query; `Err(docno)` when the run retrieves a document twice.
fn evaluate_query<'a>(
    instances: &[Instance],
    opts: &Options,
    q: &QueryQrels<'a>,
    docs: &[Retrieved<'_>],
    num_values: usize,
) -> std::result::Result<QueryEval<'a>, Vec<u8>> {
    let by_docno = rank_documents(docs, opts.max_docs_per_topic);
    if let Some(doc) = duplicate_doc(&by_docno) {
        return Err(doc.to_vec());
    }
    let groups: Vec<ResRels> = q.groups.iter().map(|g| form_res_rels(&by_docno, g, opts)).collect();
    let mut e = QueryEval { qid: q.qid, values: vec![0.0; num_values], relstring: String::new() };
    for inst in instances {
        let slots = &mut e.values[inst.offset..inst.offset + inst.names.len()];
        match inst.def.needs {
            Needs::Any => {
                if inst.def.id == Id::num_q {
                    slots[0] = 1.0;
                }
            }
            Needs::QrelsJg => calc_jg(inst, &groups, opts.relevance_level, slots),
            Needs::Qrels | Needs::Prefs => {
                if let Some(s) = calc(inst, &groups[0], opts.relevance_level, opts.num_docs_in_coll, slots) {
                    e.relstring = s;
                }
            }
        }
    }
    Ok(e)
}

/// trec_eval's clean-up after evaluating the stand-in ranking of a query the run lacks (`-c`).
fn clear_bogus(instances: &[Instance], e: &mut QueryEval) {
    for inst in instances {
        for (k, name) in inst.names.iter().enumerate() {
            if name == "num_ret" || name == "utility" || name.starts_with("unj") || name == "rbp_resid" {
                e.values[inst.offset + k] = 0.0;
            }
        }
        if inst.def.id == Id::relstring {
            e.relstring.clear();
        }
    }
}

/// Replaces each value by its Z score against the file's mean and deviation for (query, measure).
fn to_zscores(instances: &[Instance], zscores: &Zscores, e: &mut QueryEval) {
    for inst in instances {
        for (k, name) in inst.names.iter().enumerate() {
            let v = &mut e.values[inst.offset + k];
            *v = match zscores.get(&(e.qid.to_vec(), name.clone())) {
                Some(&(mean, sd)) if sd != 0.0 => (*v - mean) / sd,
                Some(&(mean, _)) if *v == mean => 0.0,
                _ => MISSING_ZSCORE_VALUE,
            };
        }
    }
}

/// The summary values: sums over the queries, then each measure's average.
fn summarize(
    instances: &[Instance],
    opts: &Options,
    judged: &[QueryQrels],
    evals: &[QueryEval],
    num_values: usize,
) -> Vec<f64> {
    let mut sum = vec![0.0; num_values];
    for e in evals {
        for (s, v) in sum.iter_mut().zip(&e.values) {
            *s += v;
        }
    }
    let evaluated = evals.len();
    let num_queries = if opts.average_complete { judged.len() } else { evaluated };
    for inst in instances {
        let slots = &mut sum[inst.offset..inst.offset + inst.names.len()];
        match inst.def.average {
            Average::Mean => {
                if num_queries > 0 {
                    slots.iter_mut().for_each(|v| *v /= num_queries as f64);
                }
            }
            Average::GeoMean => {
                let mut total = slots[0];
                if opts.average_complete {
                    total += (num_queries - evaluated) as f64 * MIN_GEO_MEAN.ln();
                }
                slots[0] = (total / num_queries as f64).exp();
            }
            Average::NumQ => slots[0] = num_queries as f64,
            Average::NumRel if opts.average_complete => {
                let positive =
                    judged.iter().flat_map(|q| q.groups.iter().flatten()).filter(|(_, rel)| *rel > 0).count();
                slots[0] = positive as f64;
            }
            Average::NumRel | Average::Sum | Average::None => {}
        }
    }
    sum
}

/// The lines of one measure for one query (or `all`).
fn print_values(
    out: &mut impl Write,
    inst: &Instance,
    zscore: bool,
    qid: &[u8],
    values: &[f64],
    relstring: Option<&str>,
) -> std::io::Result<()> {
    let slots = &values[inst.offset..inst.offset + inst.names.len()];
    if inst.def.id == Id::relstring {
        let quoted = format!("'{}'", relstring.unwrap_or(""));
        return text_line(out, &inst.names[0], qid, quoted.as_bytes());
    }
    for (name, &v) in inst.names.iter().zip(slots) {
        if inst.def.shape == Shape::Long {
            long_line(out, zscore, name, qid, v)?;
        } else {
            double_line(out, zscore, name, qid, v)?;
        }
    }
    Ok(())
}
