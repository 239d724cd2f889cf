// Bilinear resize of NCHW planes (align_corners both ways, as PyTorch); one thread per output value.
// Params: planes, H, W, OH, OW, align_corners

@group(0) @binding(0) var<storage, read> p: array<u32>;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

// Lower index, upper index and upper weight of output index o.
fn tap(o: u32, in_len: u32, out_len: u32) -> vec3<f32> {
    var src = 0.0;
    if (p[5] == 1u) {
        if (out_len > 1u) { src = f32(o) * f32(in_len - 1u) / f32(out_len - 1u); }
    } else {
        src = max((f32(o) + 0.5) * f32(in_len) / f32(out_len) - 0.5, 0.0);
    }
    let lo = min(u32(floor(src)), in_len - 1u);
    let hi = min(lo + 1u, in_len - 1u);
    return vec3<f32>(f32(lo), f32(hi), src - f32(lo));
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
    let H = p[1]; let W = p[2]; let OH = p[3]; let OW = p[4];
    let i = group_index(wid, nwg) * 256u + lid;
    if (i >= p[0] * OH * OW) { return; }
    let ox = i % OW;
    let oy = (i / OW) % OH;
    let base = (i / (OW * OH)) * H * W;
    let ty = tap(oy, H, OH);
    let tx = tap(ox, W, OW);
    let y0 = u32(ty.x); let y1 = u32(ty.y); let x0 = u32(tx.x); let x1 = u32(tx.y);
    let top = x[base + y0 * W + x0] * (1.0 - tx.z) + x[base + y0 * W + x1] * tx.z;
    let bottom = x[base + y1 * W + x0] * (1.0 - tx.z) + x[base + y1 * W + x1] * tx.z;
    out[i] = top * (1.0 - ty.z) + bottom * ty.z;
}
