// Strided gather of any of f32 / f16 / u32 into a contiguous output of any of them (copy, cast).
// SRC, DST: 0 = f32, 1 = f16 (two per word), 2 = u32. f16 outputs are written a word (two values) at a time.
// Params: n, rank, pad, pad, pad, a_off, pad, pad, dims[6], pad[6], a_strides[6].

override SRC: u32 = 0u;
override DST: u32 = 0u;

@group(0) @binding(0) var<storage, read> p: array<u32>;
@group(0) @binding(1) var<storage, read> a: array<u32>;
@group(0) @binding(2) var<storage, read_write> out: array<u32>;

const MAX_RANK: u32 = 6u;

fn src_index(i: u32) -> u32 {
    let rank = p[1];
    var rem = i;
    var ia = p[5];
    for (var d = 0u; d < rank; d = d + 1u) {
        let axis = rank - 1u - d;
        let dim = p[8u + axis];
        let c = rem % dim;
        rem = rem / dim;
        ia = ia + c * p[8u + 2u * MAX_RANK + axis];
    }
    return ia;
}

fn load_f32(i: u32) -> f32 {
    let ia = src_index(i);
    if (SRC == 1u) { return half_at(a[ia / 2u], ia); }
    if (SRC == 2u) { return f32(a[ia]); }
    return bitcast<f32>(a[ia]);
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
    let i = group_index(wid, nwg) * 256u + lid;
    let n = p[0];
    if (DST == 1u) {
        let j = 2u * i;
        if (j >= n) { return; }
        let lo = load_f32(j);
        var hi = 0.0;
        if (j + 1u < n) { hi = load_f32(j + 1u); }
        out[i] = pack2x16float(vec2<f32>(lo, hi));
        return;
    }
    if (i >= n) { return; }
    if (SRC == DST) {
        // Raw word copy: keeps u32 indices and f32 bit patterns exact.
        out[i] = a[src_index(i)];
        return;
    }
    let v = load_f32(i);
    if (DST == 2u) {
        out[i] = u32(max(v, 0.0));
    } else {
        out[i] = bitcast<u32>(v);
    }
}
