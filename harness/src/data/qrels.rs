//! Graded relevance judgments (qrels): per query, the judged documents and their grades.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use rustc_hash::FxHashMap;

/// The judgments of one query.
#[derive(Debug, Clone, Default)]
pub struct QueryJudgments {
    grades: FxHashMap<Box<[u8]>, i32>,
    /// Positive grades sorted descending (the ideal ranking's gains for nDCG), computed on first use.
    ideal_gains: OnceLock<Vec<i32>>,
}

impl PartialEq for QueryJudgments {
    fn eq(&self, other: &Self) -> bool {
        self.grades == other.grades
    }
}

impl QueryJudgments {
    /// Adds (or overwrites) the grade of `docid`. Returns the previous grade, if any.
    pub fn insert(&mut self, docid: &str, grade: i32) -> Option<i32> {
        self.ideal_gains.take();
        self.grades.insert(docid.as_bytes().into(), grade)
    }

    /// Builds the judgments from (docid, grade) pairs; a later pair overwrites an earlier one.
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, i32)>) -> Self {
        let mut j = QueryJudgments::default();
        for (docid, grade) in pairs {
            j.insert(docid, grade);
        }
        j
    }

    /// The grade of `docid` (raw bytes), or `None` when it is unjudged.
    #[inline]
    pub fn grade(&self, docid: &[u8]) -> Option<i32> {
        self.grades.get(docid).copied()
    }

    /// Number of relevant documents (grade ≥ 1, trec_eval's default relevance level).
    pub fn num_relevant(&self) -> usize {
        self.ideal_gains().len()
    }

    /// Positive grades sorted descending.
    pub fn ideal_gains(&self) -> &[i32] {
        self.ideal_gains.get_or_init(|| {
            let mut g: Vec<i32> = self.grades.values().copied().filter(|&g| g > 0).collect();
            g.sort_unstable_by(|a, b| b.cmp(a));
            g
        })
    }

    /// Every grade (any order).
    pub fn grade_values(&self) -> impl Iterator<Item = i32> + '_ {
        self.grades.values().copied()
    }

    /// Number of judged documents (any grade).
    pub fn len(&self) -> usize {
        self.grades.len()
    }

    /// True when nothing is judged.
    pub fn is_empty(&self) -> bool {
        self.grades.is_empty()
    }

    /// The judged documents with their grades, in byte order of the docid.
    pub fn iter_sorted(&self) -> Vec<(&str, i32)> {
        let mut v: Vec<(&str, i32)> = self
            .grades
            .iter()
            .map(|(d, &g)| (std::str::from_utf8(d).expect("docids are inserted as str"), g))
            .collect();
        v.sort_unstable();
        v
    }
}

/// Judgments for a set of queries.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Qrels {
    queries: FxHashMap<String, QueryJudgments>,
}

impl Qrels {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one judgment; returns the previous grade of the pair, if any.
    pub fn insert(&mut self, qid: &str, docid: &str, grade: i32) -> Option<i32> {
        self.queries.entry(qid.to_string()).or_default().insert(docid, grade)
    }

    /// Adds one parsed qrels line (a reader's `(query, doc, grade)` or its message about a malformed line);
    /// returns the message to report when the line was malformed or repeats a (query, doc) pair.
    pub fn add_judgment(&mut self, parsed: Result<(&str, &str, i32), String>) -> Option<String> {
        match parsed {
            Ok((q, d, g)) => {
                self.insert(q, d, g).map(|_| format!("duplicate judgment for query {q:?}, document {d:?}"))
            }
            Err(msg) => Some(msg),
        }
    }

    /// Sets the judgments of `qid` at once.
    pub fn insert_query(&mut self, qid: impl Into<String>, judgments: QueryJudgments) {
        self.queries.insert(qid.into(), judgments);
    }

    /// The judgments of `qid`.
    pub fn get(&self, qid: &str) -> Option<&QueryJudgments> {
        self.queries.get(qid)
    }

    /// Number of judged queries.
    pub fn len(&self) -> usize {
        self.queries.len()
    }

    /// True when no query is judged.
    pub fn is_empty(&self) -> bool {
        self.queries.is_empty()
    }

    /// Total number of judgments.
    pub fn num_judgments(&self) -> usize {
        self.queries.values().map(QueryJudgments::len).sum()
    }

    /// Query ids, sorted.
    pub fn query_ids(&self) -> Vec<&str> {
        let mut ids: Vec<&str> = self.queries.keys().map(String::as_str).collect();
        ids.sort_unstable();
        ids
    }

    /// Iterates over (qid, judgments) in arbitrary order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &QueryJudgments)> {
        self.queries.iter().map(|(q, j)| (q.as_str(), j))
    }

    /// A sorted copy, for stable output.
    pub fn to_sorted(&self) -> BTreeMap<&str, Vec<(&str, i32)>> {
        self.queries.iter().map(|(q, j)| (q.as_str(), j.iter_sorted())).collect()
    }

    /// Keeps only the queries for which `keep` is true.
    pub fn retain(&mut self, mut keep: impl FnMut(&str, &QueryJudgments) -> bool) {
        self.queries.retain(|q, j| keep(q, j));
    }
}
