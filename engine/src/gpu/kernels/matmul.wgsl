// Tiled GEMM: C[b, m, n] = sum_k A[b, m, k] * B[b, k, n], 64x64 output tile per workgroup, 4x4 per thread,
// f32 accumulation. A is f32/f16 (ATYPE 0/1) with arbitrary strides; B is either a strided float matrix
// (WTYPE 0/1) or a row-major quantized weight W[n, k] (WTYPE 2..5, B = W^T, shared by every batch).
// Batches are two nested axes (b0, b1) with their own strides, so broadcasting needs no copies.
// Params: M, N, K, B1, a_off, a_s0, a_s1, a_sm, a_sk, b_off, b_s0, b_s1, b_sk, b_sn, tiles_n, tiles_m

override ATYPE: u32 = 0u;
override WTYPE: u32 = 0u;

@group(0) @binding(0) var<storage, read> p: array<u32>;
@group(0) @binding(1) var<storage, read> a: array<u32>;
@group(0) @binding(2) var<storage, read> w: array<u32>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;

var<workgroup> ta: array<f32, 1024>; // 64 (m) x 16 (k)
var<workgroup> tb: array<f32, 1024>; // 16 (k) x 64 (n)

fn load_a(i: u32) -> f32 {
    if (ATYPE == 1u) { return half_at(a[i / 2u], i); }
    return bitcast<f32>(a[i]);
}

fn load_b(boff: u32, k: u32, n: u32) -> f32 {
    if (WTYPE >= 2u) { return w_at(p[9], n, k, p[2]); }
    let i = boff + k * p[12] + n * p[13];
    if (WTYPE == 1u) { return half_at(w[i / 2u], i); }
    return bitcast<f32>(w[i]);
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
    let M = p[0];
    let N = p[1];
    let K = p[2];
    let B1 = p[3];
    let tiles_n = p[14];
    let tiles_m = p[15];
    let g = group_index(wid, nwg);
    let tn = g % tiles_n;
    let tm = (g / tiles_n) % tiles_m;
    let batch = g / (tiles_n * tiles_m);
    let b0 = batch / B1;
    let b1 = batch % B1;
    let aoff = p[4] + b0 * p[5] + b1 * p[6];
    let boff = p[9] + b0 * p[10] + b1 * p[11];
    let row0 = tm * 64u;
    let col0 = tn * 64u;
    let tx = lid % 16u; // n direction
    let ty = lid / 16u; // m direction
    var acc: array<f32, 16>;
    for (var i = 0u; i < 16u; i = i + 1u) { acc[i] = 0.0; }
    for (var k0 = 0u; k0 < K; k0 = k0 + 16u) {
        // Each thread loads 4 values of each tile.
        for (var r = 0u; r < 4u; r = r + 1u) {
            let e = lid + r * 256u;
            let am = e / 16u;
            let ak = e % 16u;
            var va = 0.0;
            if (row0 + am < M && k0 + ak < K) {
                va = load_a(aoff + (row0 + am) * p[7] + (k0 + ak) * p[8]);
            }
            ta[e] = va;
            let bk = e / 64u;
            let bn = e % 64u;
            var vb = 0.0;
            if (k0 + bk < K && col0 + bn < N) {
                vb = load_b(boff, k0 + bk, col0 + bn);
            }
            tb[e] = vb;
        }
        workgroupBarrier();
        for (var kk = 0u; kk < 16u; kk = kk + 1u) {
            var av: array<f32, 4>;
            var bv: array<f32, 4>;
            for (var i = 0u; i < 4u; i = i + 1u) {
                av[i] = ta[(ty * 4u + i) * 16u + kk];
                bv[i] = tb[kk * 64u + tx * 4u + i];
            }
            for (var i = 0u; i < 4u; i = i + 1u) {
                for (var j = 0u; j < 4u; j = j + 1u) {
                    acc[i * 4u + j] = acc[i * 4u + j] + av[i] * bv[j];
                }
            }
        }
        workgroupBarrier();
    }
    let cbase = batch * M * N;
    for (var i = 0u; i < 4u; i = i + 1u) {
        let m = row0 + ty * 4u + i;
        for (var j = 0u; j < 4u; j = j + 1u) {
            let n = col0 + tx * 4u + j;
            if (m < M && n < N) {
                c[cbase + m * N + n] = acc[i * 4u + j];
            }
        }
    }
}
