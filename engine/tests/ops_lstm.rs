//! The LSTM cell against torch.nn.LSTMCell (scripts/fixtures/ops_fixtures.py).
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests and benches fail loudly on bad fixtures
mod common;
use common::*;
use offgrid_engine::ops::lstm_cell;
use offgrid_engine::Device;

const FX: &str = include_str!("fixtures/ops_lstm.json");

device_test!(lstm_cell_step, |device: Device| async move {
    let fx = fixture(FX, "lstm");
    let t = |name: &str| fx.tensor(name, &device);
    let (b_ih, b_hh) = (t("b_ih")?, t("b_hh")?);
    let (h, c) = lstm_cell(
        &t("x")?,
        &t("h")?,
        &t("c")?,
        &t("w_ih")?,
        &t("w_hh")?,
        Some(&b_ih),
        Some(&b_hh),
    )?;
    assert_close(&h, &fx, "h_out", F32_TOL).await?;
    assert_close(&c, &fx, "c_out", F32_TOL).await
});
