// Max (MODE 0) or average (MODE 1) 2-D pooling over NCHW planes with PyTorch's window clipping; one thread
// per output value. Params: planes, H, W, OH, OW, kh, kw, sy, sx, py, px, count_include_pad

override MODE: u32 = 0u;

@group(0) @binding(0) var<storage, read> p: array<u32>;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
    let H = i32(p[1]); let W = i32(p[2]); let OH = p[3]; let OW = p[4];
    let i = group_index(wid, nwg) * 256u + lid;
    if (i >= p[0] * OH * OW) { return; }
    let ox = i % OW;
    let oy = (i / OW) % OH;
    let plane = i / (OW * OH);
    let y0 = i32(oy * p[7]) - i32(p[9]);
    let y1 = min(y0 + i32(p[5]), H + i32(p[9]));
    let x0 = i32(ox * p[8]) - i32(p[10]);
    let x1 = min(x0 + i32(p[6]), W + i32(p[10]));
    let padded = f32((y1 - y0) * (x1 - x0));
    let ya = max(y0, 0); let yb = max(min(y1, H), 0);
    let xa = max(x0, 0); let xb = max(min(x1, W), 0);
    var m = -3.4e38;
    var s = 0.0;
    let base = plane * u32(H * W);
    for (var yy = ya; yy < yb; yy = yy + 1) {
        for (var xx = xa; xx < xb; xx = xx + 1) {
            let v = x[base + u32(yy * W + xx)];
            m = max(m, v);
            s = s + v;
        }
    }
    if (MODE == 0u) {
        out[i] = m;
    } else {
        var count = f32((yb - ya) * (xb - xa));
        if (p[11] == 1u) { count = padded; }
        out[i] = s / count;
    }
}
