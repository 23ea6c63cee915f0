// The drbench browser demo: load the int8 encoder (WebGPU, or the CPU through WebAssembly SIMD where WebGPU is
// missing or emulated), encode the subset with a progress bar, score the subset's test queries (nDCG@10 next to
// the native reference), then search as the user types. All document text is inserted with textContent (never as
// HTML). URL parameters: ?q=TEXT runs that search once ready; ?backend=auto|webgpu|cpu picks the backend;
// ?workers=N sets how many Web Workers encode the corpus on the CPU backend (default: one per core, up to 4).
import init, { Retriever, evaluate } from './pkg/drbench_wasm.js';

const $ = (id) => document.getElementById(id);
const state = (s) => { document.body.dataset.state = s; };

function fact(term, value) {
  const dt = document.createElement('dt');
  dt.textContent = term;
  const dd = document.createElement('dd');
  dd.textContent = value;
  dd.dataset.fact = term;
  $('facts').append(dt, dd);
}

function setProgress(label, done, total) {
  $('progress-label').textContent = label;
  $('progress').max = Math.max(total, 1);
  $('progress').value = done;
}

async function bytes(url) {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return new Uint8Array(await r.arrayBuffer());
}

function fmt(x) {
  return typeof x === 'number' ? x.toFixed(4) : '—';
}

function snippet(doc, n) {
  const text = `${doc.title} ${doc.text}`.trim();
  return text.length > n ? `${text.slice(0, n)}…` : text;
}

// Encodes `texts` on the CPU in `n` Web Workers (texts dealt round-robin, so each gets a similar mix of lengths);
// resolves to one Float32Array of texts.length × dim embeddings in input order.
async function encodeInWorkers(n, weights, tokenizer, texts, dim, onProgress) {
  const workers = Array.from({ length: n }, () => new Worker(new URL('encode-worker.js', import.meta.url), { type: 'module' }));
  const share = (w) => texts.map((_, i) => i).filter((i) => i % n === w);
  const done = new Array(n).fill(0);
  try {
    const parts = await Promise.all(workers.map((worker, w) => new Promise((resolve, reject) => {
      const mine = share(w);
      worker.onerror = (e) => reject(new Error(`encoder worker: ${e.message}`));
      worker.onmessage = (event) => {
        const m = event.data;
        if (m.type === 'loaded') {
          worker.postMessage({ type: 'encode', texts: mine.map((i) => texts[i]) });
        } else if (m.type === 'progress') {
          done[w] = m.done;
          onProgress(done.reduce((a, b) => a + b, 0), texts.length);
        } else if (m.type === 'done') {
          resolve({ mine, embeddings: m.embeddings });
        } else if (m.type === 'error') {
          reject(new Error(`encoder worker: ${m.message}`));
        }
      };
      worker.postMessage({ type: 'load', weights, tokenizer });
    })));
    const out = new Float32Array(texts.length * dim);
    for (const { mine, embeddings } of parts) {
      mine.forEach((i, r) => out.set(embeddings.subarray(r * dim, (r + 1) * dim), i * dim));
    }
    return out;
  } finally {
    workers.forEach((worker) => worker.terminate());
  }
}

async function main() {
  // Chromium exposes navigator.gpu even where it then offers no adapter (WebGPU blocklisted or switched off).
  const adapter = navigator.gpu ? await navigator.gpu.requestAdapter().catch(() => null) : null;
  const asked = new URLSearchParams(location.search).get('backend') || 'auto';
  if (!adapter) {
    $('nogpu').hidden = false;
  }
  const backend = adapter ? asked : 'cpu';
  const tLoad = performance.now();
  await init();
  setProgress('Loading the model and the subset…', 0, 1);
  const [weights, tokenizer, subset] = await Promise.all([
    bytes('data/model.drbq'),
    bytes('data/tokenizer.json'),
    fetch('data/subset.json').then((r) => {
      if (!r.ok) throw new Error(`data/subset.json: HTTP ${r.status}`);
      return r.json();
    }),
  ]);
  const retriever = await Retriever.load(weights, tokenizer, backend);
  const docsById = new Map(subset.docs.map((d) => [d.id, d]));
  fact('dataset', `${subset.task} (${subset.split}): ${subset.queries.length} judged queries, ${subset.docs.length} documents`);
  fact('model', `${subset.model}, int8 (${(retriever.weightBytes / 1e6).toFixed(1)} MB)`);
  const info = (adapter && adapter.info) || {};
  const named = [info.vendor, info.architecture, info.description].filter((x) => x).join(' / ');
  if (retriever.backend === 'webgpu') {
    fact('encoder', `WebGPU: ${named || retriever.device}`);
  } else {
    fact('encoder', retriever.device);
  }
  $('eval-backend').textContent = retriever.backend === 'webgpu' ? 'WebGPU' : 'CPU';
  const loadSecs = (performance.now() - tLoad) / 1000;
  fact('model load', `${loadSecs.toFixed(1)} s (download, weights unpacked${retriever.backend === 'webgpu' ? ' onto the GPU, kernels compiled' : ''})`);

  // The encoder sees BEIR's flat passage text: title + " " + text. On the CPU the corpus is encoded in Web Workers,
  // one per core (up to 4; ?workers=N overrides, 0 = on this page's thread).
  const ids = subset.docs.map((d) => d.id);
  const texts = subset.docs.map((d) => `${d.title} ${d.text}`);
  const progress = (done, total) => setProgress(`Encoding the documents: ${done} / ${total}`, done, total);
  const param = new URLSearchParams(location.search).get('workers');
  const workers = retriever.backend === 'cpu'
    ? Math.min(param === null ? Math.min(navigator.hardwareConcurrency || 1, 4) : Number(param) || 0, texts.length)
    : 0;
  const t0 = performance.now();
  let how = '';
  let used = workers;
  if (workers > 0) {
    try {
      retriever.setCorpus(ids, await encodeInWorkers(workers, weights, tokenizer, texts, retriever.dim, progress));
      how = `, ${workers} worker${workers > 1 ? 's' : ''}`;
    } catch (e) {
      // Module workers missing or refused (old browser, strict policy): encode on this page's thread instead.
      console.warn(e);
      await retriever.index(ids, texts, progress);
      used = 0;
      how = `, on the page's thread (workers failed: ${e.message})`;
    }
  } else {
    await retriever.index(ids, texts, progress);
  }
  const docSecs = (performance.now() - t0) / 1000;
  fact('corpus encoding', `${docSecs.toFixed(1)} s, ${(subset.docs.length / docSecs).toFixed(1)} docs/s${how}`);
  window.drbenchTimings = {
    backend: retriever.backend, workers: used, loadSeconds: loadSecs, docs: subset.docs.length, docSeconds: docSecs,
  };

  const t1 = performance.now();
  const run = await retriever.runQueries(
    subset.queries.map((q) => q.id),
    subset.queries.map((q) => q.text),
    100,
    (done, total) => setProgress(`Encoding the test queries: ${done} / ${total}`, done, total),
  );
  const scores = JSON.parse(evaluate(subset.qrels, run, 'nDCG@10'));
  const ndcg = scores['nDCG@10'];
  window.drbenchTimings.querySeconds = (performance.now() - t1) / 1000;
  window.drbenchNdcg = ndcg;
  $('eval-queries').textContent = `${subset.queries.length} queries`;
  $('eval-page').textContent = fmt(ndcg);
  const ref = subset.reference;
  $('eval-f32').textContent = fmt(ref && ref.native_f32);
  $('eval-int8').textContent = fmt(ref && ref.native_int8);
  if (ref) {
    const diff = Math.abs(ndcg - ref.native_f32);
    $('eval-note').textContent = `Difference to the native f32 golden value: ${diff.toFixed(4)} ` +
      `(${diff <= 0.01 ? 'within' : 'OUTSIDE'} the 0.01 the project holds the int8 runners to).`;
  }
  $('evaluation').hidden = false;
  setProgress('Ready.', 1, 1);
  $('search').hidden = false;

  const search = async (query) => {
    const t = performance.now();
    const hits = await retriever.search(query, 10);
    $('search-info').textContent = `${hits.length} best of ${retriever.corpusSize} documents in ` +
      `${(performance.now() - t).toFixed(0)} ms for “${query}”`;
    const items = hits.map((h) => {
      const doc = docsById.get(h.id);
      const li = document.createElement('li');
      const head = document.createElement('div');
      head.className = 'doc-head';
      head.textContent = doc.title || h.id;
      const score = document.createElement('span');
      score.className = 'score';
      score.textContent = `  ${h.id} · ${h.score.toFixed(4)}`;
      head.append(score);
      const body = document.createElement('div');
      body.className = 'doc-text';
      body.textContent = snippet({ title: '', text: doc.text }, 280);
      li.append(head, body);
      return li;
    });
    $('results').replaceChildren(...items);
  };
  $('search-form').addEventListener('submit', (e) => {
    e.preventDefault();
    search($('query').value).catch(fail);
  });
  const q = new URLSearchParams(location.search).get('q');
  if (q) {
    $('query').value = q;
    await search(q);
  }
  state('ready');
}

function fail(e) {
  $('failure').hidden = false;
  $('failure-text').textContent = String(e && e.stack ? `${e}\n${e.stack}` : e);
  state('error');
}

main().catch(fail);
