//! `bench`: every (model, task) cell of a preset into one results folder, cell by cell. [`BenchPlan::new`] works
//! out each cell's settings and checks the folder before anything runs: a finished cell (its results.json) is
//! kept when the settings it records equal the preset's, and refused — naming the settings that differ — when
//! they do not, so results of different settings are never mixed. [`BenchPlan::run`] computes the other cells;
//! a killed run resumes at the first unfinished cell, and inside it at the first uncached embedding shard. The
//! results folder is drbench's own ([`crate::out_dir`]): an existing folder of other files needs `force`.

use std::path::PathBuf;
use std::time::Instant;

use drbench_datasets::Registry;
use drbench_harness::encoder::Encoder;
use drbench_harness::report::{Table, TableSpec, build_table};
use drbench_native::encoders::build::build_encoder;
use drbench_native::encoders::device::DeviceKind;
use drbench_native::store::Store;

use crate::cell::{CacheSettings, CellOptions, Retriever, cell_record, run_cell, write_cell_folder};
use crate::error::{PipelineError, Result};
use crate::layout::cell_dir;
use crate::out_dir::{OutKind, check_out_dir, claim_out_dir};
use crate::preset::{ModelSpec, Preset};
use crate::progress::Progress;
use crate::record::{CellSettings, read_cell, read_results};
use crate::retriever::RetrieverSpec;
use crate::task::{TaskInfo, describe_task, load_task};

/// How to run a preset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BenchOptions {
    /// The results folder.
    pub out: PathBuf,
    /// Only these models (names from the preset).
    pub only: Option<Vec<String>>,
    /// Where dense models run.
    pub device: DeviceKind,
    /// The embedding cache root.
    pub cache: PathBuf,
    /// Write into `out` even when it is a folder drbench did not make ([`crate::out_dir`]).
    pub force: bool,
}

/// Whether a cell still has to run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum CellState {
    /// Finished earlier with these settings.
    Done,
    /// To compute.
    Pending,
}

/// One cell of the plan.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedCell {
    /// Index of its model in the preset.
    pub model: usize,
    /// The dataset reference as the preset gives it.
    pub dataset: String,
    /// What the dataset is.
    pub task: TaskInfo,
    /// Its folder.
    pub dir: PathBuf,
    /// The settings it is computed with (and recorded under).
    pub settings: CellSettings,
    /// Done or pending.
    pub state: CellState,
}

/// What happens while a plan runs, for the caller to report.
#[derive(Debug)]
pub enum BenchEvent<'a> {
    /// Cell `index` (0-based) of `of` was finished earlier and is kept.
    Kept {
        /// Which.
        index: usize,
        /// Cells in the plan.
        of: usize,
    },
    /// Cell `index` starts.
    Started {
        /// Which.
        index: usize,
        /// Cells in the plan.
        of: usize,
    },
    /// A dense model was loaded (once for all its cells).
    Loaded {
        /// Its name.
        model: &'a str,
        /// Seconds.
        seconds: f64,
    },
    /// Cell `index` finished.
    Finished {
        /// Which.
        index: usize,
        /// Cells in the plan.
        of: usize,
        /// Its main score.
        main: f64,
        /// Seconds it took.
        seconds: f64,
    },
    /// Cell `index` failed; the others go on.
    Failed {
        /// Which.
        index: usize,
        /// Cells in the plan.
        of: usize,
        /// Why (with the model's hint where it has one).
        error: String,
    },
}

/// What a run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BenchSummary {
    /// Cells computed now.
    pub ran: usize,
    /// Cells kept from earlier runs.
    pub kept: usize,
    /// Labels of the cells that failed.
    pub failed: Vec<String>,
}

/// A preset's cells, their settings and state.
#[derive(Debug, Clone, PartialEq)]
pub struct BenchPlan {
    /// The preset.
    pub preset: Preset,
    /// How it runs.
    pub options: BenchOptions,
    /// Its cells, models outer, in table order.
    pub cells: Vec<PlannedCell>,
}

impl BenchPlan {
    /// The plan of `preset` into `options.out`: every cell's settings, and whether it is done. Fails before any
    /// work when `--only` names no model of the preset or a finished cell has other settings.
    pub fn new(preset: Preset, options: BenchOptions, store: &Store) -> Result<BenchPlan> {
        if let Some(only) = &options.only
            && let Some(bad) = only.iter().find(|o| preset.model(o).is_none())
        {
            return Err(PipelineError::Invalid(format!("--only {bad:?}: not a model of preset {}", preset.name)));
        }
        check_out_dir(&options.out, OutKind::Bench, options.force)?;
        let mut cells = Vec::new();
        for (model, m) in preset.models.iter().enumerate() {
            if options.only.as_ref().is_some_and(|o| !o.contains(&m.name)) {
                continue;
            }
            let datasets =
                m.tasks.as_ref().unwrap_or(&preset.tasks).iter().flat_map(|d| store.registry.expand_subsets(d));
            for dataset in datasets {
                let dataset = &dataset;
                let task = describe_task(store, dataset, None)?;
                let settings = CellSettings {
                    retriever: match &m.retriever {
                        RetrieverSpec::Dense(d) => RetrieverSpec::Dense(d.resolved(options.device)),
                        bm25 => bm25.clone(),
                    },
                    task: dataset.clone(),
                    split: task.split.clone(),
                    subset: preset.subset,
                    measures: preset.measures.clone(),
                    k: preset.k,
                    remove_query_self: task.remove_query_self,
                };
                let dir = cell_dir(&options.out, &m.name, dataset);
                let refuse = |why: String| PipelineError::Settings {
                    dir: dir.clone(),
                    message: format!("{why}; delete the folder or choose another --out"),
                };
                let state = match read_cell(&dir).map_err(|e| refuse(e.to_string()))? {
                    None => CellState::Pending,
                    Some(record) if record.settings == settings => CellState::Done,
                    Some(record) => {
                        return Err(refuse(format!(
                            "this cell was computed with other settings than preset {} now gives ({} differ)",
                            preset.name,
                            record.settings.differences(&settings).join(", ")
                        )));
                    }
                };
                cells.push(PlannedCell { model, dataset: dataset.clone(), task, dir, settings, state });
            }
        }
        Ok(BenchPlan { preset, options, cells })
    }

    /// `[i/n] model × task`, how cells are named in messages.
    pub fn label(&self, index: usize) -> String {
        let c = &self.cells[index];
        format!("[{}/{}] {} × {}", index + 1, self.cells.len(), self.preset.models[c.model].name, c.dataset)
    }

    /// Cells still to compute.
    pub fn pending(&self) -> usize {
        self.cells.iter().filter(|c| c.state == CellState::Pending).count()
    }

    /// Computes every pending cell (a failed cell is reported and the others go on). A dense model is loaded
    /// once for its cells and freed after its last one. Fails only when the results folder cannot be made
    /// drbench's ([`claim_out_dir`]).
    pub fn run(
        &self,
        store: &Store,
        progress: &dyn Progress,
        on_event: &mut dyn FnMut(BenchEvent<'_>),
    ) -> Result<BenchSummary> {
        claim_out_dir(&self.options.out, OutKind::Bench, self.options.force)?;
        let mut summary = BenchSummary::default();
        let of = self.cells.len();
        let mut loaded: Option<(usize, Box<dyn Encoder>)> = None;
        for (index, cell) in self.cells.iter().enumerate() {
            if cell.state == CellState::Done {
                on_event(BenchEvent::Kept { index, of });
                summary.kept += 1;
                continue;
            }
            on_event(BenchEvent::Started { index, of });
            let t = Instant::now();
            let model = &self.preset.models[cell.model];
            match self.run_one(cell, model, store, progress, &mut loaded, on_event) {
                Ok(main) => {
                    on_event(BenchEvent::Finished { index, of, main, seconds: t.elapsed().as_secs_f64() });
                    summary.ran += 1;
                }
                Err(e) => {
                    let error = match &model.hint {
                        Some(h) => format!("{e}\n  hint: {h}"),
                        None => e.to_string(),
                    };
                    on_event(BenchEvent::Failed { index, of, error });
                    summary.failed.push(self.label(index));
                }
            }
            if self.cells.get(index + 1).is_none_or(|next| next.model != cell.model) {
                loaded = None;
            }
        }
        Ok(summary)
    }

    fn run_one(
        &self,
        cell: &PlannedCell,
        model: &ModelSpec,
        store: &Store,
        progress: &dyn Progress,
        loaded: &mut Option<(usize, Box<dyn Encoder>)>,
        on_event: &mut dyn FnMut(BenchEvent<'_>),
    ) -> Result<f64> {
        let task = load_task(store, &cell.dataset, Some(&cell.settings.split))?.maybe_subset(cell.settings.subset);
        let opts = CellOptions {
            k: cell.settings.k,
            measures: cell.settings.measures.clone(),
            remove_query_self: cell.settings.remove_query_self,
        };
        let cache = CacheSettings::new(&self.options.cache);
        let mut load_s = 0.0;
        let (out, device) = match &cell.settings.retriever {
            RetrieverSpec::Bm25(spec) => {
                let retriever = Retriever::Bm25 { spec: *spec, index_file: None, exact_scores: false };
                (run_cell(&task, retriever, &opts, progress)?, None)
            }
            RetrieverSpec::Dense(dense) => {
                if loaded.as_ref().is_none_or(|(m, _)| *m != cell.model) {
                    *loaded = None;
                    let t = Instant::now();
                    let encoder = build_encoder(&dense.encoder_spec(store, self.options.device)?)?;
                    load_s = t.elapsed().as_secs_f64();
                    on_event(BenchEvent::Loaded { model: &model.name, seconds: load_s });
                    *loaded = Some((cell.model, encoder));
                }
                let (_, encoder) = loaded.as_mut().expect("loaded above");
                let retriever = Retriever::Dense { encoder: encoder.as_mut(), cache: &cache };
                (run_cell(&task, retriever, &opts, progress)?, Some(self.options.device))
            }
        };
        let mut out = out;
        out.timings.load = load_s;
        let record = cell_record(&model.name, &cell.settings, &task, &out, device.map(DeviceKind::name));
        write_cell_folder(&cell.dir, &record, &task.info, &out)
    }

    /// The preset's main table from the results folder: its models and tasks in preset order, against its
    /// baseline.
    pub fn table(&self) -> Result<Table> {
        // The preset's model folders only: a folder adopted with `force` may hold other JSON files.
        let roots: Vec<PathBuf> =
            self.preset.models.iter().map(|m| self.options.out.join(&m.name)).filter(|d| d.is_dir()).collect();
        let results = read_results(&roots, &Registry::builtin())?;
        let spec = TableSpec {
            measures: vec![self.preset.measures[0]],
            baseline: self.preset.baseline.clone(),
            models: self.preset.models.iter().map(|m| m.name.clone()).collect(),
            tasks: self.preset.tasks.clone(),
            ..TableSpec::default()
        };
        Ok(build_table(&results, &spec))
    }
}
