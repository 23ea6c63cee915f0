//! trec_eval's ranking order: score descending, ties broken by docid descending in byte (`strcmp`) order.

use std::cmp::Ordering;

/// The grade of a ranked document the qrels do not list (never relevant, no gain).
pub const UNJUDGED: i32 = i32::MIN;

/// Compares two run rows as trec_eval orders them: `Less` means `a` ranks above `b`.
/// Scores compare as doubles (`-0.0 == 0.0`); equal scores fall back to the docid, larger bytes first.
#[inline]
pub fn trec_cmp(score_a: f64, docid_a: &[u8], score_b: f64, docid_b: &[u8]) -> Ordering {
    match score_b.partial_cmp(&score_a) {
        Some(Ordering::Equal) | None => docid_b.cmp(docid_a),
        Some(o) => o,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ties_go_to_the_larger_docid_in_byte_order() {
        let mut rows = [(1.0, "10"), (1.0, "9"), (1.0, "100"), (2.0, "1"), (-0.0, "a"), (0.0, "b")];
        rows.sort_by(|a, b| trec_cmp(a.0, a.1.as_bytes(), b.0, b.1.as_bytes()));
        let ids: Vec<&str> = rows.iter().map(|r| r.1).collect();
        assert_eq!(ids, ["1", "9", "100", "10", "b", "a"]);
    }
}
