// Direct 2-D convolution (NCHW, groups incl. depthwise, stride, padding, dilation), one thread per output
// value, f32 accumulation. conv1d runs as conv2d with height 1.
// Params: N, C_in, H, W, C_out, Cg (in channels per group), KH, KW, OH, OW, sy, sx, py, px, dy, dx, has_bias

@group(0) @binding(0) var<storage, read> p: array<u32>;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
    let N = p[0]; let C = p[1]; let H = p[2]; let W = p[3]; let CO = p[4]; let CG = p[5];
    let KH = p[6]; let KW = p[7]; let OH = p[8]; let OW = p[9];
    let i = group_index(wid, nwg) * 256u + lid;
    if (i >= N * CO * OH * OW) { return; }
    let ox = i % OW;
    let oy = (i / OW) % OH;
    let co = (i / (OW * OH)) % CO;
    let n = i / (OW * OH * CO);
    let og = CO / (C / CG);
    let g = co / og;
    var acc = 0.0;
    if (p[16] == 1u) { acc = bias[co]; }
    for (var c = 0u; c < CG; c = c + 1u) {
        let plane = (n * C + g * CG + c) * H * W;
        let wrow = (co * CG + c) * KH * KW;
        for (var ky = 0u; ky < KH; ky = ky + 1u) {
            let iy = i32(oy * p[10] + ky * p[14]) - i32(p[12]);
            if (iy < 0 || iy >= i32(H)) { continue; }
            for (var kx = 0u; kx < KW; kx = kx + 1u) {
                let ix = i32(ox * p[11] + kx * p[15]) - i32(p[13]);
                if (ix < 0 || ix >= i32(W)) { continue; }
                acc = acc + x[plane + u32(iy) * W + u32(ix)] * w[wrow + ky * KW + kx];
            }
        }
    }
    out[i] = acc;
}
