// Bindings and parameters shared by both attention kernels (attention.wgsl for a few queries,
// attention_tiled.wgsl for many); prepended to them after common.wgsl.
// Params: B, Hq, Hkv, Lq, Lk, D, scale, causal, has_mask,
//   q_off, q_sb, q_sh, q_sl, k_off, k_sb, k_sh, k_sl, v_off, v_sb, v_sh, v_sl,
//   m_off, m_sb, m_sh, m_sq, m_sk
// (offsets and strides in elements; the mask's are 0 on broadcast axes).

@group(0) @binding(0) var<storage, read> p: array<u32>;
@group(0) @binding(1) var<storage, read> q: array<f32>;
@group(0) @binding(2) var<storage, read> k: array<f32>;
@group(0) @binding(3) var<storage, read> v: array<f32>;
@group(0) @binding(4) var<storage, read> mask: array<f32>;
@group(0) @binding(5) var<storage, read_write> out: array<f32>;

struct Attn {
    B: u32,
    Hq: u32,
    Hkv: u32,
    Lq: u32,
    Lk: u32,
    D: u32,
    scale: f32,
    causal: bool,
    has_mask: bool,
}

fn attn_params() -> Attn {
    return Attn(p[0], p[1], p[2], p[3], p[4], p[5], bitcast<f32>(p[6]), p[7] == 1u, p[8] == 1u);
}

// Where the rows of query `qi` of head `h` (kv head `hk`) of batch `b` start: its query row, its head's key
// and value rows for key 0 (key j is j * p[16] and j * p[20] further), and its mask row.
struct RowStarts {
    q: u32,
    k: u32,
    v: u32,
    mask: u32,
}

fn row_starts(b: u32, h: u32, hk: u32, qi: u32) -> RowStarts {
    return RowStarts(
        p[9] + b * p[10] + h * p[11] + qi * p[12],
        p[13] + b * p[14] + hk * p[15],
        p[17] + b * p[18] + hk * p[19],
        p[21] + b * p[22] + h * p[23] + qi * p[24],
    );
}

// Keys from the returned index on are hidden from query `qi`: causal masking aligns the last query with the
// last key (a KV cache of past tokens), so with more queries than keys the first ones see none.
fn visible_keys(a: Attn, qi: u32) -> u32 {
    if (!a.causal) { return a.Lk; }
    return select(0u, min(a.Lk, a.Lk + qi + 1u - a.Lq), a.Lk + qi + 1u > a.Lq);
}
