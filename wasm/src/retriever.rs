//! The browser runner's retriever, independent of JavaScript (so native tests drive the very code the page runs):
//! tokenizer + int8 encoder (wgpu kernels or the CPU, see [`crate::encoder`]), a corpus encoded once and kept as unit vectors, exact top-k search
//! (`harness::dense`), and TREC runs for trec_eval-exact scoring.

use std::cell::RefCell;
use std::fmt::Write as _;

use drbench_harness::dense::exact_top_k;

use crate::encoder::{Backend, Encoder};
use crate::error::GpuError;
use crate::tokenize::TextTokenizer;

/// One search result.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Hit {
    /// Document id.
    pub id: String,
    /// Cosine similarity to the query.
    pub score: f32,
}

/// An encoded corpus.
#[derive(Debug, Default)]
struct Corpus {
    ids: Vec<String>,
    embeddings: Vec<f32>,
}

/// Encoder, tokenizer and (once indexed) a corpus.
#[derive(Debug)]
pub struct Retriever {
    model: Encoder,
    tokenizer: TextTokenizer,
    corpus: RefCell<Corpus>,
}

impl Retriever {
    /// A retriever from the bytes of a `drbench quantize` weight file and of the model's `tokenizer.json`, on
    /// `backend`.
    pub async fn load(weights: &[u8], tokenizer_json: &[u8], backend: Backend) -> Result<Retriever, GpuError> {
        let model = Encoder::load(weights, backend).await?;
        let tokenizer = TextTokenizer::from_json(tokenizer_json, model.max_seq_length())?;
        Ok(Retriever { model, tokenizer, corpus: RefCell::new(Corpus::default()) })
    }

    /// The encoder.
    pub fn model(&self) -> &Encoder {
        &self.model
    }

    /// The tokenizer.
    pub fn tokenizer(&self) -> &TextTokenizer {
        &self.tokenizer
    }

    /// L2-normalised embeddings of `texts` (`texts.len() × dim`, row-major); `progress(done, total)` after each
    /// batch.
    pub async fn encode<S: AsRef<str>>(
        &self,
        texts: &[S],
        progress: impl FnMut(usize, usize),
    ) -> Result<Vec<f32>, GpuError> {
        let ids = self.tokenizer.ids_all(texts)?;
        self.model.embed_all(&ids, true, progress).await
    }

    /// Encodes a corpus (`ids[i]` names `texts[i]`) and keeps it for [`Retriever::search`], replacing any
    /// earlier one.
    pub async fn index<S: AsRef<str>>(
        &self,
        ids: Vec<String>,
        texts: &[S],
        progress: impl FnMut(usize, usize),
    ) -> Result<(), GpuError> {
        if ids.len() != texts.len() {
            return Err(GpuError::Model(format!("{} ids for {} texts", ids.len(), texts.len())));
        }
        let embeddings = self.encode(texts, progress).await?;
        self.set_corpus(ids, embeddings)
    }

    /// Keeps a corpus encoded elsewhere (e.g. by CPU encoders in Web Workers, one per core): `embeddings` holds
    /// `ids.len()` L2-normalised rows of [`Encoder::dim`] values, in `ids` order.
    pub fn set_corpus(&self, ids: Vec<String>, embeddings: Vec<f32>) -> Result<(), GpuError> {
        if embeddings.len() != ids.len() * self.model.dim() {
            return Err(GpuError::Model(format!(
                "{} values for {} documents of dimension {}",
                embeddings.len(),
                ids.len(),
                self.model.dim()
            )));
        }
        *self.corpus.borrow_mut() = Corpus { ids, embeddings };
        Ok(())
    }

    /// Documents indexed.
    pub fn corpus_len(&self) -> usize {
        self.corpus.borrow().ids.len()
    }

    /// The `k` best documents of the indexed corpus for each query embedding (score descending, then corpus
    /// order).
    fn top_k(&self, query_embeddings: &[f32], k: usize) -> Result<Vec<Vec<Hit>>, GpuError> {
        let corpus = self.corpus.borrow();
        if corpus.ids.is_empty() {
            return Err(GpuError::Model("no corpus is indexed yet".into()));
        }
        let hits = exact_top_k(&corpus.embeddings, query_embeddings, self.model.dim(), k);
        Ok(hits
            .into_iter()
            .map(|q| q.into_iter().map(|h| Hit { id: corpus.ids[h.doc as usize].clone(), score: h.score }).collect())
            .collect())
    }

    /// The `k` best documents for one query.
    pub async fn search(&self, query: &str, k: usize) -> Result<Vec<Hit>, GpuError> {
        let q = self.encode(&[query], |_, _| {}).await?;
        Ok(self.top_k(&q, k)?.pop().unwrap_or_default())
    }

    /// A TREC run (`qid Q0 docid rank score drbench-wasm`) of the `k` best documents for each query.
    pub async fn run_queries<S: AsRef<str>>(
        &self,
        query_ids: &[String],
        queries: &[S],
        k: usize,
        progress: impl FnMut(usize, usize),
    ) -> Result<String, GpuError> {
        if query_ids.len() != queries.len() {
            return Err(GpuError::Model(format!("{} query ids for {} queries", query_ids.len(), queries.len())));
        }
        let q = self.encode(queries, progress).await?;
        let mut run = String::new();
        for (qid, hits) in query_ids.iter().zip(self.top_k(&q, k)?) {
            for (rank, h) in hits.iter().enumerate() {
                let _ = writeln!(run, "{qid} Q0 {} {} {} drbench-wasm", h.id, rank + 1, h.score);
            }
        }
        Ok(run)
    }
}
