// Fused scaled-dot-product attention with online softmax (no [Lq, Lk] score matrix in memory).
// One workgroup of 64 threads per (batch, head, query). Grouped-query heads: head h reads kv head
// h / (Hq / Hkv). Causal masking aligns the last query with the last key (a KV cache of past tokens).
// An optional additive mask is read through strides (broadcast = stride 0). D <= 256.
// Bindings, params and row starts: attention_common.wgsl.

var<workgroup> s: array<f32, 64>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) t: u32) {
    let a = attn_params();
    let g = group_index(wid, nwg);
    let live = g < a.B * a.Hq * a.Lq;
    let qi = g % a.Lq;
    let h = (g / a.Lq) % a.Hq;
    let b = g / (a.Lq * a.Hq);
    let hk = h / (a.Hq / a.Hkv);
    let rows = row_starts(b, h, hk, qi);
    let limit = visible_keys(a, qi);
    var m = -3.4e38;
    var l = 0.0;
    var acc: array<f32, 4>;
    for (var i = 0u; i < 4u; i = i + 1u) { acc[i] = 0.0; }
    for (var j0 = 0u; j0 < a.Lk; j0 = j0 + 64u) {
        let j = j0 + t;
        var score = -3.4e38;
        if (live && j < limit) {
            var dot = 0.0;
            let kr = rows.k + j * p[16];
            for (var d = 0u; d < a.D; d = d + 1u) { dot = dot + q[rows.q + d] * k[kr + d]; }
            score = dot * a.scale;
            if (a.has_mask) { score = score + mask[rows.mask + j * p[25]]; }
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
                if (s[i] > -3.0e38 && jj < a.Lk) {
                    let e = exp(s[i] - cmax);
                    l = l + e;
                    let vr = rows.v + jj * p[20];
                    for (var c = 0u; c < 4u; c = c + 1u) {
                        let d = t + c * 64u;
                        if (d < a.D) { acc[c] = acc[c] + e * v[vr + d]; }
                    }
                }
            }
            m = cmax;
        }
        workgroupBarrier();
    }
    if (!live) { return; }
    let obase = g * a.D;
    for (var c = 0u; c < 4u; c = c + 1u) {
        let d = t + c * 64u;
        if (d < a.D) { out[obase + d] = select(0.0, acc[c] / l, l > 0.0); }
    }
}
