//! Tasks scored per subset (CodeSearchNet's six languages, MTEB's `hf_subsets`): the task's score is the
//! unweighted mean of its subsets' scores, as MTEB's `TaskResult.get_score` takes it (`np.mean` over the split's
//! score entries) — not a mean over the pooled queries, which would weight the languages by their query counts.

use std::collections::BTreeMap;

use drbench_datasets::{DatasetSpec, Registry};
use drbench_harness::metrics::Measure;
use drbench_harness::report::CellResult;

/// The mean of each measure every one of `scores` has (MTEB's mean over a split's score entries).
pub fn mean_scores(scores: &[BTreeMap<Measure, f64>]) -> BTreeMap<Measure, f64> {
    let Some(first) = scores.first() else { return BTreeMap::new() };
    first
        .keys()
        .filter_map(|m| {
            let values: Option<Vec<f64>> = scores.iter().map(|s| s.get(m).copied()).collect();
            values.map(|v| (*m, v.iter().sum::<f64>() / v.len() as f64))
        })
        .collect()
}

/// Adds, for every (model, split) that has a result for each subset of a per-subset task (`NAME#SUBSET` cells)
/// and none for the task itself, the task's result: the mean of its subsets' scores. Per-query values are left
/// out (the subsets' queries are different populations; a paired test over them would test a pooled mean).
/// A task with a subset missing gets no result, so a table shows it as missing rather than as a partial mean.
pub fn add_subset_means(cells: &mut Vec<CellResult>, registry: &Registry) {
    type Key = (String, String, String);
    let mut groups: BTreeMap<Key, BTreeMap<String, usize>> = BTreeMap::new();
    for (i, c) in cells.iter().enumerate() {
        let (base, Some(subset)) = DatasetSpec::split_subset(&c.task) else { continue };
        let Ok(spec) = registry.get(base) else { continue };
        if spec.subsets.iter().any(|s| s == subset) {
            let key = (c.model.clone(), spec.name.clone(), c.split.clone());
            groups.entry(key).or_default().insert(subset.to_string(), i);
        }
    }
    for ((model, task, split), found) in groups {
        let spec = registry.get(&task).expect("grouped by registry name");
        let complete = spec.subsets.iter().all(|s| found.contains_key(s));
        let present = cells.iter().any(|c| c.model == model && c.task == task && c.split == split);
        if !complete || present {
            continue;
        }
        let scores: Vec<BTreeMap<Measure, f64>> = spec.subsets.iter().map(|s| cells[found[s]].scores.clone()).collect();
        let origin = cells[found[&spec.subsets[0]]].origin.clone();
        cells.push(CellResult { model, task, split, scores: mean_scores(&scores), per_query: None, origin });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NDCG10: Measure = Measure::Ndcg(Some(10));

    fn cell(model: &str, task: &str, ndcg: f64) -> CellResult {
        CellResult {
            model: model.into(),
            task: task.into(),
            split: "test".into(),
            scores: BTreeMap::from([(NDCG10, ndcg), (Measure::Rr(Some(10)), ndcg / 2.0)]),
            per_query: Some(BTreeMap::new()),
            origin: Default::default(),
        }
    }

    #[test]
    fn a_per_subset_task_is_the_unweighted_mean_of_all_its_subsets() {
        let registry = Registry::builtin();
        let langs = &registry.get("coir/codesearchnet").unwrap().subsets;
        assert_eq!(langs, &["python", "javascript", "go", "ruby", "java", "php"]);
        let mut cells: Vec<CellResult> = langs
            .iter()
            .enumerate()
            .map(|(i, l)| cell("m", &format!("coir/codesearchnet#{l}"), 0.1 * (i + 1) as f64))
            .collect();
        // Another model misses one language: no mean for it.
        cells.extend(langs[1..].iter().map(|l| cell("other", &format!("coir/codesearchnet#{l}"), 0.5)));
        add_subset_means(&mut cells, &registry);
        let means: Vec<&CellResult> = cells.iter().filter(|c| c.task == "coir/codesearchnet").collect();
        assert_eq!(means.len(), 1, "{means:#?}");
        let naive = (1..=6).map(|i| 0.1 * i as f64).sum::<f64>() / 6.0;
        assert!((means[0].scores[&NDCG10] - naive).abs() < 1e-15);
        assert!((means[0].scores[&Measure::Rr(Some(10))] - naive / 2.0).abs() < 1e-15);
        assert!(means[0].per_query.is_none());
        // Run twice: the mean is not added again.
        let n = cells.len();
        add_subset_means(&mut cells, &registry);
        assert_eq!(cells.len(), n);
    }

    #[test]
    fn only_measures_every_entry_has_are_averaged() {
        let a = BTreeMap::from([(NDCG10, 0.2), (Measure::Rr(Some(10)), 0.4)]);
        let b = BTreeMap::from([(NDCG10, 0.4)]);
        assert_eq!(mean_scores(&[a, b]), BTreeMap::from([(NDCG10, 0.30000000000000004)]));
        assert!(mean_scores(&[]).is_empty());
    }
}
