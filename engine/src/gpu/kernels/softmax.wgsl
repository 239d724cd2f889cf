// Softmax over the last axis of a contiguous [rows, L] f32 tensor; one workgroup per row.
// Params: rows, L

@group(0) @binding(0) var<storage, read> p: array<u32>;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

var<workgroup> red: array<f32, 256>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
    let row = group_index(wid, nwg);
    let rows = p[0];
    let L = p[1];
    let live = row < rows;
    let base = row * L;
    var m = -3.4e38;
    if (live) {
        for (var i = lid; i < L; i = i + 256u) { m = max(m, x[base + i]); }
    }
    red[lid] = m;
    workgroupBarrier();
    for (var s = 128u; s > 0u; s = s / 2u) {
        if (lid < s) { red[lid] = max(red[lid], red[lid + s]); }
        workgroupBarrier();
    }
    let mx = red[0];
    workgroupBarrier();
    var sum = 0.0;
    if (live) {
        for (var i = lid; i < L; i = i + 256u) { sum = sum + exp(x[base + i] - mx); }
    }
    red[lid] = sum;
    workgroupBarrier();
    for (var s = 128u; s > 0u; s = s / 2u) {
        if (lid < s) { red[lid] = red[lid] + red[lid + s]; }
        workgroupBarrier();
    }
    let total = red[0];
    if (live) {
        for (var i = lid; i < L; i = i + 256u) { out[base + i] = exp(x[base + i] - mx) / total; }
    }
}
