// Matrix-vector products for decode with Q8_0/Q4_0 weights: y[m, n] = sum_k x[m, k] * W[n, k].
// As llama.cpp does and as our CPU path does, the activation row is quantized to 8-bit blocks of 32 (one f32
// scale per block, codes rounded half away from zero), so each block product is a few packed 4 x i8 integer
// dot products (dot4I8Packed) scaled once: far fewer instructions per weight byte than decoding every weight
// to f32, which is what lets a memory-bound kernel keep up with the memory.
// Each workgroup quantizes its activation row into shared memory itself (one dispatch, no scratch buffer),
// then TPR threads share an output row and take one block per loop trip (consecutive threads, consecutive
// blocks, so a warp's weight loads are contiguous); 256 / TPR rows per workgroup, and each row's partial sums
// meet in a shared-memory tree. Rows of up to MAX_BLOCKS blocks (K = 11,264); longer ones use gemv.wgsl.
// Repacked weight blocks (repack.rs): Q8_0 is 9 words (f16 scale in the low half, then 32 signed bytes);
// Q4_0 is 5 words (scale, then 16 bytes whose byte j holds values j and j + 16 as nibbles).
// Params: M, N, K, w_off (elements, whole blocks), row_groups (workgroups per activation row)

override ATYPE: u32 = 0u;
override WTYPE: u32 = 2u;
override TPR: u32 = 64u;

const MAX_BLOCKS: u32 = 352u;

@group(0) @binding(0) var<storage, read> p: array<u32>;
@group(0) @binding(1) var<storage, read> a: array<u32>;
@group(0) @binding(2) var<storage, read> w: array<u32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;

var<workgroup> partial: array<f32, 256>;
// Codes: word j (values 4j..4j+3) of block b at j * nb + b, so threads reading word j of consecutive blocks
// hit consecutive banks; then the block scales at 8 nb + b.
var<workgroup> xs: array<u32, 3168>; // 9 * MAX_BLOCKS
// Block maxima of |x| as f32 bits (non-negative floats order like their bits, so atomicMax works on u32).
var<workgroup> amax_bits: array<atomic<u32>, 352>;

fn load4(i: u32) -> vec4<f32> {
    if (ATYPE == 1u) {
        let lo = unpack2x16float(a[i / 2u]);
        let hi = unpack2x16float(a[i / 2u + 1u]);
        return vec4<f32>(lo, hi);
    }
    return vec4<f32>(bitcast<f32>(a[i]), bitcast<f32>(a[i + 1u]), bitcast<f32>(a[i + 2u]), bitcast<f32>(a[i + 3u]));
}

// Quantizes activation row m (nb blocks) into `xs`. Part i is four values: word i % 8 of block i / 8.
fn quantize_row(x0: u32, nb: u32, lid: u32) {
    for (var b = lid; b < nb; b = b + 256u) {
        atomicStore(&amax_bits[b], 0u);
    }
    workgroupBarrier();
    let parts = nb * 8u;
    for (var i = lid; i < parts; i = i + 256u) {
        let v = abs(load4(x0 + 4u * i));
        atomicMax(&amax_bits[i / 8u], bitcast<u32>(max(max(v.x, v.y), max(v.z, v.w))));
    }
    workgroupBarrier();
    for (var i = lid; i < parts; i = i + 256u) {
        let b = i / 8u;
        let j = i % 8u;
        let d = bitcast<f32>(atomicLoad(&amax_bits[b])) / 127.0;
        let id = select(0.0, 1.0 / d, d > 0.0);
        let t = load4(x0 + 4u * i) * id;
        let bytes = bitcast<vec4<u32>>(vec4<i32>(sign(t) * floor(abs(t) + 0.5))) & vec4<u32>(0xffu);
        xs[j * nb + b] = bytes.x | (bytes.y << 8u) | (bytes.z << 16u) | (bytes.w << 24u);
        if (j == 0u) {
            xs[8u * nb + b] = bitcast<u32>(d);
        }
    }
    workgroupBarrier();
}

// Nibbles 0..15 of each byte as signed bytes q - 8: set bit 7, subtract 8 (no byte borrows from its
// neighbour, every byte is at least 128), flip bit 7 back.
fn centered_nibbles(n: u32) -> u32 {
    return ((n | 0x80808080u) - 0x08080808u) ^ 0x80808080u;
}

// Σ w·x over block b of the weight row whose first block is `wrow`.
fn block_product(wrow: u32, nb: u32, b: u32) -> f32 {
    var isum = 0i;
    var wd: f32;
    if (WTYPE == 2u) {
        let base = (wrow + b) * 9u;
        wd = unpack2x16float(w[base]).x;
        for (var j = 0u; j < 8u; j = j + 1u) {
            isum = isum + dot4I8Packed(w[base + 1u + j], xs[j * nb + b]);
        }
    } else {
        let base = (wrow + b) * 5u;
        wd = unpack2x16float(w[base]).x;
        for (var j = 0u; j < 4u; j = j + 1u) {
            let word = w[base + 1u + j];
            isum = isum + dot4I8Packed(centered_nibbles(word & 0x0f0f0f0fu), xs[j * nb + b])
                        + dot4I8Packed(centered_nibbles((word >> 4u) & 0x0f0f0f0fu), xs[(j + 4u) * nb + b]);
        }
    }
    return wd * bitcast<f32>(xs[8u * nb + b]) * f32(isum);
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
    let M = p[0];
    let N = p[1];
    let K = p[2];
    let nb = K / 32u;
    let row_groups = p[4];
    let g = group_index(wid, nwg);
    let m = g / row_groups;
    let slot = lid / TPR;
    let t = lid % TPR;
    let n = (g % row_groups) * (256u / TPR) + slot;
    if (m >= M) { return; } // whole workgroup: the barriers below stay uniform
    quantize_row(m * K, nb, lid);
    var s = 0.0;
    if (n < N) {
        let wrow = p[3] / 32u + n * nb;
        // Two blocks per trip: both sets of loads are in flight before either product needs them.
        var b = t;
        for (; b + TPR < nb; b = b + 2u * TPR) {
            s = s + block_product(wrow, nb, b) + block_product(wrow, nb, b + TPR);
        }
        if (b < nb) {
            s = s + block_product(wrow, nb, b);
        }
    }
    partial[lid] = s;
    workgroupBarrier();
    for (var stride = TPR / 2u; stride > 0u; stride = stride / 2u) {
        if (t < stride) {
            partial[lid] = partial[lid] + partial[lid + stride];
        }
        workgroupBarrier();
    }
    if (t == 0u && n < N) {
        y[m * N + n] = partial[lid];
    }
}
