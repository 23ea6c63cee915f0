//! The first step of trec_eval's `form_prefs_counts`: every judged document of a query gets a docid rank — the
//! retrieved ones 0..num_judged_ret in retrieval order, the others after them in document-id order — and the
//! preferences are sorted by (judgment group, sub-group, level descending, rank).

use std::cmp::Ordering;

use super::super::input::Retrieved;
use super::read::Pref;

/// One preference line with its document's docid rank.
#[derive(Debug, Clone, Copy)]
pub(super) struct RankedPref<'a> {
    pub jg: &'a [u8],
    pub jsg: &'a [u8],
    pub rel_level: f64,
    pub rank: u32,
}

/// A query's preferences in docid-rank terms.
#[derive(Debug)]
pub(super) struct Ranked<'a> {
    /// Sorted by (jg, jsg, rel_level descending, rank).
    pub prefs: Vec<RankedPref<'a>>,
    /// The document id of each docid rank.
    pub docnos: Vec<&'a [u8]>,
    /// Judged documents that were retrieved (they hold ranks 0..num_judged_ret).
    pub num_judged_ret: usize,
}

/// Ranks the judged documents of `prefs` by the run's `docs` (top `max_docs` by score, ties by document id
/// ascending, as `form_prefs_counts` sorts); `Err(docno)` when the ranked list holds a document twice.
pub(super) fn rank_prefs<'a, 'r>(
    prefs: &[Pref<'a>],
    docs: &[Retrieved<'r>],
    max_docs: u64,
) -> Result<Ranked<'a>, &'r [u8]> {
    let mut results: Vec<Retrieved<'r>> = docs.to_vec();
    results.sort_by(|a, b| b.1.partial_cmp(&a.1).unwrap_or(Ordering::Equal).then_with(|| a.0.cmp(b.0)));
    results.truncate(usize::try_from(max_docs).unwrap_or(usize::MAX));
    let mut by_docno: Vec<(&[u8], usize)> = results.iter().enumerate().map(|(i, d)| (d.0, i)).collect();
    by_docno.sort_unstable_by(|a, b| a.0.cmp(b.0));
    if let Some(w) = by_docno.windows(2).find(|w| w[0].0 == w[1].0) {
        return Err(w[1].0);
    }

    let mut judged: Vec<&'a [u8]> = prefs.iter().map(|p| p.docno).collect();
    judged.sort_unstable();
    judged.dedup();
    // (retrieval position, judged index) of the judged documents the run retrieved, in retrieval order.
    let mut retrieved: Vec<(usize, usize)> = judged
        .iter()
        .enumerate()
        .filter_map(|(j, d)| by_docno.binary_search_by(|(r, _)| r.cmp(d)).ok().map(|k| (by_docno[k].1, j)))
        .collect();
    retrieved.sort_unstable();
    let mut rank_of: Vec<Option<u32>> = vec![None; judged.len()];
    for (rank, &(_, j)) in retrieved.iter().enumerate() {
        rank_of[j] = Some(rank as u32);
    }
    let mut next = retrieved.len() as u32;
    let rank_of: Vec<u32> = rank_of
        .into_iter()
        .map(|r| {
            r.unwrap_or_else(|| {
                next += 1;
                next - 1
            })
        })
        .collect();
    let mut docnos: Vec<&'a [u8]> = vec![&[]; judged.len()];
    for (j, &r) in rank_of.iter().enumerate() {
        docnos[r as usize] = judged[j];
    }

    let mut ranked: Vec<RankedPref<'a>> = prefs
        .iter()
        .map(|p| {
            let j = judged.binary_search(&p.docno).expect("every judged document is listed");
            RankedPref { jg: p.jg, jsg: p.jsg, rel_level: p.rel_level, rank: rank_of[j] }
        })
        .collect();
    ranked.sort_by(|a, b| {
        (a.jg, a.jsg)
            .cmp(&(b.jg, b.jsg))
            .then_with(|| b.rel_level.partial_cmp(&a.rel_level).unwrap_or(Ordering::Equal))
            .then(a.rank.cmp(&b.rank))
    });
    Ok(Ranked { prefs: ranked, docnos, num_judged_ret: retrieved.len() })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pref<'a>(jsg: &'a [u8], docno: &'a [u8], rel_level: f64) -> Pref<'a> {
        Pref { jg: b"g", jsg, docno, rel_level }
    }

    #[test]
    fn retrieved_documents_rank_first_in_run_order_then_the_rest_by_id() {
        let prefs = [pref(b"s", b"z", 1.0), pref(b"s", b"b", 2.0), pref(b"s", b"a", 0.0), pref(b"s", b"c", 0.0)];
        // c and z retrieved (z above c); x is retrieved but not judged; a and b not retrieved.
        let docs: Vec<Retrieved> = vec![(b"x", 3.0), (b"c", 1.0), (b"z", 2.0)];
        let r = rank_prefs(&prefs, &docs, u64::MAX).unwrap();
        assert_eq!(r.num_judged_ret, 2);
        assert_eq!(r.docnos, vec![&b"z"[..], b"c", b"a", b"b"]);
        let order: Vec<(f64, u32)> = r.prefs.iter().map(|p| (p.rel_level, p.rank)).collect();
        assert_eq!(order, vec![(2.0, 3), (1.0, 0), (0.0, 1), (0.0, 2)]);
    }

    #[test]
    fn max_docs_cuts_the_ranking_and_ties_break_by_id_ascending() {
        let prefs = [pref(b"s", b"a", 1.0), pref(b"s", b"b", 0.0)];
        let docs: Vec<Retrieved> = vec![(b"b", 1.0), (b"a", 1.0)];
        let r = rank_prefs(&prefs, &docs, 1).unwrap();
        assert_eq!((r.num_judged_ret, r.docnos.clone()), (1, vec![&b"a"[..], b"b"]));
        assert_eq!(rank_prefs(&prefs, &[(b"a", 1.0), (b"a", 0.5)], u64::MAX).unwrap_err(), b"a");
    }
}
