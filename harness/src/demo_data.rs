//! The browser demo's data file, `data/subset.json`: a task subset with its qrels, and the native reference
//! scores and embeddings the page (and the browser tests) are held to. Written by `drbench_pipeline::demo`, read
//! by the page's JavaScript and by `wasm/tests/browser.rs` through these types.

use serde::{Deserialize, Serialize};

use crate::data::SubsetSpec;

/// One document (the encoder sees `title + " " + text`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DemoDoc {
    /// Document id.
    pub id: String,
    /// Title (may be empty).
    pub title: String,
    /// Body.
    pub text: String,
}

impl DemoDoc {
    /// What the encoder sees.
    pub fn flat_text(&self) -> String {
        format!("{} {}", self.title, self.text)
    }
}

/// One judged query.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DemoQuery {
    /// Query id.
    pub id: String,
    /// Text.
    pub text: String,
}

/// A text with its native token ids and embeddings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EmbeddingCheck {
    /// The text.
    pub text: String,
    /// Token ids with [CLS]/[SEP], truncated as the encoder truncates.
    pub ids: Vec<u32>,
    /// The f32 model's embedding.
    pub f32: Vec<f32>,
    /// The int8 file's embedding (dequantized on the CPU).
    pub int8: Vec<f32>,
}

/// The native numbers of the subset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DemoReference {
    /// The measure (`nDCG@10`).
    pub measure: String,
    /// With the f32 weights.
    pub native_f32: f64,
    /// With the int8 file's weights.
    pub native_int8: f64,
    /// What computed them.
    pub by: String,
    /// A few texts, for the browser's parity checks.
    pub embeddings: Vec<EmbeddingCheck>,
}

/// `data/subset.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DemoData {
    /// Task name.
    pub task: String,
    /// Split.
    pub split: String,
    /// How the subset was cut.
    pub subset: SubsetSpec,
    /// The model source.
    pub model: String,
    /// Documents.
    pub docs: Vec<DemoDoc>,
    /// Judged queries.
    pub queries: Vec<DemoQuery>,
    /// Qrels as TREC text (`qid 0 docid grade` lines).
    pub qrels: String,
    /// Native reference, unless the folder was prepared without it.
    pub reference: Option<DemoReference>,
}
