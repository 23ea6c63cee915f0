#!/usr/bin/env python3
"""PyTorch reference figures on a GPU for a Qwen2.5-7B-shaped model with random weights (bf16, sdpa):

1. encoding throughput (tokens/s) for left-padded batches, last-token pooling, as drbench's encoders do;
2. one RepLLaMA training step with PEFT LoRA (r=32, alpha=64, dropout 0.1 on q,k,v,o,gate,up,down), gradient
   checkpointing, InfoNCE (temperature 0.01) with in-batch negatives over all passages, at the study's shape:
   micro-batch of 8 queries x group 16 passages (q_max_len 32, p_max_len 156), 4 accumulation steps = 32 queries
   per optimizer step; step time and peak memory.

These are the peers drbench's CUDA build is compared against (issues 4 and 6). Prints one JSON line per figure.
usage: python bench/gpu/pytorch_7b_reference.py [--layers 28]
"""
import argparse, json, time

import torch
import torch.nn.functional as F


def sync_time(f, repeats):
    torch.cuda.synchronize()
    t = time.perf_counter()
    for _ in range(repeats):
        out = f()
    torch.cuda.synchronize()
    return (time.perf_counter() - t) / repeats, out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--layers", type=int, default=28)
    a = ap.parse_args()
    from transformers import Qwen2Config, Qwen2Model

    cfg = Qwen2Config(hidden_size=3584, intermediate_size=18944, num_hidden_layers=a.layers, num_attention_heads=28,
                      num_key_value_heads=4, vocab_size=152064, rope_theta=1e6, max_position_embeddings=32768,
                      rms_norm_eps=1e-6, attn_implementation="sdpa", torch_dtype=torch.bfloat16)
    torch.manual_seed(0)
    t = time.perf_counter()
    with torch.device("cuda"):
        model = Qwen2Model(cfg)
        inv_freq = model.rotary_emb.inv_freq.clone()  # `.to(bf16)` would round it; from_pretrained keeps it f32
        model = model.to(torch.bfloat16).eval()
        model.rotary_emb.inv_freq = inv_freq
        model.rotary_emb.original_inv_freq = inv_freq
    info = {"device": torch.cuda.get_device_name(), "torch": torch.__version__,
            "params_b": sum(p.numel() for p in model.parameters()) / 1e9, "init_s": time.perf_counter() - t}
    print(json.dumps({"what": "setup", **info}), flush=True)

    # 1. Encoding: batches of left-padded sequences with lengths spread like BEIR passages in a prompt.
    g = torch.Generator().manual_seed(1)
    for batch, lo, hi in [(32, 200, 570), (64, 200, 570)]:
        lens = torch.randint(lo, hi, (batch,), generator=g).sort().values
        L = int(lens.max())
        ids = torch.randint(0, 151000, (batch, L), generator=g)
        mask = torch.zeros(batch, L, dtype=torch.long)
        for i, n in enumerate(lens.tolist()):
            mask[i, L - n:] = 1
        ids, mask = ids.cuda(), mask.cuda()
        pos = (mask.cumsum(1) - 1).clamp(min=0)

        def enc():
            with torch.inference_mode():
                h = model(input_ids=ids, attention_mask=mask, position_ids=pos).last_hidden_state[:, -1]
                return F.normalize(h.float(), dim=-1)

        enc()
        secs, _ = sync_time(enc, 5)
        print(json.dumps({"what": "encode", "batch": batch, "real_tokens": int(lens.sum()), "padded_len": L,
                          "secs_per_batch": secs, "real_tokens_per_s": float(lens.sum()) / secs}), flush=True)

    # 2. LoRA contrastive training step.
    from peft import LoraConfig, get_peft_model

    model.train()
    model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    model.config.use_cache = False
    lora = LoraConfig(r=32, lora_alpha=64, lora_dropout=0.1,
                      target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"])
    pm = get_peft_model(model, lora)
    trainable = sum(p.numel() for p in pm.parameters() if p.requires_grad)
    opt = torch.optim.AdamW([p for p in pm.parameters() if p.requires_grad], lr=1e-4)
    nq, group, qlen, plen, accum = 8, 16, 32, 156, 4

    def embed(n, length):
        ids = torch.randint(0, 151000, (n, length), device="cuda")
        ids[:, -1] = 151643  # EOS, pooled
        mask = torch.ones_like(ids)
        with torch.autocast("cuda", dtype=torch.bfloat16):
            h = pm(input_ids=ids, attention_mask=mask).last_hidden_state[:, -1]
        return F.normalize(h.float(), dim=-1)

    def micro():
        q = embed(nq, qlen)
        p = embed(nq * group, plen)
        scores = q @ p.T / 0.01
        target = torch.arange(nq, device="cuda") * group
        loss = F.cross_entropy(scores, target) / accum
        loss.backward()
        return loss

    def step():
        for _ in range(accum):
            micro()
        opt.step()
        opt.zero_grad(set_to_none=True)

    step()
    torch.cuda.reset_peak_memory_stats()
    secs, _ = sync_time(step, 3)
    print(json.dumps({"what": "train_step", "queries_per_step": nq * accum, "group": group, "q_len": qlen,
                      "p_len": plen, "accum": accum, "lora_trainable_m": trainable / 1e6, "secs_per_step": secs,
                      "peak_mem_gib": torch.cuda.max_memory_allocated() / 2**30}), flush=True)


if __name__ == "__main__":
    main()
