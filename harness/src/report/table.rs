//! Laying results out as the study's tables, with paired t-tests against a baseline on every cell.
//!
//! `ModelsAsColumns` is Tables 1–2 (one measure; tasks as rows, models as columns, an average row);
//! `ModelsAsRows` is Table 3 (models as rows; one column per task and measure).

use std::collections::BTreeMap;

use super::results::CellResult;
use crate::metrics::Measure;
use crate::stats::{holm, paired_t_test};

/// Which way the table runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// Tasks as rows, models as columns (the study's Tables 1–2), plus an average row.
    ModelsAsColumns,
    /// Models as rows, (task, measure) columns (the study's Table 3).
    ModelsAsRows,
}

/// What to lay out.
#[derive(Debug, Clone, PartialEq)]
pub struct TableSpec {
    /// Layout.
    pub layout: Layout,
    /// Measures (ModelsAsColumns uses the first).
    pub measures: Vec<Measure>,
    /// Model every other model is tested against.
    pub baseline: Option<String>,
    /// Significance level of the two-sided paired t-test.
    pub alpha: f64,
    /// Holm-correct each model's p-values over the cells of the table.
    pub holm: bool,
    /// Model order (models not listed follow in first-seen order).
    pub models: Vec<String>,
    /// Task order (tasks not listed follow in first-seen order).
    pub tasks: Vec<String>,
}

impl Default for TableSpec {
    fn default() -> Self {
        TableSpec {
            layout: Layout::ModelsAsColumns,
            measures: vec![Measure::Ndcg(Some(10))],
            baseline: None,
            alpha: 0.05,
            holm: false,
            models: Vec::new(),
            tasks: Vec::new(),
        }
    }
}

/// A cell's significance against the baseline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    /// Not tested (baseline itself, no per-query values) or not significant.
    None,
    /// Significantly better than the baseline.
    Better,
    /// Significantly worse than the baseline.
    Worse,
}

/// One value of the table.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cell {
    /// The mean.
    pub value: f64,
    /// Best in its row (ModelsAsColumns) or column (ModelsAsRows).
    pub best: bool,
    /// Significance against the baseline.
    pub mark: Mark,
    /// The (possibly Holm-adjusted) p-value, when tested.
    pub p: Option<f64>,
}

/// A laid-out table.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// Layout it was built with.
    pub layout: Layout,
    /// Top-left header (`dataset` or `model`).
    pub corner: String,
    /// Row labels.
    pub rows: Vec<String>,
    /// Column labels.
    pub columns: Vec<String>,
    /// `cells[row][column]`.
    pub cells: Vec<Vec<Option<Cell>>>,
    /// Average over rows per column (ModelsAsColumns, where every row has a value), last row of the table.
    pub average: Option<Vec<Option<Cell>>>,
    /// A line explaining the marks and the test.
    pub legend: String,
}

fn ordered(given: &[String], seen: impl Iterator<Item = String>) -> Vec<String> {
    let mut out: Vec<String> = given.to_vec();
    for s in seen {
        if !out.contains(&s) {
            out.push(s);
        }
    }
    out
}

/// Lays `results` out as `spec` says. A (model, task) pair given twice keeps the first.
pub fn build_table(results: &[CellResult], spec: &TableSpec) -> Table {
    let models = ordered(&spec.models, results.iter().map(|r| r.model.clone()));
    let tasks = ordered(&spec.tasks, results.iter().map(|r| r.task.clone()));
    let mut by_key: BTreeMap<(&str, &str), &CellResult> = BTreeMap::new();
    for r in results {
        by_key.entry((r.model.as_str(), r.task.as_str())).or_insert(r);
    }
    // One entry per (model, task, measure): value and significance.
    let mut tested: BTreeMap<(String, String, Measure), Cell> = BTreeMap::new();
    let mut p_by_model: BTreeMap<String, Vec<(String, Measure, f64)>> = BTreeMap::new();
    for model in &models {
        for task in &tasks {
            let Some(r) = by_key.get(&(model.as_str(), task.as_str())) else { continue };
            for &m in &spec.measures {
                let Some(&value) = r.scores.get(&m) else { continue };
                let base = spec.baseline.as_deref().filter(|b| b != model).and_then(|b| by_key.get(&(b, task)));
                let p = base.and_then(|b| test(r, b, m));
                if let Some((p, _)) = p {
                    p_by_model.entry(model.clone()).or_default().push((task.clone(), m, p));
                }
                let mark = match p {
                    Some((p, diff)) if p < spec.alpha && diff > 0.0 => Mark::Better,
                    Some((p, diff)) if p < spec.alpha && diff < 0.0 => Mark::Worse,
                    _ => Mark::None,
                };
                tested
                    .insert((model.clone(), task.clone(), m), Cell { value, best: false, mark, p: p.map(|(p, _)| p) });
            }
        }
    }
    if spec.holm {
        for (model, family) in &p_by_model {
            let adjusted = holm(&family.iter().map(|f| f.2).collect::<Vec<_>>());
            for ((task, m, _), p) in family.iter().zip(adjusted) {
                let cell = tested.get_mut(&(model.clone(), task.clone(), *m)).expect("tested cell");
                cell.p = Some(p);
                if p >= spec.alpha {
                    cell.mark = Mark::None;
                }
            }
        }
    }
    let test_name =
        if spec.holm { "paired two-sided t-test, Holm-corrected per model" } else { "paired two-sided t-test" };
    let legend = match &spec.baseline {
        Some(b) => format!(
            "▲/▼: significantly better/worse than {b} ({test_name}, p < {}); bold: best{}.",
            spec.alpha,
            if spec.layout == Layout::ModelsAsColumns { " in the row" } else { " in the column" }
        ),
        None => "bold: best value.".into(),
    };
    match spec.layout {
        Layout::ModelsAsColumns => {
            let m = spec.measures[0];
            let mut cells: Vec<Vec<Option<Cell>>> = tasks
                .iter()
                .map(|t| models.iter().map(|mo| tested.get(&(mo.clone(), t.clone(), m)).copied()).collect())
                .collect();
            let average: Vec<Option<Cell>> = (0..models.len())
                .map(|c| {
                    let vals: Option<Vec<f64>> = cells.iter().map(|row| row[c].map(|x| x.value)).collect();
                    vals.filter(|v| !v.is_empty()).map(|v| Cell {
                        value: v.iter().sum::<f64>() / v.len() as f64,
                        best: false,
                        mark: Mark::None,
                        p: None,
                    })
                })
                .collect();
            let mut average = if tasks.len() > 1 && average.iter().any(Option::is_some) { Some(average) } else { None };
            for row in cells.iter_mut().chain(average.iter_mut()) {
                mark_best(row.iter_mut());
            }
            Table { layout: spec.layout, corner: format!("{m}"), rows: tasks, columns: models, cells, average, legend }
        }
        Layout::ModelsAsRows => {
            let columns: Vec<(String, Measure)> =
                tasks.iter().flat_map(|t| spec.measures.iter().map(move |m| (t.clone(), *m))).collect();
            let mut cells: Vec<Vec<Option<Cell>>> = models
                .iter()
                .map(|mo| columns.iter().map(|(t, m)| tested.get(&(mo.clone(), t.clone(), *m)).copied()).collect())
                .collect();
            for c in 0..columns.len() {
                mark_best(cells.iter_mut().map(|row| &mut row[c]));
            }
            let labels = columns
                .iter()
                .map(|(t, m)| if tasks.len() == 1 { m.to_string() } else { format!("{t} {m}") })
                .collect();
            Table {
                layout: spec.layout,
                corner: "model".into(),
                rows: models,
                columns: labels,
                cells,
                average: None,
                legend,
            }
        }
    }
}

/// Marks the largest value(s) among `cells` as best (ties: all of them, at 4 decimals as printed).
fn mark_best<'a>(cells: impl Iterator<Item = &'a mut Option<Cell>>) {
    let mut cells: Vec<&mut Cell> = cells.filter_map(Option::as_mut).collect();
    let Some(best) = cells.iter().map(|c| (c.value * 1e4).round()).reduce(f64::max) else { return };
    for c in &mut cells {
        c.best = (c.value * 1e4).round() == best;
    }
}

/// Paired t-test of `r` against `base` on measure `m` over the queries both have: (p, mean difference).
fn test(r: &CellResult, base: &CellResult, m: Measure) -> Option<(f64, f64)> {
    let (a, b) = (r.per_query.as_ref()?, base.per_query.as_ref()?);
    let mut xs = Vec::new();
    let mut ys = Vec::new();
    for (q, values) in a {
        if let (Some(x), Some(y)) = (values.get(&m), b.get(q).and_then(|v| v.get(&m))) {
            xs.push(*x);
            ys.push(*y);
        }
    }
    let t = paired_t_test(&xs, &ys).ok()?;
    Some((t.p, t.mean_diff))
}
