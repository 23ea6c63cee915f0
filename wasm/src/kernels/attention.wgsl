// Multi-head self-attention of one query row per workgroup: softmax(q·kᵀ/√d over the row's tokens)·v. q, k, v
// and the output are [batch × seq, heads × head_dim]; pads (mask 0) are left out of every softmax, as BERT's
// additive mask of the most negative float does. Dispatch (seq, heads, batch).

struct Params { seq: u32, heads: u32, head_dim: u32, scale: f32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> q: array<f32>;
@group(0) @binding(2) var<storage, read> k: array<f32>;
@group(0) @binding(3) var<storage, read> v: array<f32>;
@group(0) @binding(4) var<storage, read> mask: array<u32>;
@group(0) @binding(5) var<storage, read_write> out: array<f32>;

const WG: u32 = 64u;
const MAX_SEQ: u32 = 512u;
const MAX_HEAD: u32 = 128u;
var<workgroup> scores: array<f32, MAX_SEQ>;
var<workgroup> qv: array<f32, MAX_HEAD>;
var<workgroup> red: array<f32, WG>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid3: vec3<u32>) {
    let i = wid.x;
    let h = wid.y;
    let b = wid.z;
    let lid = lid3.x;
    let width = p.heads * p.head_dim;
    let qrow = (b * p.seq + i) * width + h * p.head_dim;
    for (var d = lid; d < p.head_dim; d += WG) { qv[d] = q[qrow + d]; }
    workgroupBarrier();
    var mx = -3.0e38;
    for (var j = lid; j < p.seq; j += WG) {
        var s = -3.0e38;
        if (mask[b * p.seq + j] != 0u) {
            let krow = (b * p.seq + j) * width + h * p.head_dim;
            var dot = 0.0;
            for (var d = 0u; d < p.head_dim; d++) { dot = fma(qv[d], k[krow + d], dot); }
            s = dot * p.scale;
        }
        scores[j] = s;
        mx = max(mx, s);
    }
    red[lid] = mx;
    workgroupBarrier();
    for (var s = WG / 2u; s > 0u; s = s >> 1u) {
        if (lid < s) { red[lid] = max(red[lid], red[lid + s]); }
        workgroupBarrier();
    }
    let row_max = red[0];
    workgroupBarrier();
    var sum = 0.0;
    for (var j = lid; j < p.seq; j += WG) {
        var e = 0.0;
        if (mask[b * p.seq + j] != 0u) { e = exp(scores[j] - row_max); }
        scores[j] = e;
        sum += e;
    }
    red[lid] = sum;
    workgroupBarrier();
    for (var s = WG / 2u; s > 0u; s = s >> 1u) {
        if (lid < s) { red[lid] = red[lid] + red[lid + s]; }
        workgroupBarrier();
    }
    let total = max(red[0], 1e-30);
    for (var d = lid; d < p.head_dim; d += WG) {
        var acc = 0.0;
        for (var j = 0u; j < p.seq; j++) {
            acc = fma(scores[j], v[(b * p.seq + j) * width + h * p.head_dim + d], acc);
        }
        out[qrow + d] = acc / total;
    }
}
