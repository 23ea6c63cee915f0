//! `drbench train`: LoRA contrastive fine-tuning (RepLLaMA recipe) of a Qwen2 retriever on Tevatron JSONL
//! groups, with checkpoints that a re-run resumes from, a per-step log and a PEFT adapter at the end.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, bail};
use clap::Args;
use drbench_harness::io::atomic::write_atomic;
use drbench_harness::io::read_train_groups;
use drbench_native::encoders::device::{DeviceKind, Precision, device};
use drbench_native::encoders::lora::Target;
use drbench_native::encoders::source::{ModelFiles, resolve_model};
use drbench_native::encoders::tokenize::load_tokenizer;
use drbench_native::encoders::weights::{GgufWeights, load_gguf, load_hf};
use drbench_native::store::Store;
use drbench_native::train::batches::Sampler;
use drbench_native::train::checkpoint::{TrainerState, latest_checkpoint, read_state, restore, save_checkpoint};
use drbench_native::train::{Recipe, Trainer};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;

#[derive(Debug, Args)]
pub struct TrainArgs {
    /// Base model: a Hugging Face Qwen2 folder, a .gguf file (dequantized for training), `mirror:NAME` or
    /// `hf:ORG/NAME@REVISION`.
    #[arg(long, value_name = "SRC")]
    model: String,
    /// Folder with tokenizer.json when it is not beside the model.
    #[arg(long, value_name = "DIR")]
    tokenizer: Option<PathBuf>,
    /// Training groups (Tevatron JSONL, e.g. from `drbench mine`).
    #[arg(long, value_name = "FILE")]
    train: PathBuf,
    /// Output folder: adapter_model.safetensors + adapter_config.json (PEFT), train_log.jsonl, checkpoint-N/.
    /// A re-run with the same settings resumes from the newest checkpoint there.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Passages per query: 1 positive + N-1 sampled negatives.
    #[arg(long, default_value_t = 16)]
    train_group_size: usize,
    /// Queries per contrastive batch (in-batch negatives span every passage of the batch).
    #[arg(long, default_value_t = 32)]
    per_device_batch_size: usize,
    /// Contrastive batches per optimizer step.
    #[arg(long, default_value_t = 4)]
    gradient_accumulation_steps: usize,
    /// Peak learning rate (AdamW).
    #[arg(long, default_value_t = 1e-4)]
    learning_rate: f64,
    /// Linear warmup steps, then linear decay to 0.
    #[arg(long, default_value_t = 100)]
    warmup_steps: usize,
    /// InfoNCE temperature.
    #[arg(long, default_value_t = 0.01)]
    temperature: f64,
    /// LoRA rank.
    #[arg(long, default_value_t = 32)]
    lora_r: usize,
    /// LoRA alpha (scale alpha / r).
    #[arg(long, default_value_t = 64.0)]
    lora_alpha: f64,
    /// Dropout on the LoRA inputs.
    #[arg(long, default_value_t = 0.1)]
    lora_dropout: f32,
    /// Adapted projections.
    #[arg(long, value_enum, value_delimiter = ',', default_values_t = Target::ALL.to_vec())]
    lora_targets: Vec<Target>,
    /// Max query tokens, EOS included.
    #[arg(long, default_value_t = 32)]
    q_max_len: usize,
    /// Max passage tokens, EOS included.
    #[arg(long, default_value_t = 156)]
    p_max_len: usize,
    /// Optimizer steps (default: one epoch, incomplete last step dropped).
    #[arg(long)]
    max_steps: Option<usize>,
    /// Checkpoint every N steps (0: only at the end).
    #[arg(long, default_value_t = 500)]
    save_steps: usize,
    /// Seed of initialisation, data order, negative sampling and dropout.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// AdamW weight decay.
    #[arg(long, default_value_t = 0.0)]
    weight_decay: f64,
    /// Gradient clipping by global norm (0: off).
    #[arg(long, default_value_t = 1.0)]
    max_grad_norm: f64,
    /// Sequences per forward pass of the chunked backward: bounds memory, does not change the result.
    #[arg(long, default_value_t = 8)]
    chunk_size: usize,
    /// Device.
    #[arg(long, value_enum, default_value_t = DeviceKind::Cpu)]
    device: DeviceKind,
    /// Precision of the frozen weights and activations (adapters and optimizer stay f32); bf16 as the study on
    /// CUDA.
    #[arg(long, value_enum, default_value_t = Precision::F32)]
    dtype: Precision,
    /// Worker threads (0 = all cores).
    #[arg(long, default_value_t = 0)]
    threads: usize,
    /// Testing aid: abort the process (no clean-up) after this many steps, as a crash would.
    #[arg(long, hide = true)]
    abort_after_step: Option<usize>,
}

impl TrainArgs {
    fn recipe(&self) -> Recipe {
        Recipe {
            train_group_size: self.train_group_size,
            per_device_batch_size: self.per_device_batch_size,
            gradient_accumulation_steps: self.gradient_accumulation_steps,
            learning_rate: self.learning_rate,
            warmup_steps: self.warmup_steps,
            temperature: self.temperature,
            lora_r: self.lora_r,
            lora_alpha: self.lora_alpha,
            lora_dropout: self.lora_dropout,
            lora_targets: self.lora_targets.clone(),
            q_max_len: self.q_max_len,
            p_max_len: self.p_max_len,
            max_steps: self.max_steps,
            save_steps: self.save_steps,
            seed: self.seed,
            weight_decay: self.weight_decay,
            max_grad_norm: self.max_grad_norm,
            chunk_size: self.chunk_size,
        }
    }
}

/// Keeps the first `steps` lines of the log (a resumed run rewrites what came after its checkpoint).
fn truncate_log(path: &Path, steps: usize) -> anyhow::Result<()> {
    let Ok(text) = std::fs::read_to_string(path) else { return Ok(()) };
    let kept: String = text.lines().take(steps).map(|l| format!("{l}\n")).collect();
    Ok(write_atomic(path, |w| w.write_all(kept.as_bytes()))?)
}

pub fn run(a: TrainArgs) -> anyhow::Result<std::process::ExitCode> {
    super::threads::init(a.threads)?;
    let recipe = a.recipe();
    recipe.check().map_err(anyhow::Error::msg)?;
    let groups = read_train_groups(&a.train)?;
    let train_sha256 = drbench_native::store::verify::sha256_file(&a.train)?;
    let mut sampler = Sampler::new(
        &groups,
        recipe.train_group_size,
        recipe.per_device_batch_size,
        recipe.gradient_accumulation_steps,
        recipe.seed,
    )
    .map_err(|e| anyhow::anyhow!("{}: {e}", a.train.display()))?;
    let per_epoch = sampler.steps_per_epoch();
    if per_epoch == 0 {
        bail!(
            "{}: {} groups, fewer than one step needs ({} queries × {} accumulation steps)",
            a.train.display(),
            groups.len(),
            recipe.per_device_batch_size,
            recipe.gradient_accumulation_steps
        );
    }
    let total = recipe.max_steps.unwrap_or(per_epoch);

    let files = resolve_model(&a.model, &Store::from_env())?;
    let dev = device(a.device)?;
    let t_load = Instant::now();
    let model = match &files {
        ModelFiles::Folder(d) => load_hf(d, a.dtype.dtype(), &dev)?,
        ModelFiles::Gguf(f) => load_gguf(f, GgufWeights::Dequantized, a.dtype.dtype(), &dev)?,
    };
    let tok_dir = a.tokenizer.clone().unwrap_or_else(|| files.default_tokenizer_dir());
    let tokenizer = load_tokenizer(&tok_dir.join("tokenizer.json"))?;
    let mut trainer = Trainer::new(model, tokenizer, recipe.clone())?;
    let load_s = t_load.elapsed().as_secs_f64();

    let state = TrainerState { step: 0, total_steps: total, recipe, model: a.model.clone(), train_sha256 };
    std::fs::create_dir_all(&a.out).with_context(|| format!("creating {}", a.out.display()))?;
    let log_path = a.out.join("train_log.jsonl");
    if let Some((step, dir)) = latest_checkpoint(&a.out) {
        let saved = read_state(&dir)?;
        let same = TrainerState { step: saved.step, ..state.clone() };
        if saved != same {
            bail!(
                "{}: a checkpoint of another run is here (different model, training file, recipe or step count); \
                 choose another --out or delete it",
                dir.display()
            );
        }
        restore(&dir, &mut trainer)?;
        truncate_log(&log_path, step)?;
        eprintln!("resuming from {} (step {step} of {total})", dir.display());
    } else {
        truncate_log(&log_path, 0)?;
    }
    eprintln!(
        "training {} on {} groups: {} steps × {} queries × {} passages (LoRA r {} on {} projections, {} adapter \
         parameters); model loaded in {load_s:.1}s",
        a.model,
        groups.len(),
        total,
        state.recipe.queries_per_step(),
        state.recipe.train_group_size,
        state.recipe.lora_r,
        state.recipe.lora_targets.len(),
        trainer.vars().iter().map(|v| v.elem_count()).sum::<usize>()
    );

    let bar = ProgressBar::new(total as u64);
    bar.set_style(ProgressStyle::with_template("{msg} {bar:30} {pos}/{len} steps, eta {eta}").expect("valid template"));
    bar.set_position(trainer.step as u64);
    let mut log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log_path)
        .with_context(|| format!("{}", log_path.display()))?;
    let t0 = Instant::now();
    let (mut tokens, start_step) = (0usize, trainer.step);
    while trainer.step < total {
        let r = trainer.train_step(&mut sampler, total)?;
        tokens += r.tokens;
        let elapsed = t0.elapsed().as_secs_f64();
        writeln!(
            log,
            "{}",
            json!({ "step": r.step, "loss": r.loss, "learning_rate": r.lr, "grad_norm": r.grad_norm,
                    "tokens": r.tokens, "elapsed_s": elapsed })
        )
        .with_context(|| format!("{}", log_path.display()))?;
        log.flush()?;
        bar.set_message(format!("loss {:.4} | {:.0} tok/s", r.loss, tokens as f64 / elapsed));
        bar.set_position(r.step as u64);
        if recipe_saves(&state.recipe, r.step, total) {
            save_checkpoint(&a.out, &trainer, &TrainerState { step: r.step, ..state.clone() })?;
        }
        if a.abort_after_step == Some(r.step) {
            std::process::abort();
        }
    }
    bar.finish_and_clear();
    if latest_checkpoint(&a.out).map(|(s, _)| s) != Some(total) {
        save_checkpoint(&a.out, &trainer, &TrainerState { step: total, ..state.clone() })?;
    }
    trainer.adapter(true).save(&a.out, &a.model)?;
    let secs = t0.elapsed().as_secs_f64();
    println!(
        "trained {} steps ({} this run) in {secs:.1}s ({:.0} tokens/s); adapter: {} (use with `drbench run --adapter`)",
        total,
        total - start_step,
        tokens as f64 / secs.max(1e-9),
        a.out.display()
    );
    Ok(std::process::ExitCode::SUCCESS)
}

/// Whether step `step` ends with a checkpoint (every `save_steps`, and always the last).
fn recipe_saves(recipe: &drbench_native::train::Recipe, step: usize, total: usize) -> bool {
    step == total || (recipe.save_steps > 0 && step.is_multiple_of(recipe.save_steps))
}
