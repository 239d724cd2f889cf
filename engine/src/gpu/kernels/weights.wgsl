// Reading one weight value from a row-major [rows, K] matrix in any storage type; prepended to kernels that
// declare `w: array<u32>` and `override WTYPE: u32`.
// WTYPE: 0 = f32, 1 = f16, 2 = Q8_0, 3 = Q4_0, 4 = Q4_K, 5 = Q6_K (blocks repacked into words, see repack.rs).
// `off` is the tensor's start in elements (a whole number of blocks for quantized types).

// Q8_0 blocks go in groups of eight (68 words, repack.rs): codes first, then the eight f16 scales.
// Word `i` (0..7) of block `blk`'s codes: words 0..3 in the group's first 32 words, 4..7 in the next 32.
fn q8_0_code_word(blk: u32, i: u32) -> u32 {
    return (blk / 8u) * 68u + (i / 4u) * 32u + (blk % 8u) * 4u + i % 4u;
}

fn q8_0_scale(blk: u32) -> f32 {
    return unpack2x16float(w[(blk / 8u) * 68u + 64u + (blk % 8u) / 2u])[blk % 2u];
}

fn wbyte(base: u32, byte: u32) -> u32 {
    return ubyte(w[base + byte / 4u], byte % 4u);
}

fn w_at(off: u32, row: u32, k: u32, kdim: u32) -> f32 {
    if (WTYPE == 0u) { return bitcast<f32>(w[off + row * kdim + k]); }
    if (WTYPE == 1u) {
        let e = off + row * kdim + k;
        return half_at(w[e / 2u], e);
    }
    if (WTYPE == 2u) {
        let blk = (off + row * kdim + k) / 32u;
        let j = k % 32u;
        return q8_0_scale(blk) * sbyte(w[q8_0_code_word(blk, j / 4u)], j % 4u);
    }
    if (WTYPE == 3u) {
        let blk = (off + row * kdim + k) / 32u;
        let j = k % 32u;
        let base = blk * 5u;
        let d = unpack2x16float(w[base]).x;
        let byte = wbyte(base + 1u, j % 16u);
        let nib = select(byte & 0xfu, byte >> 4u, j >= 16u);
        return d * (f32(nib) - 8.0);
    }
    if (WTYPE == 4u) {
        let blk = (off + row * kdim + k) / 256u;
        let j = k % 256u;
        let base = blk * 36u;
        let dd = unpack2x16float(w[base]);
        let sb = (j / 64u) * 2u + select(0u, 1u, (j % 64u) >= 32u);
        var sc: u32;
        var mn: u32;
        // scales live at bytes 4..16 of the block (word 1..3)
        if (sb < 4u) {
            sc = wbyte(base + 1u, sb) & 63u;
            mn = wbyte(base + 1u, sb + 4u) & 63u;
        } else {
            sc = (wbyte(base + 1u, sb + 4u) & 0xfu) | ((wbyte(base + 1u, sb - 4u) >> 6u) << 4u);
            mn = (wbyte(base + 1u, sb + 4u) >> 4u) | ((wbyte(base + 1u, sb) >> 6u) << 4u);
        }
        let q = wbyte(base + 4u, (j / 64u) * 32u + j % 32u);
        let nib = select(q & 0xfu, q >> 4u, (j % 64u) >= 32u);
        return dd.x * f32(sc) * f32(nib) - dd.y * f32(mn);
    }
    // Q6_K
    let blk = (off + row * kdim + k) / 256u;
    let j = k % 256u;
    let base = blk * 53u;
    let half = j / 128u;
    let r = j % 128u;
    let quarter = r / 32u;
    let l = r % 32u;
    let ql = wbyte(base, half * 64u + l + (quarter & 1u) * 32u);
    let lo = select(ql & 0xfu, ql >> 4u, quarter >= 2u);
    let qh = (wbyte(base, 128u + half * 32u + l) >> (quarter * 2u)) & 3u;
    let q = f32(lo | (qh << 4u)) - 32.0;
    let scb = wbyte(base, 192u + half * 8u + l / 16u + quarter * 2u);
    let sc = f32(bitcast<i32>(scb << 24u) >> 24u);
    let d = unpack2x16float(w[base + 52u]).x;
    return d * sc * q;
}
