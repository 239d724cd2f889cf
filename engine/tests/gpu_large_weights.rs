//! Weights larger than one kernel argument may be (`maxStorageBufferBindingSize`, 128 MiB in many browsers):
//! a device whose binding limit is lowered to 64 KiB makes small weights "large", so the row-run paths of
//! `linear` and `embedding` run on lavapipe and are compared with the CPU backend.
#![cfg(not(target_arch = "wasm32"))]
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod gpu_common;

use gpu_common::{
    assert_close, assert_linear_matches_cpu, cpu_tensor, cpu_weight, fetch, gpu_with_max_binding,
    WEIGHT_DTYPES,
};
use offgrid_engine::{DType, Device, Tensor};
use pollster::block_on;

const LIMIT: u64 = 64 * 1024;

async fn limited_gpu() -> Device {
    gpu_with_max_binding(Some(LIMIT)).await
}

#[test]
fn the_limit_is_enforced_for_ops_that_do_not_split() {
    block_on(async {
        let dev = limited_gpu().await;
        let big = cpu_tensor(&[300, 1024], 1).to_device(&dev).unwrap();
        let err = big.mul_scalar(2.0).unwrap_err().to_string();
        assert!(err.contains("binding") && err.contains("limit"), "{err}");
    });
}

#[test]
fn linear_over_a_weight_larger_than_a_binding_matches_cpu() {
    block_on(async {
        let dev = limited_gpu().await;
        // 300 rows of 1024: every type is over 64 KiB (Q4_0, the smallest, is 192 KB repacked), so each
        // product runs over several runs of rows; 300 is not a multiple of any run length.
        let (n, k) = (300, 1024);
        for dtype in WEIGHT_DTYPES {
            let w = cpu_weight(dtype, n, k, 70);
            let wg = w.to_device(&dev).unwrap();
            let bias = cpu_tensor(&[n], 72);
            for rows in [1usize, 9] {
                let x = cpu_tensor(&[rows, k], 73 + rows as u64);
                let what = format!("{dtype:?} rows {rows}");
                assert_linear_matches_cpu(&dev, &x, &w, &wg, &bias, &what).await;
            }
        }
    });
}

#[test]
fn linear_over_large_grouped_weights_with_odd_blocks_per_row_matches_cpu() {
    block_on(async {
        let dev = limited_gpu().await;
        // Q8_0/Q4_0 blocks go to the GPU in groups of eight, so a binding can only start every eight rows of
        // 25 blocks: runs of rows are whole multiples of eight, and the last run ends inside a group.
        let (n, k) = (701, 800);
        for dtype in [DType::Q8_0, DType::Q4_0] {
            let w = cpu_weight(dtype, n, k, 74);
            let wg = w.to_device(&dev).unwrap();
            let bias = cpu_tensor(&[n], 75);
            for rows in [1usize, 5] {
                let x = cpu_tensor(&[rows, k], 76 + rows as u64);
                let what = format!("{dtype:?} rows {rows}");
                assert_linear_matches_cpu(&dev, &x, &w, &wg, &bias, &what).await;
            }
            // The readback undoes the grouping exactly, padding and all.
            let back = wg.to_cpu().await.unwrap();
            assert_eq!(
                back.to_vec_f32().unwrap(),
                w.to_vec_f32().unwrap(),
                "{dtype:?}"
            );
        }
    });
}

#[test]
fn embedding_rows_from_every_run_of_a_large_table_match_cpu() {
    block_on(async {
        let dev = limited_gpu().await;
        let (v, d) = (300, 1024);
        for dtype in WEIGHT_DTYPES {
            let table = cpu_weight(dtype, v, d, 80);
            // Ids in the first, middle and last runs and on both sides of a run boundary.
            let ids = Tensor::from_u32(vec![0, 299, 150, 63, 64, 65, 0, 256], [2, 4], &Device::Cpu)
                .unwrap();
            let want = table.embedding(&ids).unwrap().to_vec_f32().unwrap();
            let got = table
                .to_device(&dev)
                .unwrap()
                .embedding(&ids.to_device(&dev).unwrap())
                .unwrap();
            assert_eq!(got.dims(), [2, 4, d]);
            assert_close(&fetch(&got).await, &want, 1e-6, 1e-6, &format!("{dtype:?}"));
        }
    });
}
