// One CPU encoder in a Web Worker (the demo starts one per core, up to 4): loads the int8 model on the CPU
// backend, then encodes the texts it is sent and posts the embeddings back (the buffer is transferred, not copied).
// Messages in: {type: 'load', weights, tokenizer} then {type: 'encode', texts}; out: {type: 'loaded'},
// {type: 'progress', done, total}, {type: 'done', embeddings}, {type: 'error', message}.
import init, { Retriever } from './pkg/drbench_wasm.js';

let retriever = null;

onmessage = async (event) => {
  const m = event.data;
  try {
    if (m.type === 'load') {
      await init();
      retriever = await Retriever.load(m.weights, m.tokenizer, 'cpu');
      postMessage({ type: 'loaded' });
    } else if (m.type === 'encode') {
      const embeddings = await retriever.encode(m.texts, (done, total) => postMessage({ type: 'progress', done, total }));
      postMessage({ type: 'done', embeddings }, [embeddings.buffer]);
    }
  } catch (e) {
    postMessage({ type: 'error', message: String(e && e.stack ? `${e}\n${e.stack}` : e) });
  }
};
