// Rows of a [V, D] table in any weight type (embeddings, quantized too) gathered by u32 ids into f32 [n, D].
// Out-of-range ids give zeros (the caller validates ids it can see).
// A table too large to bind whole is bound as runs of rows, one dispatch each: the bound rows are ids
// first..first + V, and only the first dispatch writes the zeros of ids outside them (later ones leave the
// rows other runs wrote).
// Params: n, D, V, w_off, first, write_misses

override WTYPE: u32 = 0u;

@group(0) @binding(0) var<storage, read> p: array<u32>;
@group(0) @binding(1) var<storage, read> ids: array<u32>;
@group(0) @binding(2) var<storage, read> w: array<u32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
    let n = p[0];
    let D = p[1];
    let i = group_index(wid, nwg) * 256u + lid;
    if (i >= n * D) { return; }
    let id = ids[i / D];
    let first = p[4];
    if (id >= first && id - first < p[2]) {
        out[i] = w_at(p[3], id - first, i % D, D);
    } else if (p[5] == 1u) {
        out[i] = 0.0;
    }
}
