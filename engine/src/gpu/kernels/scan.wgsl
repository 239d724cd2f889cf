// Row scans over a contiguous [rows, L] f32 tensor: cumsum (one thread per row, sequential so the sum order
// matches the CPU), and top-k (MODE 1: one workgroup per row, k passes of a parallel arg-max that skips
// already-taken entries; order = value descending, then index ascending).
// Params: rows, L, k

override MODE: u32 = 0u;

@group(0) @binding(0) var<storage, read> p: array<u32>;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<storage, read_write> idx: array<u32>;

var<workgroup> rv: array<f32, 256>;
var<workgroup> ri: array<u32, 256>;

// Whether (va, ia) comes before (vb, ib) in top-k order.
fn before(va: f32, ia: u32, vb: f32, ib: u32) -> bool {
    return va > vb || (va == vb && ia < ib);
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
    let rows = p[0];
    let L = p[1];
    if (MODE == 0u) {
        // No early return on `row`: Tint then treats the top-k barriers below as non-uniform.
        let row = group_index(wid, nwg) * 256u + lid;
        if (row < rows) {
            var acc = 0.0;
            for (var i = 0u; i < L; i = i + 1u) {
                acc = acc + x[row * L + i];
                out[row * L + i] = acc;
            }
        }
        return;
    }
    let row = group_index(wid, nwg);
    let live = row < rows;
    let K = p[2];
    var pv = 3.4e38;
    var pi = 0xffffffffu;
    for (var t = 0u; t < K; t = t + 1u) {
        var bv = 0.0;
        var bi = 0xffffffffu;
        if (live) {
            for (var i = lid; i < L; i = i + 256u) {
                let v = x[row * L + i];
                // Candidates come strictly after the previous pick in top-k order.
                let after = pi == 0xffffffffu || before(pv, pi, v, i);
                if (after && (bi == 0xffffffffu || before(v, i, bv, bi))) {
                    bv = v;
                    bi = i;
                }
            }
        }
        rv[lid] = bv;
        ri[lid] = bi;
        workgroupBarrier();
        for (var s = 128u; s > 0u; s = s / 2u) {
            if (lid < s && ri[lid + s] != 0xffffffffu && (ri[lid] == 0xffffffffu || before(rv[lid + s], ri[lid + s], rv[lid], ri[lid]))) {
                rv[lid] = rv[lid + s];
                ri[lid] = ri[lid + s];
            }
            workgroupBarrier();
        }
        pv = rv[0];
        pi = ri[0];
        if (lid == 0u && live) {
            out[row * K + t] = pv;
            idx[row * K + t] = pi;
        }
        workgroupBarrier();
    }
}
