#!/usr/bin/env python3
"""Seeds of the model fuzz targets, written with the standard library only: a tiny random Qwen2 as a Hugging
Face pair (`config.json\\0model.safetensors`) and as a GGUF v3 file (f32 tensors and one Q8_0). Usage: DIR."""
import json, random, struct, sys
from pathlib import Path

out = Path(sys.argv[1])
rng = random.Random(0)


def shapes(h, i, kv, vocab, layers, gguf):
    names = [("embed_tokens.weight", [vocab, h]), ("norm.weight", [h])]
    for l in range(layers):
        for n, s in [("input_layernorm.weight", [h]), ("post_attention_layernorm.weight", [h]),
                     ("self_attn.q_proj.weight", [h, h]), ("self_attn.q_proj.bias", [h]),
                     ("self_attn.k_proj.weight", [kv, h]), ("self_attn.k_proj.bias", [kv]),
                     ("self_attn.v_proj.weight", [kv, h]), ("self_attn.v_proj.bias", [kv]),
                     ("self_attn.o_proj.weight", [h, h]), ("mlp.gate_proj.weight", [i, h]),
                     ("mlp.up_proj.weight", [i, h]), ("mlp.down_proj.weight", [h, i])]:
            names.append((f"layers.{l}.{n}", s))
    if not gguf:
        return [("model." + n, s) for n, s in names]
    parts = {"input_layernorm": "attn_norm", "post_attention_layernorm": "ffn_norm", "self_attn.q_proj": "attn_q",
             "self_attn.k_proj": "attn_k", "self_attn.v_proj": "attn_v", "self_attn.o_proj": "attn_output",
             "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up", "mlp.down_proj": "ffn_down"}
    renamed = []
    for n, s in names:
        if n == "embed_tokens.weight":
            n = "token_embd.weight"
        elif n == "norm.weight":
            n = "output_norm.weight"
        else:
            _, l, rest = n.split(".", 2)
            stem, kind = rest.rsplit(".", 1)
            n = f"blk.{l}.{parts[stem]}.{kind}"
        renamed.append((n, s))
    return renamed


def floats(n):
    return struct.pack(f"<{n}f", *[rng.uniform(-0.5, 0.5) for _ in range(n)])


def count(s):
    c = 1
    for d in s:
        c *= d
    return c


# Hugging Face: hidden 8, 2 heads of 4, 1 key/value head, 1 layer, vocab 8.
cfg = {"architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "hidden_size": 8, "intermediate_size": 16,
       "num_hidden_layers": 1, "num_attention_heads": 2, "num_key_value_heads": 1, "rms_norm_eps": 1e-6,
       "rope_theta": 10000.0, "vocab_size": 8, "max_position_embeddings": 64}
header, data = {}, b""
for name, s in shapes(8, 16, 4, 8, 1, False):
    blob = floats(count(s))
    header[name] = {"dtype": "F32", "shape": s, "data_offsets": [len(data), len(data) + len(blob)]}
    data += blob
h = json.dumps(header).encode()
h += b" " * (-len(h) % 8)
(out / "qwen2_hf_files").mkdir(parents=True, exist_ok=True)
(out / "qwen2_hf_files" / "tiny").write_bytes(json.dumps(cfg).encode() + b"\0" + struct.pack("<Q", len(h)) + h + data)


# GGUF v3: hidden 32 (a Q8_0 block is 32 values), 2 heads of 16, 1 key/value head, 1 layer, vocab 8.
def gstr(s):
    b = s.encode()
    return struct.pack("<Q", len(b)) + b


meta = [("general.architecture", 8, gstr("qwen2")), ("general.alignment", 4, struct.pack("<I", 32)),
        ("qwen2.embedding_length", 4, struct.pack("<I", 32)), ("qwen2.feed_forward_length", 4, struct.pack("<I", 64)),
        ("qwen2.block_count", 4, struct.pack("<I", 1)), ("qwen2.attention.head_count", 4, struct.pack("<I", 2)),
        ("qwen2.attention.head_count_kv", 4, struct.pack("<I", 1)),
        ("qwen2.attention.layer_norm_rms_epsilon", 6, struct.pack("<f", 1e-6)),
        ("qwen2.rope.freq_base", 6, struct.pack("<f", 10000.0)), ("qwen2.context_length", 4, struct.pack("<I", 64))]
tensors = shapes(32, 64, 16, 8, 1, True)
infos, blobs, offset = b"", b"", 0
for name, s in tensors:
    if name == "blk.0.attn_q.weight":
        kind, blob = 8, b"".join(struct.pack("<e", 0.01) + bytes(rng.randrange(256) for _ in range(32))
                                 for _ in range(count(s) // 32))
    else:
        kind, blob = 0, floats(count(s))
    infos += gstr(name) + struct.pack("<I", len(s)) + b"".join(struct.pack("<Q", d) for d in reversed(s))
    infos += struct.pack("<IQ", kind, offset)
    blob += bytes(-len(blob) % 32)
    blobs += blob
    offset += len(blob)
head = struct.pack("<IIQQ", 0x46554747, 3, len(tensors), len(meta))
head += b"".join(gstr(k) + struct.pack("<I", t) + v for k, t, v in meta) + infos
head += bytes(-len(head) % 32)
(out / "gguf_metadata").mkdir(parents=True, exist_ok=True)
(out / "gguf_metadata" / "tiny.gguf").write_bytes(head + blobs)
