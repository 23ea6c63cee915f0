// transformers.js (npm @huggingface/transformers, ONNX Runtime Web) encoding the drbench demo subset: the same
// documents (title + " " + text), the same truncation (256 tokens, sentence-transformers' max_seq_length, written into
// the bench's tokenizer_config.json), mean
// pooling + L2 as sentence-transformers, local files only. ?device=wasm|webgpu, ?batch=N.
import { env, pipeline } from './lib/transformers.min.js';

const params = new URLSearchParams(location.search);
const device = params.get('device') || 'wasm';
const batch = Number(params.get('batch') || 8);
const log = (s) => { document.getElementById('log').textContent += `${s}\n`; };

env.allowRemoteModels = false;
env.allowLocalModels = true;
env.localModelPath = './models/';
env.backends.onnx.wasm.wasmPaths = new URL('./ort/', location.href).href;
env.backends.onnx.wasm.numThreads = navigator.hardwareConcurrency || 1;

function cosine(a, b) {
  let d = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) { d += a[i] * b[i]; na += a[i] * a[i]; nb += b[i] * b[i]; }
  return d / Math.sqrt(na * nb);
}

async function main() {
  const subset = await (await fetch('data/subset.json')).json();
  const t0 = performance.now();
  const extractor = await pipeline('feature-extraction', 'all-MiniLM-L6-v2', { dtype: 'q8', device });
  const loadSeconds = (performance.now() - t0) / 1000;
  const texts = subset.docs.map((d) => `${d.title} ${d.text}`);
  const t1 = performance.now();
  let first = null;
  for (let i = 0; i < texts.length; i += batch) {
    const out = await extractor(texts.slice(i, i + batch), { pooling: 'mean', normalize: true });
    if (first === null) first = out.tolist();
    log(`${Math.min(i + batch, texts.length)} / ${texts.length}`);
  }
  const docSeconds = (performance.now() - t1) / 1000;
  // Agreement with the native reference on the texts subset.json carries (its first two documents).
  const refs = (subset.reference && subset.reference.embeddings) || [];
  const cosines = refs.filter((r) => texts.indexOf(r.text) >= 0 && texts.indexOf(r.text) < batch)
    .map((r) => cosine(first[texts.indexOf(r.text)], r.f32));
  window.tjsResult = {
    device, batch, threads: env.backends.onnx.wasm.numThreads, crossOriginIsolated: self.crossOriginIsolated,
    loadSeconds, docs: texts.length, docSeconds, docsPerSecond: texts.length / docSeconds, cosineToNativeF32: cosines,
  };
  log(JSON.stringify(window.tjsResult));
  document.body.dataset.state = 'ready';
}

main().catch((e) => { log(String(e && e.stack ? e.stack : e)); document.body.dataset.state = 'error'; });
