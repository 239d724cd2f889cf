// Rotary position embedding on a contiguous [rows, D] f32 tensor whose row r is at position r % L.
// cos/sin are contiguous [L, D/2]. MODE 0: rotate-half pairs (i, i + D/2); MODE 1: interleaved (2i, 2i+1).
// One thread per pair. Params: rows, L, D

override MODE: u32 = 0u;

@group(0) @binding(0) var<storage, read> p: array<u32>;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> cs: array<f32>;
@group(0) @binding(3) var<storage, read> sn: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
    let rows = p[0];
    let L = p[1];
    let D = p[2];
    let half = D / 2u;
    let t = group_index(wid, nwg) * 256u + lid;
    if (t >= rows * half) { return; }
    let row = t / half;
    let i = t % half;
    let pos = row % L;
    let c = cs[pos * half + i];
    let s = sn[pos * half + i];
    var i0 = row * D + i;
    var i1 = i0 + half;
    if (MODE == 1u) {
        i0 = row * D + 2u * i;
        i1 = i0 + 1u;
    }
    let a = x[i0];
    let b = x[i1];
    out[i0] = a * c - b * s;
    out[i1] = b * c + a * s;
}
