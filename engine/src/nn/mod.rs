//! Layers shared by every model: one struct each, `load` from a [`VarBuilder`] and `forward`.
//!
//! Small tensors (norm scales, biases) are kept in F32 whatever the checkpoint stores; weight matrices keep
//! their stored (or load-time quantized) type and the op picks the kernel.

use crate::io::VarBuilder;
use crate::{DType, Result, Tensor};
use serde::{Deserialize, Serialize};

mod conv;
pub mod frame;
pub use conv::{Conv1d, Conv1dK3, Conv1dParams, Conv2d, ConvTranspose1d};

/// `t` as F32 (norms, biases and position tables are small; every kernel reads them as f32).
pub fn as_f32(t: Tensor) -> Result<Tensor> {
    if t.dtype() == DType::F32 {
        Ok(t)
    } else {
        t.cast(DType::F32)
    }
}

/// `y = x·Wᵀ + b` with W `[out, in]` (PyTorch's `nn.Linear`).
#[derive(Debug, Clone)]
pub struct Linear {
    weight: Tensor,
    bias: Option<Tensor>,
}

impl Linear {
    /// Loads `weight` `[out, in]` and, if `bias`, `bias` `[out]`.
    pub fn load(vb: &VarBuilder, out_f: usize, in_f: usize, bias: bool) -> Result<Self> {
        let weight = vb.get("weight", [out_f, in_f])?;
        let bias = if bias {
            Some(as_f32(vb.get_float("bias", [out_f])?)?)
        } else {
            None
        };
        Ok(Linear { weight, bias })
    }

    /// A layer over an already loaded weight (a tied embedding used as the output head).
    pub fn from_weight(weight: Tensor, bias: Option<Tensor>) -> Self {
        Linear { weight, bias }
    }

    /// The weight `[out, in]`.
    pub fn weight(&self) -> &Tensor {
        &self.weight
    }

    /// `x[.., in] → [.., out]`.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        x.linear(&self.weight, self.bias.as_ref())
    }
}

/// A lookup table `[vocab, d]` (F32, F16 or quantized; quantized rows are dequantized when picked).
#[derive(Debug, Clone)]
pub struct Embedding {
    table: Tensor,
}

impl Embedding {
    /// Loads `weight` `[vocab, d]` as stored (never quantized at load: rows are read by index).
    pub fn load(vb: &VarBuilder, vocab: usize, d: usize) -> Result<Self> {
        Ok(Embedding {
            table: vb.get_float("weight", [vocab, d])?,
        })
    }

    /// The table `[vocab, d]`.
    pub fn table(&self) -> &Tensor {
        &self.table
    }

    /// U32 ids of any shape → `[..ids, d]`.
    pub fn forward(&self, ids: &Tensor) -> Result<Tensor> {
        self.table.embedding(ids)
    }
}

/// Root-mean-square norm with a learned scale (Llama's `RMSNorm`).
#[derive(Debug, Clone)]
pub struct RmsNorm {
    weight: Tensor,
    eps: f32,
}

impl RmsNorm {
    /// Loads `weight` `[d]`.
    pub fn load(vb: &VarBuilder, d: usize, eps: f32) -> Result<Self> {
        Ok(RmsNorm {
            weight: as_f32(vb.get_float("weight", [d])?)?,
            eps,
        })
    }

    /// Normalises the last axis.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        x.rms_norm(&self.weight, self.eps)
    }
}

/// Layer norm with a learned scale and optional shift (`nn.LayerNorm`).
#[derive(Debug, Clone)]
pub struct LayerNorm {
    weight: Tensor,
    bias: Option<Tensor>,
    eps: f32,
}

impl LayerNorm {
    /// Loads `weight` `[d]` and `bias` `[d]` (BERT names the layer `LayerNorm`, Whisper `*_layer_norm`).
    pub fn load(vb: &VarBuilder, d: usize, eps: f32) -> Result<Self> {
        Ok(LayerNorm {
            weight: as_f32(vb.get_float("weight", [d])?)?,
            bias: Some(as_f32(vb.get_float("bias", [d])?)?),
            eps,
        })
    }

    /// Loads `gamma` `[d]` and `beta` `[d]` (the names VITS and other pre-`nn.LayerNorm` code use).
    pub fn load_gamma_beta(vb: &VarBuilder, d: usize, eps: f32) -> Result<Self> {
        Ok(LayerNorm {
            weight: as_f32(vb.get_float("gamma", [d])?)?,
            bias: Some(as_f32(vb.get_float("beta", [d])?)?),
            eps,
        })
    }

    /// Normalises the last axis.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        x.layer_norm(&self.weight, self.bias.as_ref(), self.eps)
    }
}

/// An activation function as configs name it (`"gelu"`, `"silu"`, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Activation {
    /// Exact (erf) GELU.
    Gelu,
    /// GELU's tanh approximation (`gelu_new`, `gelu_pytorch_tanh`, `gelu_fast`).
    #[serde(alias = "gelu_new", alias = "gelu_pytorch_tanh", alias = "gelu_fast")]
    GeluTanh,
    /// `x·σ(x)` (`swish`).
    #[serde(alias = "swish")]
    Silu,
    /// `max(x, 0)`.
    Relu,
    /// `tanh(x)`.
    Tanh,
}

impl Activation {
    /// Applies the function element-wise.
    pub fn forward(self, x: &Tensor) -> Result<Tensor> {
        match self {
            Activation::Gelu => x.gelu(),
            Activation::GeluTanh => x.gelu_tanh(),
            Activation::Silu => x.silu(),
            Activation::Relu => x.relu(),
            Activation::Tanh => x.tanh(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn activations_parse_by_the_names_configs_use() {
        let parse = |name: &str| serde_json::from_str::<Activation>(&format!("\"{name}\""));
        assert_eq!(parse("gelu").ok(), Some(Activation::Gelu));
        for tanh in ["gelu_new", "gelu_pytorch_tanh", "gelu_fast"] {
            assert_eq!(parse(tanh).ok(), Some(Activation::GeluTanh), "{tanh}");
        }
        assert_eq!(parse("swish").ok(), Some(Activation::Silu));
        assert_eq!(parse("relu").ok(), Some(Activation::Relu));
        // An unknown name is an error that names it, not a silent default.
        let err = parse("mystery_act").expect_err("unknown activation");
        assert!(err.to_string().contains("mystery_act"), "{err}");
    }

    #[test]
    fn activations_compute_their_functions() {
        let x = Tensor::from_f32(vec![-2.0, 0.0, 1.5], [3], &crate::Device::Cpu).expect("tensor");
        let relu = Activation::Relu.forward(&x).and_then(|t| t.to_vec_f32());
        assert_eq!(relu.ok(), Some(vec![0.0, 0.0, 1.5]));
        let silu = Activation::Silu
            .forward(&x)
            .and_then(|t| t.to_vec_f32())
            .expect("silu");
        let want = 1.5 / (1.0 + (-1.5f32).exp());
        assert!((silu[2] - want).abs() < 1e-6);
    }
}
