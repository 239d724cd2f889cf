// where(mask != 0, a, b) with broadcasting through strides; mask is f32 (u32 masks are cast first).
// Params: n, rank, pad, pad, m_off, a_off, b_off, pad, dims[6], m_strides[6], a_strides[6], b_strides[6]

@group(0) @binding(0) var<storage, read> p: array<u32>;
@group(0) @binding(1) var<storage, read> m: array<f32>;
@group(0) @binding(2) var<storage, read> a: array<f32>;
@group(0) @binding(3) var<storage, read> b: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;

const MAX_RANK: u32 = 6u;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
    let i = group_index(wid, nwg) * 256u + lid;
    if (i >= p[0]) { return; }
    let rank = p[1];
    var rem = i;
    var im = p[4];
    var ia = p[5];
    var ib = p[6];
    for (var d = 0u; d < rank; d = d + 1u) {
        let axis = rank - 1u - d;
        let dim = p[8u + axis];
        let c = rem % dim;
        rem = rem / dim;
        im = im + c * p[8u + MAX_RANK + axis];
        ia = ia + c * p[8u + 2u * MAX_RANK + axis];
        ib = ib + c * p[8u + 3u * MAX_RANK + axis];
    }
    out[i] = select(b[ib], a[ia], m[im] != 0.0);
}
