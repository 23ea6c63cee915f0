#!/usr/bin/env python3
"""drbench's CUDA build against PyTorch on the same GPU, same texts, same weights (random, seeded), one go:

1. BERT shaped like all-MiniLM-L6-v2 (its config and tokenizer, random weights): sentence-transformers f32 on
   CUDA vs `drbench embed --device cuda` (and `--device cpu` on the same machine): max abs difference of the
   normalized embeddings, real tokens/s.
2. A Qwen2.5-7B-shaped Qwen2 (28 layers, hidden 3584, random bf16 weights, Qwen2.5 tokenizer), RepLLaMA's EOS
   prompt (`Passage: ` + text cut to 512 tokens + `<|endoftext|>`, last-token pooling): transformers bf16 sdpa
   vs `drbench embed --device cuda --dtype bf16`, both with length-sorted, left-padded batches, at drbench's
   default batching (16 sequences, 8,192 tokens) and at a GPU-sized one (64 sequences, 32,768 tokens): real
   (non-pad) tokens/s, model loading excluded; cosine between the two tools' embeddings of each text, and of
   each to transformers f32 on the first --ref-docs texts, where drbench f32 is compared too.

Prints one JSON line per figure. Texts: SciFact corpus in file order (title + " " + text), from --texts.
usage (on the GPU host): python3 bench/gpu/encode_vs_pytorch_gpu.py --drbench BIN --texts F.jsonl
    --minilm-dir DIR --qwen-tokenizer DIR --work /tmp/w [--qwen-docs 1000] [--bert-docs 2000] [--layers 28]
"""
import argparse, json, os, re, shutil, subprocess, sys, time

import numpy as np
import torch
import torch.nn.functional as F


def sync(a):
    if a.device == "cuda":
        torch.cuda.synchronize()


def emit(**row):
    print(json.dumps(row), flush=True)


def read_texts(path, n):
    out = []
    with open(path) as f:
        for line in f:
            r = json.loads(line)
            t = (r["title"] + " " + r["text"]) if r.get("title") else r["text"]
            out.append({"id": r["_id"], "text": t})
            if len(out) == n:
                break
    return out


def drbench_embed(binary, args, records, work, tag):
    inp, outp = os.path.join(work, f"{tag}.in.jsonl"), os.path.join(work, f"{tag}.out.jsonl")
    with open(inp, "w") as f:
        for r in records:
            f.write(json.dumps({"id": r["id"], "text": r["text"]}) + "\n")
    t = time.perf_counter()
    p = subprocess.run([binary, "embed", *args, "--role", "passage", "--input", inp, "--out", outp],
                       capture_output=True, text=True)
    wall = time.perf_counter() - t
    if p.returncode != 0:
        emit(what="error", tag=tag, stderr=p.stderr[-3000:])
        return None, None
    m = re.search(r"encoded (\d+) texts \((\d+) tokens.*?\) in ([\d.]+)s", p.stderr)
    n, tokens, secs = int(m.group(1)), int(m.group(2)), float(m.group(3))
    emb = np.array([json.loads(l)["embedding"] for l in open(outp)], dtype=np.float32)
    return {"docs_per_s": n / secs, "tokens_per_s": tokens / secs, "encode_s": secs, "tokens": tokens,
            "wall_s_with_load": wall}, emb


def bert_section(a, texts):
    from transformers import BertConfig, BertModel
    from sentence_transformers import SentenceTransformer

    folder = os.path.join(a.work, "minilm-random")
    shutil.copytree(a.minilm_dir, folder, dirs_exist_ok=True)
    torch.manual_seed(0)
    model = BertModel(BertConfig.from_pretrained(a.minilm_dir)).eval()
    model.save_pretrained(folder, safe_serialization=True)
    st = SentenceTransformer(folder, device=a.device)
    st.max_seq_length = 256
    docs = [r["text"] for r in texts]
    st.encode(docs[:64], batch_size=64)
    sync(a)
    t = time.perf_counter()
    ref = st.encode(docs, batch_size=128, normalize_embeddings=True, convert_to_numpy=True)
    sync(a)
    secs = time.perf_counter() - t
    tokens = sum(int(m.sum()) for m in (st.tokenize(docs[i:i + 256])["attention_mask"]
                                          for i in range(0, len(docs), 256)))
    emit(what="bert", tool=f"sentence-transformers f32 {a.device}", docs=len(docs), tokens=tokens,
         tokens_per_s=tokens / secs, docs_per_s=len(docs) / secs)
    for device, n in [(a.device, len(texts)), ("cpu", min(256, len(texts)))][: 1 if a.device == "cpu" else 2]:
        stats, emb = drbench_embed(a.drbench, ["--model", folder, "--mode", "mean", "--device", device],
                                   texts[:n], a.work, f"bert-{device}")
        if stats is None:
            continue
        diff = float(np.abs(emb - ref[:n]).max())
        emit(what="bert", tool=f"drbench f32 {device}", docs=n, max_abs_diff_vs_st=diff, **stats)


def qwen_ids(tok, text, eos="<|endoftext|>", max_tokens=512):
    enc = tok.encode(text, add_special_tokens=False)
    if len(enc.ids) > max_tokens:
        text = text[:enc.offsets[max_tokens - 1][1]]
    return tok.encode("Passage: " + text + eos, add_special_tokens=False).ids


def batches(lengths, max_seqs, max_tokens):
    """drbench's batching: longest first, a batch grows while seqs <= max_seqs and seqs * longest <= max_tokens."""
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    out, cur = [], []
    for i in order:
        if cur and (len(cur) + 1 > max_seqs or (len(cur) + 1) * lengths[cur[0]] > max_tokens):
            out.append(cur)
            cur = []
        cur.append(i)
    if cur:
        out.append(cur)
    return out


def qwen_section(a, texts):
    from tokenizers import Tokenizer
    from transformers import Qwen2Config, Qwen2Model
    from safetensors.torch import save_file

    tok = Tokenizer.from_file(os.path.join(a.qwen_tokenizer, "tokenizer.json"))
    seqs = [qwen_ids(tok, r["text"]) for r in texts]
    real = sum(len(s) for s in seqs)
    shape = dict(hidden_size=3584, intermediate_size=18944, num_hidden_layers=a.layers, num_attention_heads=28,
                 num_key_value_heads=4)
    if a.dry_run:
        shape = dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
                     num_key_value_heads=2)
    cfg = Qwen2Config(**shape, vocab_size=152064, rope_theta=1e6, max_position_embeddings=32768, rms_norm_eps=1e-6,
                      tie_word_embeddings=False)
    cfg._attn_implementation = "sdpa"
    torch.manual_seed(0)
    t = time.perf_counter()
    with torch.device(a.device):
        model = Qwen2Model(cfg)
        # `.to(bfloat16)` would also round RoPE's inv_freq buffer to bf16 (from_pretrained(dtype=bf16) keeps it
        # f32): that alone cost the f32 reference 0.95 cosine to drbench on this shape. Keep it f32.
        inv_freq = model.rotary_emb.inv_freq.clone()
        model = model.to(torch.bfloat16).eval()
        model.rotary_emb.inv_freq = inv_freq
        model.rotary_emb.original_inv_freq = inv_freq
    folder = os.path.join(a.work, "qwen7b-random")
    os.makedirs(folder, exist_ok=True)
    save_file({f"model.{k}": v.detach().to("cpu").contiguous() for k, v in model.state_dict().items()},
              os.path.join(folder, "model.safetensors"), metadata={"format": "pt"})
    d = cfg.to_dict()
    d.update(model_type="qwen2", architectures=["Qwen2ForCausalLM"], torch_dtype="bfloat16")
    json.dump(d, open(os.path.join(folder, "config.json"), "w"))
    emit(what="qwen-setup", device=torch.cuda.get_device_name() if a.device == "cuda" else "cpu", torch=torch.__version__,
         params_b=sum(p.numel() for p in model.parameters()) / 1e9, init_and_save_s=time.perf_counter() - t,
         docs=len(seqs), real_tokens=real, longest=max(len(s) for s in seqs))

    def torch_encode(max_seqs, max_tokens, n=len(seqs)):
        out = np.zeros((n, cfg.hidden_size), dtype=np.float32)
        plan = batches([len(s) for s in seqs[:n]], max_seqs, max_tokens)
        with torch.inference_mode():
            for b in plan:
                L = max(len(seqs[i]) for i in b)
                ids = torch.full((len(b), L), 151643, dtype=torch.long)
                mask = torch.zeros((len(b), L), dtype=torch.long)
                for r, i in enumerate(b):
                    ids[r, L - len(seqs[i]):] = torch.tensor(seqs[i])
                    mask[r, L - len(seqs[i]):] = 1
                ids, mask = ids.to(a.device), mask.to(a.device)
                pos = (mask.cumsum(1) - 1).clamp(min=0)
                h = model(input_ids=ids, attention_mask=mask, position_ids=pos).last_hidden_state[:, -1]
                out[b] = F.normalize(h.float(), dim=-1).cpu().numpy()
        return out

    torch_encode(64, 32768, n=128)  # warm-up: kernels, allocator
    for max_seqs, max_tokens in [(16, 8192), (64, 32768)]:
        sync(a)
        t = time.perf_counter()
        ref = torch_encode(max_seqs, max_tokens)
        sync(a)
        secs = time.perf_counter() - t
        emit(what="qwen7b", tool=f"transformers bf16 sdpa {a.device}", max_seqs=max_seqs, max_batch_tokens=max_tokens,
             real_tokens=real, encode_s=secs, tokens_per_s=real / secs, docs_per_s=len(seqs) / secs)
        if max_seqs == 16:
            ref16 = ref
    # f32 reference (TF32 off, PyTorch's default for matmuls) on the first --ref-docs texts: how far each bf16
    # tool is from it, and drbench f32 against it.
    n_ref = min(a.ref_docs, len(seqs))
    model = model.float()
    ref32 = torch_encode(16, 8192, n=n_ref)
    cos = (ref16[:n_ref] * ref32).sum(1)
    emit(what="qwen7b-f32-reference", tool=f"transformers bf16 sdpa {a.device}", docs=n_ref,
         min_cosine_vs_torch_f32=float(cos.min()), mean_cosine_vs_torch_f32=float(cos.mean()))
    del model
    if a.device == "cuda":
        torch.cuda.empty_cache()
    for max_seqs, max_tokens in [(16, 8192), (64, 32768)]:
        stats, emb = drbench_embed(a.drbench, ["--model", folder, "--tokenizer", a.qwen_tokenizer, "--mode", "eos",
                                               "--device", a.device, "--dtype", "bf16", "--batch-size", str(max_seqs),
                                               "--max-batch-tokens", str(max_tokens)], texts, a.work, "qwen7b")
        if stats is None:
            continue
        cos = (emb * ref16).sum(1)
        cos32 = (emb[:n_ref] * ref32).sum(1)
        emit(what="qwen7b", tool=f"drbench bf16 {a.device}", max_seqs=max_seqs, max_batch_tokens=max_tokens,
             min_cosine_vs_torch_bf16=float(cos.min()), mean_cosine_vs_torch_bf16=float(cos.mean()),
             min_cosine_vs_torch_f32=float(cos32.min()), mean_cosine_vs_torch_f32=float(cos32.mean()), **stats)
    stats, emb = drbench_embed(a.drbench, ["--model", folder, "--tokenizer", a.qwen_tokenizer, "--mode", "eos",
                                           "--device", a.device, "--dtype", "f32"], texts[:n_ref], a.work, "qwen7b-f32")
    if stats is not None:
        cos32 = (emb * ref32).sum(1)
        emit(what="qwen7b-f32-reference", tool=f"drbench f32 {a.device}", docs=n_ref,
             max_abs_diff_vs_torch_f32=float(np.abs(emb - ref32).max()), min_cosine_vs_torch_f32=float(cos32.min()),
             **stats)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--drbench", required=True)
    ap.add_argument("--texts", required=True)
    ap.add_argument("--minilm-dir", required=True)
    ap.add_argument("--qwen-tokenizer", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--bert-docs", type=int, default=2000)
    ap.add_argument("--qwen-docs", type=int, default=1000)
    ap.add_argument("--layers", type=int, default=28)
    ap.add_argument("--ref-docs", type=int, default=64, help="texts encoded by the f32 references (7B shape)")
    ap.add_argument("--only", choices=["bert", "qwen"])
    ap.add_argument("--device", default="cuda", help="cpu with --dry-run: checks this script on a CPU machine")
    ap.add_argument("--dry-run", action="store_true", help="a 2-layer, 64-wide Qwen2 instead of the 7B shape")
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    if a.only in (None, "bert"):
        bert_section(a, read_texts(a.texts, a.bert_docs))
    if a.only in (None, "qwen"):
        qwen_section(a, read_texts(a.texts, a.qwen_docs))


if __name__ == "__main__":
    sys.exit(main())
