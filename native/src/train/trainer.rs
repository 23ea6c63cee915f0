//! The training loop: LoRA parameters on a frozen Qwen2, EOS-pooled embeddings of `Query: `/`Passage: ` inputs,
//! InfoNCE per contrastive batch, gradients by a chunked backward (GradCache: embed the whole batch without a
//! graph, take the loss gradient with respect to the embeddings, then re-run each chunk with a graph and
//! backpropagate that gradient), accumulation, clipping and AdamW.

use candle_core::{DType, Tensor, Var};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tokenizers::Tokenizer;

use super::batches::{Example, Sampler, SeedUse, derive_seed};
use super::loss::info_nce;
use super::optim::{AdamW, clip_global_norm};
use super::recipe::Recipe;
use crate::encoders::lora::{Adapter, LoraConfig, LoraPair, Target};
use crate::encoders::qwen2::{Pass, Qwen2};
use crate::encoders::tokenize::encode_enough;
use crate::encoders::{ModelError, Result};

/// The LoRA matrices of one adapted projection.
#[derive(Debug)]
pub struct Param {
    /// Layer index.
    pub layer: usize,
    /// Projection.
    pub target: Target,
    /// `r × in`.
    pub a: Var,
    /// `out × r`.
    pub b: Var,
}

/// Token ids of one contrastive batch: queries, and `group` passages per query (positive first).
#[derive(Debug, Clone)]
pub struct TokenBatch {
    /// One sequence per query (EOS last).
    pub queries: Vec<Vec<u32>>,
    /// `group` sequences per query, in query order.
    pub passages: Vec<Vec<u32>>,
}

impl TokenBatch {
    /// Tokens in the batch (no padding).
    pub fn tokens(&self) -> usize {
        self.queries.iter().chain(&self.passages).map(Vec::len).sum()
    }
}

/// What one optimizer step did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepReport {
    /// Steps done after this one.
    pub step: usize,
    /// Mean loss over the step's contrastive batches.
    pub loss: f64,
    /// Learning rate used.
    pub lr: f64,
    /// Gradient norm before clipping.
    pub grad_norm: f64,
    /// Tokens processed (queries + passages, no padding).
    pub tokens: usize,
}

/// A model under LoRA training.
#[derive(Debug)]
pub struct Trainer {
    model: Qwen2,
    tokenizer: Tokenizer,
    eos_id: u32,
    /// The recipe.
    pub recipe: Recipe,
    /// Trainable matrices, per (layer, target) in layer then [`Target::ALL`] order.
    pub params: Vec<Param>,
    /// Optimizer state.
    pub optim: AdamW,
    /// Optimizer steps done.
    pub step: usize,
}

impl Trainer {
    /// Fresh adapters (PEFT's initialisation: `A` uniform in ±1/√in — Kaiming-uniform with a = √5 —, `B` zero),
    /// in f64 for an f64 model (gradient checks), else f32.
    pub fn new(model: Qwen2, tokenizer: Tokenizer, recipe: Recipe) -> Result<Self> {
        recipe.check().map_err(ModelError::Unsupported)?;
        if !model.is_dense() {
            return Err(ModelError::Unsupported(
                "training needs dense weights (quantized matmuls have no backward); load GGUF files dequantized".into(),
            ));
        }
        let eos_id = tokenizer
            .token_to_id("<|endoftext|>")
            .ok_or_else(|| ModelError::Unsupported("the tokenizer has no <|endoftext|> token".into()))?;
        let dtype = if model.dtype == DType::F64 { DType::F64 } else { DType::F32 };
        let mut targets = recipe.lora_targets.clone();
        targets.sort_by_key(|t| t.index());
        targets.dedup();
        let mut params = Vec::new();
        for layer in 0..model.layers.len() {
            for &target in &targets {
                let (out, inp) = model.projection_shape(target);
                let bound = 1.0 / (inp as f64).sqrt();
                let mut rng = ChaCha8Rng::seed_from_u64(derive_seed(
                    recipe.seed,
                    SeedUse::Init,
                    layer as u64,
                    target.index() as u64,
                ));
                let init: Vec<f64> = (0..recipe.lora_r * inp).map(|_| rng.random_range(-bound..bound)).collect();
                let a = Tensor::from_vec(init, (recipe.lora_r, inp), &model.device)?.to_dtype(dtype)?;
                let b = Tensor::zeros((out, recipe.lora_r), dtype, &model.device)?;
                params.push(Param { layer, target, a: Var::from_tensor(&a)?, b: Var::from_tensor(&b)? });
            }
        }
        let vars: Vec<Var> = params.iter().flat_map(|p| [p.a.clone(), p.b.clone()]).collect();
        let optim = AdamW::new(&vars, recipe.weight_decay)?;
        Ok(Trainer { model, tokenizer, eos_id, recipe, params, optim, step: 0 })
    }

    /// The model.
    pub fn model(&self) -> &Qwen2 {
        &self.model
    }

    /// Every trainable tensor: `a`, `b` of each [`Param`] in order.
    pub fn vars(&self) -> Vec<Var> {
        self.params.iter().flat_map(|p| [p.a.clone(), p.b.clone()]).collect()
    }

    /// The current adapter; `detach` cuts it from the graph (no gradients).
    pub fn adapter(&self, detach: bool) -> Adapter {
        let mut layers: Vec<[Option<LoraPair>; 7]> = (0..self.model.layers.len()).map(|_| Default::default()).collect();
        let mut targets = Vec::new();
        for p in &self.params {
            let (a, b) = if detach {
                (p.a.as_detached_tensor(), p.b.as_detached_tensor())
            } else {
                (p.a.as_tensor().clone(), p.b.as_tensor().clone())
            };
            layers[p.layer][p.target.index()] = Some(LoraPair { a, b });
            if !targets.contains(&p.target) {
                targets.push(p.target);
            }
        }
        let r = &self.recipe;
        Adapter { cfg: LoraConfig { r: r.lora_r, alpha: r.lora_alpha, dropout: r.lora_dropout, targets }, layers }
    }

    /// `{label}: {text}` tokenized, cut to `max_len - 1` tokens, then EOS (Tevatron's RepLLaMA encoding).
    pub fn tokenize(&self, label: &str, text: &str, max_len: usize) -> Result<Vec<u32>> {
        let enc = encode_enough(&self.tokenizer, &format!("{label}: {text}"), max_len - 1, false)?;
        let mut t = enc.get_ids().to_vec();
        t.truncate(max_len - 1);
        t.push(self.eos_id);
        Ok(t)
    }

    /// Token ids of a batch of examples.
    pub fn token_batch(&self, examples: &[Example]) -> Result<TokenBatch> {
        let mut queries = Vec::with_capacity(examples.len());
        let mut passages = Vec::new();
        for e in examples {
            queries.push(self.tokenize("Query", &e.query, self.recipe.q_max_len)?);
            for p in &e.passages {
                passages.push(self.tokenize("Passage", &p.flat_text(), self.recipe.p_max_len)?);
            }
        }
        Ok(TokenBatch { queries, passages })
    }

    /// Final-norm hidden states at EOS of `seqs` (left-padded), with `adapter` and per-sequence dropout seeds.
    fn hidden(&self, seqs: &[Vec<u32>], adapter: &Adapter, dropout_seeds: &[u64]) -> Result<Tensor> {
        let pass = Pass { adapter: Some(adapter), differentiable: true, dropout_seeds: Some(dropout_seeds) };
        self.model.last_hidden_in(seqs, self.eos_id, &pass)
    }

    /// The forward chunks of a batch (queries, then passages, `chunk_size` sequences each) with each sequence's
    /// dropout seed, a function of (seed, contrastive batch, sequence) only: the chunk size changes memory, not
    /// the result.
    fn chunks<'b>(&self, batch: &'b TokenBatch, micro_id: u64) -> Vec<(&'b [Vec<u32>], Vec<u64>)> {
        let size = self.recipe.chunk_size;
        let seed = |key: u64| derive_seed(self.recipe.seed, SeedUse::Dropout, micro_id, key);
        let mut out = Vec::new();
        for (base, seqs) in [(0u64, &batch.queries), (1 << 32, &batch.passages)] {
            for (c, chunk) in seqs.chunks(size).enumerate() {
                let first = (c * size) as u64;
                out.push((chunk, (0..chunk.len() as u64).map(|j| seed(base + first + j)).collect()));
            }
        }
        out
    }

    /// The loss of a batch as one graph over all chunks (what the chunked backward must reproduce; for tests).
    pub fn loss_graph(&self, batch: &TokenBatch, micro_id: u64) -> Result<Tensor> {
        let adapter = self.adapter(false);
        let hs: Vec<Tensor> = self
            .chunks(batch, micro_id)
            .iter()
            .map(|(s, seeds)| self.hidden(s, &adapter, seeds))
            .collect::<Result<_>>()?;
        let all = Tensor::cat(&hs, 0)?;
        let n = batch.queries.len();
        let group = batch.passages.len() / n;
        info_nce(&all.narrow(0, 0, n)?, &all.narrow(0, n, n * group)?, group, self.recipe.temperature)
    }

    /// Loss and gradient (one tensor per [`Trainer::vars`] entry) of one contrastive batch, by chunked backward:
    /// memory is bounded by `chunk_size` sequences whatever the batch size.
    pub fn grads(&self, batch: &TokenBatch, micro_id: u64) -> Result<(f64, Vec<Tensor>)> {
        let n = batch.queries.len();
        let group = batch.passages.len() / n;
        let chunks = self.chunks(batch, micro_id);
        let frozen = self.adapter(true);
        let hs: Vec<Tensor> = chunks.iter().map(|(s, seeds)| self.hidden(s, &frozen, seeds)).collect::<Result<_>>()?;
        let all = Var::from_tensor(&Tensor::cat(&hs, 0)?)?;
        let loss = info_nce(&all.narrow(0, 0, n)?, &all.narrow(0, n, n * group)?, group, self.recipe.temperature)?;
        let loss_value = loss.to_dtype(DType::F64)?.to_scalar::<f64>()?;
        let d_all = loss.backward()?.remove(all.as_tensor()).ok_or_else(|| {
            ModelError::Unsupported("the loss does not depend on the embeddings (empty batch?)".into())
        })?;
        drop(hs);
        let vars = self.vars();
        let mut acc: Vec<Tensor> =
            vars.iter().map(|v| v.as_tensor().zeros_like()).collect::<candle_core::Result<_>>()?;
        let tracked = self.adapter(false);
        let mut offset = 0;
        for (seqs, seeds) in chunks {
            let h = self.hidden(seqs, &tracked, &seeds)?;
            let g = d_all.narrow(0, offset, seqs.len())?;
            offset += seqs.len();
            let surrogate = (h * g)?.sum_all()?;
            let mut store = surrogate.backward()?;
            for (slot, v) in acc.iter_mut().zip(&vars) {
                if let Some(gv) = store.remove(v.as_tensor()) {
                    *slot = (&*slot + gv)?;
                }
            }
        }
        Ok((loss_value, acc))
    }

    /// One optimizer step of `total`: `gradient_accumulation_steps` contrastive batches from `sampler`,
    /// averaged gradients, clipping, AdamW at the scheduled learning rate.
    pub fn train_step(&mut self, sampler: &mut Sampler<'_>, total: usize) -> Result<StepReport> {
        let accum = self.recipe.gradient_accumulation_steps;
        let lr = self.recipe.lr_at(self.step, total);
        let mut sum: Option<Vec<Tensor>> = None;
        let (mut loss_sum, mut tokens) = (0.0, 0);
        for micro in 0..accum {
            let examples = sampler.micro_batch(self.step, micro)?;
            let batch = self.token_batch(&examples)?;
            tokens += batch.tokens();
            let (loss, grads) = self.grads(&batch, (self.step * accum + micro) as u64)?;
            loss_sum += loss;
            sum = Some(match sum {
                None => grads,
                Some(s) => s.iter().zip(&grads).map(|(a, b)| a + b).collect::<candle_core::Result<_>>()?,
            });
        }
        let mut grads: Vec<Tensor> = sum
            .expect("at least one micro-batch")
            .iter()
            .map(|g| g / accum as f64)
            .collect::<candle_core::Result<_>>()?;
        let grad_norm = clip_global_norm(&mut grads, self.recipe.max_grad_norm)?;
        self.optim.step(&self.vars(), &grads, lr)?;
        self.step += 1;
        Ok(StepReport { step: self.step, loss: loss_sum / accum as f64, lr, grad_norm, tokens })
    }
}
