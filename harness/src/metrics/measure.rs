//! Measure names: parsing ir_measures names (`nDCG@10`) and trec_eval names (`ndcg_cut_10`, and every other
//! trec_eval value name: `bpref`, `success_10`), and printing them.

use std::fmt;
use std::str::FromStr;

use crate::error::Error;

use super::trec_measure::{Aggregate, TrecMeasure};

/// One evaluation measure with trec_eval's definition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Measure {
    /// nDCG with linear gain, cut at k (`nDCG@k`, trec_eval `ndcg_cut_k`); `None` = uncut (`nDCG`, trec_eval `ndcg`).
    Ndcg(Option<u32>),
    /// Reciprocal rank of the first relevant document; `None` = anywhere (`RR`, trec_eval `recip_rank`),
    /// `Some(k)` = only within the top k (`RR@10` is MRR@10).
    Rr(Option<u32>),
    /// Recall at k (`R@k`, trec_eval `recall_k`).
    Recall(u32),
    /// Average precision; `None` = over the whole ranking (`AP`, trec_eval `map`), `Some(k)` = `AP@k` (`map_cut_k`).
    Ap(Option<u32>),
    /// Precision at k (`P@k`, trec_eval `P_k`).
    P(u32),
    /// Any other value trec_eval computes from qrels, under its trec_eval name (`bpref`, `success_10`).
    Trec(TrecMeasure),
}

impl Measure {
    /// The default measure set of `drbench eval`.
    pub fn defaults() -> Vec<Measure> {
        vec![Measure::Ndcg(Some(10)), Measure::Rr(Some(10)), Measure::Recall(100), Measure::Ap(None), Measure::P(10)]
    }

    /// Parses a comma-separated list of measure names.
    pub fn parse_list(list: &str) -> Result<Vec<Measure>, Error> {
        let mut out: Vec<Measure> = Vec::new();
        for name in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let m: Measure = name.parse()?;
            if !out.contains(&m) {
                out.push(m);
            }
        }
        if out.is_empty() {
            return Err(Error::Invalid("no measure given".into()));
        }
        Ok(out)
    }

    /// The trec_eval name of this measure (`ndcg_cut_10`, `recip_rank`, ...), where trec_eval has one.
    pub fn trec_eval_name(&self) -> Option<String> {
        Some(match *self {
            Measure::Ndcg(Some(k)) => format!("ndcg_cut_{k}"),
            Measure::Ndcg(None) => "ndcg".into(),
            Measure::Rr(None) => "recip_rank".into(),
            Measure::Rr(Some(_)) => return None,
            Measure::Recall(k) => format!("recall_{k}"),
            Measure::Ap(None) => "map".into(),
            Measure::Ap(Some(k)) => format!("map_cut_{k}"),
            Measure::P(k) => format!("P_{k}"),
            Measure::Trec(t) => t.name(),
        })
    }

    /// How the per-query values become the summary value (the mean, except for trec_eval's counts and
    /// geometric means).
    pub fn aggregate(&self) -> Aggregate {
        match self {
            Measure::Trec(t) => t.aggregate(),
            _ => Aggregate::Mean,
        }
    }

    /// Whether the values are counts (trec_eval prints them as integers).
    pub fn is_count(&self) -> bool {
        matches!(self, Measure::Trec(t) if t.is_count())
    }

    /// The deepest rank this measure looks at (`None` = the whole ranking).
    pub fn depth(&self) -> Option<u32> {
        match *self {
            Measure::Ndcg(k) | Measure::Rr(k) | Measure::Ap(k) => k,
            Measure::Recall(k) | Measure::P(k) => Some(k),
            Measure::Trec(_) => None,
        }
    }
}

impl fmt::Display for Measure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Measure::Ndcg(Some(k)) => write!(f, "nDCG@{k}"),
            Measure::Ndcg(None) => write!(f, "nDCG"),
            Measure::Rr(Some(k)) => write!(f, "RR@{k}"),
            Measure::Rr(None) => write!(f, "RR"),
            Measure::Recall(k) => write!(f, "R@{k}"),
            Measure::Ap(Some(k)) => write!(f, "AP@{k}"),
            Measure::Ap(None) => write!(f, "AP"),
            Measure::P(k) => write!(f, "P@{k}"),
            Measure::Trec(t) => f.write_str(&t.name()),
        }
    }
}

/// A measure is stored by its name (`"nDCG@10"`), so it can key a JSON object.
impl serde::Serialize for Measure {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Measure {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = std::borrow::Cow::<str>::deserialize(deserializer)?;
        name.parse().map_err(serde::de::Error::custom)
    }
}

fn parse_cutoff(name: &str, digits: &str) -> Result<u32, Error> {
    match digits.parse::<u32>() {
        Ok(k) if k > 0 => Ok(k),
        _ => Err(Error::UnknownMeasure(name.to_string())),
    }
}

impl FromStr for Measure {
    type Err = Error;

    fn from_str(name: &str) -> Result<Self, Error> {
        let unknown = || Error::UnknownMeasure(name.to_string());
        if let Some((base, k)) = name.split_once('@') {
            let k = parse_cutoff(name, k)?;
            return match base.to_ascii_lowercase().as_str() {
                "ndcg" => Ok(Measure::Ndcg(Some(k))),
                "rr" | "mrr" => Ok(Measure::Rr(Some(k))),
                "r" | "recall" => Ok(Measure::Recall(k)),
                "ap" | "map" => Ok(Measure::Ap(Some(k))),
                "p" => Ok(Measure::P(k)),
                _ => Err(unknown()),
            };
        }
        match name {
            "nDCG" | "ndcg" => return Ok(Measure::Ndcg(None)),
            "RR" | "recip_rank" | "MRR" => return Ok(Measure::Rr(None)),
            "AP" | "map" | "MAP" => return Ok(Measure::Ap(None)),
            _ => {}
        }
        for (prefix, make) in [
            ("ndcg_cut_", (|k| Measure::Ndcg(Some(k))) as fn(u32) -> Measure),
            ("map_cut_", |k| Measure::Ap(Some(k))),
            ("recall_", Measure::Recall),
            ("P_", Measure::P),
        ] {
            if let Some(k) = name.strip_prefix(prefix) {
                return Ok(make(parse_cutoff(name, k)?));
            }
        }
        TrecMeasure::parse(name).map(Measure::Trec).ok_or_else(unknown)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(name: &str, expected: Measure, display: &str) {
        let m: Measure = name.parse().unwrap();
        assert_eq!(m, expected, "{name}");
        assert_eq!(m.to_string(), display, "{name}");
    }

    #[test]
    fn parses_ir_measures_and_trec_eval_names() {
        check("nDCG@10", Measure::Ndcg(Some(10)), "nDCG@10");
        check("ndcg_cut_10", Measure::Ndcg(Some(10)), "nDCG@10");
        check("ndcg", Measure::Ndcg(None), "nDCG");
        check("RR@10", Measure::Rr(Some(10)), "RR@10");
        check("MRR@10", Measure::Rr(Some(10)), "RR@10");
        check("recip_rank", Measure::Rr(None), "RR");
        check("R@100", Measure::Recall(100), "R@100");
        check("recall_1000", Measure::Recall(1000), "R@1000");
        check("AP", Measure::Ap(None), "AP");
        check("map", Measure::Ap(None), "AP");
        check("map_cut_10", Measure::Ap(Some(10)), "AP@10");
        check("P@5", Measure::P(5), "P@5");
        check("P_5", Measure::P(5), "P@5");
    }

    #[test]
    fn rejects_unknown_and_zero_cutoffs() {
        for bad in ["nDCG@0", "nDCG@x", "foo", "P_", "ERR@10", ""] {
            assert!(bad.parse::<Measure>().is_err(), "{bad}");
        }
        assert!(Measure::parse_list(" , ").is_err());
        assert_eq!(Measure::parse_list("AP,map,P@10").unwrap(), vec![Measure::Ap(None), Measure::P(10)]);
    }
}
