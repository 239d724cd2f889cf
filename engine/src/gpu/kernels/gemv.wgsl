// Matrix-vector products for decode: y[m, n] = sum_k x[m, k] * W[n, k], W row-major in any weight type.
// A workgroup of 256 threads computes 4 outputs (64 threads each); each thread walks K in runs of 8 values
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

// Dot product of 8 weights of row `n` starting at k0 (a multiple of 8) with x[xbase + k0 ..].
fn dot8(n: u32, k0: u32, xbase: u32) -> f32 {
    let K = p[2];
    let off = p[3];
    var s = 0.0;
    if (WTYPE == 2u) {
        let blk = (off + n * K + k0) / 32u;
        let base = blk * 9u;
        let d = unpack2x16float(w[base]).x;
        let j = k0 % 32u;
        let w0 = w[base + 1u + j / 4u];
        let w1 = w[base + 2u + j / 4u];
        for (var i = 0u; i < 4u; i = i + 1u) {
            s = s + sbyte(w0, i) * load_x(xbase + k0 + i) + sbyte(w1, i) * load_x(xbase + k0 + 4u + i);
        }
        return d * s;
    }
    if (WTYPE == 3u && (k0 % 32u) < 16u) {
        // Q4_0 keeps values j and j+16 in one byte: runs of 8 are aligned on the low/high nibble split.
        let blk = (off + n * K + k0) / 32u;
        let base = blk * 5u;
        let d = unpack2x16float(w[base]).x;
        let j = k0 % 32u; // 0 or 8
        let q0 = w[base + 1u + j / 4u];
        let q1 = w[base + 2u + j / 4u];
        let kb = k0 - j;
        for (var i = 0u; i < 4u; i = i + 1u) {
            let b0 = ubyte(q0, i);
            let b1 = ubyte(q1, i);
            s = s + (f32(b0 & 0xfu) - 8.0) * load_x(xbase + kb + j + i)
                  + (f32(b1 & 0xfu) - 8.0) * load_x(xbase + kb + j + 4u + i)
                  + (f32(b0 >> 4u) - 8.0) * load_x(xbase + kb + 16u + j + i)
                  + (f32(b1 >> 4u) - 8.0) * load_x(xbase + kb + 16u + j + 4u + i);
        }
        return d * s;
    }
    if (WTYPE == 3u) {
        // The high half of a Q4_0 block was done together with its low half.
        return 0.0;
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
        for (var k0 = t * 8u; k0 < K; k0 = k0 + 512u) {
            s = s + dot8(n, k0, m * K);
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
