// Shared helpers, prepended to every kernel.

// Linear workgroup index for dispatches spread over x and y (more than 65,535 groups).
fn group_index(wid: vec3<u32>, nwg: vec3<u32>) -> u32 {
    return wid.y * nwg.x + wid.x;
}

// f16 values are stored two per u32; reading them needs no shader-f16 feature.
fn half_at(words: u32, i: u32) -> f32 {
    let pair = unpack2x16float(words);
    return select(pair.x, pair.y, (i & 1u) == 1u);
}

// Sign-extended byte `k` (0..3) of a word.
fn sbyte(w: u32, k: u32) -> f32 {
    return f32(bitcast<i32>(w << (24u - 8u * k)) >> 24u);
}

// Unsigned byte `k` (0..3) of a word.
fn ubyte(w: u32, k: u32) -> u32 {
    return (w >> (8u * k)) & 0xffu;
}

// erf with |error| < 1.5e-7 (Abramowitz & Stegun 7.1.26); WGSL has no erf.
fn erf_approx(x: f32) -> f32 {
    let s = sign(x);
    let a = abs(x);
    let t = 1.0 / (1.0 + 0.3275911 * a);
    let y = 1.0 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * exp(-a * a);
    return s * y;
}
