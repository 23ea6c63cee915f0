//! The training recipe: every hyper-parameter of a run, with the study's values as defaults (Tevatron's names).

use serde::{Deserialize, Serialize};

use crate::encoders::lora::Target;

/// Hyper-parameters of a LoRA contrastive run. Stored in every checkpoint; a resume must use the same recipe.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recipe {
    /// Passages per query: 1 positive + (n - 1) sampled negatives.
    pub train_group_size: usize,
    /// Queries per contrastive batch (in-batch negatives span all its passages).
    pub per_device_batch_size: usize,
    /// Contrastive batches whose gradients are summed (averaged) into one optimizer step.
    pub gradient_accumulation_steps: usize,
    /// Peak learning rate.
    pub learning_rate: f64,
    /// Linear warmup steps (from 0), then linear decay to 0 at the last step.
    pub warmup_steps: usize,
    /// Softmax temperature of InfoNCE.
    pub temperature: f64,
    /// LoRA rank.
    pub lora_r: usize,
    /// LoRA alpha (scale = alpha / r).
    pub lora_alpha: f64,
    /// Dropout on LoRA inputs.
    pub lora_dropout: f32,
    /// Adapted projections.
    pub lora_targets: Vec<Target>,
    /// Query tokens, EOS included.
    pub q_max_len: usize,
    /// Passage tokens, EOS included.
    pub p_max_len: usize,
    /// Optimizer steps; None = one epoch.
    pub max_steps: Option<usize>,
    /// Checkpoint every this many steps (0 = only at the end).
    pub save_steps: usize,
    /// Seed of the adapter initialisation, data order, negative sampling and dropout.
    pub seed: u64,
    /// AdamW decoupled weight decay.
    pub weight_decay: f64,
    /// Gradient clipping by global norm (0 = off).
    pub max_grad_norm: f64,
    /// Sequences per forward pass in the chunked backward (memory bound; does not change the result).
    pub chunk_size: usize,
}

impl Default for Recipe {
    /// The study's recipe: LoRA r 32 / alpha 64 / dropout 0.1 on all seven projections, group 16, 32 queries ×
    /// 4 accumulation steps, lr 1e-4 with 100 warmup steps, temperature 0.01, q/p max length 32/156, one epoch;
    /// AdamW with HF Trainer's defaults (no weight decay, clip at 1.0).
    fn default() -> Self {
        Recipe {
            train_group_size: 16,
            per_device_batch_size: 32,
            gradient_accumulation_steps: 4,
            learning_rate: 1e-4,
            warmup_steps: 100,
            temperature: 0.01,
            lora_r: 32,
            lora_alpha: 64.0,
            lora_dropout: 0.1,
            lora_targets: Target::ALL.to_vec(),
            q_max_len: 32,
            p_max_len: 156,
            max_steps: None,
            save_steps: 500,
            seed: 42,
            weight_decay: 0.0,
            max_grad_norm: 1.0,
            chunk_size: 8,
        }
    }
}

impl Recipe {
    /// Queries per optimizer step.
    pub fn queries_per_step(&self) -> usize {
        self.per_device_batch_size * self.gradient_accumulation_steps
    }

    /// Checks the values that would make training meaningless, naming the flag.
    pub fn check(&self) -> Result<(), String> {
        let positive = [
            ("--train-group-size", self.train_group_size),
            ("--per-device-batch-size", self.per_device_batch_size),
            ("--gradient-accumulation-steps", self.gradient_accumulation_steps),
            ("--lora-r", self.lora_r),
            ("--q-max-len", self.q_max_len),
            ("--p-max-len", self.p_max_len),
            ("--chunk-size", self.chunk_size),
        ];
        for (flag, v) in positive {
            if v == 0 {
                return Err(format!("{flag} must be at least 1"));
            }
        }
        if self.q_max_len < 2 || self.p_max_len < 2 {
            return Err("--q-max-len and --p-max-len must leave room for a text token and EOS".into());
        }
        if self.temperature.is_nan() || self.temperature <= 0.0 {
            return Err("--temperature must be positive".into());
        }
        if !(0.0..1.0).contains(&self.lora_dropout) {
            return Err("--lora-dropout must be in [0, 1)".into());
        }
        if self.lora_targets.is_empty() {
            return Err("--lora-targets must name at least one projection".into());
        }
        if self.max_steps == Some(0) {
            return Err("--max-steps must be at least 1".into());
        }
        Ok(())
    }

    /// Learning rate of optimizer step `step` (0-based) of `total`, as transformers' linear schedule with
    /// Whether step `step` (1-based) of `total` ends with a checkpoint: every `save_steps`, and always the last.
    pub fn saves_at(&self, step: usize, total: usize) -> bool {
        step == total || (self.save_steps > 0 && step.is_multiple_of(self.save_steps))
    }

    /// warmup (the first step of a warmup runs at lr 0, as there).
    pub fn lr_at(&self, step: usize, total: usize) -> f64 {
        let factor = if step < self.warmup_steps {
            step as f64 / self.warmup_steps.max(1) as f64
        } else {
            ((total.saturating_sub(step)) as f64 / (total.saturating_sub(self.warmup_steps)).max(1) as f64).max(0.0)
        };
        self.learning_rate * factor
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule_warms_up_then_decays_to_zero() {
        let r = Recipe { learning_rate: 1.0, warmup_steps: 4, ..Recipe::default() };
        let lrs: Vec<f64> = (0..10).map(|s| r.lr_at(s, 10)).collect();
        assert_eq!(lrs, [0.0, 0.25, 0.5, 0.75, 1.0, 5.0 / 6.0, 4.0 / 6.0, 3.0 / 6.0, 2.0 / 6.0, 1.0 / 6.0]);
        let none = Recipe { learning_rate: 2.0, warmup_steps: 0, ..Recipe::default() };
        assert_eq!(none.lr_at(0, 4), 2.0);
        assert!(Recipe { lora_dropout: 1.0, ..Recipe::default() }.check().unwrap_err().contains("--lora-dropout"));
        assert!(Recipe::default().check().is_ok());
    }
}
