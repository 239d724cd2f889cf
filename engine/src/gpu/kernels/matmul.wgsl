// Tiled GEMM: C[b, m, n] = sum_k A[b, m, k] * B[b, k, n]; a 128 (m) x 64 (n) output tile per workgroup of 256
// threads, 8 x 4 outputs per thread held in vec4 registers, f32 accumulation. A is f32/f16 (ATYPE 0/1) with
// arbitrary strides; B is either a strided float matrix (WTYPE 0/1) or a row-major quantized weight W[n, k]
// (WTYPE 2..5, B = W^T, shared by every batch). Batches are two nested axes (b0, b1) with their own strides,
// so broadcasting needs no copies.
// Why it is shaped this way: accumulators are named vec4s, not an indexed array (an indexed local array can
// be spilled to slow memory by GPU compilers); tiles are loaded with consecutive threads on the operand's
// contiguous axis (coalesced reads of K-contiguous weights); shared rows are padded to 68 floats so the
// transposing stores do not all hit one bank; the next tile is fetched into registers while this one is
// multiplied.
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

// The launch's operand geometry, set once at the top of `main` (module-scope so the helpers below need no
// dozen parameters).
var<private> dims_m: u32;
var<private> dims_n: u32;
var<private> dims_k: u32;
var<private> a_base: u32;
var<private> a_sm: u32;
var<private> a_sk: u32;
var<private> b_base: u32;
var<private> b_sk: u32;
var<private> b_sn: u32;
var<private> row0: u32;
var<private> col0: u32;

fn load_a(i: u32) -> f32 {
    if (ATYPE == 1u) { return half_at(a[i / 2u], i); }
    return bitcast<f32>(a[i]);
}

fn load_b(k: u32, n: u32) -> f32 {
    if (WTYPE >= 2u) { return w_at(b_base, n, k, dims_k); }
    let i = b_base + k * b_sk + n * b_sn;
    if (WTYPE == 1u) { return half_at(w[i / 2u], i); }
    return bitcast<f32>(w[i]);
}

// Tile coordinates (m, k) of the e-th value of an A tile: consecutive threads walk the operand's contiguous axis.
fn a_coords(e: u32) -> vec2<u32> {
    if (a_sk == 1u) { return vec2<u32>(e / BK, e % BK); }
    return vec2<u32>(e % BM, e / BM);
}

// Tile coordinates (n, k) of the e-th value of a B tile.
fn b_coords(e: u32) -> vec2<u32> {
    if (WTYPE >= 2u || b_sk == 1u) { return vec2<u32>(e / BK, e % BK); }
    return vec2<u32>(e % BN, e / BN);
}

fn fetch_a(e: u32, k0: u32) -> f32 {
    let at = a_coords(e);
    if (row0 + at.x < dims_m && k0 + at.y < dims_k) {
        return load_a(a_base + (row0 + at.x) * a_sm + (k0 + at.y) * a_sk);
    }
    return 0.0;
}

fn fetch_b(e: u32, k0: u32) -> f32 {
    let at = b_coords(e);
    if (k0 + at.y < dims_k && col0 + at.x < dims_n) {
        return load_b(k0 + at.y, col0 + at.x);
    }
    return 0.0;
}

fn stash_a(e: u32, v: f32) {
    let at = a_coords(e);
    ta[at.y * ROW_A + at.x / 4u][at.x % 4u] = v;
}

fn stash_b(e: u32, v: f32) {
    let at = b_coords(e);
    tb[at.y * ROW_B + at.x / 4u][at.x % 4u] = v;
}

// The 8 values of A and 4 of B this thread loads for the tile at k0 (thread lid takes values lid + 256 r).
fn fetch_a_lo(lid: u32, k0: u32) -> vec4<f32> {
    return vec4<f32>(fetch_a(lid, k0), fetch_a(lid + 256u, k0), fetch_a(lid + 512u, k0), fetch_a(lid + 768u, k0));
}

fn fetch_a_hi(lid: u32, k0: u32) -> vec4<f32> {
    return vec4<f32>(fetch_a(lid + 1024u, k0), fetch_a(lid + 1280u, k0), fetch_a(lid + 1536u, k0),
                     fetch_a(lid + 1792u, k0));
}

fn fetch_b4(lid: u32, k0: u32) -> vec4<f32> {
    return vec4<f32>(fetch_b(lid, k0), fetch_b(lid + 256u, k0), fetch_b(lid + 512u, k0), fetch_b(lid + 768u, k0));
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
    dims_m = p[0];
    dims_n = p[1];
    dims_k = p[2];
    let B1 = p[3];
    a_sm = p[7];
    a_sk = p[8];
    b_sk = p[12];
    b_sn = p[13];
    let tiles_n = p[14];
    let tiles_m = p[15];
    let g = group_index(wid, nwg);
    let tn = g % tiles_n;
    let tm = (g / tiles_n) % tiles_m;
    let batch = g / (tiles_n * tiles_m);
    let b0 = batch / B1;
    let b1 = batch % B1;
    a_base = p[4] + b0 * p[5] + b1 * p[6];
    b_base = p[9] + b0 * p[10] + b1 * p[11];
    if (WTYPE >= 2u) { b_base = p[9]; }
    row0 = tm * BM;
    col0 = tn * BN;
    // The loop bound is read from the params, not the private copy: barriers need provably uniform control flow.
    let K = p[2];
    let tx = lid % 16u; // 4 columns each
    let ty = lid / 16u; // 8 rows each
    var acc0 = vec4<f32>(0.0);
    var acc1 = vec4<f32>(0.0);
    var acc2 = vec4<f32>(0.0);
    var acc3 = vec4<f32>(0.0);
    var acc4 = vec4<f32>(0.0);
    var acc5 = vec4<f32>(0.0);
    var acc6 = vec4<f32>(0.0);
    var acc7 = vec4<f32>(0.0);
    // The next tile's values are loaded into registers before the current tile is multiplied, so global
    // memory latency overlaps the arithmetic instead of stalling between the two barriers.
    var next_a_lo = fetch_a_lo(lid, 0u);
    var next_a_hi = fetch_a_hi(lid, 0u);
    var next_b = fetch_b4(lid, 0u);
    for (var k0 = 0u; k0 < K; k0 = k0 + BK) {
        stash_a(lid, next_a_lo.x);
        stash_a(lid + 256u, next_a_lo.y);
        stash_a(lid + 512u, next_a_lo.z);
        stash_a(lid + 768u, next_a_lo.w);
        stash_a(lid + 1024u, next_a_hi.x);
        stash_a(lid + 1280u, next_a_hi.y);
        stash_a(lid + 1536u, next_a_hi.z);
        stash_a(lid + 1792u, next_a_hi.w);
        stash_b(lid, next_b.x);
        stash_b(lid + 256u, next_b.y);
        stash_b(lid + 512u, next_b.z);
        stash_b(lid + 768u, next_b.w);
        workgroupBarrier();
        if (k0 + BK < K) {
            next_a_lo = fetch_a_lo(lid, k0 + BK);
            next_a_hi = fetch_a_hi(lid, k0 + BK);
            next_b = fetch_b4(lid, k0 + BK);
        }
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
    let M = dims_m;
    let N = dims_n;
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
