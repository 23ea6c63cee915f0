//! The JavaScript API (wasm-bindgen): `Retriever.load(weights, tokenizerJson, backend)`, then `encode`, `index`
//! (or `setCorpus` with embeddings made elsewhere), `search` and `runQueries` (each a Promise; progress through an
//! optional `(done, total) => …` callback), plus `evaluate(qrels, run, measures)` with trec_eval's conventions.

use std::rc::Rc;

use js_sys::{Float32Array, Function, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use crate::encoder::Backend;
use crate::error::GpuError;
use crate::retriever;

fn js_err(e: GpuError) -> JsValue {
    JsError::new(&e.to_string()).into()
}

/// Calls `f(done, total)` if a callback was given (a throwing callback is ignored: progress is advisory).
fn progress(f: Option<Function>) -> impl FnMut(usize, usize) {
    move |done, total| {
        if let Some(f) = &f {
            let _ = f.call2(&JsValue::NULL, &JsValue::from(done as u32), &JsValue::from(total as u32));
        }
    }
}

/// A dense retriever running on WebGPU or on the CPU (WebAssembly SIMD).
#[wasm_bindgen]
#[derive(Debug)]
pub struct Retriever {
    inner: Rc<retriever::Retriever>,
}

#[wasm_bindgen]
impl Retriever {
    /// Loads a `drbench quantize` weight file and the model's `tokenizer.json` (both as bytes) on `backend`:
    /// `"auto"` (the default: WebGPU unless it is missing or its adapter is a CPU emulation such as SwiftShader,
    /// then the CPU), `"webgpu"` or `"cpu"`.
    pub async fn load(
        weights: Vec<u8>,
        tokenizer_json: Vec<u8>,
        backend: Option<String>,
    ) -> Result<Retriever, JsValue> {
        let backend: Backend = backend.as_deref().unwrap_or("auto").parse().map_err(js_err)?;
        let inner = retriever::Retriever::load(&weights, &tokenizer_json, backend).await.map_err(js_err)?;
        Ok(Retriever { inner: Rc::new(inner) })
    }

    /// The backend in use: `"webgpu"` or `"cpu"`.
    #[wasm_bindgen(getter)]
    pub fn backend(&self) -> String {
        self.inner.model().backend().to_string()
    }

    /// What runs the encoder: the WebGPU adapter, or the CPU and why it was chosen.
    #[wasm_bindgen(getter)]
    pub fn device(&self) -> String {
        self.inner.model().device()
    }

    /// Embedding width.
    #[wasm_bindgen(getter)]
    pub fn dim(&self) -> usize {
        self.inner.model().dim()
    }

    /// Size of the weight file, bytes.
    #[wasm_bindgen(getter, js_name = weightBytes)]
    pub fn weight_bytes(&self) -> usize {
        self.inner.model().weight_bytes()
    }

    /// Documents indexed.
    #[wasm_bindgen(getter, js_name = corpusSize)]
    pub fn corpus_size(&self) -> usize {
        self.inner.corpus_len()
    }

    /// Token ids of a text (special tokens included, truncated as the model is), for checks against the native
    /// tokenizer.
    #[wasm_bindgen(js_name = tokenIds)]
    pub fn token_ids(&self, text: &str) -> Result<Vec<u32>, JsValue> {
        self.inner.tokenizer().ids(text).map_err(js_err)
    }

    /// Promise of a `Float32Array` of `texts.length × dim` L2-normalised embeddings.
    pub fn encode(&self, texts: Vec<String>, on_progress: Option<Function>) -> Promise {
        let inner = Rc::clone(&self.inner);
        future_to_promise(async move {
            let emb = inner.encode(&texts, progress(on_progress)).await.map_err(js_err)?;
            Ok(Float32Array::from(emb.as_slice()).into())
        })
    }

    /// Encodes and keeps a corpus (`ids[i]` names `texts[i]`); the Promise resolves when done.
    pub fn index(&self, ids: Vec<String>, texts: Vec<String>, on_progress: Option<Function>) -> Promise {
        let inner = Rc::clone(&self.inner);
        future_to_promise(async move {
            inner.index(ids, &texts, progress(on_progress)).await.map_err(js_err)?;
            Ok(JsValue::UNDEFINED)
        })
    }

    /// Keeps a corpus encoded elsewhere — by CPU retrievers in Web Workers, one per core — as if `index` had
    /// encoded it: `embeddings` holds `ids.length × dim` L2-normalised values in `ids` order.
    #[wasm_bindgen(js_name = setCorpus)]
    pub fn set_corpus(&self, ids: Vec<String>, embeddings: Vec<f32>) -> Result<(), JsValue> {
        self.inner.set_corpus(ids, embeddings).map_err(js_err)
    }

    /// Promise of the `k` best documents for `query`: an array of `{id, score}`.
    pub fn search(&self, query: String, k: usize) -> Promise {
        let inner = Rc::clone(&self.inner);
        future_to_promise(async move {
            let hits = inner.search(&query, k).await.map_err(js_err)?;
            let json = serde_json::to_string(&hits).map_err(|e| JsError::new(&e.to_string()))?;
            js_sys::JSON::parse(&json)
        })
    }

    /// Promise of a TREC run (text) of the `k` best documents for each query.
    #[wasm_bindgen(js_name = runQueries)]
    pub fn run_queries(
        &self,
        query_ids: Vec<String>,
        queries: Vec<String>,
        k: usize,
        on_progress: Option<Function>,
    ) -> Promise {
        let inner = Rc::clone(&self.inner);
        future_to_promise(async move {
            let run = inner.run_queries(&query_ids, &queries, k, progress(on_progress)).await.map_err(js_err)?;
            Ok(JsValue::from(run))
        })
    }
}

/// Scores a TREC run against TREC qrels (both text) with trec_eval's conventions; returns the means as a JSON
/// object string, e.g. `{"nDCG@10":0.91}`. `measures` is a comma-separated list (`nDCG@10,R@100`).
#[wasm_bindgen]
pub fn evaluate(qrels: &str, run: &str, measures: &str) -> Result<String, JsValue> {
    crate::eval::evaluate_trec_text(qrels, run, measures, true).map_err(|e| JsError::new(&e).into())
}
