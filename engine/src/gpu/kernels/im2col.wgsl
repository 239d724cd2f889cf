// im2col for a 2-D convolution (one group): row r of the output holds the receptive field of output position
// `start + r` of batch item `n` (C_in × KH × KW values, zero where padded), so the convolution becomes one
// matrix product with the weight seen as [C_out, C_in·KH·KW].
// Params: C, H, W, KH, KW, OW, sy, sx, py, px, dy, dx, start, len, plane offset (n·C·H·W)

@group(0) @binding(0) var<storage, read> p: array<u32>;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> cols: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
    let C = p[0]; let H = p[1]; let W = p[2]; let KH = p[3]; let KW = p[4]; let OW = p[5];
    let K = C * KH * KW;
    let i = group_index(wid, nwg) * 256u + lid;
    if (i >= p[13] * K) { return; }
    let r = i / K;
    let k = i % K;
    let kx = k % KW;
    let ky = (k / KW) % KH;
    let c = k / (KW * KH);
    let pos = p[12] + r;
    let oy = pos / OW;
    let ox = pos % OW;
    let iy = i32(oy * p[6] + ky * p[10]) - i32(p[8]);
    let ix = i32(ox * p[7] + kx * p[11]) - i32(p[9]);
    var v = 0.0;
    if (iy >= 0 && iy < i32(H) && ix >= 0 && ix < i32(W)) {
        v = x[p[14] + (c * H + u32(iy)) * W + u32(ix)];
    }
    cols[i] = v;
}
