// LayerNorm of each row of `x` [rows × hidden] into `out`. One workgroup per row.

struct Params { rows: u32, hidden: u32, eps: f32, pad: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> ln: array<f32>; // gamma (hidden) then beta (hidden)
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

const WG: u32 = 128u;
const PER: u32 = 8u;
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
    let h = p.hidden;
    var vals: array<f32, PER>;
    var s = 0.0;
    for (var i = 0u; i < PER; i++) {
        let c = lid + i * WG;
        var v = 0.0;
        if (c < h) { v = x[row * h + c]; }
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
