// Multi-head self-attention, one invocation per (token row, head): softmax(q·kᵀ/√d over the row's tokens)·v in a
// single pass with the running-max (online) softmax, so no score row is stored and no barrier is needed. q, k, v
// and the output are [batch × seq, heads × head_dim] viewed as vec4s (head_dim % 4 == 0, ≤ 128); pads (mask 0)
// are left out of every softmax, as BERT's additive mask of the most negative float does. D4 (head_dim / 4) is
// substituted when the model is loaded, so that the loops over a head unroll and q, acc stay in registers.

struct Params { seq: u32, heads: u32, head_dim: u32, scale: f32, rows: u32, pad0: u32, pad1: u32, pad2: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> q: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> k: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> v: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read> mask: array<u32>;
@group(0) @binding(5) var<storage, read_write> out: array<vec4<f32>>;

const D4: u32 = D4_VALUE;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let id = gid.x + gid.y * 65535u * 64u;
    if (id >= p.rows * p.heads) { return; }
    let row = id / p.heads;
    let h = id % p.heads;
    let b = row / p.seq;
    let d4 = D4;
    let width4 = p.heads * d4;
    let qbase = row * width4 + h * d4;
    var qv: array<vec4<f32>, D4>;
    var acc: array<vec4<f32>, D4>;
    for (var d = 0u; d < d4; d++) { qv[d] = q[qbase + d] * p.scale; }
    var mx = -3.0e38;
    var total = 0.0;
    for (var j = 0u; j < p.seq; j++) {
        let key = b * p.seq + j;
        if (mask[key] == 0u) { continue; }
        let kbase = key * width4 + h * d4;
        var s = 0.0;
        for (var d = 0u; d < d4; d++) { s += dot(qv[d], k[kbase + d]); }
        let m_new = max(mx, s);
        let corr = exp(mx - m_new);
        let e = exp(s - m_new);
        total = total * corr + e;
        for (var d = 0u; d < d4; d++) { acc[d] = acc[d] * corr + e * v[kbase + d]; }
        mx = m_new;
    }
    let inv = 1.0 / max(total, 1e-30);
    for (var d = 0u; d < d4; d++) { out[qbase + d] = acc[d] * inv; }
}
