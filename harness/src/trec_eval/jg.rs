//! The judgment-group measures (`map_avgjg`, `P_avgjg`, `Rprec_mult_avgjg`): the qrels measure on each group of
//! a `qrels_jg` file, averaged over the query's groups.

use super::calc::rprec_mult;
use super::catalog::Id;
use super::params::{Instance, Params};
use super::res_rels::ResRels;

/// Writes the values of `inst` for one query from its groups' rankings into `out` (zeroed).
pub fn calc_jg(inst: &Instance, groups: &[ResRels], level: i64, out: &mut [f64]) {
    for rr in groups {
        match (inst.def.id, &inst.params) {
            (Id::map_avgjg, _) => {
                let (mut sum, mut so_far) = (0.0, 0i64);
                for (i, &r) in rr.rel_list.iter().enumerate() {
                    if r >= level {
                        so_far += 1;
                        sum += so_far as f64 / (i + 1) as f64;
                    }
                }
                if so_far > 0 {
                    out[0] += sum / rr.num_rel as f64;
                }
            }
            (Id::P_avgjg, Params::Longs(cuts)) => {
                let (mut index, mut so_far) = (0, 0i64);
                for (i, &r) in rr.rel_list.iter().enumerate() {
                    if i as i64 == cuts[index] {
                        out[index] += so_far as f64 / i as f64;
                        index += 1;
                        if index == cuts.len() {
                            break;
                        }
                    }
                    if r >= level {
                        so_far += 1;
                    }
                }
                while index < cuts.len() {
                    out[index] += so_far as f64 / cuts[index] as f64;
                    index += 1;
                }
            }
            (Id::Rprec_mult_avgjg, Params::Doubles(multiples)) => rprec_mult(rr, level, multiples, out, true),
            _ => {}
        }
    }
    if groups.len() > 1 {
        for v in out.iter_mut() {
            *v /= groups.len() as f64;
        }
    }
}
