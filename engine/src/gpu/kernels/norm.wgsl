// Layer norm (MODE 0) or RMS norm (MODE 1) over rows of a contiguous [rows, L] f32 tensor, with an optional
// per-channel weight and bias. Group norm reuses it: rows = N * G, L = (C / G) * S, and the channel of
// element j of row r is ((r % G) * L + j) / S.
// Params: rows, L, eps (f32 bits), has_weight, has_bias, G, S

override MODE: u32 = 0u;

@group(0) @binding(0) var<storage, read> p: array<u32>;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> wt: array<f32>;
@group(0) @binding(3) var<storage, read> bs: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;

var<workgroup> red: array<f32, 256>;

fn reduce_sum(v: f32, lid: u32) -> f32 {
    red[lid] = v;
    workgroupBarrier();
    for (var s = 128u; s > 0u; s = s / 2u) {
        if (lid < s) { red[lid] = red[lid] + red[lid + s]; }
        workgroupBarrier();
    }
    let total = red[0];
    workgroupBarrier();
    return total;
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
    let row = group_index(wid, nwg);
    let rows = p[0];
    let L = p[1];
    let eps = bitcast<f32>(p[2]);
    let live = row < rows;
    let base = row * L;
    var mean = 0.0;
    if (MODE == 0u) {
        var s = 0.0;
        if (live) {
            for (var i = lid; i < L; i = i + 256u) { s = s + x[base + i]; }
        }
        mean = reduce_sum(s, lid) / f32(L);
    }
    var sq = 0.0;
    if (live) {
        for (var i = lid; i < L; i = i + 256u) {
            let d = x[base + i] - mean;
            sq = sq + d * d;
        }
    }
    let inv = inverseSqrt(reduce_sum(sq, lid) / f32(L) + eps);
    if (!live) { return; }
    let G = p[5];
    let S = p[6];
    for (var i = lid; i < L; i = i + 256u) {
        var v = (x[base + i] - mean) * inv;
        let ch = ((row % G) * L + i) / S;
        if (p[3] == 1u) { v = v * wt[ch]; }
        if (p[4] == 1u) { v = v + bs[ch]; }
        out[base + i] = v;
    }
}
