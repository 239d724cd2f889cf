//! Layers for streaming models that run once per short audio frame on the CPU (Silero VAD: ~310k
//! parameters, one call per 32 ms). There, the latency of a call matters more than throughput, so these layers
//! work on plain `f32` slices with scratch buffers the caller reuses across frames: no `Tensor`, no
//! allocation per frame, dot products that the compiler vectorises (native SIMD and wasm simd128).
//!
//! They load from a lookup `(name, shape) -> values` rather than a `VarBuilder`, so one model can read its
//! weights from safetensors or from an ONNX file's initializers.

use crate::cpu::reduce::dot;
use crate::Result;

/// Finds a weight by its (PyTorch) name and checks its shape; gives its values as f32.
pub type WeightLookup<'a> = &'a dyn Fn(&str, &[usize]) -> Result<Vec<f32>>;

/// PyTorch's `nn.Conv1d` (zero padding, no dilation, no groups) on one `[c_in][len]` frame, as im2col rows
/// and dot products.
#[derive(Debug, Clone)]
pub struct FrameConv1d {
    /// `[c_out][c_in * kernel]`: PyTorch's `[out, in, k]` weight as it is stored.
    weight: Vec<f32>,
    /// `[c_out]`, or empty when the layer has no bias.
    bias: Vec<f32>,
    c_in: usize,
    c_out: usize,
    kernel: usize,
    stride: usize,
    padding: usize,
}

/// The geometry of a [`FrameConv1d`].
#[derive(Debug, Clone, Copy)]
pub struct FrameConvShape {
    pub c_in: usize,
    pub c_out: usize,
    pub kernel: usize,
    pub stride: usize,
    pub padding: usize,
    pub bias: bool,
}

impl FrameConv1d {
    /// Loads `{name}.weight` `[c_out, c_in, kernel]` and, if the shape says so, `{name}.bias` `[c_out]`.
    pub fn load(get: WeightLookup, name: &str, shape: FrameConvShape) -> Result<Self> {
        let FrameConvShape {
            c_in,
            c_out,
            kernel,
            stride,
            padding,
            bias,
        } = shape;
        let weight = get(&format!("{name}.weight"), &[c_out, c_in, kernel])?;
        let bias = if bias {
            get(&format!("{name}.bias"), &[c_out])?
        } else {
            Vec::new()
        };
        Ok(FrameConv1d {
            weight,
            bias,
            c_in,
            c_out,
            kernel,
            stride: stride.max(1),
            padding,
        })
    }

    /// Output length for an input of `len` steps.
    pub fn out_len(&self, len: usize) -> usize {
        (len + 2 * self.padding).saturating_sub(self.kernel) / self.stride + 1
    }

    /// `x` is `[c_in][len]`; writes the convolution as `[c_out][out_len]` into `out`. `col` is scratch.
    pub fn forward(&self, x: &[f32], len: usize, col: &mut Vec<f32>, out: &mut Vec<f32>) {
        let lout = self.out_len(len);
        let row = self.c_in * self.kernel;
        col.clear();
        col.resize(lout * row, 0.0);
        for (t, dst) in col.chunks_exact_mut(row.max(1)).enumerate() {
            for i in 0..self.c_in {
                for k in 0..self.kernel {
                    // input position of tap k for output t; positions in the padding read zero
                    let pos = (t * self.stride + k) as isize - self.padding as isize;
                    if pos >= 0 && (pos as usize) < len {
                        dst[i * self.kernel + k] = x[i * len + pos as usize];
                    }
                }
            }
        }
        out.clear();
        out.resize(self.c_out * lout, 0.0);
        for o in 0..self.c_out {
            let w = &self.weight[o * row..(o + 1) * row];
            let b = self.bias.get(o).copied().unwrap_or(0.0);
            for t in 0..lout {
                out[o * lout + t] = dot(w, &col[t * row..(t + 1) * row]) + b;
            }
        }
    }
}

/// PyTorch's `nn.LSTMCell`: one step of `(x, h, c) → (h', c')`, gate order i, f, g, o.
#[derive(Debug, Clone)]
pub struct LstmCell {
    /// `[4 * hidden][input + hidden]`: each row is `[w_ih | w_hh]`, so one dot product per gate row.
    weight: Vec<f32>,
    /// `b_ih + b_hh`.
    bias: Vec<f32>,
    input: usize,
    hidden: usize,
}

/// Scratch of one [`LstmCell`] stream, reused across steps.
#[derive(Debug, Clone, Default)]
pub struct LstmScratch {
    xh: Vec<f32>,
    gates: Vec<f32>,
}

impl LstmCell {
    /// Loads `{name}.weight_ih` `[4h, input]`, `{name}.weight_hh` `[4h, h]`, `{name}.bias_ih` and `{name}.bias_hh`.
    pub fn load(get: WeightLookup, name: &str, input: usize, hidden: usize) -> Result<Self> {
        let w_ih = get(&format!("{name}.weight_ih"), &[4 * hidden, input])?;
        let w_hh = get(&format!("{name}.weight_hh"), &[4 * hidden, hidden])?;
        let b_ih = get(&format!("{name}.bias_ih"), &[4 * hidden])?;
        let b_hh = get(&format!("{name}.bias_hh"), &[4 * hidden])?;
        let mut weight = Vec::with_capacity(4 * hidden * (input + hidden));
        for r in 0..4 * hidden {
            weight.extend_from_slice(&w_ih[r * input..(r + 1) * input]);
            weight.extend_from_slice(&w_hh[r * hidden..(r + 1) * hidden]);
        }
        let bias = b_ih.iter().zip(&b_hh).map(|(a, b)| a + b).collect();
        Ok(LstmCell {
            weight,
            bias,
            input,
            hidden,
        })
    }

    /// The size of `h` and `c`.
    pub fn hidden(&self) -> usize {
        self.hidden
    }

    /// Advances `h` and `c` (each `hidden` long) by one step of input `x` (the first `input` values are used).
    pub fn step(&self, x: &[f32], h: &mut [f32], c: &mut [f32], s: &mut LstmScratch) {
        let (n_in, n_h) = (self.input, self.hidden);
        s.xh.clear();
        s.xh.extend_from_slice(&x[..n_in]);
        s.xh.extend_from_slice(&h[..n_h]);
        s.gates.clear();
        let row = n_in + n_h;
        for (w, b) in self.weight.chunks_exact(row.max(1)).zip(&self.bias) {
            s.gates.push(dot(w, &s.xh) + b);
        }
        for j in 0..n_h {
            let i = sigmoid(s.gates[j]);
            let f = sigmoid(s.gates[n_h + j]);
            let g = s.gates[2 * n_h + j].tanh();
            let o = sigmoid(s.gates[3 * n_h + j]);
            c[j] = f * c[j] + i * g;
            h[j] = o * c[j].tanh();
        }
    }
}

/// The logistic function.
pub fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Error;

    fn lookup(
        values: Vec<(&'static str, Vec<usize>, Vec<f32>)>,
    ) -> impl Fn(&str, &[usize]) -> Result<Vec<f32>> {
        move |name, shape| {
            let (_, s, v) = values
                .iter()
                .find(|(n, _, _)| *n == name)
                .ok_or_else(|| Error::MissingWeight(name.to_string()))?;
            assert_eq!(s.as_slice(), shape, "{name}");
            Ok(v.clone())
        }
    }

    #[test]
    fn conv_matches_a_direct_convolution_with_padding_and_stride() {
        // 2 in, 3 out, kernel 3, stride 2, padding 1, on 5 steps; compared with the definition.
        let w: Vec<f32> = (0..18).map(|i| (i as f32 * 0.37).sin()).collect();
        let b = vec![0.1, -0.2, 0.3];
        let get = lookup(vec![
            ("c.weight", vec![3, 2, 3], w.clone()),
            ("c.bias", vec![3], b.clone()),
        ]);
        let shape = FrameConvShape {
            c_in: 2,
            c_out: 3,
            kernel: 3,
            stride: 2,
            padding: 1,
            bias: true,
        };
        let conv = FrameConv1d::load(&get, "c", shape).unwrap();
        let x: Vec<f32> = (0..10).map(|i| (i as f32 * 0.91).cos()).collect();
        let (mut col, mut out) = (Vec::new(), Vec::new());
        conv.forward(&x, 5, &mut col, &mut out);
        assert_eq!(conv.out_len(5), 3);
        for o in 0..3 {
            for t in 0..3 {
                let mut want = b[o];
                for i in 0..2 {
                    for k in 0..3 {
                        let pos = (2 * t + k) as isize - 1;
                        if (0..5).contains(&pos) {
                            want += w[o * 6 + i * 3 + k] * x[i * 5 + pos as usize];
                        }
                    }
                }
                assert!((out[o * 3 + t] - want).abs() < 1e-6, "o {o} t {t}");
            }
        }
    }

    #[test]
    fn lstm_step_matches_the_cell_equations() {
        let (n_in, n_h) = (3, 2);
        let w_ih: Vec<f32> = (0..4 * n_h * n_in)
            .map(|i| (i as f32 * 0.3).sin() * 0.5)
            .collect();
        let w_hh: Vec<f32> = (0..4 * n_h * n_h)
            .map(|i| (i as f32 * 0.7).cos() * 0.5)
            .collect();
        let b_ih: Vec<f32> = (0..4 * n_h).map(|i| i as f32 * 0.01).collect();
        let b_hh: Vec<f32> = (0..4 * n_h).map(|i| -(i as f32) * 0.02).collect();
        let get = lookup(vec![
            ("l.weight_ih", vec![4 * n_h, n_in], w_ih.clone()),
            ("l.weight_hh", vec![4 * n_h, n_h], w_hh.clone()),
            ("l.bias_ih", vec![4 * n_h], b_ih.clone()),
            ("l.bias_hh", vec![4 * n_h], b_hh.clone()),
        ]);
        let cell = LstmCell::load(&get, "l", n_in, n_h).unwrap();
        let x = [0.5, -1.0, 0.25];
        let (mut h, mut c) = (vec![0.1, -0.3], vec![0.2, 0.4]);
        let (h0, c0) = (h.clone(), c.clone());
        cell.step(&x, &mut h, &mut c, &mut LstmScratch::default());
        let gate = |r: usize| -> f32 {
            let a: f32 = (0..n_in).map(|k| w_ih[r * n_in + k] * x[k]).sum();
            let b: f32 = (0..n_h).map(|k| w_hh[r * n_h + k] * h0[k]).sum();
            a + b + b_ih[r] + b_hh[r]
        };
        for j in 0..n_h {
            let (i, f) = (sigmoid(gate(j)), sigmoid(gate(n_h + j)));
            let (g, o) = (gate(2 * n_h + j).tanh(), sigmoid(gate(3 * n_h + j)));
            let want_c = f * c0[j] + i * g;
            assert!((c[j] - want_c).abs() < 1e-6);
            assert!((h[j] - o * want_c.tanh()).abs() < 1e-6);
        }
    }
}
