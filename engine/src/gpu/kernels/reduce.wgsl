// Reductions over the last axis of a contiguous [rows, L] f32 tensor; one workgroup per row.
// OP: 0 sum, 1 mean, 2 max, 3 min, 4 argmax (u32 index, first of equal maxima), 5 argmin.
// Params: rows, L

override OP: u32 = 0u;

@group(0) @binding(0) var<storage, read> p: array<u32>;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<u32>;

var<workgroup> rv: array<f32, 256>;
var<workgroup> ri: array<u32, 256>;

// Whether (va, ia) should win over (vb, ib).
fn better(va: f32, ia: u32, vb: f32, ib: u32) -> bool {
    if (OP == 2u || OP == 4u) { return va > vb || (va == vb && ia < ib); }
    return va < vb || (va == vb && ia < ib);
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
    let row = group_index(wid, nwg);
    let rows = p[0];
    let L = p[1];
    let live = row < rows;
    let base = row * L;
    let summing = OP == 0u || OP == 1u;
    var v = select(3.4e38, -3.4e38, OP == 2u || OP == 4u);
    if (summing) { v = 0.0; }
    var idx = 0xffffffffu;
    if (live) {
        for (var i = lid; i < L; i = i + 256u) {
            let xi = x[base + i];
            if (summing) {
                v = v + xi;
            } else if (idx == 0xffffffffu || better(xi, i, v, idx)) {
                v = xi;
                idx = i;
            }
        }
    }
    rv[lid] = v;
    ri[lid] = idx;
    workgroupBarrier();
    for (var s = 128u; s > 0u; s = s / 2u) {
        if (lid < s) {
            if (summing) {
                rv[lid] = rv[lid] + rv[lid + s];
            } else if (ri[lid + s] != 0xffffffffu && (ri[lid] == 0xffffffffu || better(rv[lid + s], ri[lid + s], rv[lid], ri[lid]))) {
                rv[lid] = rv[lid + s];
                ri[lid] = ri[lid + s];
            }
        }
        workgroupBarrier();
    }
    if (lid == 0u && live) {
        var r = rv[0];
        if (OP == 1u) { r = r / f32(L); }
        if (OP >= 4u) {
            out[row] = ri[0];
        } else {
            out[row] = bitcast<u32>(r);
        }
    }
}
