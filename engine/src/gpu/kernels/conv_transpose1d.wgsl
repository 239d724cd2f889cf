// Transposed 1-D convolution in gather form: output position t of channel o sums x[c, l] * w[c, o, k] over
// every (l, k) with l * stride + k * dilation - padding == t. One thread per output value.
// Params: N, C_in, L, C_out, Og (out channels per group), K, OL, stride, padding, dilation, has_bias

@group(0) @binding(0) var<storage, read> p: array<u32>;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
    let N = p[0]; let C = p[1]; let L = p[2]; let CO = p[3]; let OG = p[4]; let K = p[5]; let OL = p[6];
    let stride = p[7]; let pad = p[8]; let dil = p[9];
    let i = group_index(wid, nwg) * 256u + lid;
    if (i >= N * CO * OL) { return; }
    let t = i % OL;
    let o = (i / OL) % CO;
    let n = i / (OL * CO);
    let g = o / OG;
    let ol = o % OG;
    let groups = CO / OG;
    let cg = C / groups;
    var acc = 0.0;
    if (p[10] == 1u) { acc = bias[o]; }
    for (var k = 0u; k < K; k = k + 1u) {
        let num = i32(t + pad) - i32(k * dil);
        if (num < 0 || (u32(num) % stride) != 0u) { continue; }
        let l = u32(num) / stride;
        if (l >= L) { continue; }
        for (var c = 0u; c < cg; c = c + 1u) {
            let ci = g * cg + c;
            acc = acc + x[(n * C + ci) * L + l] * w[(ci * OG + ol) * K + k];
        }
    }
    out[i] = acc;
}
