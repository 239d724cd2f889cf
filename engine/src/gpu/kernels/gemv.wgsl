// Matrix-vector products for decode: y[m, n] = sum_k x[m, k] * W[n, k], W row-major in any weight type.
// A workgroup of 256 threads computes 4 outputs (64 threads each); each thread walks K in groups of 8 values
// so a Q4_0 word or two Q8_0 words are decoded at once. f32 accumulation, tree reduction in shared memory.
// Params: M, N, K, w_off (elements), groups_per_row

override ATYPE: u32 = 0u;
override WTYPE: u32 = 0u;

@group(0) @binding(0) var<storage, read> p: array<u32>;
@group(0) @binding(1) var<storage, read> a: array<u32>;
@group(0) @binding(2) var<storage, read> w: array<u32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;

var<workgroup> partial: array<f32, 256>;

fn load_x(i: u32) -> f32 {
    if (ATYPE == 1u) { return half_at(a[i / 2u], i); }
    return bitcast<f32>(a[i]);
}

// Dot product of the 8 weights of row `n` in group `gi` (groups of 8 values, 4 groups per 32-value block) with
// x. For F32/F16/Q8_0 a group is 8 consecutive values; for Q4_0 it is one word of nibbles: values
// 4q..4q+3 (low nibbles) and 16+4q..16+4q+3 (high nibbles) of the block, so every thread has work.
fn dot8(n: u32, gi: u32, xbase: u32, K: u32, off: u32) -> f32 {
    var s = 0.0;
    let k0 = gi * 8u;
    if (WTYPE == 2u) {
        let blk = (off + n * K) / 32u + gi / 4u;
        let base = blk * 9u;
        let d = unpack2x16float(w[base]).x;
        let q = gi % 4u;
        let w0 = w[base + 1u + 2u * q];
        let w1 = w[base + 2u + 2u * q];
        for (var i = 0u; i < 4u; i = i + 1u) {
            s = s + sbyte(w0, i) * load_x(xbase + k0 + i) + sbyte(w1, i) * load_x(xbase + k0 + 4u + i);
        }
        return d * s;
    }
    if (WTYPE == 3u) {
        let blk = (off + n * K) / 32u + gi / 4u;
        let base = blk * 5u;
        let d = unpack2x16float(w[base]).x;
        let q = gi % 4u;
        let word = w[base + 1u + q];
        let kb = (gi / 4u) * 32u + 4u * q;
        for (var i = 0u; i < 4u; i = i + 1u) {
            let b = ubyte(word, i);
            s = s + (f32(b & 0xfu) - 8.0) * load_x(xbase + kb + i)
                  + (f32(b >> 4u) - 8.0) * load_x(xbase + kb + 16u + i);
        }
        return d * s;
    }
    for (var i = 0u; i < 8u; i = i + 1u) {
        s = s + w_at(off, n, k0 + i, K) * load_x(xbase + k0 + i);
    }
    return s;
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
    let M = p[0];
    let N = p[1];
    let K = p[2];
    let g = group_index(wid, nwg);
    let per_row = p[4];
    let m = g / per_row;
    let slot = lid / 64u;
    let t = lid % 64u;
    let n = (g % per_row) * 4u + slot;
    var s = 0.0;
    if (m < M && n < N) {
        let off = p[3];
        for (var gi = t; gi * 8u < K; gi = gi + 64u) {
            s = s + dot8(n, gi, m * K, K, off);
        }
    }
    partial[lid] = s;
    workgroupBarrier();
    for (var stride = 32u; stride > 0u; stride = stride / 2u) {
        if (t < stride) {
            partial[lid] = partial[lid] + partial[lid + stride];
        }
        workgroupBarrier();
    }
    if (t == 0u && m < M && n < N) {
        y[m * N + n] = partial[lid];
    }
}
