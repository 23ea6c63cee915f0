//! trec_eval's measures beyond the built-in five (`bpref`, `Rprec`, `success_10`, `iprec_at_recall_0.10`, `infAP`,
//! `gm_map`, `num_rel_ret`, ...), one value each under its trec_eval name, computed per query by the trec_eval port
//! (`crate::trec_eval`) at relevance level 1, and averaged over queries as trec_eval averages it.

use crate::data::QueryJudgments;
use crate::trec_eval::calc::{MIN_GEO_MEAN, calc};
use crate::trec_eval::catalog::{self, Average, Id, Needs, Shape};
use crate::trec_eval::input::MAX_RELEVANCE;
use crate::trec_eval::params::{Instance, instances};
use crate::trec_eval::res_rels::{RELVALUE_NONPOOL, RELVALUE_UNJUDGED, ResRels};

use super::ranking::UNJUDGED;

/// One value of a trec_eval measure: the measure and, for measures with cut-offs, the one cut-off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TrecMeasure {
    id: Id,
    cut: Cut,
}

/// The cut-off of a [`TrecMeasure`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Cut {
    /// The measure's default parameters, which give one value.
    Default,
    /// An integer cut-off (`success_10`).
    Long(i64),
    /// A fractional cut-off (`iprec_at_recall_0.10`), as the bits of an f64.
    Double(u64),
}

/// How a measure's per-query values become its summary value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Aggregate {
    /// The arithmetic mean.
    Mean,
    /// The sum (counts: `num_ret`, `num_rel`, `num_rel_ret`, `num_nonrel_judged_ret`).
    Sum,
    /// The geometric mean, values below trec_eval's floor (1e-5) raised to it (`gm_map`, `gm_bpref`).
    GeoMean,
}

impl Aggregate {
    /// The summary of `values`.
    pub fn apply(self, values: impl Iterator<Item = f64>) -> f64 {
        let (mut total, mut n) = (0.0, 0usize);
        for v in values {
            total += match self {
                Aggregate::GeoMean => v.max(MIN_GEO_MEAN).ln(),
                Aggregate::Mean | Aggregate::Sum => v,
            };
            n += 1;
        }
        match self {
            _ if n == 0 => 0.0,
            Aggregate::Mean => total / n as f64,
            Aggregate::Sum => total,
            Aggregate::GeoMean => (total / n as f64).exp(),
        }
    }
}

/// Whether `def` can be one value of `drbench eval`: it reads qrels and has a number per query (not `runid`,
/// `num_q`, `relstring`, nor the `qrels_jg` and preference ones).
fn usable(def: &catalog::Def) -> bool {
    def.needs == Needs::Qrels && def.id != Id::relstring && def.shape != Shape::Nothing
}

impl TrecMeasure {
    /// The measure a trec_eval value name names: a measure of one value (`bpref`, `Rprec`, `gm_map`) or one
    /// cut-off of a measure with several (`success_10`, `iprec_at_recall_0.10`, `Rprec_mult_0.20`).
    pub fn parse(name: &str) -> Option<TrecMeasure> {
        let mut defs: Vec<&catalog::Def> = catalog::MEASURES.iter().filter(|d| usable(d)).collect();
        defs.sort_by_key(|d| std::cmp::Reverse(d.name.len()));
        for def in defs {
            let cut = if name == def.name {
                Cut::Default
            } else if let Some(rest) = name.strip_prefix(def.name).and_then(|r| r.strip_prefix('_')) {
                match def.shape {
                    Shape::CutLong(_) => Cut::Long(rest.parse().ok()?),
                    Shape::CutDouble(_) => Cut::Double(rest.parse::<f64>().ok().filter(|x| x.is_finite())?.to_bits()),
                    _ => continue,
                }
            } else {
                continue;
            };
            let m = TrecMeasure { id: def.id, cut };
            return m.try_instance().filter(|i| i.names.len() == 1).map(|_| m);
        }
        None
    }

    fn def(&self) -> &'static catalog::Def {
        catalog::MEASURES.iter().find(|d| d.id == self.id).expect("a TrecMeasure names a catalog measure")
    }

    /// The `-m` argument trec_eval takes for this value.
    fn spec(&self) -> String {
        let name = self.def().name;
        match self.cut {
            Cut::Default => name.to_string(),
            Cut::Long(k) => format!("{name}.{k}"),
            Cut::Double(bits) => format!("{name}.{}", f64::from_bits(bits)),
        }
    }

    fn try_instance(&self) -> Option<Instance> {
        instances(&[self.spec()]).ok()?.into_iter().find(|i| i.def.id == self.id)
    }

    fn instance(&self) -> Instance {
        self.try_instance().expect("a parsed TrecMeasure has an instance")
    }

    /// The name trec_eval prints for this value (`success_10`, `iprec_at_recall_0.10`).
    pub fn name(&self) -> String {
        self.instance().names.swap_remove(0)
    }

    /// Whether trec_eval prints it as an integer (a count).
    pub fn is_count(&self) -> bool {
        self.def().shape == Shape::Long
    }

    /// How the summary combines the per-query values.
    pub fn aggregate(&self) -> Aggregate {
        match self.def().average {
            Average::Sum | Average::NumRel => Aggregate::Sum,
            Average::GeoMean => Aggregate::GeoMean,
            _ => Aggregate::Mean,
        }
    }

    /// The value of one query: `grades` of the retrieved documents in rank order ([`UNJUDGED`] where the qrels do
    /// not list them), `judgments` the query's (grades at most [`MAX_RELEVANCE`]: see [`check_grades`]).
    pub fn score(&self, grades: &[i32], judgments: &QueryJudgments) -> f64 {
        self.score_on(&TrecQuery::new(grades, judgments))
    }

    /// The value on a query's ranking made once for every trec_eval measure of the query.
    pub fn score_on(&self, query: &TrecQuery) -> f64 {
        if query.stand_in && catalog::zeroed_without_results(self.id) {
            return 0.0;
        }
        let mut out = [0.0];
        calc(&self.instance(), &query.rr, 1, 0, &mut out);
        match self.aggregate() {
            // trec_eval keeps the logarithm per query; the value itself is reported, floored as trec_eval floors.
            Aggregate::GeoMean => out[0].exp(),
            Aggregate::Mean | Aggregate::Sum => out[0],
        }
    }
}

/// One query's ranking as trec_eval's measures read it (its `RES_RELS` at relevance level 1).
#[derive(Debug)]
pub struct TrecQuery {
    rr: ResRels,
    /// An empty ranking (a query the run lacks, under `-c`) is scored as trec_eval scores one: a stand-in ranking
    /// of one unjudged document, with the values that would count it zeroed.
    stand_in: bool,
}

impl TrecQuery {
    /// From the grades of the ranking (rank order) and the query's judgments.
    pub fn new(grades: &[i32], judgments: &QueryJudgments) -> Self {
        let stand_in = grades.is_empty();
        let grades = if stand_in { &[UNJUDGED][..] } else { grades };
        TrecQuery { rr: res_rels(grades, judgments), stand_in }
    }
}

/// Refuses judgments that trec_eval's level counts cannot hold (a grade above [`MAX_RELEVANCE`]).
pub fn check_grades(judgments: &QueryJudgments) -> Result<(), i32> {
    match judgments.grade_values().find(|&g| i64::from(g) > MAX_RELEVANCE) {
        Some(g) => Err(g),
        None => Ok(()),
    }
}

/// trec_eval's `RES_RELS` of one query at relevance level 1, from the grades of its ranking.
fn res_rels(grades: &[i32], judgments: &QueryJudgments) -> ResRels {
    let max_grade = judgments.grade_values().max().unwrap_or(0).max(-1);
    let mut rel_levels = vec![0i64; usize::try_from(i64::from(max_grade).min(MAX_RELEVANCE) + 1).unwrap_or(0)];
    for g in judgments.grade_values() {
        if let Some(slot) = usize::try_from(g).ok().and_then(|g| rel_levels.get_mut(g)) {
            *slot += 1;
        }
    }
    let mut rr = ResRels::default();
    rr.rel_list = grades
        .iter()
        .map(|&g| match g {
            UNJUDGED => {
                rr.num_nonpool += 1;
                RELVALUE_NONPOOL
            }
            g if g < 0 => {
                rr.num_unjudged_in_pool += 1;
                RELVALUE_UNJUDGED
            }
            g => i64::from(g),
        })
        .collect();
    rr.num_ret = rr.rel_list.len() as i64;
    rr.num_rel_ret = rr.rel_list.iter().filter(|&&r| r >= 1).count() as i64;
    rr.num_rel_levels = rel_levels.iter().rposition(|&c| c > 0).map_or(0, |l| l + 1);
    rr.num_rel = rel_levels.iter().skip(1).sum();
    rr.rel_levels = rel_levels;
    rr
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_names_parse_and_print_as_trec_eval_writes_them() {
        for (name, printed) in [
            ("bpref", "bpref"),
            ("Rprec", "Rprec"),
            ("success_10", "success_10"),
            ("iprec_at_recall_0.10", "iprec_at_recall_0.10"),
            ("iprec_at_recall_0.1", "iprec_at_recall_0.10"),
            ("Rprec_mult_0.20", "Rprec_mult_0.20"),
            ("gm_map", "gm_map"),
            ("num_rel_ret", "num_rel_ret"),
            ("ndcg_rel", "ndcg_rel"),
            ("set_F", "set_F"),
            ("11pt_avg", "11pt_avg"),
            ("unj_5", "unj_5"),
        ] {
            let m = TrecMeasure::parse(name).unwrap_or_else(|| panic!("{name}"));
            assert_eq!(m.name(), printed);
            assert_eq!(TrecMeasure::parse(&m.name()), Some(m), "{name} round trip");
        }
        // Several values, other inputs, text, unknown.
        for bad in
            ["success", "iprec_at_recall", "map_avgjg", "prefs_simp", "relstring", "runid", "num_q", "bpref_5", "x"]
        {
            assert_eq!(TrecMeasure::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn geometric_means_floor_values_and_sums_add() {
        let values = [0.5, 0.0, 0.125];
        let gm = Aggregate::GeoMean.apply(values.into_iter());
        assert!((gm - ((0.5f64.ln() + MIN_GEO_MEAN.ln() + 0.125f64.ln()) / 3.0).exp()).abs() < 1e-15);
        assert_eq!(Aggregate::Sum.apply(values.into_iter()), 0.625);
        assert_eq!(Aggregate::Mean.apply(std::iter::empty()), 0.0);
    }
}
