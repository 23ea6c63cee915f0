//! Checkpoints: `OUT/checkpoint-{step}/` holds the adapter (PEFT files), the optimizer moments and
//! `trainer_state.json` (step, recipe, model, training file hash), written to a temporary folder and renamed, so
//! a folder with that name is always complete. Batches, negatives and dropout are functions of (seed, step), so
//! this is all a resumed run needs to continue exactly as an uninterrupted one.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use candle_core::{DType, Tensor};
use drbench_harness::io::atomic::write_atomic;
use serde::{Deserialize, Serialize};

use super::recipe::Recipe;
use super::trainer::Trainer;
use crate::encoders::lora::{Adapter, save_safetensors_atomic};
use crate::encoders::{ModelError, Result};

/// What a checkpoint records besides tensors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainerState {
    /// Optimizer steps done.
    pub step: usize,
    /// Steps the run will take.
    pub total_steps: usize,
    /// The recipe (a resume must use the same).
    pub recipe: Recipe,
    /// Model identity (path or hub id + revision).
    pub model: String,
    /// sha256 of the training file.
    pub train_sha256: String,
}

const STATE_FILE: &str = "trainer_state.json";

/// The newest complete checkpoint under `out`: (step, folder).
pub fn latest_checkpoint(out: &Path) -> Option<(usize, PathBuf)> {
    let entries = std::fs::read_dir(out).ok()?;
    entries
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let step: usize = name.strip_prefix("checkpoint-")?.parse().ok()?;
            e.path().join(STATE_FILE).is_file().then(|| (step, e.path()))
        })
        .max_by_key(|(s, _)| *s)
}

/// Writes `checkpoint-{step}` under `out` and removes older checkpoints.
pub fn save_checkpoint(out: &Path, trainer: &Trainer, state: &TrainerState) -> Result<PathBuf> {
    let final_dir = out.join(format!("checkpoint-{}", state.step));
    let tmp = out.join(format!(".checkpoint-{}.partial", state.step));
    let io = |p: &Path, e: std::io::Error| ModelError::file(p, e.to_string());
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp).map_err(|e| io(&tmp, e))?;
    }
    std::fs::create_dir_all(&tmp).map_err(|e| io(&tmp, e))?;
    trainer.adapter(true).save(&tmp, &state.model)?;
    let mut moments: Vec<(String, Tensor)> = Vec::new();
    for (i, (m, v)) in trainer.optim.m.iter().zip(&trainer.optim.v).enumerate() {
        moments.push((format!("m.{i}"), m.clone()));
        moments.push((format!("v.{i}"), v.clone()));
    }
    save_safetensors_atomic(&moments, &tmp.join("optimizer.safetensors"))?;
    let text = serde_json::to_string_pretty(state).map_err(|e| ModelError::Unsupported(e.to_string()))?;
    let state_file = tmp.join(STATE_FILE);
    write_atomic(&state_file, |w| w.write_all(text.as_bytes()))
        .map_err(|e| ModelError::file(&state_file, e.to_string()))?;
    if final_dir.exists() {
        std::fs::remove_dir_all(&final_dir).map_err(|e| io(&final_dir, e))?;
    }
    std::fs::rename(&tmp, &final_dir).map_err(|e| io(&final_dir, e))?;
    for entry in std::fs::read_dir(out).map_err(|e| io(out, e))?.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let step = name.strip_prefix("checkpoint-").and_then(|s| s.parse::<usize>().ok());
        if step.is_some_and(|s| s < state.step) {
            std::fs::remove_dir_all(entry.path()).map_err(|e| io(&entry.path(), e))?;
        }
    }
    Ok(final_dir)
}

/// Reads a checkpoint's state file.
pub fn read_state(dir: &Path) -> Result<TrainerState> {
    let path = dir.join(STATE_FILE);
    let text = std::fs::read_to_string(&path).map_err(|e| ModelError::file(&path, e.to_string()))?;
    serde_json::from_str(&text).map_err(|e| ModelError::file(&path, format!("bad trainer state: {e}")))
}

/// Restores adapter weights, optimizer moments and the step count of `trainer` from `dir`.
pub fn restore(dir: &Path, trainer: &mut Trainer) -> Result<TrainerState> {
    let state = read_state(dir)?;
    let n_layers = trainer.model().layers.len();
    let dtype = trainer.params.first().map(|p| p.a.dtype()).unwrap_or(DType::F32);
    let device = trainer.model().device.clone();
    let adapter = Adapter::load(dir, n_layers, dtype, &device)?;
    for p in &trainer.params {
        let pair = adapter.layers[p.layer][p.target.index()]
            .as_ref()
            .ok_or_else(|| ModelError::file(dir, format!("checkpoint lacks layer {} {:?}", p.layer, p.target)))?;
        p.a.set(&pair.a)?;
        p.b.set(&pair.b)?;
    }
    let opt = dir.join("optimizer.safetensors");
    let mut moments =
        candle_core::safetensors::load(&opt, &device).map_err(|e| ModelError::file(&opt, e.to_string()))?;
    for i in 0..trainer.optim.m.len() {
        let mut take = |k: String| moments.remove(&k).ok_or_else(|| ModelError::file(&opt, format!("missing {k}")));
        trainer.optim.m[i] = take(format!("m.{i}"))?;
        trainer.optim.v[i] = take(format!("v.{i}"))?;
    }
    trainer.optim.t = state.step;
    trainer.step = state.step;
    Ok(state)
}
