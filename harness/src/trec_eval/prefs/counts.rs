//! trec_eval's `form_prefs_counts`: per judgment group, the preferences fulfilled and possible among retrieved
//! documents (`ret`), with one of the pair retrieved (`imp`) and with neither (`notoccur`), plus the counts the
//! `_Rnonrel` measures recalculate and, for the `prefs_pair` measures, the preferences of every document pair.
//!
//! A group with one sub-group is a list of equivalence classes (documents of one level); a group with several
//! sub-groups is a preference relation closed under transitivity (trec_eval multiplies boolean matrices until
//! nothing changes; Warshall's algorithm on bit rows reaches the same closure).

use std::ops::Range;

use rustc_hash::FxHashMap;

use super::ranks::{Ranked, RankedPref};

/// The most documents of one judgment group with sub-groups: its relation is a square bit matrix.
pub const MAX_PARTIAL_GROUP_DOCS: usize = 1 << 14;

/// The most document pairs the pair measures track for one query.
pub const MAX_PAIRS: usize = 1 << 26;

/// The counts of one judgment group.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GroupCounts {
    /// Preferences A > B fulfilled with both retrieved (A above B).
    pub fulfilled_ret: i64,
    /// Preferences with both retrieved.
    pub possible_ret: i64,
    /// Preferences with only A retrieved.
    pub fulfilled_imp: i64,
    /// Preferences with exactly one of A and B retrieved.
    pub possible_imp: i64,
    /// Preferences with neither retrieved.
    pub possible_notoccur: i64,
    /// Judged relevant documents (level > 0).
    pub num_rel: i64,
    /// Of them, retrieved.
    pub num_rel_ret: i64,
    /// Judged nonrelevant documents (level 0, or below in a group of one sub-group).
    pub num_nonrel: i64,
    /// Of them, retrieved.
    pub num_nonrel_ret: i64,
    /// (fulfilled, possible) with the group's nonrelevant documents set to R (`prefs_avgjg_Rnonrel`).
    pub rnonrel: (i64, i64),
    /// The same among retrieved documents (`prefs_avgjg_Rnonrel_ret`).
    pub rnonrel_ret: (i64, i64),
}

/// The preferences of one document pair over all judgment groups: `lo` and `hi` are docid ranks, `lo < hi`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PairCount {
    pub lo: u32,
    pub hi: u32,
    /// Preferences `lo > hi`.
    pub lo_preferred: u32,
    /// Preferences `hi > lo`.
    pub hi_preferred: u32,
}

/// Everything the preference measures read for one query.
#[derive(Debug, Clone, Default)]
pub struct QueryCounts {
    /// One entry per judgment group, in group-id order.
    pub groups: Vec<GroupCounts>,
    /// Retrieved judged documents.
    pub num_judged_ret: usize,
    /// Document pairs with a preference, sorted by (lo, hi); empty unless asked for.
    pub pairs: Vec<PairCount>,
}

/// Why a query's preferences cannot be counted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inconsistency {
    /// A document has two levels in a group of one sub-group.
    TwoLevels { jg: Vec<u8>, docno: Vec<u8> },
    /// A document is nonrelevant (0) in one sub-group and relevant in another of the same group.
    ZeroAndNonZero { jg: Vec<u8>, docno: Vec<u8> },
    /// The group's preferences, closed under transitivity, put each of two documents above the other.
    Conflict { jg: Vec<u8>, first: Vec<u8>, second: Vec<u8> },
    /// A group with sub-groups judges more documents than [`MAX_PARTIAL_GROUP_DOCS`].
    TooManyDocs { jg: Vec<u8>, docs: usize },
    /// More document pairs than [`MAX_PAIRS`] have preferences.
    TooManyPairs,
}

impl std::fmt::Display for Inconsistency {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        match self {
            Inconsistency::TwoLevels { jg, docno } => write!(
                f,
                "document {} has two different relevance levels in judgment group {} (one sub-group)",
                s(docno),
                s(jg)
            ),
            Inconsistency::ZeroAndNonZero { jg, docno } => {
                write!(f, "document {} has both 0 and non-0 relevance levels in judgment group {}", s(docno), s(jg))
            }
            Inconsistency::Conflict { jg, first, second } => write!(
                f,
                "the preferences of judgment group {} conflict: documents {} and {} are each preferred to the other",
                s(jg),
                s(first),
                s(second)
            ),
            Inconsistency::TooManyDocs { jg, docs } => write!(
                f,
                "judgment group {} has sub-groups over {docs} documents; drbench closes such groups up to \
                 {MAX_PARTIAL_GROUP_DOCS} documents",
                s(jg)
            ),
            Inconsistency::TooManyPairs => {
                write!(f, "more than {MAX_PAIRS} document pairs have preferences; the prefs_pair measures stop there")
            }
        }
    }
}

/// Counts the preferences of `ranked`; `track_pairs`: also tally every document pair (for `prefs_pair*`).
pub(super) fn count(ranked: &Ranked, track_pairs: bool) -> Result<QueryCounts, Inconsistency> {
    let mut tally = PairTally { on: track_pairs, map: FxHashMap::default() };
    let mut groups = Vec::new();
    let prefs = &ranked.prefs;
    let mut start = 0;
    while start < prefs.len() {
        let end = start + prefs[start..].iter().position(|p| p.jg != prefs[start].jg).unwrap_or(prefs.len() - start);
        let group = &prefs[start..end];
        let counts = if group.iter().all(|p| p.jsg == group[0].jsg) {
            count_classes(group, ranked, &mut tally)?
        } else {
            count_partial(group, ranked, &mut tally)?
        };
        groups.push(counts);
        start = end;
    }
    let mut pairs: Vec<PairCount> = tally
        .map
        .into_iter()
        .map(|(key, [lo_preferred, hi_preferred])| PairCount {
            lo: (key >> 32) as u32,
            hi: key as u32,
            lo_preferred,
            hi_preferred,
        })
        .collect();
    pairs.sort_unstable_by_key(|p| (p.lo, p.hi));
    Ok(QueryCounts { groups, num_judged_ret: ranked.num_judged_ret, pairs })
}

/// The preferences of every document pair over all groups (trec_eval's counts array, kept sparse).
struct PairTally {
    on: bool,
    map: FxHashMap<u64, [u32; 2]>,
}

impl PairTally {
    /// Records one preference `a > b`.
    fn add(&mut self, a: u32, b: u32) -> Result<(), Inconsistency> {
        if !self.on || a == b {
            return Ok(());
        }
        let (lo, hi, slot) = if a < b { (a, b, 0) } else { (b, a, 1) };
        let entry = self.map.entry((u64::from(lo) << 32) | u64::from(hi)).or_insert([0, 0]);
        entry[slot] = entry[slot].saturating_add(1);
        if self.map.len() > MAX_PAIRS {
            return Err(Inconsistency::TooManyPairs);
        }
        Ok(())
    }
}

/// Adds one preference `a > b` (docid ranks) to the area counts of `c` (trec_eval's areas A1–A5).
fn add_area(c: &mut GroupCounts, a: u32, b: u32, njr: u32) {
    match (a < njr, b < njr) {
        (true, true) if a < b => c.fulfilled_ret += 1,
        (true, true) => c.possible_ret += 1,
        (true, false) => c.fulfilled_imp += 1,
        (false, true) => c.possible_imp += 1,
        (false, false) => c.possible_notoccur += 1,
    }
}

/// trec_eval's rule when recalculating for `_Rnonrel`: `a > b` is fulfilled when `a` is retrieved above `b`.
fn recalculated_fulfilled(a: u32, b: u32, njr: u32) -> bool {
    a < b && a < njr
}

/// Adds the fulfilled counts to the possible ones, as trec_eval reports them.
fn finish(c: &mut GroupCounts) {
    c.possible_ret += c.fulfilled_ret;
    c.possible_imp += c.fulfilled_imp;
}

/// A group of one sub-group: equivalence classes of equal level, highest first, ranks ascending in each.
fn count_classes(group: &[RankedPref], ranked: &Ranked, tally: &mut PairTally) -> Result<GroupCounts, Inconsistency> {
    let njr = ranked.num_judged_ret as u32;
    let ranks: Vec<u32> = group.iter().map(|p| p.rank).collect();
    let mut classes: Vec<(f64, Range<usize>)> = Vec::new();
    for (i, p) in group.iter().enumerate() {
        match classes.last_mut() {
            Some((level, range)) if *level == p.rel_level => range.end = i + 1,
            _ => classes.push((p.rel_level, i..i + 1)),
        }
    }
    let mut c = GroupCounts::default();
    for (k1, (level, r1)) in classes.iter().enumerate() {
        let members = &ranks[r1.clone()];
        let retrieved = members.iter().position(|&r| r >= njr).unwrap_or(members.len()) as i64;
        if *level > 0.0 {
            c.num_rel_ret += retrieved;
            c.num_rel += members.len() as i64;
        } else {
            c.num_nonrel_ret += retrieved;
            c.num_nonrel += members.len() as i64;
        }
        for (_, r2) in &classes[k1 + 1..] {
            for &a in members {
                for &b in &ranks[r2.clone()] {
                    tally.add(a, b)?;
                    if a == b {
                        return Err(Inconsistency::TwoLevels {
                            jg: group[0].jg.to_vec(),
                            docno: ranked.docnos[a as usize].to_vec(),
                        });
                    }
                    add_area(&mut c, a, b, njr);
                }
            }
        }
    }
    finish(&mut c);
    let lists: Vec<&[u32]> = classes.iter().map(|(_, r)| &ranks[r.clone()]).collect();
    c.rnonrel = if c.num_rel >= c.num_nonrel {
        let extra = c.num_rel - c.num_nonrel;
        (
            c.fulfilled_ret + c.fulfilled_imp + c.num_rel_ret * extra,
            c.possible_ret + c.possible_imp + c.possible_notoccur + c.num_rel * extra,
        )
    } else {
        recount_classes(&lists, c.num_rel, njr)
    };
    c.rnonrel_ret = if c.num_rel_ret >= c.num_nonrel_ret {
        let extra = c.num_rel_ret - c.num_nonrel_ret;
        (c.fulfilled_ret + c.num_rel_ret * extra, c.possible_ret + c.num_rel * extra)
    } else {
        let retrieved: Vec<&[u32]> =
            lists.iter().map(|l| &l[..l.iter().position(|&r| r >= njr).unwrap_or(l.len())]).collect();
        recount_classes(&retrieved, c.num_rel_ret, njr)
    };
    Ok(c)
}

/// trec_eval's `recalculate` for classes: the last class cut to its first `keep` documents; pairs between the
/// other classes (the last excluded), then every class (the last included, as trec_eval does) against the cut.
fn recount_classes(classes: &[&[u32]], keep: i64, njr: u32) -> (i64, i64) {
    let Some(last) = classes.last() else { return (0, 0) };
    let cut = &last[..usize::try_from(keep).unwrap_or(0).min(last.len())];
    let (mut ful, mut poss) = (0i64, 0i64);
    let mut tally = |a: u32, b: u32| {
        if recalculated_fulfilled(a, b, njr) {
            ful += 1;
        } else {
            poss += 1;
        }
    };
    let n = classes.len();
    for e1 in 0..n {
        for e2 in e1 + 1..n.saturating_sub(1) {
            for &a in classes[e1] {
                for &b in classes[e2] {
                    tally(a, b);
                }
            }
        }
    }
    for class in classes {
        for &a in *class {
            for &b in cut {
                tally(a, b);
            }
        }
    }
    (ful, ful + poss)
}

/// A square bit matrix: row `i` holds the documents `i` is preferred to.
struct BitMatrix {
    n: usize,
    words: usize,
    bits: Vec<u64>,
}

impl BitMatrix {
    fn new(n: usize) -> Self {
        let words = n.div_ceil(64);
        BitMatrix { n, words, bits: vec![0; n * words] }
    }
    fn get(&self, i: usize, j: usize) -> bool {
        self.bits[i * self.words + j / 64] >> (j % 64) & 1 == 1
    }
    fn set(&mut self, i: usize, j: usize, on: bool) {
        let w = &mut self.bits[i * self.words + j / 64];
        if on {
            *w |= 1 << (j % 64);
        } else {
            *w &= !(1 << (j % 64));
        }
    }
    /// The transitive closure (Warshall): row i gains row k wherever i reaches k.
    fn close(&mut self) {
        let words = self.words;
        for k in 0..self.n {
            let row_k: Vec<u64> = self.bits[k * words..(k + 1) * words].to_vec();
            for i in 0..self.n {
                if i != k && self.get(i, k) {
                    for (w, r) in self.bits[i * words..(i + 1) * words].iter_mut().zip(&row_k) {
                        *w |= r;
                    }
                }
            }
        }
    }
    /// The set columns of row `i`, ascending.
    fn row(&self, i: usize) -> impl Iterator<Item = usize> + '_ {
        self.bits[i * self.words..(i + 1) * self.words].iter().enumerate().flat_map(|(w, &bits)| {
            let mut rest = bits;
            std::iter::from_fn(move || {
                (rest != 0).then(|| {
                    let b = rest.trailing_zeros() as usize;
                    rest &= rest - 1;
                    w * 64 + b
                })
            })
        })
    }
}

/// A group of several sub-groups: each sub-group prefers every document to those of lower levels in it; the
/// union over sub-groups is closed under transitivity and must be consistent.
fn count_partial(group: &[RankedPref], ranked: &Ranked, tally: &mut PairTally) -> Result<GroupCounts, Inconsistency> {
    let njr = ranked.num_judged_ret as u32;
    let jg = || group[0].jg.to_vec();
    let mut docs: Vec<u32> = group.iter().map(|p| p.rank).collect();
    docs.sort_unstable();
    docs.dedup();
    if docs.len() > MAX_PARTIAL_GROUP_DOCS {
        return Err(Inconsistency::TooManyDocs { jg: jg(), docs: docs.len() });
    }
    let local = |rank: u32| docs.binary_search(&rank).expect("every rank of the group is listed");
    let mut level = vec![-1.0f64; docs.len()];
    let mut m = BitMatrix::new(docs.len());
    for (i, p) in group.iter().enumerate() {
        let li = local(p.rank);
        if (level[li] > 0.0 && p.rel_level == 0.0) || (level[li] == 0.0 && p.rel_level > 0.0) {
            return Err(Inconsistency::ZeroAndNonZero { jg: jg(), docno: ranked.docnos[p.rank as usize].to_vec() });
        }
        level[li] = p.rel_level;
        let same_jsg = group[i + 1..].iter().take_while(|q| q.jsg == p.jsg);
        for q in same_jsg.skip_while(|q| q.rel_level == p.rel_level) {
            m.set(li, local(q.rank), true);
        }
    }
    m.close();
    for i in 0..docs.len() {
        m.set(i, i, false);
    }
    for i in 0..docs.len() {
        if let Some(j) = m.row(i).find(|&j| m.get(j, i)) {
            return Err(Inconsistency::Conflict {
                jg: jg(),
                first: ranked.docnos[docs[i] as usize].to_vec(),
                second: ranked.docnos[docs[j] as usize].to_vec(),
            });
        }
    }

    let mut c = GroupCounts::default();
    for (&rank, &l) in docs.iter().zip(&level) {
        let (rel, nonrel) = (l > 0.0, l == 0.0);
        c.num_rel += i64::from(rel);
        c.num_nonrel += i64::from(nonrel);
        if rank < njr {
            c.num_rel_ret += i64::from(rel);
            c.num_nonrel_ret += i64::from(nonrel);
        }
    }
    for i in 0..docs.len() {
        for j in m.row(i) {
            tally.add(docs[i], docs[j])?;
            add_area(&mut c, docs[i], docs[j], njr);
        }
    }
    finish(&mut c);
    let full =
        |c: &GroupCounts| (c.fulfilled_ret + c.fulfilled_imp, c.possible_ret + c.possible_imp + c.possible_notoccur);
    c.rnonrel = if c.num_rel >= c.num_nonrel {
        let extra = c.num_rel - c.num_nonrel;
        let (f, p) = full(&c);
        (f + c.num_rel_ret * extra, p + c.num_rel * extra)
    } else {
        recount_partial(&m, &docs, &level, c.num_rel, u32::MAX, njr)
    };
    c.rnonrel_ret = if c.num_rel_ret >= c.num_nonrel_ret {
        let extra = c.num_rel_ret - c.num_nonrel_ret;
        (c.fulfilled_ret + c.num_rel_ret * extra, c.possible_ret + c.num_rel * extra)
    } else {
        recount_partial(&m, &docs, &level, c.num_rel, njr, njr)
    };
    Ok(c)
}

/// trec_eval's `recalculate` for a preference relation: documents ranked below `limit` only; nonrelevant ones
/// from the (`keep` + 1)-th on (in rank order) dropped.
fn recount_partial(m: &BitMatrix, docs: &[u32], level: &[f64], keep: i64, limit: u32, njr: u32) -> (i64, i64) {
    let mut seen = 0i64;
    let first_dropped = docs
        .iter()
        .zip(level)
        .filter(|(r, l)| **r < limit && **l == 0.0)
        .find(|_| {
            seen += 1;
            seen == keep + 1
        })
        .map_or(u32::MAX, |(r, _)| *r);
    let kept = |i: usize| docs[i] < limit && !(docs[i] >= first_dropped && level[i] == 0.0);
    let (mut ful, mut poss) = (0i64, 0i64);
    for i in (0..docs.len()).filter(|&i| kept(i)) {
        for j in m.row(i).filter(|&j| kept(j)) {
            if recalculated_fulfilled(docs[i], docs[j], njr) {
                ful += 1;
            } else {
                poss += 1;
            }
        }
    }
    (ful, ful + poss)
}
