// y[m, n] = epilogue(Σ_k a[m, k] · w[n, k] · scale[n] + bias[n]) for int8 weight rows w [n × k] packed four per
// u32 and a per-row (output channel) scale; f32 accumulation. Epilogue: optional exact (erf) GELU, then an
// optional residual add. 64 × 64 output tiles per workgroup of 16 × 16 threads, 4 × 4 outputs per thread, the
// k dimension walked in steps of 16 through workgroup memory.

struct Params { m: u32, n: u32, k: u32, flags: u32 } // flags: 1 = GELU, 2 = add residual

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<u32>;
@group(0) @binding(3) var<storage, read> scale: array<f32>;
@group(0) @binding(4) var<storage, read> bias: array<f32>;
@group(0) @binding(5) var<storage, read> residual: array<f32>;
@group(0) @binding(6) var<storage, read_write> y: array<f32>;

const TILE: u32 = 64u;
const TK: u32 = 16u;
var<workgroup> at: array<array<f32, TK>, TILE>;
var<workgroup> wt: array<array<f32, TK>, TILE>;

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

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let m0 = wid.y * TILE;
    let n0 = wid.x * TILE;
    let tid = lid.y * 16u + lid.x;
    var acc: array<array<f32, 4>, 4>;
    for (var k0 = 0u; k0 < p.k; k0 += TK) {
        // a tile: 64 rows × 16 k, four values per thread.
        for (var i = 0u; i < 4u; i++) {
            let e = tid + i * 256u;
            let r = e / TK;
            let c = e % TK;
            let gm = m0 + r;
            let gk = k0 + c;
            var v = 0.0;
            if (gm < p.m && gk < p.k) { v = a[gm * p.k + gk]; }
            at[r][c] = v;
        }
        // w tile: 64 rows × 16 k = 256 packed words, one per thread (k is a multiple of 4).
        {
            let r = tid / 4u;
            let c = (tid % 4u) * 4u;
            let gn = n0 + r;
            let gk = k0 + c;
            if (gn < p.n && gk < p.k) {
                let word = w[(gn * p.k + gk) >> 2u];
                wt[r][c] = f32(bitcast<i32>(word << 24u) >> 24u);
                wt[r][c + 1u] = f32(bitcast<i32>(word << 16u) >> 24u);
                wt[r][c + 2u] = f32(bitcast<i32>(word << 8u) >> 24u);
                wt[r][c + 3u] = f32(bitcast<i32>(word) >> 24u);
            } else {
                wt[r][c] = 0.0;
                wt[r][c + 1u] = 0.0;
                wt[r][c + 2u] = 0.0;
                wt[r][c + 3u] = 0.0;
            }
        }
        workgroupBarrier();
        for (var kk = 0u; kk < TK; kk++) {
            var av: array<f32, 4>;
            var wv: array<f32, 4>;
            for (var i = 0u; i < 4u; i++) {
                av[i] = at[lid.y * 4u + i][kk];
                wv[i] = wt[lid.x * 4u + i][kk];
            }
            for (var i = 0u; i < 4u; i++) {
                for (var j = 0u; j < 4u; j++) {
                    acc[i][j] = fma(av[i], wv[j], acc[i][j]);
                }
            }
        }
        workgroupBarrier();
    }
    for (var i = 0u; i < 4u; i++) {
        let gm = m0 + lid.y * 4u + i;
        if (gm >= p.m) { continue; }
        for (var j = 0u; j < 4u; j++) {
            let gn = n0 + lid.x * 4u + j;
            if (gn >= p.n) { continue; }
            var v = acc[i][j] * scale[gn] + bias[gn];
            if ((p.flags & 1u) != 0u) { v = gelu(v); }
            if ((p.flags & 2u) != 0u) { v += residual[gm * p.n + gn]; }
            y[gm * p.n + gn] = v;
        }
    }
}
