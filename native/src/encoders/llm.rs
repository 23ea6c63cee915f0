//! An LLM retriever: prompt (PromptReps or EOS) → tokens → Qwen2 → last-token final-norm hidden state,
//! in length-sorted, left-padded batches, L2-normalised by default.

use std::path::Path;

use drbench_harness::batching::encode_in_batches;
use drbench_harness::encoder::{EncodeError, Encoder, Role, l2_normalize_rows};
use tokenizers::Tokenizer;

use super::error::{ModelError, Result};
use super::lora::Adapter;
use super::prompt::{ChatTemplate, PromptMode, build_prompt};
use super::qwen2::{Pass, Qwen2};
use super::signature::Signed;
use super::tokenize::{cut_to_tokens, ids};

/// Settings of an LLM encoder.
#[derive(Debug, Clone)]
pub struct LlmOptions {
    /// Prompt format.
    pub mode: PromptMode,
    /// Maximum text tokens (the text is cut before it is put in the prompt).
    pub max_text_tokens: usize,
    /// L2-normalise embeddings.
    pub normalize: bool,
    /// Sequences per forward pass.
    pub batch_size: usize,
    /// Token budget per forward pass (batch × longest sequence).
    pub max_batch_tokens: usize,
}

impl Default for LlmOptions {
    fn default() -> Self {
        LlmOptions {
            mode: PromptMode::Promptreps,
            max_text_tokens: 512,
            normalize: true,
            batch_size: 16,
            max_batch_tokens: 8192,
        }
    }
}

/// A Qwen2-family model used as a dense retriever.
#[derive(Debug)]
pub struct LlmEncoder {
    model: Qwen2,
    tokenizer: Tokenizer,
    template: Option<ChatTemplate>,
    eos_text: String,
    pad_id: u32,
    opts: LlmOptions,
    signature: Signed,
    tokens: u64,
    adapter: Option<Adapter>,
}

/// The prompt and token ids of one input (exposed for parity tests).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreparedInput {
    /// The exact prompt string.
    pub prompt: String,
    /// Its token ids.
    pub ids: Vec<u32>,
    /// Whether the text was cut to `max_text_tokens`.
    pub truncated: bool,
}

impl LlmEncoder {
    /// Wraps a loaded model; `tokenizer_dir` holds tokenizer.json and the chat template.
    pub fn new(model: Qwen2, tokenizer_dir: &Path, opts: LlmOptions, signature: Signed) -> Result<Self> {
        let tokenizer = super::tokenize::load_tokenizer(&tokenizer_dir.join("tokenizer.json"))?;
        let template = match opts.mode {
            PromptMode::Promptreps => Some(ChatTemplate::load(tokenizer_dir)?),
            PromptMode::Eos => None,
        };
        // EOS = `<|endoftext|>` (id 151643 for Qwen2): the pad token, and the token RepLLaMA appends.
        let eos_text = "<|endoftext|>".to_string();
        let pad_id = tokenizer
            .token_to_id(&eos_text)
            .ok_or_else(|| ModelError::file(tokenizer_dir, "tokenizer has no <|endoftext|> token"))?;
        Ok(LlmEncoder { model, tokenizer, template, eos_text, pad_id, opts, signature, tokens: 0, adapter: None })
    }

    /// Runs a LoRA adapter beside the frozen weights (unmerged) on every forward pass.
    pub fn with_adapter(mut self, adapter: Option<Adapter>) -> Self {
        self.adapter = adapter;
        self
    }

    /// The prompt and token ids for `text`.
    pub fn prepare(&self, text: &str, role: Role) -> Result<PreparedInput> {
        let (text, truncated) = cut_to_tokens(&self.tokenizer, text, self.opts.max_text_tokens)?;
        let prompt = build_prompt(self.opts.mode, self.template.as_ref(), &self.eos_text, text, role)?;
        let ids = ids(&self.tokenizer, &prompt, false)?;
        if let Some(max) = self.model.cfg.max_position_embeddings
            && ids.len() > max
        {
            return Err(ModelError::Unsupported(format!(
                "an input of {} tokens (the text cut to {} tokens, in its prompt) is longer than the model's \
                 max_position_embeddings {max}; use a smaller --max-length",
                ids.len(),
                self.opts.max_text_tokens
            )));
        }
        Ok(PreparedInput { prompt, ids, truncated })
    }

    /// Raw (un-normalised) embeddings of already tokenized inputs, as one left-padded batch.
    pub fn embed_ids<S: AsRef<[u32]>>(&self, batch: &[S]) -> Result<Vec<f32>> {
        let pass = Pass { adapter: self.adapter.as_ref(), ..Pass::default() };
        let h = self.model.last_hidden_in(batch, self.pad_id, &pass)?;
        Ok(h.flatten_all()?.to_vec1::<f32>()?)
    }

    fn encode_inner(&mut self, texts: &[&str], role: Role) -> Result<Vec<f32>> {
        let dim = self.model.cfg.hidden_size;
        let prepared: Vec<Vec<u32>> =
            texts.iter().map(|t| self.prepare(t, role).map(|p| p.ids)).collect::<Result<_>>()?;
        let (mut out, tokens) =
            encode_in_batches(&prepared, dim, self.opts.max_batch_tokens, self.opts.batch_size, |b| self.embed_ids(b))?;
        self.tokens += tokens;
        if self.opts.normalize {
            l2_normalize_rows(&mut out, dim);
        }
        Ok(out)
    }
}

impl Encoder for LlmEncoder {
    fn signature(&self) -> String {
        self.signature.canonical.clone()
    }

    fn legacy_signature(&self) -> Option<String> {
        self.signature.legacy.clone()
    }

    fn dim(&self) -> usize {
        self.model.cfg.hidden_size
    }

    fn encode(&mut self, texts: &[&str], role: Role) -> std::result::Result<Vec<f32>, EncodeError> {
        Ok(self.encode_inner(texts, role)?)
    }

    fn tokens_processed(&self) -> u64 {
        self.tokens
    }
}
