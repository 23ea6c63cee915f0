// BERT embeddings before their LayerNorm (the layernorm kernel follows): word + position + token type 0, each an
// int8 row × its scale. One workgroup per token row of the right-padded batch [rows = batch × seq].

// Per-row scales of the three tables live in one buffer (WebGPU guarantees only 8 storage buffers per stage):
// word rows from 0, position rows from pos_off, token type rows from type_off.
struct Params { rows: u32, seq: u32, hidden: u32, pos_off: u32, type_off: u32, pad0: u32, pad1: u32, pad2: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> ids: array<u32>;
@group(0) @binding(2) var<storage, read> word_q: array<u32>;
@group(0) @binding(3) var<storage, read> pos_q: array<u32>;
@group(0) @binding(4) var<storage, read> type_q: array<u32>;
@group(0) @binding(5) var<storage, read> scales: array<f32>;
@group(0) @binding(6) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(128)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let row = wid.x + wid.y * 65535u;
    if (row >= p.rows) { return; }
    let id = ids[row];
    let pos = row % p.seq;
    let h = p.hidden;
    for (var c = lid.x; c < h; c += 128u) {
        let wi = id * h + c;
        let pi = pos * h + c;
        out[row * h + c] = i8_of(word_q[wi >> 2u], wi) * scales[id]
            + i8_of(pos_q[pi >> 2u], pi) * scales[p.pos_off + pos] + i8_of(type_q[c >> 2u], c) * scales[p.type_off];
    }
}
