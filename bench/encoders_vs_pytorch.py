#!/usr/bin/env python3
"""Encoding speed and agreement: drbench (candle, CPU) vs PyTorch peers on the same texts, threads and precision.

MiniLM (all-MiniLM-L6-v2, mean pooling, 256 tokens): sentence-transformers f32 and bf16, ONNX Runtime f32 (model
exported with torch.onnx here), drbench f32 and bf16 (packed CPU forward). Qwen2.5-Coder-0.5B-Instruct (PromptReps passages, last-token
pooling): transformers f32-sdpa and bf16-sdpa on the GGUF dequantized by transformers, drbench on the same GGUF
dequantized (f32, bf16) and with quantized matmuls. Texts: SciFact corpus in file order (title + " " + text).
Throughput = real (non-pad) tokens per second of encoding, model loading excluded; every tool sorts by length
and batches. Each drbench embedding is compared (cosine) with the PyTorch f32 one of the same text.

usage (repository root, after `cargo build --release -p drbench`):
  DRBENCH_MIRROR=../shared/mirror python bench/encoders_vs_pytorch.py --threads 2 --minilm-docs 512 --qwen-docs 32
needs: torch, transformers, sentence-transformers, onnxruntime, onnx, gguf, numpy.
"""
import argparse, json, os, re, subprocess, sys, tempfile, time

import numpy as np


def texts_of(mirror, n, max_chars=None):
    out = []
    with open(os.path.join(mirror, "datasets/scifact/corpus.jsonl")) as f:
        for line in f:
            r = json.loads(line)
            t = (r.get("title", "") + " " + r["text"]).strip() if r.get("title") else r["text"]
            out.append({"id": r["_id"], "text": t})
            if len(out) == n:
                break
    return out


def drbench_embed(binary, args, records, threads):
    with tempfile.TemporaryDirectory() as tmp:
        inp, outp = os.path.join(tmp, "in.jsonl"), os.path.join(tmp, "out.jsonl")
        with open(inp, "w") as f:
            for r in records:
                f.write(json.dumps({"id": r["id"], "text": r["text"]}) + "\n")
        env = dict(os.environ, RAYON_NUM_THREADS=str(threads))
        p = subprocess.run([binary, "embed", *args, "--role", "passage", "--input", inp, "--out", outp],
                           env=env, capture_output=True, text=True)
        if p.returncode != 0:
            sys.exit(f"drbench embed failed: {p.stderr}")
        m = re.search(r"encoded (\d+) texts \((\d+) tokens.*?\) in ([\d.]+)s", p.stderr)
        n, tokens, secs = int(m.group(1)), int(m.group(2)), float(m.group(3))
        emb = np.array([json.loads(l)["embedding"] for l in open(outp)], dtype=np.float32)
    return {"docs_per_s": n / secs, "tokens_per_s": tokens / secs, "secs": secs, "tokens": tokens}, emb


def cos_rows(a, b):
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    return (a * b).sum(1)


class Rows(list):
    """Rows that are printed as JSON as soon as they are measured."""

    def append(self, row):
        print(json.dumps(row), flush=True)
        super().append(row)


def minilm(a, records, rows):
    import torch
    from sentence_transformers import SentenceTransformer
    import onnxruntime as ort
    from transformers import AutoTokenizer, AutoModel

    path = os.path.join(a.mirror, "models/all-MiniLM-L6-v2")
    texts = [r["text"] for r in records]
    tok = AutoTokenizer.from_pretrained(path)
    enc = tok(texts, truncation=True, max_length=256)
    real_tokens = sum(len(x) for x in enc["input_ids"])

    st = SentenceTransformer(path, device="cpu")
    st.max_seq_length = 256
    st.encode(texts[:16], batch_size=32)
    t = time.perf_counter()
    ref = st.encode(texts, batch_size=32, normalize_embeddings=True, convert_to_numpy=True)
    secs = time.perf_counter() - t
    rows.append({"model": "MiniLM", "tool": "sentence-transformers f32", "docs_per_s": len(texts) / secs,
                 "tokens_per_s": real_tokens / secs})

    st_bf16 = SentenceTransformer(path, device="cpu", model_kwargs={"torch_dtype": torch.bfloat16})
    st_bf16.max_seq_length = 256
    st_bf16.encode(texts[:16], batch_size=32)
    t = time.perf_counter()
    emb = st_bf16.encode(texts, batch_size=32, normalize_embeddings=True, convert_to_numpy=False)
    secs = time.perf_counter() - t
    emb = torch.stack(emb).float().numpy()
    rows.append({"model": "MiniLM", "tool": "sentence-transformers bf16", "docs_per_s": len(texts) / secs,
                 "tokens_per_s": real_tokens / secs, "min_cosine_vs_st": float(cos_rows(emb, ref).min())})
    del st_bf16

    hf = AutoModel.from_pretrained(path).eval()
    with tempfile.TemporaryDirectory() as tmp:
        onnx_path = os.path.join(tmp, "minilm.onnx")
        dummy = tok(["hello world"] * 2, return_tensors="pt", padding=True)
        class Wrapped(torch.nn.Module):
            def __init__(self, m):
                super().__init__()
                self.m = m

            def forward(self, input_ids, attention_mask, token_type_ids):
                return self.m(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids).last_hidden_state

        torch.onnx.export(Wrapped(hf), (dummy["input_ids"], dummy["attention_mask"], dummy["token_type_ids"]), onnx_path,
                          input_names=["input_ids", "attention_mask", "token_type_ids"], output_names=["last"],
                          dynamic_axes={k: {0: "b", 1: "s"} for k in ["input_ids", "attention_mask", "token_type_ids", "last"]},
                          opset_version=17, dynamo=False)
        so = ort.SessionOptions()
        so.intra_op_num_threads = a.threads
        so.inter_op_num_threads = 1
        sess = ort.InferenceSession(onnx_path, so, providers=["CPUExecutionProvider"])
        order = np.argsort([len(x) for x in enc["input_ids"]])

        def run_ort():
            out = np.zeros((len(texts), 384), dtype=np.float32)
            for s in range(0, len(texts), 32):
                idx = order[s:s + 32]
                b = tok([texts[i] for i in idx], truncation=True, max_length=256, padding=True, return_tensors="np")
                last = sess.run(None, {k: b[k].astype(np.int64) for k in ["input_ids", "attention_mask", "token_type_ids"]})[0]
                m = b["attention_mask"][..., None].astype(np.float32)
                v = (last * m).sum(1) / m.sum(1)
                out[idx] = v / np.linalg.norm(v, axis=1, keepdims=True)
            return out

        run_ort()
        t = time.perf_counter()
        ort_emb = run_ort()
        secs = time.perf_counter() - t
    rows.append({"model": "MiniLM", "tool": "onnxruntime f32", "docs_per_s": len(texts) / secs,
                 "tokens_per_s": real_tokens / secs, "min_cosine_vs_st": float(cos_rows(ort_emb, ref).min())})
    for dtype in ["f32", "bf16"]:
        r, emb = drbench_embed(a.drbench, ["--model", path, "--mode", "mean", "--dtype", dtype], records, a.threads)
        r.update({"model": "MiniLM", "tool": f"drbench {dtype}", "min_cosine_vs_st": float(cos_rows(emb, ref).min())})
        rows.append(r)


def qwen(a, records, rows):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok_dir = os.path.join(a.mirror, "models/qwen2.5-coder-0.5b-instruct")
    tok = AutoTokenizer.from_pretrained(tok_dir)
    prompts = []
    for r in records:
        ids = tok(r["text"], add_special_tokens=False)["input_ids"][:512]
        text = tok.decode(ids)
        msg = f'Passage: "{text}". Use one word to represent the passage in a retrieval task. Make sure your word is in lowercase.'
        p = tok.apply_chat_template([{"role": "user", "content": msg}], add_generation_prompt=True, tokenize=False)
        prompts.append(p + 'The word is: "')
    ids = [tok(p, add_special_tokens=False)["input_ids"] for p in prompts]
    real_tokens = sum(len(x) for x in ids)
    order = np.argsort([len(x) for x in ids])
    gguf_dir, gguf_file = os.path.split(a.gguf)

    ref = None
    for dtype in ["f32", "bf16"]:
        model = AutoModelForCausalLM.from_pretrained(gguf_dir, gguf_file=gguf_file, torch_dtype=torch.float32,
                                                     attn_implementation="sdpa").eval()
        if dtype == "bf16":
            model = model.to(torch.bfloat16)

        def run():
            out = np.zeros((len(ids), model.config.hidden_size), dtype=np.float32)
            with torch.inference_mode():
                for s in range(0, len(ids), a.batch):
                    idx = order[s:s + a.batch]
                    L = max(len(ids[i]) for i in idx)
                    inp = torch.full((len(idx), L), 151643, dtype=torch.long)
                    mask = torch.zeros((len(idx), L), dtype=torch.long)
                    for j, i in enumerate(idx):
                        inp[j, L - len(ids[i]):] = torch.tensor(ids[i])
                        mask[j, L - len(ids[i]):] = 1
                    pos = (mask.cumsum(1) - 1).clamp(min=0)
                    h = model.model(input_ids=inp, attention_mask=mask, position_ids=pos).last_hidden_state[:, -1]
                    out[idx] = h.float().numpy()
            return out

        t = time.perf_counter()
        emb = run()
        secs = time.perf_counter() - t
        row = {"model": "Qwen2.5-Coder-0.5B", "tool": f"transformers {dtype}-sdpa (GGUF dequantized)",
               "docs_per_s": len(ids) / secs, "tokens_per_s": real_tokens / secs}
        if ref is None:
            ref = emb
        else:
            row["min_cosine_vs_torch_f32"] = float(cos_rows(emb, ref).min())
        rows.append(row)
        del model
    for label, args in [("f32 (dequantized)", ["--gguf-weights", "dequantized", "--dtype", "f32"]),
                        ("bf16 (dequantized)", ["--gguf-weights", "dequantized", "--dtype", "bf16"]),
                        ("quantized matmuls", ["--gguf-weights", "quantized"])][:3 if a.quantized else 2]:
        r, emb = drbench_embed(a.drbench, ["--model", a.gguf, "--tokenizer", tok_dir, "--mode", "promptreps",
                                           "--batch-size", str(a.batch), *args], records, a.threads)
        r.update({"model": "Qwen2.5-Coder-0.5B", "tool": f"drbench {label}",
                  "min_cosine_vs_torch_f32": float(cos_rows(emb, ref).min())})
        rows.append(r)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--minilm-docs", type=int, default=512)
    ap.add_argument("--qwen-docs", type=int, default=32)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--mirror", default=os.environ.get("DRBENCH_MIRROR", "../shared/mirror"))
    ap.add_argument("--gguf", default=os.path.expanduser("~/.cache/drbench/models/qwen2.5-coder-0.5b-instruct-gguf/model.gguf"))
    ap.add_argument("--drbench", default="target/release/drbench")
    ap.add_argument("--only", choices=["minilm", "qwen"], default=None)
    ap.add_argument("--no-quantized", dest="quantized", action="store_false",
                    help="skip drbench's quantized-matmul Qwen row (the slowest, ~7 minutes for 32 docs)")
    a = ap.parse_args()
    import torch
    torch.set_num_threads(a.threads)
    os.environ["OMP_NUM_THREADS"] = str(a.threads)
    rows = Rows()
    if a.only in (None, "minilm"):
        minilm(a, texts_of(a.mirror, a.minilm_docs), rows)
    if a.only in (None, "qwen"):
        qwen(a, texts_of(a.mirror, a.qwen_docs), rows)
    print("\n| model | tool | docs/s | real tokens/s | min cosine vs PyTorch f32 |\n|---|---|---:|---:|---:|")
    for r in rows:
        c = r.get("min_cosine_vs_st", r.get("min_cosine_vs_torch_f32", ""))
        print(f"| {r['model']} | {r['tool']} | {r['docs_per_s']:.2f} | {r['tokens_per_s']:.0f} | {c if c == '' else f'{c:.5f}'} |")


if __name__ == "__main__":
    main()
