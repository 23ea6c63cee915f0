//! `drbench train`: LoRA contrastive fine-tuning (RepLLaMA recipe) of a Qwen2 retriever on Tevatron JSONL
//! groups, with checkpoints that a re-run resumes from, a per-step log and a PEFT adapter at the end.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::bail;
use clap::Args;
use drbench_harness::io::{TrainGroupFile, TrainGroupSource};
use drbench_native::encoders::device::{DeviceKind, Precision, device};
use drbench_native::encoders::lora::Target;
use drbench_native::encoders::source::{ModelFiles, resolve_model};
use drbench_native::encoders::tokenize::load_tokenizer;
use drbench_native::encoders::weights::{GgufWeights, load_gguf, load_hf};
use drbench_native::store::Store;
use drbench_native::store::hub::HubRef;
use drbench_native::train::batches::Sampler;
use drbench_native::train::checkpoint::TrainerState;
use drbench_native::train::run::{Start, fit, resume};
use drbench_native::train::{Recipe, Trainer};
use drbench_pipeline::out_dir::{OutKind, claim_out_dir};
use indicatif::{ProgressBar, ProgressStyle};

use super::outputs::ForceArg;

#[derive(Debug, Args)]
pub struct TrainArgs {
    /// Base model: a Hugging Face Qwen2 folder, a .gguf file (dequantized for training), `mirror:NAME` or
    /// `hf:ORG/NAME@REVISION`.
    #[arg(long, value_name = "SRC")]
    model: String,
    /// Folder with tokenizer.json when it is not beside the model.
    #[arg(long, value_name = "DIR")]
    tokenizer: Option<PathBuf>,
    /// Training groups: Tevatron JSONL (`.gz` too; e.g. from `drbench mine`), or a file of a hub dataset,
    /// `hf://datasets/ORG/NAME@REVISION[/PATH]` (PATH defaults to train.jsonl.gz: Tevatron's
    /// msmarco-passage-aug), fetched through the Hugging Face cache. Read as a stream, whatever its size.
    #[arg(long, value_name = "FILE|HF_REF")]
    train: String,
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
    #[command(flatten)]
    force: ForceArg,
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

pub fn run(a: TrainArgs) -> anyhow::Result<std::process::ExitCode> {
    super::threads::init(a.threads)?;
    let recipe = a.recipe();
    recipe.check().map_err(anyhow::Error::msg)?;
    // Read once as a stream and served from disk by index; a .gz is decompressed into the output folder.
    claim_out_dir(&a.out, OutKind::Train, a.force.force)?;
    let spool = a.out.join(".train-groups.jsonl");
    let train = if HubRef::looks_like(&a.train) {
        Store::from_env().hub_file(&a.train, "train.jsonl.gz")?
    } else {
        PathBuf::from(&a.train)
    };
    eprintln!("reading {} ...", train.display());
    let groups = TrainGroupFile::open(&train, &spool)?;
    let train_sha256 = drbench_native::store::verify::sha256_file(&train)?;
    let mut sampler = Sampler::new(
        &groups,
        recipe.train_group_size,
        recipe.per_device_batch_size,
        recipe.gradient_accumulation_steps,
        recipe.seed,
    )
    .map_err(|e| anyhow::anyhow!("{}: {e}", train.display()))?;
    let per_epoch = sampler.steps_per_epoch();
    if per_epoch == 0 {
        bail!(
            "{}: {} groups, fewer than one step needs ({} queries × {} accumulation steps)",
            train.display(),
            groups.count(),
            recipe.per_device_batch_size,
            recipe.gradient_accumulation_steps
        );
    }
    let total = recipe.max_steps.unwrap_or(per_epoch);

    let files = resolve_model(&a.model, &Store::from_env())?;
    let dev = device(a.device)?;
    let dtype = a.dtype.resolve(a.device).dtype();
    let t_load = Instant::now();
    let model = match &files {
        ModelFiles::Folder(d) => load_hf(d, dtype, &dev)?,
        ModelFiles::Gguf(f) => load_gguf(f, GgufWeights::Dequantized, dtype, &dev)?,
    };
    let tok_dir = a.tokenizer.clone().unwrap_or_else(|| files.default_tokenizer_dir());
    let tokenizer = load_tokenizer(&tok_dir.join("tokenizer.json"))?;
    let mut trainer = Trainer::new(model, tokenizer, recipe.clone())?;
    let load_s = t_load.elapsed().as_secs_f64();

    let state = TrainerState { step: 0, total_steps: total, recipe, model: a.model.clone(), train_sha256 };
    if let Start::Resumed { step, from } = resume(&a.out, &state, &mut trainer)? {
        eprintln!("resuming from {} (step {step} of {total})", from.display());
    }
    eprintln!(
        "training {} on {} groups: {} steps × {} queries × {} passages (LoRA r {} on {} projections, {} adapter \
         parameters); model loaded in {load_s:.1}s",
        a.model,
        groups.count(),
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
    let mut tokens = 0usize;
    let summary = fit(&mut trainer, &mut sampler, &state, &a.out, &mut |r, elapsed| {
        tokens += r.tokens;
        bar.set_message(format!("loss {:.4} | {:.0} tok/s", r.loss, tokens as f64 / elapsed.max(1e-9)));
        bar.set_position(r.step as u64);
        if a.abort_after_step == Some(r.step) {
            std::process::abort();
        }
    })?;
    bar.finish_and_clear();
    let _ = std::fs::remove_file(&spool);
    println!(
        "trained {} steps ({} this run) in {:.1}s ({:.0} tokens/s); adapter: {} (use with `drbench run --adapter`)",
        summary.total_steps,
        summary.steps_now,
        summary.seconds,
        summary.tokens as f64 / summary.seconds.max(1e-9),
        a.out.display()
    );
    Ok(std::process::ExitCode::SUCCESS)
}
