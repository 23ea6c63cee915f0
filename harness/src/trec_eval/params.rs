//! `-m name[.params]` turned into the measures to compute, each with its parameters and value names, the way
//! trec_eval's `mark_measure` and `meas_init.c` do it (first parameters given for a measure win; cut-offs sorted).

use crate::{Error, Result};

use super::catalog::{self, Def, Shape};

/// The parameters of one measure.
#[derive(Debug, Clone, PartialEq)]
pub enum Params {
    /// The measure takes none.
    None,
    /// Integer cut-offs, ascending and distinct.
    Longs(Vec<i64>),
    /// Fractional cut-offs (ascending, distinct) or a list of doubles (in the order given).
    Doubles(Vec<f64>),
    /// `name=value` pairs.
    Pairs(Vec<(String, f64)>),
}

/// One measure to compute: its definition, parameters, and the names of its values.
#[derive(Debug, Clone)]
pub struct Instance {
    /// What it is.
    pub def: &'static Def,
    /// With which parameters.
    pub params: Params,
    /// The printed name of each of its values (none for `runid`).
    pub names: Vec<String>,
    /// Where its values start in a query's value array.
    pub offset: usize,
}

/// The measures `args` ask for (`official` when empty), in trec_eval's order.
pub fn instances(args: &[String]) -> Result<Vec<Instance>> {
    let official = ["official".to_string()];
    let args = if args.is_empty() { &official[..] } else { args };
    let mut marked = vec![false; catalog::MEASURES.len()];
    let mut given: Vec<(&str, &str)> = Vec::new();
    for arg in args {
        let name = match arg.split_once('.') {
            Some((name, param)) => {
                if param.is_empty() {
                    return Err(Error::Invalid(format!("trec_eval: improper measure in parameter '{name}'")));
                }
                given.push((name, param));
                name
            }
            None => arg.as_str(),
        };
        let names: Vec<&str> = match catalog::nickname(name) {
            Some(list) => list.to_vec(),
            None => vec![name],
        };
        for n in names {
            let index = catalog::MEASURES
                .iter()
                .position(|d| d.name == n)
                .ok_or_else(|| Error::Invalid(format!("trec_eval: illegal measure '{arg}'")))?;
            marked[index] = true;
        }
    }
    let mut out = Vec::new();
    let mut offset = 0;
    for (def, _) in catalog::MEASURES.iter().zip(&marked).filter(|(_, m)| **m) {
        let raw = given.iter().find(|(n, _)| *n == def.name).map(|(_, p)| *p);
        let (params, names) = parse(def, raw)?;
        let inst = Instance { def, params, names, offset };
        offset += inst.names.len();
        out.push(inst);
    }
    Ok(out)
}

/// A measure's parameters (defaults when `raw` is `None`) and its value names.
fn parse(def: &'static Def, raw: Option<&str>) -> Result<(Params, Vec<String>)> {
    let name = def.name;
    let suffixed = |raw: Option<&str>| vec![raw.map_or_else(|| name.to_string(), |p| format!("{name}_{p}"))];
    Ok(match def.shape {
        Shape::Nothing => (Params::None, Vec::new()),
        Shape::Long | Shape::Double => (Params::None, vec![name.to_string()]),
        Shape::CutLong(defaults) => {
            let cuts = match raw {
                Some(p) => long_cutoffs(p)?,
                None => defaults.to_vec(),
            };
            let names = cuts.iter().map(|c| format!("{name}_{c}")).collect();
            (Params::Longs(cuts), names)
        }
        Shape::CutDouble(defaults) => {
            let cuts = match raw {
                Some(p) => double_cutoffs(p)?,
                None => defaults.to_vec(),
            };
            let names = cuts.iter().map(|c| format!("{name}_{c:.2}")).collect();
            (Params::Doubles(cuts), names)
        }
        Shape::ParamDoubles(defaults) => {
            let values = raw.map_or_else(
                || defaults.to_vec(),
                |p| p.split(',').map(|v| super::input::atof(v.as_bytes())).collect(),
            );
            (Params::Doubles(values), suffixed(raw))
        }
        Shape::ParamPairs => (Params::Pairs(raw.map(pairs).transpose()?.unwrap_or_default()), suffixed(raw)),
    })
}

/// `5,10,20`: integer cut-offs, sorted, all positive and distinct.
fn long_cutoffs(raw: &str) -> Result<Vec<i64>> {
    let mut cuts: Vec<i64> = raw.split(',').map(|v| super::input::atol(v.as_bytes())).collect();
    cuts.sort_unstable();
    if cuts[0] <= 0 {
        return Err(Error::Invalid(format!("trec_eval: Negative cutoff detected in '{raw}'")));
    }
    if cuts.windows(2).any(|w| w[0] == w[1]) {
        return Err(Error::Invalid(format!("trec_eval: duplicate cutoffs detected in '{raw}'")));
    }
    Ok(cuts)
}

/// `.1,.5`: fractional cut-offs, sorted and distinct.
fn double_cutoffs(raw: &str) -> Result<Vec<f64>> {
    let mut cuts: Vec<f64> = raw.split(',').map(|v| super::input::atof(v.as_bytes())).collect();
    if cuts.iter().any(|c| !c.is_finite()) {
        return Err(Error::Invalid(format!("trec_eval: cut-offs must be finite numbers in '{raw}'")));
    }
    cuts.sort_by(f64::total_cmp);
    if cuts.windows(2).any(|w| w[0] == w[1]) {
        return Err(Error::Invalid(format!("trec_eval: duplicate cutoffs detected in '{raw}'")));
    }
    Ok(cuts)
}

/// `1=3,2=9`: pairs, each comma-separated piece holding exactly one `=`.
fn pairs(raw: &str) -> Result<Vec<(String, f64)>> {
    raw.split(',')
        .map(|piece| match piece.split_once('=') {
            Some((name, value)) if !value.contains('=') => Ok((name.to_string(), super::input::atof(value.as_bytes()))),
            _ => Err(Error::Invalid(format!("trec_eval: malformed pair parameters in '{raw}'"))),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(args: &[&str]) -> Vec<String> {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        instances(&args).unwrap().into_iter().flat_map(|i| i.names).collect()
    }

    #[test]
    fn parameters_name_the_values_as_trec_eval_does() {
        assert_eq!(names(&["P.20,5"]), ["P_5", "P_20"]);
        assert_eq!(names(&["ndcg_cut.10,23.4"]), ["ndcg_cut_10", "ndcg_cut_23"]);
        assert_eq!(names(&["Rprec_mult.5.0,0.2"]), ["Rprec_mult_0.20", "Rprec_mult_5.00"]);
        assert_eq!(names(&["utility.2,-1,0,0"]), ["utility_2,-1,0,0"]);
        assert_eq!(names(&["ndcg.1=3,2=9"]), ["ndcg_1=3,2=9"]);
        assert_eq!(names(&["success", "map"]), ["map", "success_1", "success_5", "success_10"]);
        assert_eq!(names(&[]).len(), 4 + 5 + 11 + 9, "official: runid has no value slot");
    }

    #[test]
    fn bad_measures_are_refused() {
        for bad in ["nope", "P.", "P.0,5", "P.5,5", "ndcg.1", "ndcg.1=2=3", "iprec_at_recall..1,.1"] {
            assert!(instances(&[bad.to_string()]).is_err(), "{bad}");
        }
    }
}
