// Strided binary elementwise ops with broadcasting (stride 0 on expanded axes).
// Params: same layout as elementwise.wgsl.

override OP: u32 = 0u;

@group(0) @binding(0) var<storage, read> p: array<u32>;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

const MAX_RANK: u32 = 6u;

fn binary(x: f32, y: f32) -> f32 {
    switch OP {
        case 0u: { return x + y; }
        case 1u: { return x - y; }
        case 2u: { return x * y; }
        case 3u: { return x / y; }
        case 4u: { return max(x, y); }
        case 5u: { return min(x, y); }
        case 6u: { return pow(x, y); }
        case 7u: { return select(0.0, 1.0, x == y); }
        case 8u: { return select(0.0, 1.0, x < y); }
        case 9u: { return select(0.0, 1.0, x > y); }
        default: { return x; }
    }
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
    let i = group_index(wid, nwg) * 256u + lid;
    let n = p[0];
    if (i >= n) { return; }
    let rank = p[1];
    var rem = i;
    var io = p[4];
    var ia = p[5];
    var ib = p[6];
    for (var d = 0u; d < rank; d = d + 1u) {
        let axis = rank - 1u - d;
        let dim = p[8u + axis];
        let c = rem % dim;
        rem = rem / dim;
        io = io + c * p[8u + MAX_RANK + axis];
        ia = ia + c * p[8u + 2u * MAX_RANK + axis];
        ib = ib + c * p[8u + 3u * MAX_RANK + axis];
    }
    out[io] = binary(a[ia], b[ib]);
}
