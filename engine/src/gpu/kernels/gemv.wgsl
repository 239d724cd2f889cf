// Matrix-vector products for decode: y[m, n] = sum_k x[m, k] * W[n, k], W row-major in any weight type.
// A workgroup of 256 threads computes 4 outputs (64 threads each); the 64 threads of an output stride over
// the row's words together. f32 accumulation, tree reduction in shared memory.
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

// Values i and i + 1 (i even, so f16 activations share one word).
fn load_x2(i: u32) -> vec2<f32> {
    if (ATYPE == 1u) { return unpack2x16float(a[i / 2u]); }
    return vec2<f32>(bitcast<f32>(a[i]), bitcast<f32>(a[i + 1u]));
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
        let xbase = m * K;
        // Thread t takes words t, t + 64, ... of the row, so the 32 threads of a warp read consecutive words
        // (one coalesced load per instruction) instead of each walking its own run of values.
        if (WTYPE == 2u) {
            // Q8_0: 8 words of 4 signed bytes per block of 32 (grouped, see weights.wgsl).
            let row_block = (off + n * K) / 32u;
            for (var d = t; d < K / 4u; d = d + 64u) {
                let blk = row_block + d / 8u;
                let word = w[q8_0_code_word(blk, d % 8u)];
                let k0 = xbase + d * 4u;
                let dot = sbyte(word, 0u) * load_x(k0) + sbyte(word, 1u) * load_x(k0 + 1u)
                        + sbyte(word, 2u) * load_x(k0 + 2u) + sbyte(word, 3u) * load_x(k0 + 3u);
                s = s + q8_0_scale(blk) * dot;
            }
        } else if (WTYPE == 3u) {
            // Q4_0: 5 words per block (scale, then 4 words of nibbles; byte j holds values j and j + 16).
            let row_block = (off + n * K) / 32u;
            for (var d = t; d < K / 8u; d = d + 64u) {
                let base = (row_block + d / 4u) * 5u;
                let q = d % 4u;
                let word = w[base + 1u + q];
                let kb = xbase + (d / 4u) * 32u + 4u * q;
                var dot = 0.0;
                for (var i = 0u; i < 4u; i = i + 1u) {
                    let b = ubyte(word, i);
                    dot = dot + (f32(b & 0xfu) - 8.0) * load_x(kb + i) + (f32(b >> 4u) - 8.0) * load_x(kb + 16u + i);
                }
                s = s + unpack2x16float(w[base]).x * dot;
            }
        } else if (WTYPE == 1u && K % 2u == 0u && off % 2u == 0u) {
            // F16 a whole word at a time: each thread takes two values per load, as the f32 path takes one.
            // (One value per thread, with two threads reading each word, made the f16 product as slow as the f32
            // one: bound by instructions, not by its half as many bytes.)
            let row = (off + n * K) / 2u;
            for (var d = t; d < K / 2u; d = d + 64u) {
                s = s + dot(unpack2x16float(w[row + d]), load_x2(xbase + 2u * d));
            }
        } else if (WTYPE == 0u) {
            let row = off + n * K;
            for (var k = t; k < K; k = k + 64u) {
                s = s + bitcast<f32>(w[row + k]) * load_x(xbase + k);
            }
        } else {
            for (var k = t; k < K; k = k + 64u) {
                s = s + w_at(off, n, k, K) * load_x(xbase + k);
            }
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
