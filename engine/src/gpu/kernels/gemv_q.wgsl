// Matrix-vector products for decode with Q8_0/Q4_0 weights: y[m, n] = sum_k x[m, k] * W[n, k].
// As llama.cpp does and as our CPU path does, the activation row is quantized to 8-bit blocks of 32 (one f32
// scale per block, codes rounded half away from zero), so each block product is a few packed 4 x i8 integer
// dot products (dot4I8Packed) scaled once: far fewer instructions per weight byte than decoding every weight
// to f32, which is what lets a memory-bound kernel keep up with the memory.
// Each workgroup quantizes its activation row into shared memory itself (one dispatch, no scratch buffer),
// then TPR threads share an output row and take one block per loop trip (consecutive threads, consecutive
// blocks, so a warp's weight loads are contiguous); 256 / TPR rows per workgroup, and each row's partial sums
// meet in a shared-memory tree. TPR is chosen per shape (matmul.rs gemv_q_threads_per_row): a few long rows
// need more threads each to keep enough weight loads in flight. Rows of up to MAX_BLOCKS blocks
// (K = 11,264); longer ones use gemv.wgsl.
// Repacked weight blocks (repack.rs). Q8_0 goes in groups of eight blocks, read as 16-byte vectors (`w`): 17
// per group, vector j block j's first 16 signed bytes, vector 8 + j its last 16, vector 16 the eight f16
// scales. So a thread loads a block in three 16-byte loads, and eight threads on eight blocks of a group read
// 128 contiguous bytes per load (9-word blocks took nine strided 4-byte loads each). Q4_0 is 5 words per
// block, read as words (`wq`, the same buffer): the scale, then 16 bytes whose byte i holds values i and
// i + 16 as nibbles. (Grouping Q4_0 the same way measured slower: BENCHMARKS.md, session 8.)
// Params: M, N, K, w_off (elements, whole blocks), row_groups (of 256 / TPR rows), passes (row groups per
// workgroup)

override ATYPE: u32 = 0u;
override WTYPE: u32 = 2u;
// Threads per output row: 8, 16 or 32.
override TPR: u32 = 8u;

const MAX_BLOCKS: u32 = 352u;

@group(0) @binding(0) var<storage, read> p: array<u32>;
@group(0) @binding(1) var<storage, read> a: array<u32>;
@group(0) @binding(2) var<storage, read> w: array<vec4<u32>>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<storage, read> wq: array<u32>;

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

// One weight block: the word holding its f16 scale and which half, then its codes (Q8_0: 8 words, Q4_0: 4
// words in q0). The scale stays packed until the product: unpacking it here would make every fetch ahead wait
// for its load (that cost Q4_0 10-30%, measured; Q8_0 must pick its word out of a vector here regardless).
struct Block {
    d_word: u32,
    d_half: u32,
    q0: vec4<u32>,
    q1: vec4<u32>,
}

fn fetch_block(wrow: u32, b: u32) -> Block {
    var blk: Block;
    let index = wrow + b;
    if (WTYPE == 2u) {
        let j = index % 8u;
        let base = (index / 8u) * 17u;
        blk.q0 = w[base + j];
        blk.q1 = w[base + 8u + j];
        blk.d_word = w[base + 16u][j / 2u];
        blk.d_half = j % 2u;
    } else {
        let base = index * 5u;
        blk.d_word = wq[base];
        blk.d_half = 0u;
        blk.q0 = vec4<u32>(wq[base + 1u], wq[base + 2u], wq[base + 3u], wq[base + 4u]);
    }
    return blk;
}

// Σ w·x over block b of the row: integer dot products with the quantized activations, then both scales.
fn block_product(blk: Block, nb: u32, b: u32) -> f32 {
    var isum = 0i;
    if (WTYPE == 2u) {
        isum = dot4I8Packed(blk.q0.x, xs[b]) + dot4I8Packed(blk.q0.y, xs[nb + b])
             + dot4I8Packed(blk.q0.z, xs[2u * nb + b]) + dot4I8Packed(blk.q0.w, xs[3u * nb + b])
             + dot4I8Packed(blk.q1.x, xs[4u * nb + b]) + dot4I8Packed(blk.q1.y, xs[5u * nb + b])
             + dot4I8Packed(blk.q1.z, xs[6u * nb + b]) + dot4I8Packed(blk.q1.w, xs[7u * nb + b]);
    } else {
        for (var j = 0u; j < 4u; j = j + 1u) {
            let word = blk.q0[j];
            isum = isum + dot4I8Packed(centered_nibbles(word & 0x0f0f0f0fu), xs[j * nb + b])
                        + dot4I8Packed(centered_nibbles((word >> 4u) & 0x0f0f0f0fu), xs[(j + 4u) * nb + b]);
        }
    }
    return unpack2x16float(blk.d_word)[blk.d_half] * bitcast<f32>(xs[8u * nb + b]) * f32(isum);
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
    let M = p[0];
    let N = p[1];
    let K = p[2];
    let nb = K / 32u;
    let row_groups = p[4];
    let passes = p[5];
    let groups = (row_groups + passes - 1u) / passes;
    let g = group_index(wid, nwg);
    let m = g / groups;
    let slot = lid / TPR;
    let t = lid % TPR;
    if (m >= M) { return; } // whole workgroup: the barriers below stay uniform
    quantize_row(m * K, nb, lid);
    // Each workgroup computes `passes` consecutive row groups, so one quantization of the activations
    // serves many rows (quantizing anew for every few rows cost more than reading their weights).
    let first_group = (g % groups) * passes;
    for (var i = 0u; i < passes; i = i + 1u) {
        let n = (first_group + i) * (256u / TPR) + slot;
        var s = 0.0;
        if (n < N) {
            let wrow = p[3] / 32u + n * nb;
            // Software pipelining: the blocks of the next trip are fetched before this trip's products, so
            // each thread keeps two blocks' loads in flight while it computes.
            var b = t;
            var cur0 = fetch_block(wrow, min(b, nb - 1u));
            var cur1 = fetch_block(wrow, min(b + TPR, nb - 1u));
            for (; b < nb; b = b + 2u * TPR) {
                let ahead = b + 2u * TPR;
                let next0 = fetch_block(wrow, min(ahead, nb - 1u));
                let next1 = fetch_block(wrow, min(ahead + TPR, nb - 1u));
                s = s + block_product(cur0, nb, b);
                if (b + TPR < nb) {
                    s = s + block_product(cur1, nb, b + TPR);
                }
                cur0 = next0;
                cur1 = next1;
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
        workgroupBarrier();
    }
}
