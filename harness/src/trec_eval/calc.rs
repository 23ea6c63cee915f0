//! The per-query values of trec_eval's qrels measures, each a port of its `m_<name>.c` (same loops, same
//! floating-point order), written into the query's value slots.

use super::catalog::Id;
use super::gains::{IdealGains, get_gain, setup_gains};
use super::params::{Instance, Params};
use super::res_rels::{RELVALUE_NONPOOL, RELVALUE_UNJUDGED, ResRels};

/// trec_eval's floor before taking logs for geometric means.
pub const MIN_GEO_MEAN: f64 = 0.00001;
const INFAP_EPSILON: f64 = 0.00001;

/// Writes the values of `inst` for one query into `out` (its slots, zeroed), and returns the relevance string
/// for `relstring`.
pub fn calc(inst: &Instance, rr: &ResRels, level: i64, num_docs_in_coll: i64, out: &mut [f64]) -> Option<String> {
    let longs = || match &inst.params {
        Params::Longs(v) => v.as_slice(),
        _ => &[],
    };
    let doubles = || match &inst.params {
        Params::Doubles(v) => v.as_slice(),
        _ => &[],
    };
    let pairs = || match &inst.params {
        Params::Pairs(v) => v.as_slice(),
        _ => &[],
    };
    let rel = |r: i64| r >= level;
    match inst.def.id {
        Id::num_ret => out[0] = rr.num_ret as f64,
        Id::num_rel => out[0] = rr.num_rel as f64,
        Id::num_rel_ret => out[0] = rr.num_rel_ret as f64,
        Id::map | Id::gm_map => {
            let (sum, found) = precision_sum(rr, level);
            let ap = if found > 0 { sum / rr.num_rel as f64 } else { 0.0 };
            out[0] = if inst.def.id == Id::map { ap } else { ap.max(MIN_GEO_MEAN).ln() };
        }
        Id::yaap => {
            let (sum, _) = precision_sum(rr, level);
            out[0] = ((1.0 + sum) / (1.0 + rr.num_rel as f64 - sum)).ln();
        }
        Id::Rprec => {
            let n = rr.num_ret.min(rr.num_rel) as usize;
            if n > 0 {
                out[0] = rr.rel_list[..n].iter().filter(|&&r| rel(r)).count() as f64 / rr.num_rel as f64;
            }
        }
        Id::bpref | Id::gm_bpref => {
            let b = bpref(rr, level);
            out[0] = if inst.def.id == Id::bpref { b } else { b.max(MIN_GEO_MEAN).ln() };
        }
        Id::recip_rank if let Some(i) = rr.rel_list.iter().position(|&r| rel(r)) => {
            out[0] = 1.0 / (i + 1) as f64;
        }
        Id::iprec_at_recall => interpolated_precision(rr, level, doubles(), |cut, p| out[cut] = p),
        Id::pt11_avg => {
            let points = doubles();
            let mut sum = 0.0;
            interpolated_precision(rr, level, points, |_, p| sum += p);
            out[0] = sum / points.len() as f64;
        }
        Id::P => at_cutoffs(rr, level, longs(), out, |so_far, i| so_far as f64 / i as f64),
        Id::recall if rr.num_rel > 0 => {
            at_cutoffs(rr, level, longs(), out, |so_far, _| so_far as f64 / rr.num_rel as f64);
        }
        Id::relative_P if rr.num_rel > 0 => {
            at_cutoffs(rr, level, longs(), out, |so_far, i| so_far as f64 / i.min(rr.num_rel) as f64);
        }
        Id::success => at_cutoffs(rr, level, longs(), out, |so_far, _| if so_far > 0 { 1.0 } else { 0.0 }),
        Id::unj => {
            let unjudged = |r: i64| r == RELVALUE_NONPOOL || r == RELVALUE_UNJUDGED;
            cutoff_counts(rr, longs(), unjudged, out, |so_far, i| so_far as f64 / i as f64);
        }
        Id::map_cut => map_cut(rr, level, longs(), out),
        Id::relstring => {
            let len = (doubles().first().copied().unwrap_or(10.0) as i64).min(rr.num_ret).max(0) as usize;
            return Some(rr.rel_list[..len].iter().map(|&r| relstring_char(r)).collect());
        }
        Id::infAP => out[0] = infap(rr, level),
        Id::Rprec_mult => rprec_mult(rr, level, doubles(), out, false),
        Id::utility => {
            let c = doubles();
            if c.len() == 4 {
                let (rel_ret, ret, num_rel) = (rr.num_rel_ret as f64, rr.num_ret as f64, rr.num_rel as f64);
                out[0] = c[0] * rel_ret
                    + c[1] * (ret - rel_ret)
                    + c[2] * (num_rel - rel_ret)
                    + c[3] * (num_docs_in_coll as f64 + rel_ret - ret - num_rel);
            }
        }
        Id::binG => {
            let mut sum = 0.0;
            let mut so_far = 0i64;
            for (i, &r) in rr.rel_list.iter().enumerate() {
                if rel(r) {
                    so_far += 1;
                    sum += 1.0 / ((3 + i as i64 - so_far) as f64).log2();
                }
            }
            if so_far > 0 {
                out[0] = sum / rr.num_rel as f64;
            }
        }
        Id::G => out[0] = cost_gain(rr, pairs()),
        Id::dcg | Id::ideal_dcg | Id::ndcg => {
            let (dcg, ideal) = dcg_and_ideal(rr, pairs());
            out[0] = match inst.def.id {
                Id::dcg => dcg,
                Id::ideal_dcg => ideal,
                _ if ideal > 0.0 => dcg / ideal,
                _ => 0.0,
            };
        }
        Id::ndcg_rel => out[0] = ndcg_rel(rr, pairs()),
        Id::Rndcg if rr.num_rel > 0 => {
            out[0] = rndcg(rr, pairs());
        }
        Id::ndcg_cut => ndcg_cut(rr, longs(), out),
        Id::set_P if rr.num_ret > 0 => {
            out[0] = rr.num_rel_ret as f64 / rr.num_ret as f64;
        }
        Id::set_relative_P if rr.num_ret > 0 && rr.num_rel > 0 => {
            out[0] = rr.num_rel_ret as f64 / rr.num_ret.min(rr.num_rel) as f64;
        }
        Id::set_recall if rr.num_rel > 0 => {
            out[0] = rr.num_rel_ret as f64 / rr.num_rel as f64;
        }
        Id::set_map if rr.num_ret > 0 && rr.num_rel > 0 => {
            out[0] = (rr.num_rel_ret as f64 * rr.num_rel_ret as f64) / (rr.num_ret as f64 * rr.num_rel as f64);
        }
        Id::set_F if rr.num_rel_ret > 0 => {
            let p = rr.num_rel_ret as f64 / rr.num_ret as f64;
            let r = rr.num_rel_ret as f64 / rr.num_rel as f64;
            let x = doubles().first().copied().unwrap_or(1.0);
            out[0] = (x + 1.0) * p * r / (x * p + r);
        }
        Id::num_nonrel_judged_ret => {
            out[0] = (rr.num_ret - rr.num_nonpool - rr.num_unjudged_in_pool - rr.num_rel_ret) as f64;
        }
        Id::rbp => out[0] = rbp(rr, pairs()),
        Id::rbp_resid => {
            let p = rbp_p(pairs());
            let (mut unj, mut sum, mut cur) = (0, 0.0, 1.0);
            for &r in &rr.rel_list {
                if r < 0 {
                    unj += 1;
                    sum += cur;
                }
                cur *= p;
            }
            if unj > 0 {
                out[0] = cur + (1.0 - p) * sum;
            }
        }
        // Measures on other inputs (runid, num_q, jg, prefs) are computed elsewhere.
        _ => {}
    }
    None
}

/// Sum of precision at each relevant rank, and the number of relevant documents retrieved.
fn precision_sum(rr: &ResRels, level: i64) -> (f64, i64) {
    let (mut sum, mut so_far) = (0.0, 0i64);
    for (i, &r) in rr.rel_list.iter().enumerate() {
        if r >= level {
            so_far += 1;
            sum += so_far as f64 / (i + 1) as f64;
        }
    }
    (sum, so_far)
}

/// trec_eval's cut-off loop: `value(count so far, cut)` at each cut-off, counting documents where `counts` holds.
fn cutoff_counts(
    rr: &ResRels,
    cuts: &[i64],
    counts: impl Fn(i64) -> bool,
    out: &mut [f64],
    value: impl Fn(i64, i64) -> f64,
) {
    let mut index = 0;
    let mut so_far = 0i64;
    for (i, &r) in rr.rel_list.iter().enumerate() {
        if index == cuts.len() {
            break;
        }
        if i as i64 == cuts[index] {
            out[index] = value(so_far, i as i64);
            index += 1;
            if index == cuts.len() {
                break;
            }
        }
        if counts(r) {
            so_far += 1;
        }
    }
    while index < cuts.len() {
        out[index] = value(so_far, cuts[index]);
        index += 1;
    }
}

/// [`cutoff_counts`] counting relevant documents.
fn at_cutoffs(rr: &ResRels, level: i64, cuts: &[i64], out: &mut [f64], value: impl Fn(i64, i64) -> f64) {
    cutoff_counts(rr, cuts, |r| r >= level, out, value)
}

/// Average precision truncated at each cut-off.
fn map_cut(rr: &ResRels, level: i64, cuts: &[i64], out: &mut [f64]) {
    if rr.num_rel == 0 {
        return;
    }
    let num_rel = rr.num_rel as f64;
    let (mut index, mut so_far, mut sum) = (0, 0i64, 0.0);
    for (i, &r) in rr.rel_list.iter().enumerate() {
        if i as i64 == cuts[index] {
            out[index] = sum / num_rel;
            index += 1;
            if index == cuts.len() {
                break;
            }
        }
        if r >= level {
            so_far += 1;
            sum += so_far as f64 / (i + 1) as f64;
        }
    }
    while index < cuts.len() {
        out[index] = sum / num_rel;
        index += 1;
    }
}

/// Interpolated precision at recall fractions `points`, reported through `emit(index, precision)`.
fn interpolated_precision(rr: &ResRels, level: i64, points: &[f64], mut emit: impl FnMut(usize, f64)) {
    let cutoffs: Vec<i64> = points.iter().map(|p| (p * rr.num_rel as f64).round() as i64).collect();
    let mut cut = cutoffs.len() as isize - 1;
    while cut >= 0 && cutoffs[cut as usize] > rr.num_rel_ret {
        cut -= 1;
    }
    let mut int_precis = rr.num_rel_ret as f64 / rr.num_ret as f64;
    let mut so_far = rr.num_rel_ret;
    let mut i = rr.num_ret;
    while i > 0 && so_far > 0 {
        let precis = so_far as f64 / i as f64;
        if int_precis < precis {
            int_precis = precis;
        }
        if rr.rel_list[i as usize - 1] >= level {
            while cut >= 0 && so_far == cutoffs[cut as usize] {
                emit(cut as usize, int_precis);
                cut -= 1;
            }
            so_far -= 1;
        }
        i -= 1;
    }
    while cut >= 0 {
        emit(cut as usize, int_precis);
        cut -= 1;
    }
}

/// Precision at multiples of R (`Rprec_mult`); `add` accumulates instead of storing (the jg average).
pub fn rprec_mult(rr: &ResRels, level: i64, multiples: &[f64], out: &mut [f64], add: bool) {
    let cutoffs: Vec<i64> = multiples.iter().map(|m| (m * rr.num_rel as f64 + 0.9) as i64).collect();
    let mut put = |index: usize, value: f64| {
        if add { out[index] += value } else { out[index] = value }
    };
    let mut cut = cutoffs.len() as isize - 1;
    while cut >= 0 && cutoffs[cut as usize] > rr.num_ret {
        put(cut as usize, rr.num_rel_ret as f64 / cutoffs[cut as usize] as f64);
        cut -= 1;
    }
    let mut so_far = rr.num_rel_ret;
    let mut i = rr.num_ret;
    while i > 0 && so_far > 0 {
        let precis = so_far as f64 / i as f64;
        while cut >= 0 && i == cutoffs[cut as usize] {
            put(cut as usize, precis);
            cut -= 1;
        }
        if rr.rel_list[i as usize - 1] >= level {
            so_far -= 1;
        }
        i -= 1;
    }
}

/// Binary preference (judged relevant above judged nonrelevant).
fn bpref(rr: &ResRels, level: i64) -> f64 {
    let num_nonrel: i64 = rr.rel_levels.iter().take(level.max(0) as usize).sum();
    let (mut nonrel_so_far, mut b) = (0i64, 0.0);
    for &r in &rr.rel_list {
        if r == RELVALUE_NONPOOL || r == RELVALUE_UNJUDGED {
            continue;
        }
        if r >= 0 && r < level {
            nonrel_so_far += 1;
        } else if nonrel_so_far > 0 {
            b += 1.0 - nonrel_so_far.min(rr.num_rel) as f64 / num_nonrel.min(rr.num_rel) as f64;
        } else {
            b += 1.0;
        }
    }
    if rr.num_rel > 0 { b / rr.num_rel as f64 } else { b }
}

/// Inferred average precision.
fn infap(rr: &ResRels, level: i64) -> f64 {
    let (mut nonrel, mut rel, mut unjudged, mut ap) = (0i64, 0i64, 0i64, 0.0);
    for (j, &r) in rr.rel_list.iter().enumerate() {
        if r == RELVALUE_NONPOOL {
            continue;
        }
        if r == RELVALUE_UNJUDGED {
            unjudged += 1;
            continue;
        }
        if r >= 0 && r < level {
            nonrel += 1;
        } else {
            rel += 1;
            if j == 0 {
                ap += 1.0;
            } else {
                let fj = j as f64;
                ap += 1.0 / (fj + 1.0)
                    + (fj / (fj + 1.0))
                        * ((rel - 1 + nonrel + unjudged) as f64 / fj)
                        * ((rel as f64 - 1.0 + INFAP_EPSILON) / ((rel - 1 + nonrel) as f64 + 2.0 * INFAP_EPSILON));
            }
        }
    }
    if rr.num_rel > 0 { ap / rr.num_rel as f64 } else { ap }
}

/// One character of `relstring` per document.
fn relstring_char(r: i64) -> char {
    match r {
        r if r > 9 => '>',
        r if r >= 0 => char::from(b'0' + r as u8),
        RELVALUE_NONPOOL => '-',
        RELVALUE_UNJUDGED => '.',
        _ => '<',
    }
}

/// DCG of the ranking and of the ideal ranking with the gain map (`m_ndcg.c`).
fn dcg_and_ideal(rr: &ResRels, pairs: &[(String, f64)]) -> (f64, f64) {
    let gains = setup_gains(pairs, rr);
    let mut ideal = IdealGains::new(&gains);
    let mut ideal_gain = ideal.current();
    let (mut dcg, mut idcg) = (0.0, 0.0);
    let mut i = 0usize;
    while i < rr.rel_list.len() && ideal_gain > 0.0 {
        let g = get_gain(rr.rel_list[i], &gains);
        if g != 0.0 {
            dcg += g / ((i + 2) as f64).log2();
        }
        ideal_gain = ideal.step();
        if ideal_gain > 0.0 {
            idcg += ideal_gain / ((i + 2) as f64).log2();
        }
        i += 1;
    }
    while i < rr.rel_list.len() {
        let g = get_gain(rr.rel_list[i], &gains);
        if g != 0.0 {
            dcg += g / ((i + 2) as f64).log2();
        }
        i += 1;
    }
    while ideal_gain > 0.0 {
        ideal_gain = ideal.step();
        if ideal_gain > 0.0 {
            idcg += ideal_gain / ((i + 2) as f64).log2();
        }
        i += 1;
    }
    (dcg, idcg)
}

/// nDCG averaged over relevant ranks (`m_ndcg_rel.c`).
fn ndcg_rel(rr: &ResRels, pairs: &[(String, f64)]) -> f64 {
    let gains = setup_gains(pairs, rr);
    let mut ideal = IdealGains::new(&gains);
    let mut ideal_gain = ideal.current();
    let (mut dcg, mut idcg, mut sum) = (0.0, 0.0, 0.0);
    let (mut num_rel, mut num_rel_ret) = (0i64, 0i64);
    let mut i = 0usize;
    while i < rr.rel_list.len() && ideal_gain > 0.0 {
        let g = get_gain(rr.rel_list[i], &gains);
        if g != 0.0 {
            dcg += g / ((i + 2) as f64).log2();
        }
        ideal_gain = ideal.step();
        if ideal_gain > 0.0 {
            num_rel += 1;
            idcg += ideal_gain / ((i + 2) as f64).log2();
        }
        if g > 0.0 {
            sum += dcg / idcg;
            num_rel_ret += 1;
        }
        i += 1;
    }
    while i < rr.rel_list.len() {
        let g = get_gain(rr.rel_list[i], &gains);
        if g != 0.0 {
            dcg += g / ((i + 2) as f64).log2();
        }
        if g > 0.0 {
            sum += dcg / idcg;
            num_rel_ret += 1;
        }
        i += 1;
    }
    while ideal_gain > 0.0 {
        ideal_gain = ideal.step();
        if ideal_gain > 0.0 {
            num_rel += 1;
            idcg += ideal_gain / ((i + 2) as f64).log2();
        }
        i += 1;
    }
    sum += (num_rel - num_rel_ret) as f64 * dcg / idcg;
    if sum > 0.0 { sum / num_rel as f64 } else { 0.0 }
}

/// nDCG averaged where the ideal gain changes (`m_Rndcg.c`).
fn rndcg(rr: &ResRels, pairs: &[(String, f64)]) -> f64 {
    let gains = setup_gains(pairs, rr);
    let mut ideal = IdealGains::new(&gains);
    let mut ideal_gain = ideal.current();
    let mut old_gain = ideal_gain;
    let (mut dcg, mut idcg, mut sum) = (0.0, 0.0, 0.0);
    let mut changes = 0i64;
    let mut i = 0usize;
    while i < rr.rel_list.len() && ideal_gain > 0.0 {
        let g = get_gain(rr.rel_list[i], &gains);
        ideal_gain = ideal.step();
        if old_gain != ideal_gain {
            if idcg > 0.0 {
                sum += dcg / idcg;
                changes += 1;
            }
            old_gain = ideal_gain;
        }
        if g != 0.0 {
            dcg += g / ((i + 2) as f64).log2();
        }
        if ideal_gain > 0.0 {
            idcg += ideal_gain / ((i + 2) as f64).log2();
        }
        i += 1;
    }
    if i < rr.rel_list.len() {
        while i < rr.rel_list.len() {
            let g = get_gain(rr.rel_list[i], &gains);
            if g != 0.0 {
                dcg += g / ((i + 2) as f64).log2();
            }
            i += 1;
        }
        if idcg > 0.0 {
            sum += dcg / idcg;
            changes += 1;
        }
    }
    while ideal_gain > 0.0 {
        ideal_gain = ideal.step();
        if old_gain != ideal_gain {
            if idcg > 0.0 {
                sum += dcg / idcg;
                changes += 1;
            }
            old_gain = ideal_gain;
        }
        if ideal_gain > 0.0 {
            idcg += ideal_gain / ((i + 2) as f64).log2();
        }
        i += 1;
    }
    sum / changes as f64
}

/// Cost-based normalized gain (`m_G.c`).
fn cost_gain(rr: &ResRels, pairs: &[(String, f64)]) -> f64 {
    let gains = setup_gains(pairs, rr);
    let mut ideal = IdealGains::new(&gains);
    let mut ideal_gain = ideal.current();
    let (mut results_g, mut sum_results, mut sum_ideal, mut sum_cost) = (0.0, 0.0, 0.0, 0.0);
    let min_cost = 1.0;
    let mut i = 0usize;
    while i < rr.rel_list.len() && ideal_gain > 0.0 {
        let g = get_gain(rr.rel_list[i], &gains);
        sum_results += g;
        ideal_gain = ideal.step();
        if ideal_gain > 0.0 {
            sum_ideal += ideal_gain;
        }
        sum_cost += if ideal_gain >= min_cost { ideal_gain } else { min_cost };
        if g != 0.0 {
            results_g += g / (2.0 + sum_cost - sum_results).log2();
        }
        i += 1;
    }
    while i < rr.rel_list.len() {
        let g = get_gain(rr.rel_list[i], &gains);
        sum_results += g;
        sum_cost += min_cost;
        if g != 0.0 {
            results_g += g / (2.0 + sum_cost - sum_results).log2();
        }
        i += 1;
    }
    while ideal_gain > 0.0 {
        ideal_gain = ideal.step();
        if ideal_gain > 0.0 {
            sum_ideal += ideal_gain;
        }
    }
    if sum_ideal > 0.0 { results_g / sum_ideal } else { 0.0 }
}

/// nDCG at cut-offs with gain = relevance value (`m_ndcg_cut.c`).
fn ndcg_cut(rr: &ResRels, cuts: &[i64], out: &mut [f64]) {
    let mut index = 0;
    let mut sum = 0.0;
    for (i, &r) in rr.rel_list.iter().enumerate() {
        if i as i64 == cuts[index] {
            out[index] = sum;
            index += 1;
            if index == cuts.len() {
                break;
            }
        }
        let gain = r as f64;
        if gain > 0.0 {
            sum += gain / ((i + 2) as f64).log2();
        }
    }
    while index < cuts.len() {
        out[index] = sum;
        index += 1;
    }
    index = 0;
    let mut cur_lvl = rr.num_rel_levels as i64 - 1;
    let mut lvl_count = 0i64;
    let mut ideal = 0.0;
    let mut i = 0i64;
    loop {
        lvl_count += 1;
        while cur_lvl > 0 && lvl_count > rr.rel_levels[cur_lvl as usize] {
            cur_lvl -= 1;
            lvl_count = 1;
        }
        if cur_lvl <= 0 {
            break;
        }
        if i == cuts[index] {
            if ideal > 0.0 {
                out[index] /= ideal;
            }
            index += 1;
            if index == cuts.len() {
                break;
            }
        }
        ideal += cur_lvl as f64 / ((i + 2) as f64).log2();
        i += 1;
    }
    while index < cuts.len() {
        if ideal > 0.0 {
            out[index] /= ideal;
        }
        index += 1;
    }
}

/// The persistence `p` of `rbp` (0.9 unless a `p=` pair sets it).
fn rbp_p(pairs: &[(String, f64)]) -> f64 {
    pairs.iter().rev().find(|(name, _)| name == "p").map_or(0.9, |(_, v)| *v)
}

/// Rank-biased precision with gains rescaled into [0, 1] when they fall outside.
fn rbp(rr: &ResRels, pairs: &[(String, f64)]) -> f64 {
    let p = rbp_p(pairs);
    let mut gains = setup_gains(pairs, rr);
    let min = gains.iter().map(|g| g.gain).fold(f64::INFINITY, f64::min);
    let max = gains.iter().map(|g| g.gain).fold(f64::NEG_INFINITY, f64::max);
    if min < 0.0 || max > 1.0 {
        for g in &mut gains {
            g.gain = (g.gain - min) / (max - min);
        }
    }
    let (mut sum, mut cur) = (0.0, 1.0);
    for &r in &rr.rel_list {
        let g = get_gain(r, &gains);
        if g != 0.0 {
            sum += g * cur;
        }
        cur *= p;
    }
    (1.0 - p) * sum
}
