// BERT embeddings: word + position + token type 0 (int8 rows × per-row scale), then LayerNorm. One workgroup
// per token row of the right-padded batch [rows = batch × seq].

// Per-row scales of the three tables live in one buffer (WebGPU guarantees only 8 storage buffers per stage):
// word rows from 0, position rows from pos_off, token type rows from type_off.
struct Params { rows: u32, seq: u32, hidden: u32, eps: f32, pos_off: u32, type_off: u32, pad0: u32, pad1: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> ids: array<u32>;
@group(0) @binding(2) var<storage, read> word_q: array<u32>;
@group(0) @binding(3) var<storage, read> pos_q: array<u32>;
@group(0) @binding(4) var<storage, read> type_q: array<u32>;
@group(0) @binding(5) var<storage, read> scales: array<f32>;
@group(0) @binding(6) var<storage, read> ln: array<f32>; // gamma (hidden) then beta (hidden)
@group(0) @binding(7) var<storage, read_write> out: array<f32>;

const WG: u32 = 128u;
const PER: u32 = 8u; // hidden ≤ WG × PER
var<workgroup> red: array<f32, WG>;

fn wg_sum(lid: u32, v: f32) -> f32 {
    red[lid] = v;
    workgroupBarrier();
    for (var s = WG / 2u; s > 0u; s = s >> 1u) {
        if (lid < s) { red[lid] = red[lid] + red[lid + s]; }
        workgroupBarrier();
    }
    let total = red[0];
    workgroupBarrier();
    return total;
}

@compute @workgroup_size(128)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid3: vec3<u32>) {
    let row = wid.x + wid.y * 65535u;
    let lid = lid3.x;
    if (row >= p.rows) { return; }
    let id = ids[row];
    let pos = row % p.seq;
    let h = p.hidden;
    var vals: array<f32, PER>;
    var s = 0.0;
    for (var i = 0u; i < PER; i++) {
        let c = lid + i * WG;
        var v = 0.0;
        if (c < h) {
            let wi = id * h + c;
            let pi = pos * h + c;
            v = i8_of(word_q[wi >> 2u], wi) * scales[id] + i8_of(pos_q[pi >> 2u], pi) * scales[p.pos_off + pos]
                + i8_of(type_q[c >> 2u], c) * scales[p.type_off];
        }
        vals[i] = v;
        s += v;
    }
    let mean = wg_sum(lid, s) / f32(h);
    var q = 0.0;
    for (var i = 0u; i < PER; i++) {
        let c = lid + i * WG;
        if (c < h) { let d = vals[i] - mean; q += d * d; }
    }
    let inv = 1.0 / sqrt(wg_sum(lid, q) / f32(h) + p.eps);
    for (var i = 0u; i < PER; i++) {
        let c = lid + i * WG;
        if (c < h) { out[row * h + c] = (vals[i] - mean) * inv * ln[c] + ln[h + c]; }
    }
}
