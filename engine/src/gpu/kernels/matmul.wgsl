// Tiled GEMM: C[b, m, n] = sum_k A[b, m, k] * B[b, k, n]; a 128 (m) x 64 (n) output tile per workgroup of 256
// threads, 8 x 4 outputs per thread held in vec4 registers, f32 accumulation. A is f32/f16 (ATYPE 0/1) with
// arbitrary strides; B is either a strided float matrix (WTYPE 0/1) or a row-major quantized weight W[n, k]
// (WTYPE 2..5, B = W^T, shared by every batch). Batches are two nested axes (b0, b1) with their own strides,
// so broadcasting needs no copies.
// Why it is shaped this way: accumulators are named vec4s, not an indexed array (an indexed local array can
// be spilled to slow memory by GPU compilers); tiles are loaded with consecutive threads on the operand's
// contiguous axis (coalesced reads of K-contiguous weights); shared rows are padded to 68 floats so the
// transposing stores do not all hit one bank.
// Params: M, N, K, B1, a_off, a_s0, a_s1, a_sm, a_sk, b_off, b_s0, b_s1, b_sk, b_sn, tiles_n, tiles_m

override ATYPE: u32 = 0u;
override WTYPE: u32 = 0u;

@group(0) @binding(0) var<storage, read> p: array<u32>;
@group(0) @binding(1) var<storage, read> a: array<u32>;
@group(0) @binding(2) var<storage, read> w: array<u32>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;

const BM: u32 = 128u;
const BN: u32 = 64u;
const BK: u32 = 16u;
// Padded shared-memory row lengths, in vec4s (k-major: row kk holds the tile's m or n values at that k).
const ROW_A: u32 = 33u; // 128 / 4 + 1
const ROW_B: u32 = 17u; // 64 / 4 + 1

var<workgroup> ta: array<vec4<f32>, 528>; // BK x ROW_A
var<workgroup> tb: array<vec4<f32>, 272>; // BK x ROW_B

fn load_a(i: u32) -> f32 {
    if (ATYPE == 1u) { return half_at(a[i / 2u], i); }
    return bitcast<f32>(a[i]);
}

fn load_b(boff: u32, k: u32, n: u32, K: u32, b_sk: u32, b_sn: u32) -> f32 {
    if (WTYPE >= 2u) { return w_at(boff, n, k, K); }
    let i = boff + k * b_sk + n * b_sn;
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
    let a_sm = p[7];
    let a_sk = p[8];
    let b_sk = p[12];
    let b_sn = p[13];
    let tiles_n = p[14];
    let tiles_m = p[15];
    let g = group_index(wid, nwg);
    let tn = g % tiles_n;
    let tm = (g / tiles_n) % tiles_m;
    let batch = g / (tiles_n * tiles_m);
    let b0 = batch / B1;
    let b1 = batch % B1;
    let aoff = p[4] + b0 * p[5] + b1 * p[6];
    var boff = p[9] + b0 * p[10] + b1 * p[11];
    if (WTYPE >= 2u) { boff = p[9]; }
    let row0 = tm * BM;
    let col0 = tn * BN;
    let tx = lid % 16u; // 4 columns each
    let ty = lid / 16u; // 8 rows each
    // Which operand axis the tile loads walk first: the contiguous one.
    let a_k_fast = a_sk == 1u;
    let b_k_fast = WTYPE >= 2u || b_sk == 1u;
    var acc0 = vec4<f32>(0.0);
    var acc1 = vec4<f32>(0.0);
    var acc2 = vec4<f32>(0.0);
    var acc3 = vec4<f32>(0.0);
    var acc4 = vec4<f32>(0.0);
    var acc5 = vec4<f32>(0.0);
    var acc6 = vec4<f32>(0.0);
    var acc7 = vec4<f32>(0.0);
    for (var k0 = 0u; k0 < K; k0 = k0 + BK) {
        // A tile: 128 x 16 values, 8 per thread.
        for (var r = 0u; r < 8u; r = r + 1u) {
            let e = lid + r * 256u;
            var am = e / BK;
            var ak = e % BK;
            if (!a_k_fast) {
                am = e % BM;
                ak = e / BM;
            }
            var va = 0.0;
            if (row0 + am < M && k0 + ak < K) {
                va = load_a(aoff + (row0 + am) * a_sm + (k0 + ak) * a_sk);
            }
            ta[ak * ROW_A + am / 4u][am % 4u] = va;
        }
        // B tile: 16 x 64 values, 4 per thread.
        for (var r = 0u; r < 4u; r = r + 1u) {
            let e = lid + r * 256u;
            var bn = e / BK;
            var bk = e % BK;
            if (!b_k_fast) {
                bn = e % BN;
                bk = e / BN;
            }
            var vb = 0.0;
            if (k0 + bk < K && col0 + bn < N) {
                vb = load_b(boff, k0 + bk, col0 + bn, K, b_sk, b_sn);
            }
            tb[bk * ROW_B + bn / 4u][bn % 4u] = vb;
        }
        workgroupBarrier();
        for (var kk = 0u; kk < BK; kk = kk + 1u) {
            let lo = ta[kk * ROW_A + ty * 2u];
            let hi = ta[kk * ROW_A + ty * 2u + 1u];
            let b4 = tb[kk * ROW_B + tx];
            acc0 = fma(vec4<f32>(lo.x), b4, acc0);
            acc1 = fma(vec4<f32>(lo.y), b4, acc1);
            acc2 = fma(vec4<f32>(lo.z), b4, acc2);
            acc3 = fma(vec4<f32>(lo.w), b4, acc3);
            acc4 = fma(vec4<f32>(hi.x), b4, acc4);
            acc5 = fma(vec4<f32>(hi.y), b4, acc5);
            acc6 = fma(vec4<f32>(hi.z), b4, acc6);
            acc7 = fma(vec4<f32>(hi.w), b4, acc7);
        }
        workgroupBarrier();
    }
    let cbase = batch * M * N;
    let m0 = row0 + ty * 8u;
    let n0 = col0 + tx * 4u;
    store_row(cbase, m0, n0, M, N, acc0);
    store_row(cbase, m0 + 1u, n0, M, N, acc1);
    store_row(cbase, m0 + 2u, n0, M, N, acc2);
    store_row(cbase, m0 + 3u, n0, M, N, acc3);
    store_row(cbase, m0 + 4u, n0, M, N, acc4);
    store_row(cbase, m0 + 5u, n0, M, N, acc5);
    store_row(cbase, m0 + 6u, n0, M, N, acc6);
    store_row(cbase, m0 + 7u, n0, M, N, acc7);
}

fn store_row(cbase: u32, m: u32, n0: u32, M: u32, N: u32, v: vec4<f32>) {
    if (m >= M) { return; }
    for (var j = 0u; j < 4u; j = j + 1u) {
        if (n0 + j < N) {
            c[cbase + m * N + n0 + j] = v[j];
        }
    }
}
