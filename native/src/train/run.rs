//! A training run in its output folder: resumed from the newest checkpoint when that records the same run
//! (model, training file, recipe, step count) and refused when it records another, the step loop with its
//! per-step log (`train_log.jsonl`, one flushed JSON line per step, cut back to the checkpoint on resume) and
//! checkpoints, then the final PEFT adapter.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use drbench_harness::io::atomic::write_atomic;
use serde::{Deserialize, Serialize};

use super::batches::Sampler;
use super::checkpoint::{TrainerState, latest_checkpoint, read_state, restore, save_checkpoint};
use super::trainer::{StepReport, Trainer};
use crate::encoders::{ModelError, Result};

/// The log's file name in the output folder.
pub const LOG_FILE: &str = "train_log.jsonl";

/// One line of `train_log.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogLine {
    /// Steps done.
    pub step: usize,
    /// Mean loss of the step.
    pub loss: f64,
    /// Learning rate used.
    pub learning_rate: f64,
    /// Gradient norm before clipping.
    pub grad_norm: f64,
    /// Tokens processed in the step.
    pub tokens: usize,
    /// Seconds since this run (process) started training.
    pub elapsed_s: f64,
}

/// How a run started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Start {
    /// From step 0.
    Fresh,
    /// From a checkpoint.
    Resumed {
        /// Steps already done.
        step: usize,
        /// The checkpoint folder.
        from: PathBuf,
    },
}

/// What [`fit`] did.
#[derive(Debug, Clone, PartialEq)]
pub struct FitSummary {
    /// Steps of the whole run.
    pub total_steps: usize,
    /// Steps done by this call.
    pub steps_now: usize,
    /// Tokens processed by this call.
    pub tokens: usize,
    /// Seconds of this call's steps.
    pub seconds: f64,
}

fn io(path: &Path, e: impl std::fmt::Display) -> ModelError {
    ModelError::file(path, e.to_string())
}

/// Restores `trainer` from the newest checkpoint under `out` when it records `state` (at any step); a
/// checkpoint of another run is refused. The log is cut back to the checkpoint's step (to nothing when fresh).
pub fn resume(out: &Path, state: &TrainerState, trainer: &mut Trainer) -> Result<Start> {
    std::fs::create_dir_all(out).map_err(|e| io(out, e))?;
    let start = match latest_checkpoint(out) {
        None => Start::Fresh,
        Some((step, dir)) => {
            let saved = read_state(&dir)?;
            if saved != (TrainerState { step: saved.step, ..state.clone() }) {
                return Err(ModelError::file(
                    &dir,
                    "a checkpoint of another run is here (different model, training file, recipe or step count); \
                     choose another --out or delete it",
                ));
            }
            restore(&dir, trainer)?;
            Start::Resumed { step, from: dir }
        }
    };
    let keep = match &start {
        Start::Fresh => 0,
        Start::Resumed { step, .. } => *step,
    };
    let log = out.join(LOG_FILE);
    if let Ok(text) = std::fs::read_to_string(&log) {
        let kept: String = text.lines().take(keep).map(|l| format!("{l}\n")).collect();
        write_atomic(&log, |w| w.write_all(kept.as_bytes())).map_err(|e| io(&log, e))?;
    }
    Ok(start)
}

/// Trains from `trainer.step` to `state.total_steps`: each step is logged, checkpointed when the recipe says
/// (and at the end), and reported to `on_step` (after its checkpoint); then the adapter is written to `out`.
pub fn fit(
    trainer: &mut Trainer,
    sampler: &mut Sampler<'_>,
    state: &TrainerState,
    out: &Path,
    on_step: &mut dyn FnMut(&StepReport, f64),
) -> Result<FitSummary> {
    let total = state.total_steps;
    let log_path = out.join(LOG_FILE);
    let mut log =
        std::fs::OpenOptions::new().create(true).append(true).open(&log_path).map_err(|e| io(&log_path, e))?;
    let t0 = Instant::now();
    let (mut tokens, start_step) = (0usize, trainer.step);
    while trainer.step < total {
        let r = trainer.train_step(sampler, total)?;
        tokens += r.tokens;
        let elapsed = t0.elapsed().as_secs_f64();
        let line = LogLine {
            step: r.step,
            loss: r.loss,
            learning_rate: r.lr,
            grad_norm: r.grad_norm,
            tokens: r.tokens,
            elapsed_s: elapsed,
        };
        let text = serde_json::to_string(&line).expect("plain data serialises");
        writeln!(log, "{text}").and_then(|_| log.flush()).map_err(|e| io(&log_path, e))?;
        if state.recipe.saves_at(r.step, total) {
            save_checkpoint(out, trainer, &TrainerState { step: r.step, ..state.clone() })?;
        }
        on_step(&r, elapsed);
    }
    if latest_checkpoint(out).map(|(s, _)| s) != Some(total) {
        save_checkpoint(out, trainer, &TrainerState { step: total, ..state.clone() })?;
    }
    trainer.adapter(true).save(out, &state.model)?;
    Ok(FitSummary { total_steps: total, steps_now: total - start_step, tokens, seconds: t0.elapsed().as_secs_f64() })
}
