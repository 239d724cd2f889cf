// Streaming read: every thread sums UNROLL vec4 (or u32) loads per trip over a grid-stride loop.
override VEC: u32 = 1u;
@group(0) @binding(0) var<storage, read> p: array<u32>;
@group(0) @binding(1) var<storage, read> a: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> wv: array<vec4<u32>>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<storage, read> w: array<u32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let threads = nwg.x * 256u;
    let words = p[0];
    var acc = vec4<u32>(0u);
    if (VEC == 1u) {
        let n = words / 4u;
        var i = gid.x;
        for (; i + 3u * threads < n; i = i + 4u * threads) {
            let a0 = wv[i];
            let a1 = wv[i + threads];
            let a2 = wv[i + 2u * threads];
            let a3 = wv[i + 3u * threads];
            acc = acc ^ a0 ^ a1 ^ a2 ^ a3;
        }
        for (; i < n; i = i + threads) { acc = acc ^ wv[i]; }
    } else {
        var i = gid.x;
        for (; i < words; i = i + threads) { acc.x = acc.x ^ w[i]; }
    }
    let r = acc.x ^ acc.y ^ acc.z ^ acc.w;
    if (r == 0x12345678u) { y[gid.x] = 1.0; }
}
