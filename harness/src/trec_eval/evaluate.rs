//! One trec_eval invocation: judgments and run read, every query of both evaluated (in parallel), per-query lines
//! and the summary printed in trec_eval's order.

use std::io::Write;
use std::path::Path;

use rayon::prelude::*;

use crate::{Error, Result};

use super::calc::{MIN_GEO_MEAN, calc};
use super::catalog::{Average, Id, Needs, Shape, zeroed_without_results};
use super::input::{self, Qrels, QueryQrels, Retrieved, Zscores};
use super::jg::calc_jg;
use super::options::{Options, RelFormat};
use super::params::{self, Instance};
use super::prefs::{
    self,
    counts::{Inconsistency, QueryCounts},
    read::{Prefs, QueryPrefs},
};
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

/// The relevance file as read: judgments or preferences.
enum Judged<'a> {
    Qrels(Qrels<'a>),
    Prefs(Prefs<'a>),
}

impl<'a> Judged<'a> {
    fn queries(&self) -> Vec<JudgedQuery<'_, 'a>> {
        match self {
            Judged::Qrels(q) => q.queries.iter().map(JudgedQuery::Qrels).collect(),
            Judged::Prefs(p) => p.queries.iter().map(JudgedQuery::Prefs).collect(),
        }
    }

    fn num_queries(&self) -> usize {
        match self {
            Judged::Qrels(q) => q.queries.len(),
            Judged::Prefs(p) => p.queries.len(),
        }
    }

    /// Judgments with a positive relevance over every query (what `num_rel` sums to under `-c`).
    fn num_relevant(&self) -> usize {
        match self {
            Judged::Qrels(q) => {
                q.queries.iter().flat_map(|q| q.groups.iter().flatten()).filter(|(_, rel)| *rel > 0).count()
            }
            Judged::Prefs(_) => 0,
        }
    }
}

/// One query of the relevance file.
#[derive(Clone, Copy)]
enum JudgedQuery<'q, 'a> {
    Qrels(&'q QueryQrels<'a>),
    Prefs(&'q QueryPrefs<'a>),
}

impl<'a> JudgedQuery<'_, 'a> {
    fn qid(&self) -> &'a [u8] {
        match self {
            JudgedQuery::Qrels(q) => q.qid,
            JudgedQuery::Prefs(p) => p.qid,
        }
    }
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
    let judged = match opts.rel_format {
        RelFormat::Qrels => Judged::Qrels(input::parse_qrels(rel_info.path, rel_info.bytes)?),
        RelFormat::QrelsJg => Judged::Qrels(input::parse_qrels_jg(rel_info.path, rel_info.bytes)?),
        RelFormat::Prefs => Judged::Prefs(prefs::read::parse_prefs(rel_info.path, rel_info.bytes)?),
        RelFormat::QrelsPrefs => Judged::Prefs(prefs::read::parse_qrels_prefs(rel_info.path, rel_info.bytes)?),
    };
    let judged_queries = judged.queries();
    let run = input::parse_results(results.path, results.bytes)?;
    let num_values: usize = instances.iter().map(|i| i.names.len()).sum();
    let bogus: Vec<Retrieved> = vec![(BOGUS_DOC, 1.0)];

    // Queries with both judgments and results (with -c, every judged query).
    let pairs: Vec<(JudgedQuery, Option<&[Retrieved]>)> = judged_queries
        .iter()
        .filter_map(|&q| {
            let found = run.queries.binary_search_by(|r| r.qid.cmp(q.qid())).ok();
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
            let mut e =
                evaluate_query(&instances, opts, q, docs.unwrap_or(&bogus), num_values).map_err(|f| match f {
                    Fault::DuplicateDoc(doc) => Error::file(
                        results.path,
                        format!("query {} retrieves document {} twice", lossy(q.qid()), lossy(&doc)),
                    ),
                    Fault::Judgments(why) => Error::file(rel_info.path, format!("query {}: {why}", lossy(q.qid()))),
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
    let summary = summarize(&instances, opts, &judged, &evals, num_values);
    Ok(Evaluated { instances, evals, summary, run_id: run.run_id, zscore: zscores.is_some() })
}

/// Refuses measures whose relevance format is not the one read.
fn check_formats(instances: &[Instance], format: RelFormat) -> Result<()> {
    for inst in instances {
        let wanted = match inst.def.needs {
            Needs::Any => continue,
            Needs::Qrels => RelFormat::Qrels,
            Needs::QrelsJg => RelFormat::QrelsJg,
            Needs::Prefs if format == RelFormat::QrelsPrefs => continue,
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

/// Why one query cannot be evaluated.
enum Fault {
    /// The run retrieves this document twice.
    DuplicateDoc(Vec<u8>),
    /// The preference judgments are inconsistent.
    Judgments(Inconsistency),
}

/// Every value of one query.
fn evaluate_query<'a>(
    instances: &[Instance],
    opts: &Options,
    q: JudgedQuery<'_, 'a>,
    docs: &[Retrieved<'_>],
    num_values: usize,
) -> std::result::Result<QueryEval<'a>, Fault> {
    let mut e = QueryEval { qid: q.qid(), values: vec![0.0; num_values], relstring: String::new() };
    match q {
        JudgedQuery::Qrels(q) => {
            let by_docno = rank_documents(docs, opts.max_docs_per_topic);
            if let Some(doc) = duplicate_doc(&by_docno) {
                return Err(Fault::DuplicateDoc(doc.to_vec()));
            }
            let groups: Vec<ResRels> = q.groups.iter().map(|g| form_res_rels(&by_docno, g, opts)).collect();
            for inst in instances {
                let out = &mut e.values[inst.offset..inst.offset + inst.names.len()];
                match inst.def.needs {
                    Needs::Any => fill_any(inst, out),
                    Needs::QrelsJg => calc_jg(inst, &groups, opts.relevance_level, out),
                    Needs::Qrels | Needs::Prefs => {
                        if let Some(s) = calc(inst, &groups[0], opts.relevance_level, opts.num_docs_in_coll, out) {
                            e.relstring = s;
                        }
                    }
                }
            }
        }
        JudgedQuery::Prefs(p) => {
            let wanted = |f: fn(&Instance) -> bool| instances.iter().any(f);
            let counts = if wanted(|i| i.def.needs == Needs::Prefs) {
                let pairs = wanted(|i| prefs::measures::needs_pairs(i.def.id));
                prefs::count_query(&p.prefs, docs, opts.max_docs_per_topic, pairs).map_err(|f| match f {
                    prefs::Fault::DuplicateDoc(doc) => Fault::DuplicateDoc(doc.to_vec()),
                    prefs::Fault::Judgments(why) => Fault::Judgments(why),
                })?
            } else {
                QueryCounts::default()
            };
            for inst in instances {
                let out = &mut e.values[inst.offset..inst.offset + inst.names.len()];
                match prefs::measures::value(inst.def.id, &counts) {
                    Some(v) => out[0] = v,
                    None => fill_any(inst, out),
                }
            }
        }
    }
    Ok(e)
}

/// The values of the measures that read only the run (`num_q`; `runid` prints its own).
fn fill_any(inst: &Instance, out: &mut [f64]) {
    if inst.def.id == Id::num_q {
        out[0] = 1.0;
    }
}

/// trec_eval's clean-up after evaluating the stand-in ranking of a query the run lacks (`-c`).
fn clear_bogus(instances: &[Instance], e: &mut QueryEval) {
    for inst in instances {
        if zeroed_without_results(inst.def.id) {
            e.values[inst.offset..inst.offset + inst.names.len()].fill(0.0);
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
    judged: &Judged,
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
    let num_queries = if opts.average_complete { judged.num_queries() } else { evaluated };
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
            Average::NumRel if opts.average_complete => slots[0] = judged.num_relevant() as f64,
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
