//! The micro-kernels of the packed GEMM: each accumulates an `MR × NR` tile of the output over `kc` steps of a
//! packed strip of A (`[p][r]`) and a packed sliver of B (`[p][c]`), as outer products held in registers.

/// The micro-kernel in plain Rust (targets without a hand-written one).
#[cfg_attr(target_arch = "wasm32", allow(dead_code))]
pub(super) fn portable_tile<const MR: usize, const NR: usize>(
    kc: usize,
    a: &[f32],
    b: &[f32],
    acc: &mut [[f32; NR]; MR],
) {
    for (av, bv) in a.chunks_exact(MR).zip(b.chunks_exact(NR)).take(kc) {
        for r in 0..MR {
            for c in 0..NR {
                acc[r][c] += av[r] * bv[c];
            }
        }
    }
}

#[cfg(target_arch = "wasm32")]
pub(super) mod wasm {
    use core::arch::wasm32::*;

    /// 4 × 8: eight accumulators of 4 lanes, two loads of B and four broadcasts of A per step, 12 of the 16
    /// vector registers V8 has on x86 (more would spill).
    pub const MR: usize = 4;
    pub const NR: usize = 8;

    pub fn tile(kc: usize, a: &[f32], b: &[f32], acc: &mut [[f32; NR]; MR]) {
        let (a_steps, _) = a[..kc * MR].as_chunks::<MR>();
        let (b_steps, _) = b[..kc * NR].as_chunks::<NR>();
        let mut c = [f32x4_splat(0.0); 8];
        for (av, bv) in a_steps.iter().zip(b_steps) {
            // SAFETY: `bv` is 8 consecutive f32, two v128; wasm loads need no alignment.
            #[allow(unsafe_code)]
            let (b0, b1) = unsafe {
                (
                    v128_load(bv.as_ptr() as *const v128),
                    v128_load(bv.as_ptr().add(4) as *const v128),
                )
            };
            for r in 0..MR {
                let s = f32x4_splat(av[r]);
                c[2 * r] = f32x4_add(c[2 * r], f32x4_mul(s, b0));
                c[2 * r + 1] = f32x4_add(c[2 * r + 1], f32x4_mul(s, b1));
            }
        }
        for (r, row) in acc.iter_mut().enumerate() {
            // SAFETY: each row of `acc` holds 8 f32, two v128; wasm stores need no alignment.
            #[allow(unsafe_code)]
            unsafe {
                v128_store(row.as_mut_ptr() as *mut v128, c[2 * r]);
                v128_store(row.as_mut_ptr().add(4) as *mut v128, c[2 * r + 1]);
            }
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
pub(super) mod x86 {
    use std::arch::x86_64::*;

    /// 6 × 16: twelve accumulators of 8 lanes, two loads of B and six broadcasts of A per step, 15 of the 16
    /// AVX2 registers.
    pub const MR: usize = 6;
    pub const NR: usize = 16;

    /// # Safety
    /// The CPU must support AVX2 and FMA.
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn tile(kc: usize, a: &[f32], b: &[f32], acc: &mut [[f32; NR]; MR]) {
        let (a_steps, _) = a[..kc * MR].as_chunks::<MR>();
        let (b_steps, _) = b[..kc * NR].as_chunks::<NR>();
        let mut c = [[_mm256_setzero_ps(); 2]; MR];
        for (av, bv) in a_steps.iter().zip(b_steps) {
            // SAFETY: `bv` holds 16 f32; unaligned loads.
            let (b0, b1) = unsafe {
                (
                    _mm256_loadu_ps(bv.as_ptr()),
                    _mm256_loadu_ps(bv.as_ptr().add(8)),
                )
            };
            for r in 0..MR {
                let s = _mm256_set1_ps(av[r]);
                c[r][0] = _mm256_fmadd_ps(s, b0, c[r][0]);
                c[r][1] = _mm256_fmadd_ps(s, b1, c[r][1]);
            }
        }
        for r in 0..MR {
            // SAFETY: each row of `acc` holds 16 f32.
            unsafe {
                _mm256_storeu_ps(acc[r].as_mut_ptr(), c[r][0]);
                _mm256_storeu_ps(acc[r].as_mut_ptr().add(8), c[r][1]);
            }
        }
    }

    /// 8 × 32 with AVX-512: sixteen accumulators of 16 lanes, two loads of B and eight broadcasts of A per step,
    /// 19 of the 32 registers; twice the work per instruction of the AVX2 tile.
    pub const MR512: usize = 8;
    pub const NR512: usize = 32;

    /// # Safety
    /// The CPU must support AVX-512F.
    #[target_feature(enable = "avx512f")]
    pub unsafe fn tile512(kc: usize, a: &[f32], b: &[f32], acc: &mut [[f32; NR512]; MR512]) {
        let (a_steps, _) = a[..kc * MR512].as_chunks::<MR512>();
        let (b_steps, _) = b[..kc * NR512].as_chunks::<NR512>();
        let mut c = [[_mm512_setzero_ps(); 2]; MR512];
        for (av, bv) in a_steps.iter().zip(b_steps) {
            // SAFETY: `bv` holds 32 f32; unaligned loads.
            let (b0, b1) = unsafe {
                (
                    _mm512_loadu_ps(bv.as_ptr()),
                    _mm512_loadu_ps(bv.as_ptr().add(16)),
                )
            };
            for r in 0..MR512 {
                let s = _mm512_set1_ps(av[r]);
                c[r][0] = _mm512_fmadd_ps(s, b0, c[r][0]);
                c[r][1] = _mm512_fmadd_ps(s, b1, c[r][1]);
            }
        }
        for r in 0..MR512 {
            // SAFETY: each row of `acc` holds 32 f32.
            unsafe {
                _mm512_storeu_ps(acc[r].as_mut_ptr(), c[r][0]);
                _mm512_storeu_ps(acc[r].as_mut_ptr().add(16), c[r][1]);
            }
        }
    }
}
