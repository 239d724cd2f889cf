// Fused scaled-dot-product attention with online softmax (no [Lq, Lk] score matrix in memory).
// One workgroup of 64 threads per (batch, head, query). Grouped-query heads: head h reads kv head
// h / (Hq / Hkv). Causal masking aligns the last query with the last key (a KV cache of past tokens).
// An optional additive mask is read through strides (broadcast = stride 0). D <= 256.
// Params: B, Hq, Hkv, Lq, Lk, D, scale, causal, has_mask,
//   q_off, q_sb, q_sh, q_sl, k_off, k_sb, k_sh, k_sl, v_off, v_sb, v_sh, v_sl,
//   m_off, m_sb, m_sh, m_sq, m_sk

@group(0) @binding(0) var<storage, read> p: array<u32>;
@group(0) @binding(1) var<storage, read> q: array<f32>;
@group(0) @binding(2) var<storage, read> k: array<f32>;
@group(0) @binding(3) var<storage, read> v: array<f32>;
@group(0) @binding(4) var<storage, read> mask: array<f32>;
@group(0) @binding(5) var<storage, read_write> out: array<f32>;

var<workgroup> s: array<f32, 64>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) t: u32) {
    let B = p[0];
    let Hq = p[1];
    let Hkv = p[2];
    let Lq = p[3];
    let Lk = p[4];
    let D = p[5];
    let scale = bitcast<f32>(p[6]);
    let causal = p[7] == 1u;
    let g = group_index(wid, nwg);
    let live = g < B * Hq * Lq;
    let qi = g % Lq;
    let h = (g / Lq) % Hq;
    let b = g / (Lq * Hq);
    let hk = h / (Hq / Hkv);
    let qbase = p[9] + b * p[10] + h * p[11] + qi * p[12];
    let kbase = p[13] + b * p[14] + hk * p[15];
    let vbase = p[17] + b * p[18] + hk * p[19];
    let mbase = p[21] + b * p[22] + h * p[23] + qi * p[24];
    // Keys beyond `limit` are masked out by causality.
    var limit = Lk;
    if (causal) { limit = min(Lk, Lk - Lq + qi + 1u); }
    var m = -3.4e38;
    var l = 0.0;
    var acc: array<f32, 4>;
    for (var i = 0u; i < 4u; i = i + 1u) { acc[i] = 0.0; }
    for (var j0 = 0u; j0 < Lk; j0 = j0 + 64u) {
        let j = j0 + t;
        var score = -3.4e38;
        if (live && j < limit) {
            var dot = 0.0;
            let kr = kbase + j * p[16];
            for (var d = 0u; d < D; d = d + 1u) { dot = dot + q[qbase + d] * k[kr + d]; }
            score = dot * scale;
            if (p[8] == 1u) { score = score + mask[mbase + j * p[25]]; }
        }
        s[t] = score;
        workgroupBarrier();
        var cmax = m;
        for (var i = 0u; i < 64u; i = i + 1u) { cmax = max(cmax, s[i]); }
        if (cmax > -3.0e38) {
            let corr = exp(m - cmax);
            l = l * corr;
            for (var i = 0u; i < 4u; i = i + 1u) { acc[i] = acc[i] * corr; }
            for (var i = 0u; i < 64u; i = i + 1u) {
                let jj = j0 + i;
                if (s[i] > -3.0e38 && jj < Lk) {
                    let e = exp(s[i] - cmax);
                    l = l + e;
                    let vr = vbase + jj * p[20];
                    for (var c = 0u; c < 4u; c = c + 1u) {
                        let d = t + c * 64u;
                        if (d < D) { acc[c] = acc[c] + e * v[vr + d]; }
                    }
                }
            }
            m = cmax;
        }
        workgroupBarrier();
    }
    if (!live) { return; }
    let obase = g * D;
    for (var c = 0u; c < 4u; c = c + 1u) {
        let d = t + c * 64u;
        if (d < D) { out[obase + d] = select(0.0, acc[c] / l, l > 0.0); }
    }
}
