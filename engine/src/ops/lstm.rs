//! An LSTM cell composed from ops (so it runs wherever those ops do).

use crate::{Result, Tensor};

/// One step of `torch.nn.LSTMCell`: `x [b, in]`, `h`/`c` `[b, hidden]`, `w_ih [4·hidden, in]`,
/// `w_hh [4·hidden, hidden]`, gate order i, f, g, o. Returns the new `(h, c)`.
pub fn lstm_cell(
    x: &Tensor,
    h: &Tensor,
    c: &Tensor,
    w_ih: &Tensor,
    w_hh: &Tensor,
    b_ih: Option<&Tensor>,
    b_hh: Option<&Tensor>,
) -> Result<(Tensor, Tensor)> {
    let gates = x.linear(w_ih, b_ih)?.add(&h.linear(w_hh, b_hh)?)?;
    let hidden = gates.shape().last_dim() / 4;
    let gate = |i: usize| gates.narrow(-1, i * hidden, hidden);
    let i = gate(0)?.sigmoid()?;
    let f = gate(1)?.sigmoid()?;
    let g = gate(2)?.tanh()?;
    let o = gate(3)?.sigmoid()?;
    let c_new = f.mul(c)?.add(&i.mul(&g)?)?;
    let h_new = o.mul(&c_new.tanh()?)?;
    Ok((h_new, c_new))
}
