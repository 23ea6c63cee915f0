// y[m, n] = epilogue(Σ_k a[m, k] · w[n, k] · scale[n] + bias[n]) for int8 weight rows w [n × k] packed four per
// u32 and a per-row (output channel) scale; f32 accumulation. Epilogue: optional exact (erf) GELU, then an
// optional residual add. Each invocation computes a 4 × 4 block of y from vec4 loads of a and unpacked int8x4
// words of w, with no workgroup memory or barriers: CPU implementations of WebGPU/Vulkan (SwiftShader, lavapipe)
// run that several times faster than a shared-memory tiling, and k is small (≤ 1536) for these encoders.
// Requires k % 4 == 0.

struct Params { m: u32, n: u32, k: u32, flags: u32 } // flags: 1 = GELU, 2 = add residual

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> w: array<u32>;
@group(0) @binding(3) var<storage, read> scale: array<f32>;
@group(0) @binding(4) var<storage, read> bias: array<f32>;
@group(0) @binding(5) var<storage, read> residual: array<f32>;
@group(0) @binding(6) var<storage, read_write> y: array<f32>;

// erf with |error| < 1.2e-7 (Numerical Recipes' erfc, Chebyshev fit).
fn erf_(x: f32) -> f32 {
    let z = abs(x);
    let t = 1.0 / (1.0 + 0.5 * z);
    let r = t * exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806
        + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
    return select(r - 1.0, 1.0 - r, x >= 0.0);
}

fn gelu(x: f32) -> f32 {
    return 0.5 * x * (1.0 + erf_(x * 0.70710678118654752));
}

fn unpack(word: u32) -> vec4<f32> {
    let v = vec4<i32>(bitcast<i32>(word << 24u), bitcast<i32>(word << 16u), bitcast<i32>(word << 8u), bitcast<i32>(word));
    return vec4<f32>(v >> vec4<u32>(24u));
}

@compute @workgroup_size(8, 8)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let m0 = gid.y * 4u;
    let n0 = gid.x * 4u;
    if (m0 >= p.m || n0 >= p.n) { return; }
    let k4 = p.k / 4u;
    // Rows past the edge read the last valid row (results discarded), so the inner loop has no branches.
    var ar: array<u32, 4>;
    var wr: array<u32, 4>;
    for (var i = 0u; i < 4u; i++) {
        ar[i] = min(m0 + i, p.m - 1u) * k4;
        wr[i] = min(n0 + i, p.n - 1u) * k4;
    }
    // Four named accumulators (not an array): dynamic indexing would put them in memory on CPU backends.
    var acc0 = vec4<f32>();
    var acc1 = vec4<f32>();
    var acc2 = vec4<f32>();
    var acc3 = vec4<f32>();
    for (var kk = 0u; kk < k4; kk++) {
        let w0 = unpack(w[wr[0] + kk]);
        let w1 = unpack(w[wr[1] + kk]);
        let w2 = unpack(w[wr[2] + kk]);
        let w3 = unpack(w[wr[3] + kk]);
        let x0 = a[ar[0] + kk];
        let x1 = a[ar[1] + kk];
        let x2 = a[ar[2] + kk];
        let x3 = a[ar[3] + kk];
        acc0 += vec4<f32>(dot(x0, w0), dot(x0, w1), dot(x0, w2), dot(x0, w3));
        acc1 += vec4<f32>(dot(x1, w0), dot(x1, w1), dot(x1, w2), dot(x1, w3));
        acc2 += vec4<f32>(dot(x2, w0), dot(x2, w1), dot(x2, w2), dot(x2, w3));
        acc3 += vec4<f32>(dot(x3, w0), dot(x3, w1), dot(x3, w2), dot(x3, w3));
    }
    let acc = array<vec4<f32>, 4>(acc0, acc1, acc2, acc3);
    for (var i = 0u; i < 4u; i++) {
        let gm = m0 + i;
        if (gm >= p.m) { break; }
        for (var j = 0u; j < 4u; j++) {
            let gn = n0 + j;
            if (gn >= p.n) { break; }
            var v = acc[i][j] * scale[gn] + bias[gn];
            if ((p.flags & 1u) != 0u) { v = gelu(v); }
            if ((p.flags & 2u) != 0u) { v += residual[gm * p.n + gn]; }
            y[gm * p.n + gn] = v;
        }
    }
}
