//! Text collections (a corpus of documents, or a set of queries) stored in one arena:
//! three allocations in all, however many records, so a 9M-passage collection loads without 9M small strings.

use std::ops::Range;

/// One record of a collection, borrowed from its arena.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record<'a> {
    /// The record's id.
    pub id: &'a str,
    /// Title (empty for queries and for untitled documents).
    pub title: &'a str,
    /// Body text.
    pub text: &'a str,
}

impl Record<'_> {
    /// BEIR/Pyserini "flat" passage text: title + " " + text (the space is added even when the title is empty).
    pub fn flat_text(&self) -> String {
        let mut s = String::with_capacity(self.title.len() + 1 + self.text.len());
        s.push_str(self.title);
        s.push(' ');
        s.push_str(self.text);
        s
    }
}

#[derive(Debug, Clone, Copy)]
struct Spans {
    id: usize,
    title: usize,
    text: usize,
    end: usize,
}

/// An ordered collection of records with unique ids.
#[derive(Debug, Clone, Default)]
pub struct Collection {
    arena: String,
    spans: Vec<Spans>,
    /// Record indices sorted by id, for lookup and duplicate detection.
    by_id: Vec<u32>,
}

impl Collection {
    /// An empty collection.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a record. Call [`Collection::finish`] after the last push to enable id lookup.
    pub fn push(&mut self, id: &str, title: &str, text: &str) {
        let start = self.arena.len();
        self.arena.push_str(id);
        let title_start = self.arena.len();
        self.arena.push_str(title);
        let text_start = self.arena.len();
        self.arena.push_str(text);
        self.spans.push(Spans { id: start, title: title_start, text: text_start, end: self.arena.len() });
    }

    /// Builds the id index. Returns the index pair `(first, second)` of the first duplicate id found, if any.
    pub fn finish(&mut self) -> Result<(), (usize, usize)> {
        let n = u32::try_from(self.spans.len()).expect("at most 4G records");
        let mut by_id: Vec<u32> = (0..n).collect();
        by_id.sort_unstable_by(|&a, &b| self.id_at(a as usize).cmp(self.id_at(b as usize)).then(a.cmp(&b)));
        let dup = by_id
            .windows(2)
            .filter(|w| self.id_at(w[0] as usize) == self.id_at(w[1] as usize))
            .map(|w| (w[0] as usize, w[1] as usize))
            .min_by_key(|&(_, second)| second);
        self.by_id = by_id;
        match dup {
            Some(d) => Err(d),
            None => Ok(()),
        }
    }

    fn slice(&self, r: Range<usize>) -> &str {
        &self.arena[r]
    }

    fn id_at(&self, i: usize) -> &str {
        let s = self.spans[i];
        self.slice(s.id..s.title)
    }

    /// Number of records.
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// The `i`-th record in file order.
    pub fn get(&self, i: usize) -> Record<'_> {
        let s = self.spans[i];
        Record { id: self.slice(s.id..s.title), title: self.slice(s.title..s.text), text: self.slice(s.text..s.end) }
    }

    /// The position of the record with id `id`.
    pub fn position(&self, id: &str) -> Option<usize> {
        debug_assert_eq!(self.by_id.len(), self.spans.len(), "call finish() first");
        self.by_id.binary_search_by(|&i| self.id_at(i as usize).cmp(id)).ok().map(|p| self.by_id[p] as usize)
    }

    /// The record with id `id`.
    pub fn find(&self, id: &str) -> Option<Record<'_>> {
        self.position(id).map(|i| self.get(i))
    }

    /// Iterates over the records in file order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = Record<'_>> + '_ {
        (0..self.len()).map(move |i| self.get(i))
    }

    /// Keeps only the records for which `keep` is true (file order preserved).
    pub fn filter(&self, mut keep: impl FnMut(&Record<'_>) -> bool) -> Collection {
        let mut out = Collection::new();
        for r in self.iter() {
            if keep(&r) {
                out.push(r.id, r.title, r.text);
            }
        }
        out.finish().expect("a subset of unique ids is unique");
        out
    }

    /// Bytes of text held.
    pub fn arena_bytes(&self) -> usize {
        self.arena.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stores_looks_up_and_reports_duplicates() {
        let mut c = Collection::new();
        c.push("b", "T", "body b");
        c.push("a", "", "body a");
        assert!(c.finish().is_ok());
        assert_eq!(c.find("a").unwrap().text, "body a");
        assert_eq!(c.get(0).flat_text(), "T body b");
        assert_eq!(c.get(1).flat_text(), " body a");
        assert!(c.find("c").is_none());
        c.push("b", "", "again");
        assert_eq!(c.finish(), Err((0, 2)));
    }
}
