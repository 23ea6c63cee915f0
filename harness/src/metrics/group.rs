//! One query's retrieved rows held compactly (scores + a docid arena) and scored with trec_eval's rules.

use std::hash::{BuildHasher, Hasher};

use rustc_hash::{FxBuildHasher, FxHashSet};

use crate::data::QueryJudgments;

use super::query::score_ranking;
use super::ranking::UNJUDGED;
use super::{Measure, trec_cmp};

#[derive(Debug, Clone, Copy)]
struct Row {
    score: f64,
    start: u32,
    len: u32,
}

/// The rows of one query: scores and docids, in one arena.
#[derive(Debug, Clone, Default)]
pub struct QueryRows {
    rows: Vec<Row>,
    arena: Vec<u8>,
}

impl QueryRows {
    /// Adds one row.
    #[inline]
    pub fn push(&mut self, docid: &[u8], score: f64) {
        let start = self.arena.len() as u32;
        self.arena.extend_from_slice(docid);
        self.rows.push(Row { score, start, len: docid.len() as u32 });
    }

    /// Appends all rows of `other`.
    pub fn append(&mut self, other: &QueryRows) {
        for r in &other.rows {
            self.push(other.docid(r), r.score);
        }
    }

    /// Removes every row.
    pub fn clear(&mut self) {
        self.rows.clear();
        self.arena.clear();
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// True when there is no row.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    #[inline]
    fn docid(&self, r: &Row) -> &[u8] {
        &self.arena[r.start as usize..(r.start + r.len) as usize]
    }
}

/// A duplicate (query, document) row, which trec_eval refuses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DuplicateDoc(pub String);

/// Scores query groups, reusing its buffers between queries.
#[derive(Debug, Default)]
pub struct GroupScorer {
    grades: Vec<i32>,
    /// Hashes of the docids seen in the current group (exact check only on a hash collision).
    hashes: FxHashSet<u64>,
}

impl GroupScorer {
    /// Sorts `rows` as trec_eval does and writes the value of each measure to `out`.
    /// With `remove_self`, rows whose docid equals `qid` are dropped first.
    pub fn score(
        &mut self,
        qid: &[u8],
        rows: &mut QueryRows,
        judgments: &QueryJudgments,
        measures: &[Measure],
        remove_self: bool,
        out: &mut [f64],
    ) -> Result<(), DuplicateDoc> {
        if remove_self {
            let arena = &rows.arena;
            rows.rows.retain(|r| &arena[r.start as usize..(r.start + r.len) as usize] != qid);
        }
        let QueryRows { rows: list, arena } = rows;
        let doc = |r: &Row| &arena[r.start as usize..(r.start + r.len) as usize];
        sort_trec(list, &doc);
        if let Some(dup) = self.find_duplicate(list, &doc) {
            return Err(DuplicateDoc(String::from_utf8_lossy(dup).into_owned()));
        }
        let depth = max_depth(measures, list.len());
        self.grades.clear();
        self.grades.extend(list[..depth].iter().map(|r| judgments.grade(doc(r)).unwrap_or(UNJUDGED)));
        score_ranking(&self.grades, judgments, measures, out);
        Ok(())
    }
}

impl GroupScorer {
    /// Checks that no docid occurs twice (for queries that are not scored, so that every row of a run is held
    /// to the same rule as trec_eval's reader).
    pub fn check_duplicates(&mut self, rows: &QueryRows) -> Result<(), DuplicateDoc> {
        let arena = &rows.arena;
        let doc = |r: &Row| &arena[r.start as usize..(r.start + r.len) as usize];
        match self.find_duplicate(&rows.rows, &doc) {
            Some(d) => Err(DuplicateDoc(String::from_utf8_lossy(d).into_owned())),
            None => Ok(()),
        }
    }

    /// A docid that occurs twice in `list`, if any: a hash set of 64-bit docid hashes, confirmed exactly
    /// (hash collisions are not duplicates).
    fn find_duplicate<'a>(&mut self, list: &[Row], doc: &impl Fn(&Row) -> &'a [u8]) -> Option<&'a [u8]> {
        self.hashes.clear();
        let mut collided = false;
        for r in list {
            let mut h = FxBuildHasher.build_hasher();
            h.write(doc(r));
            collided |= !self.hashes.insert(h.finish());
        }
        if !collided {
            return None;
        }
        let mut ids: Vec<&[u8]> = list.iter().map(doc).collect();
        ids.sort_unstable();
        ids.windows(2).find(|w| w[0] == w[1]).map(|w| w[0])
    }
}

/// Sorts rows in trec_eval order. Runs are usually written best-first already, with ties in arbitrary order:
/// then only the runs of equal scores need sorting (by docid, descending).
fn sort_trec<'a>(list: &mut [Row], doc: &impl Fn(&Row) -> &'a [u8]) {
    if list.windows(2).all(|w| w[0].score >= w[1].score) {
        let mut i = 0;
        while i < list.len() {
            let mut j = i + 1;
            while j < list.len() && list[j].score == list[i].score {
                j += 1;
            }
            if j - i > 1 {
                list[i..j].sort_unstable_by(|a, b| doc(b).cmp(doc(a)));
            }
            i = j;
        }
    } else {
        list.sort_unstable_by(|a, b| trec_cmp(a.score, doc(a), b.score, doc(b)));
    }
}

/// How many ranks the measures look at (all of them when one is uncut).
fn max_depth(measures: &[Measure], n: usize) -> usize {
    let mut d = 0usize;
    for m in measures {
        match m.depth() {
            None => return n,
            Some(k) => d = d.max(k as usize),
        }
    }
    d.min(n)
}
