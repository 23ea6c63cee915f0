//! The 14 `prefs_*` measures of trec_eval 10.0 (its `m_prefs_*.c`), each one query's value from its counts.

use super::super::catalog::Id;
use super::counts::{GroupCounts, QueryCounts};

/// Which preferences a ratio counts: with both documents retrieved, at least one, or all.
#[derive(Debug, Clone, Copy)]
enum Scope {
    Retrieved,
    Implied,
    All,
}

/// (fulfilled, possible) of one group within `scope`.
fn ratio_terms(g: &GroupCounts, scope: Scope) -> (i64, i64) {
    match scope {
        Scope::Retrieved => (g.fulfilled_ret, g.possible_ret),
        Scope::Implied => (g.fulfilled_ret + g.fulfilled_imp, g.possible_ret + g.possible_imp),
        Scope::All => (g.fulfilled_ret + g.fulfilled_imp, g.possible_ret + g.possible_imp + g.possible_notoccur),
    }
}

/// Preferences fulfilled over preferences possible, summed over groups (`prefs_simp*`).
fn simple(c: &QueryCounts, scope: Scope) -> f64 {
    let (ful, poss) = c.groups.iter().map(|g| ratio_terms(g, scope)).fold((0, 0), |a, t| (a.0 + t.0, a.1 + t.1));
    if poss != 0 { ful as f64 / poss as f64 } else { 0.0 }
}

/// The mean over groups of each group's (fulfilled, possible) ratio, 0 when no group scores.
fn per_group(c: &QueryCounts, ratios: impl Iterator<Item = f64>) -> f64 {
    let sum: f64 = ratios.sum();
    if sum > 0.0 { sum / c.groups.len() as f64 } else { 0.0 }
}

/// `prefs_avgjg*`: groups without possible preferences add nothing.
fn avg_group(c: &QueryCounts, scope: Scope) -> f64 {
    per_group(c, c.groups.iter().map(|g| ratio_terms(g, scope)).filter(|t| t.1 != 0).map(|(f, p)| f as f64 / p as f64))
}

/// `prefs_avgjg_Rnonrel*`: every group adds its ratio (0/0 included, as trec_eval divides).
fn avg_group_rnonrel(c: &QueryCounts, pick: fn(&GroupCounts) -> (i64, i64)) -> f64 {
    per_group(c, c.groups.iter().map(pick).map(|(f, p)| f as f64 / p as f64))
}

/// `prefs_pair*`: per document pair the share of its preferences fulfilled, averaged over pairs. Pairs with both
/// retrieved come first, then one retrieved; with `All`, pairs with neither retrieved count as 0.
fn pair(c: &QueryCounts, scope: Scope) -> f64 {
    let njr = c.num_judged_ret as u32;
    let share = |lo_preferred: u32, hi_preferred: u32| {
        f64::from(lo_preferred) / (f64::from(lo_preferred) + f64::from(hi_preferred))
    };
    let (mut sum, mut num_pairs) = (0.0, 0usize);
    for p in c.pairs.iter().filter(|p| p.hi < njr) {
        sum += share(p.lo_preferred, p.hi_preferred);
        num_pairs += 1;
    }
    if !matches!(scope, Scope::Retrieved) {
        for p in c.pairs.iter().filter(|p| p.lo < njr && p.hi >= njr) {
            sum += share(p.lo_preferred, p.hi_preferred);
            num_pairs += 1;
        }
    }
    if matches!(scope, Scope::All) {
        num_pairs += c.pairs.iter().filter(|p| p.lo >= njr).count();
    }
    if num_pairs != 0 { sum / num_pairs as f64 } else { 0.0 }
}

/// Whether measure `id` reads the document-pair tallies.
pub fn needs_pairs(id: Id) -> bool {
    matches!(id, Id::prefs_pair | Id::prefs_pair_ret | Id::prefs_pair_imp)
}

/// The value of preference measure `id` for one query (`None` for a measure that is not a preference one).
pub fn value(id: Id, c: &QueryCounts) -> Option<f64> {
    let sum = |f: fn(&GroupCounts) -> i64| c.groups.iter().map(f).sum::<i64>() as f64;
    Some(match id {
        Id::prefs_num_prefs_poss => sum(|g| g.possible_ret + g.possible_imp + g.possible_notoccur),
        Id::prefs_num_prefs_ful => sum(|g| g.fulfilled_ret + g.fulfilled_imp),
        Id::prefs_num_prefs_ful_ret => sum(|g| g.fulfilled_ret),
        Id::prefs_simp => simple(c, Scope::All),
        Id::prefs_simp_ret => simple(c, Scope::Retrieved),
        Id::prefs_simp_imp => simple(c, Scope::Implied),
        Id::prefs_pair => pair(c, Scope::All),
        Id::prefs_pair_ret => pair(c, Scope::Retrieved),
        Id::prefs_pair_imp => pair(c, Scope::Implied),
        Id::prefs_avgjg => avg_group(c, Scope::All),
        Id::prefs_avgjg_ret => avg_group(c, Scope::Retrieved),
        Id::prefs_avgjg_imp => avg_group(c, Scope::Implied),
        Id::prefs_avgjg_Rnonrel => avg_group_rnonrel(c, |g| g.rnonrel),
        Id::prefs_avgjg_Rnonrel_ret => avg_group_rnonrel(c, |g| g.rnonrel_ret),
        _ => return None,
    })
}
