// Fused scaled-dot-product attention for many queries (encoders, prefill), D <= 64: one thread per query,
// 64 queries of one (batch, head) per workgroup. The workgroup walks the keys in tiles of 32: it loads a tile
// of K and V into shared memory once, and every thread takes all of it against its own query, which it keeps
// in registers with its output row. So K and V are read from memory once per 64 queries instead of once per
// query (attention.wgsl, one workgroup per query, is the decode kernel), and every shared-memory read is the
// same address for the whole workgroup (a broadcast). The softmax is online: the running maximum only moves
// up, and the output is rescaled only when it does.
// Bindings, params and row starts: attention_common.wgsl, as for attention.wgsl.

// vec4s per row: ceil(D / 4), at most MAX_D4. A pipeline constant, so the loops over a row have a fixed
// length and the row arrays below stay in registers.
override D4: u32 = 16u;
const MAX_D4: u32 = 16u;
const QUERIES: u32 = 64u;
const TILE: u32 = 32u;

// One tile of keys and values, row r at r * D4 (16 KB together: WebGPU's default limit).
var<workgroup> kt: array<vec4<f32>, 512>; // TILE * MAX_D4
var<workgroup> vt: array<vec4<f32>, 512>;

// Values 4c..4c+3 of the row at `base` (zero past D).
fn q4(base: u32, c: u32, D: u32) -> vec4<f32> {
    var r = vec4<f32>(0.0);
    for (var i = 0u; i < 4u; i = i + 1u) {
        if (4u * c + i < D) { r[i] = q[base + 4u * c + i]; }
    }
    return r;
}

fn k4(base: u32, c: u32, D: u32) -> vec4<f32> {
    var r = vec4<f32>(0.0);
    for (var i = 0u; i < 4u; i = i + 1u) {
        if (4u * c + i < D) { r[i] = k[base + 4u * c + i]; }
    }
    return r;
}

fn v4(base: u32, c: u32, D: u32) -> vec4<f32> {
    var r = vec4<f32>(0.0);
    for (var i = 0u; i < 4u; i = i + 1u) {
        if (4u * c + i < D) { r[i] = v[base + 4u * c + i]; }
    }
    return r;
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) t: u32) {
    let a = attn_params();
    let blocks = (a.Lq + QUERIES - 1u) / QUERIES;
    let g = group_index(wid, nwg);
    let h = (g / blocks) % a.Hq;
    let b = g / (blocks * a.Hq);
    let group_live = b < a.B;
    let qi = (g % blocks) * QUERIES + t;
    let live = group_live && qi < a.Lq;
    let hk = h / (a.Hq / a.Hkv);
    let rows = row_starts(b, h, hk, qi);
    let limit = visible_keys(a, qi);

    // The query, scaled once, and the output row (unnormalised: divided by `l` at the end).
    var qr: array<vec4<f32>, MAX_D4>;
    var o: array<vec4<f32>, MAX_D4>;
    for (var c = 0u; c < D4; c = c + 1u) {
        o[c] = vec4<f32>(0.0);
        qr[c] = vec4<f32>(0.0);
        if (live) { qr[c] = q4(rows.q, c, a.D) * a.scale; }
    }
    var m = -3.4e38;
    var l = 0.0;
    for (var j0 = 0u; j0 < a.Lk; j0 = j0 + TILE) {
        for (var e = t; e < TILE * D4; e = e + QUERIES) {
            let j = j0 + e / D4;
            var kv = vec4<f32>(0.0);
            var vv = vec4<f32>(0.0);
            if (group_live && j < a.Lk) {
                kv = k4(rows.k + j * p[16], e % D4, a.D);
                vv = v4(rows.v + j * p[20], e % D4, a.D);
            }
            kt[e] = kv;
            vt[e] = vv;
        }
        workgroupBarrier();
        if (live && j0 < limit) {
            let n = min(TILE, limit - j0);
            for (var r = 0u; r < n; r = r + 1u) {
                var s4 = vec4<f32>(0.0);
                for (var c = 0u; c < D4; c = c + 1u) { s4 = s4 + qr[c] * kt[r * D4 + c]; }
                var s = s4.x + s4.y + s4.z + s4.w;
                if (a.has_mask) { s = s + mask[rows.mask + (j0 + r) * p[25]]; }
                if (s > -3.0e38) {
                    if (s > m) {
                        let corr = exp(m - s);
                        l = l * corr;
                        for (var c = 0u; c < D4; c = c + 1u) { o[c] = o[c] * corr; }
                        m = s;
                    }
                    let e = exp(s - m);
                    l = l + e;
                    for (var c = 0u; c < D4; c = c + 1u) { o[c] = o[c] + e * vt[r * D4 + c]; }
                }
            }
        }
        workgroupBarrier();
    }
    if (!live) { return; }
    let obase = ((b * a.Hq + h) * a.Lq + qi) * a.D;
    let inv = select(0.0, 1.0 / l, l > 0.0);
    for (var c = 0u; c < D4; c = c + 1u) {
        for (var i = 0u; i < 4u; i = i + 1u) {
            if (4u * c + i < a.D) { out[obase + 4u * c + i] = o[c][i] * inv; }
        }
    }
}
