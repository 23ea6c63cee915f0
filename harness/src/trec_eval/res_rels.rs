//! trec_eval's `form_res_rels`: one query's retrieved documents ranked (score descending, ties by docid
//! descending), cut at `-M`, and each rank given its relevance from one judgment group, with the counts measures use.

use crate::metrics::trec_cmp;

use super::input::{Judgment, Retrieved};
use super::options::Options;

/// Relevance of a retrieved document that the qrels do not list.
pub const RELVALUE_NONPOOL: i64 = -1;
/// Relevance of a retrieved document listed in the qrels with a negative judgment (in the pool, unjudged).
pub const RELVALUE_UNJUDGED: i64 = -2;

/// The ranked relevance list of one query against one judgment group, as trec_eval's `RES_RELS`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ResRels {
    /// Relevance of each retrieved document in rank order (judged value, [`RELVALUE_NONPOOL`] or
    /// [`RELVALUE_UNJUDGED`]).
    pub rel_list: Vec<i64>,
    /// Number of retrieved documents (after `-M` and `-J`).
    pub num_ret: i64,
    /// Retrieved documents at or above the relevance level.
    pub num_rel_ret: i64,
    /// Retrieved documents the qrels do not list.
    pub num_nonpool: i64,
    /// Retrieved documents listed with a negative judgment.
    pub num_unjudged_in_pool: i64,
    /// Judged documents at or above the relevance level.
    pub num_rel: i64,
    /// `rel_levels[r]`: judged documents with relevance `r` (r ≥ 0).
    pub rel_levels: Vec<i64>,
    /// One more than the largest relevance with a judged document (0 when none).
    pub num_rel_levels: usize,
}

/// Retrieved documents of one query ranked as trec_eval ranks them and cut at `-M`: (docno, rank from 0).
pub fn rank_documents<'a>(docs: &[Retrieved<'a>], max_docs: u64) -> Vec<(&'a [u8], usize)> {
    let mut ranked: Vec<Retrieved<'a>> = docs.to_vec();
    ranked.sort_unstable_by(|a, b| trec_cmp(a.1, a.0, b.1, b.0));
    ranked.truncate(usize::try_from(max_docs).unwrap_or(usize::MAX));
    let mut by_docno: Vec<(&[u8], usize)> = ranked.iter().enumerate().map(|(rank, (d, _))| (*d, rank)).collect();
    by_docno.sort_unstable_by(|a, b| a.0.cmp(b.0));
    by_docno
}

/// The first document id retrieved twice, if any (`by_docno` sorted by document id).
pub fn duplicate_doc<'a>(by_docno: &[(&'a [u8], usize)]) -> Option<&'a [u8]> {
    by_docno.windows(2).find(|w| w[0].0 == w[1].0).map(|w| w[0].0)
}

/// Merges the ranked documents (sorted by docno, from [`rank_documents`]) with one judgment group.
pub fn form_res_rels(by_docno: &[(&[u8], usize)], judgments: &[Judgment<'_>], opts: &Options) -> ResRels {
    let max_rel = judgments.iter().map(|j| j.1).max().unwrap_or(0).max(-1);
    let mut rel_levels = vec![0i64; usize::try_from(max_rel + 1).unwrap_or(0)];
    for &(_, rel) in judgments {
        if let Ok(r) = usize::try_from(rel) {
            rel_levels[r] += 1;
        }
    }
    // Relevance of each retrieved document, by a merge of two docno-sorted lists.
    let mut rels = Vec::with_capacity(by_docno.len());
    let mut j = 0;
    for &(docno, rank) in by_docno {
        while j < judgments.len() && judgments[j].0 < docno {
            j += 1;
        }
        let rel = match judgments.get(j) {
            Some(&(d, rel)) if d == docno => {
                j += 1;
                if rel < 0 { RELVALUE_UNJUDGED } else { rel }
            }
            _ => RELVALUE_NONPOOL,
        };
        rels.push((rank, rel));
    }
    let mut rr = ResRels::default();
    if opts.judged_docs_only {
        rels.retain(|&(_, rel)| rel >= 0);
        rels.sort_unstable_by_key(|&(rank, _)| rank);
        rr.rel_list = rels.iter().map(|&(_, rel)| rel).collect();
    } else {
        rr.rel_list = vec![0; rels.len()];
        for &(rank, rel) in &rels {
            rr.rel_list[rank] = rel;
            match rel {
                RELVALUE_NONPOOL => rr.num_nonpool += 1,
                RELVALUE_UNJUDGED => rr.num_unjudged_in_pool += 1,
                _ => {}
            }
        }
    }
    rr.num_ret = rr.rel_list.len() as i64;
    rr.num_rel_ret = rr.rel_list.iter().filter(|&&r| r >= 0 && r >= opts.relevance_level).count() as i64;
    for (level, &count) in rel_levels.iter().enumerate() {
        if count > 0 {
            rr.num_rel_levels = level + 1;
            if level as i64 >= opts.relevance_level {
                rr.num_rel += count;
            }
        }
    }
    rr.rel_levels = rel_levels;
    rr
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranks_relevance_and_counts_follow_trec_eval() {
        let docs: Vec<Retrieved> = vec![(b"a", 1.0), (b"b", 3.0), (b"c", 3.0), (b"z", 0.5)];
        let judged: Vec<Judgment> = vec![(b"a", 2), (b"b", 0), (b"c", -1), (b"d", 1)];
        let opts = Options::default();
        let by_docno = rank_documents(&docs, u64::MAX);
        let rr = form_res_rels(&by_docno, &judged, &opts);
        // c and b tie at 3.0: the larger docid (c) ranks first.
        assert_eq!(rr.rel_list, vec![RELVALUE_UNJUDGED, 0, 2, RELVALUE_NONPOOL]);
        assert_eq!((rr.num_ret, rr.num_rel_ret, rr.num_rel, rr.num_nonpool, rr.num_unjudged_in_pool), (4, 1, 2, 1, 1));
        assert_eq!((rr.rel_levels.clone(), rr.num_rel_levels), (vec![1, 1, 1], 3));
        let judged_only = Options { judged_docs_only: true, ..Options::default() };
        assert_eq!(form_res_rels(&by_docno, &judged, &judged_only).rel_list, vec![0, 2]);
        let cut = rank_documents(&docs, 2);
        assert_eq!(form_res_rels(&cut, &judged, &opts).rel_list, vec![RELVALUE_UNJUDGED, 0]);
    }
}
