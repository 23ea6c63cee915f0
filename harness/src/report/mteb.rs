//! MTEB's score names (`ndcg_at_10`, `mrr_at_10`, `recall_at_100`, `map`, `precision_at_10`) and drbench's (other
//! trec_eval measures under their trec_eval names).

use crate::metrics::Measure;

/// The MTEB score key of `m` (`nDCG@10` → `ndcg_at_10`, `RR@10` → `mrr_at_10`, `AP` → `map`).
pub fn mteb_key(m: Measure) -> String {
    match m {
        Measure::Ndcg(Some(k)) => format!("ndcg_at_{k}"),
        Measure::Ndcg(None) => "ndcg".into(),
        Measure::Rr(Some(k)) => format!("mrr_at_{k}"),
        Measure::Rr(None) => "mrr".into(),
        Measure::Recall(k) => format!("recall_at_{k}"),
        Measure::Ap(Some(k)) => format!("map_at_{k}"),
        Measure::Ap(None) => "map".into(),
        Measure::P(k) => format!("precision_at_{k}"),
        Measure::Trec(t) => t.name(),
    }
}

/// The measure an MTEB score key names, if drbench computes it the same way (trec_eval's definitions).
pub fn measure_from_mteb_key(key: &str) -> Option<Measure> {
    let cut = |prefix: &str| key.strip_prefix(prefix).and_then(|k| k.parse::<u32>().ok()).filter(|&k| k > 0);
    match key {
        "ndcg" => return Some(Measure::Ndcg(None)),
        "mrr" => return Some(Measure::Rr(None)),
        "map" => return Some(Measure::Ap(None)),
        _ => {}
    }
    if let Some(k) = cut("ndcg_at_") {
        return Some(Measure::Ndcg(Some(k)));
    }
    if let Some(k) = cut("mrr_at_") {
        return Some(Measure::Rr(Some(k)));
    }
    if let Some(k) = cut("recall_at_") {
        return Some(Measure::Recall(k));
    }
    if let Some(k) = cut("map_at_") {
        return Some(Measure::Ap(Some(k)));
    }
    // drbench's own files write trec_eval's other measures under their trec_eval names.
    cut("precision_at_")
        .map(Measure::P)
        .or_else(|| key.parse::<Measure>().ok().filter(|m| matches!(m, Measure::Trec(_))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip() {
        for m in [
            Measure::Ndcg(Some(10)),
            Measure::Ndcg(None),
            Measure::Rr(Some(10)),
            Measure::Rr(None),
            Measure::Recall(100),
            Measure::Ap(Some(5)),
            Measure::Ap(None),
            Measure::P(10),
            "bpref".parse().unwrap(),
            "success_10".parse().unwrap(),
        ] {
            assert_eq!(measure_from_mteb_key(&mteb_key(m)), Some(m), "{m}");
        }
        assert_eq!(measure_from_mteb_key("main_score"), None);
        assert_eq!(measure_from_mteb_key("ndcg_at_0"), None);
        assert_eq!(measure_from_mteb_key("naucs_at_10_max"), None);
    }
}
