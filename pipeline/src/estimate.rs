//! A rough time estimate of a plan's pending cells, printed before the work starts. Dense cells: the tokens to
//! encode are counted from the corpus and query files' sizes (the registry's, or the folder's), at
//! [`BYTES_PER_TOKEN`] bytes of JSONL per token plus each mode's prompt, capped per text at the model's length
//! limit; the speed is the preset's `tokens_per_s` for the model (measured on the reference machine, 2 cores),
//! scaled by the threads used. BM25 cells take seconds. Cached embeddings are not looked at: a resumed run takes
//! less.

use std::path::Path;

use drbench_native::encoders::spec::Mode;
use drbench_native::store::Store;

use crate::bench::{BenchPlan, CellState};
use crate::retriever::RetrieverSpec;

/// Bytes of BEIR JSONL per token of a BPE / WordPiece tokenizer, measured on SciFact and NFCorpus with the
/// Qwen2.5 tokenizer (3.4M tokens for 14.4 MB with the prompts).
pub const BYTES_PER_TOKEN: f64 = 4.5;

/// Threads the `tokens_per_s` figures of the shipped presets were measured with.
pub const REFERENCE_THREADS: usize = 2;

/// BM25 indexing speed, bytes of corpus per second per thread (SciFact: 8 MB in about a second on 2 cores).
const BM25_BYTES_PER_S_PER_THREAD: f64 = 4e6;

/// Tokens a mode adds to every text (chat template and instruction for PromptReps; special tokens otherwise).
fn prompt_tokens(mode: Mode) -> f64 {
    match mode {
        Mode::Promptreps => 55.0,
        Mode::Eos => 4.0,
        Mode::Mean | Mode::Cls => 2.0,
    }
}

/// The estimate of one pending cell.
#[derive(Debug, Clone, PartialEq)]
pub struct CellEstimate {
    /// Its index in the plan.
    pub index: usize,
    /// Tokens to encode (dense cells whose files could be sized).
    pub tokens: Option<f64>,
    /// Seconds, where a speed is known.
    pub seconds: Option<f64>,
}

/// The estimate of a plan.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Estimate {
    /// One per pending cell.
    pub cells: Vec<CellEstimate>,
}

impl Estimate {
    /// Seconds of the cells whose time is known.
    pub fn known_seconds(&self) -> f64 {
        self.cells.iter().filter_map(|c| c.seconds).sum()
    }

    /// Pending cells with no speed figure.
    pub fn unknown(&self) -> usize {
        self.cells.iter().filter(|c| c.seconds.is_none()).count()
    }

    /// Seconds per model (in plan order), over the cells whose time is known.
    pub fn by_model<'p>(&self, plan: &'p BenchPlan) -> Vec<(&'p str, f64, usize)> {
        let mut out: Vec<(&str, f64, usize)> = Vec::new();
        for c in &self.cells {
            let name = plan.preset.models[plan.cells[c.index].model].name.as_str();
            let secs = c.seconds.unwrap_or(0.0);
            match out.iter_mut().find(|(n, _, _)| *n == name) {
                Some(entry) => {
                    entry.1 += secs;
                    entry.2 += 1;
                }
                None => out.push((name, secs, 1)),
            }
        }
        out
    }
}

/// The size of `file` of `dataset` (registry entry, else the folder's file), or None.
fn file_size(store: &Store, dataset: &str, file: &str) -> Option<u64> {
    if Path::new(dataset).is_dir() {
        return std::fs::metadata(Path::new(dataset).join(file)).ok().map(|m| m.len());
    }
    store.registry.get_subset(dataset).ok()?.0.file(file).map(|f| f.size)
}

/// The estimate of `plan`'s pending cells when run with `threads` threads.
pub fn estimate(plan: &BenchPlan, store: &Store, threads: usize) -> Estimate {
    let scale = threads.max(1) as f64 / REFERENCE_THREADS as f64;
    let mut cells = Vec::new();
    for (index, cell) in plan.cells.iter().enumerate().filter(|(_, c)| c.state == CellState::Pending) {
        let spec = store.registry.get_subset(&cell.dataset).ok().map(|(s, _)| s);
        let corpus = file_size(store, &cell.dataset, "corpus.jsonl");
        let queries = file_size(store, &cell.dataset, "queries.jsonl");
        let total_docs = spec.and_then(|s| s.counts.get("docs").copied());
        // A subset keeps about its share of the corpus (and at most its queries).
        let share = match (cell.settings.subset, total_docs) {
            (Some(s), Some(n)) if n > 0 => (s.docs as f64 / n as f64).min(1.0),
            (Some(_), None) => 0.1,
            _ => 1.0,
        };
        let (tokens, seconds) = match &cell.settings.retriever {
            RetrieverSpec::Bm25(_) => {
                (None, corpus.map(|b| b as f64 * share / (BM25_BYTES_PER_S_PER_THREAD * threads.max(1) as f64)))
            }
            RetrieverSpec::Dense(d) => {
                let docs = total_docs.map_or(0.0, |n| n as f64 * share);
                let per_doc_cap = d.max_length.map_or(f64::INFINITY, |m| m as f64);
                let text_tokens = corpus.map(|b| {
                    let per_doc = if docs > 0.0 { b as f64 * share / docs / BYTES_PER_TOKEN } else { 0.0 };
                    docs * per_doc.min(per_doc_cap) + queries.map_or(0.0, |q| q as f64 / BYTES_PER_TOKEN * share)
                });
                let tokens = text_tokens.map(|t| t + docs * prompt_tokens(d.mode));
                let model = &plan.preset.models[cell.model];
                let rate = model.tokens_per_s.and_then(|s| s.at(d.dtype));
                (tokens, tokens.zip(rate).map(|(t, rate)| t / (rate * scale)))
            }
        };
        cells.push(CellEstimate { index, tokens, seconds });
    }
    Estimate { cells }
}
