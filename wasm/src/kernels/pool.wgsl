// Sentence embedding of each sequence: mean over its tokens (or its first token, CLS), then optional L2
// normalisation. One workgroup per sequence of the right-padded batch.

struct Params { seq: u32, hidden: u32, cls: u32, normalize: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> mask: array<u32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

const WG: u32 = 128u;
const PER: u32 = 8u;
var<workgroup> red: array<f32, WG>;

@compute @workgroup_size(128)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid3: vec3<u32>) {
    let b = wid.x;
    let lid = lid3.x;
    let h = p.hidden;
    var count = 0.0;
    for (var t = 0u; t < p.seq; t++) { count += f32(mask[b * p.seq + t]); }
    var vals: array<f32, PER>;
    var sq = 0.0;
    for (var i = 0u; i < PER; i++) {
        let c = lid + i * WG;
        var v = 0.0;
        if (c < h) {
            if (p.cls != 0u) {
                v = x[b * p.seq * h + c];
            } else {
                for (var t = 0u; t < p.seq; t++) {
                    if (mask[b * p.seq + t] != 0u) { v += x[(b * p.seq + t) * h + c]; }
                }
                v = v / max(count, 1.0);
            }
        }
        vals[i] = v;
        sq += v * v;
    }
    red[lid] = sq;
    workgroupBarrier();
    for (var s = WG / 2u; s > 0u; s = s >> 1u) {
        if (lid < s) { red[lid] = red[lid] + red[lid + s]; }
        workgroupBarrier();
    }
    var inv = 1.0;
    if (p.normalize != 0u) { inv = 1.0 / max(sqrt(red[0]), 1e-12); }
    for (var i = 0u; i < PER; i++) {
        let c = lid + i * WG;
        if (c < h) { out[b * h + c] = vals[i] * inv; }
    }
}
