// Strided unary and binary elementwise ops with broadcasting (stride 0) and strided outputs.
// Params (u32 words): n, rank, alpha, beta (f32 bits), out_off, a_off, b_off, pad,
// dims[6], out_strides[6], a_strides[6], b_strides[6].

override OP: u32 = 0u;

@group(0) @binding(0) var<storage, read> p: array<u32>;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

const MAX_RANK: u32 = 6u;

fn unary(x: f32) -> f32 {
    let alpha = bitcast<f32>(p[2]);
    let beta = bitcast<f32>(p[3]);
    switch OP {
        case 0u: { return x; }
        case 1u: { return -x; }
        case 2u: { return exp(x); }
        case 3u: { return log(x); }
        case 4u: { return sqrt(x); }
        case 5u: { return inverseSqrt(x); }
        case 6u: { return abs(x); }
        case 7u: { return tanh(clamp(x, -15.0, 15.0)); }
        case 8u: { return 1.0 / (1.0 + exp(-x)); }
        case 9u: { return max(x, 0.0); }
        case 10u: { return select(alpha * x, x, x >= 0.0); }
        case 11u: { return 0.5 * x * (1.0 + erf_approx(x * 0.70710678118654752)); }
        case 12u: {
            let inner = 0.7978845608028654 * (x + 0.044715 * x * x * x);
            return 0.5 * x * (1.0 + tanh(clamp(inner, -15.0, 15.0)));
        }
        case 13u: { return x / (1.0 + exp(-x)); }
        case 14u: { return sin(x); }
        case 15u: { return cos(x); }
        case 16u: { return 1.0 / x; }
        case 17u: { return x * x; }
        case 18u: { return x * alpha + beta; }
        case 19u: { return clamp(x, alpha, beta); }
        case 20u: { return pow(x, alpha); }
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
    var ia = p[5];
    var io = p[4];
    for (var d = 0u; d < rank; d = d + 1u) {
        let axis = rank - 1u - d;
        let dim = p[8u + axis];
        let c = rem % dim;
        rem = rem / dim;
        io = io + c * p[8u + MAX_RANK + axis];
        ia = ia + c * p[8u + 2u * MAX_RANK + axis];
    }
    out[io] = unary(a[ia]);
}
