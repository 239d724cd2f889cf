//! Elementwise functions of one tensor.

use crate::cpu::fastmath::{exp, gelu};
use crate::{Device, Result, Tensor};

/// An elementwise function of one value.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum UnaryOp {
    /// GELU with the exact erf form.
    Gelu,
    /// GELU with the tanh approximation.
    GeluTanh,
    Silu,
    Relu,
    /// `x` if positive, else `slope * x`.
    LeakyRelu(f32),
    Tanh,
    Sigmoid,
    Exp,
    Log,
    Sqrt,
    Neg,
    Abs,
    /// `x * mul + add`.
    Affine {
        mul: f32,
        add: f32,
    },
}

impl UnaryOp {
    /// The function applied to one value (what the CPU backend computes; exp and erf are the vectorisable
    /// forms of `cpu::fastmath`).
    #[inline(always)]
    pub fn apply(self, x: f32) -> f32 {
        match self {
            UnaryOp::Gelu => gelu(x),
            UnaryOp::GeluTanh => {
                // 0.5·(1 + tanh(u)) = sigmoid(2u): one exp, and no cancellation where tanh(u) is near −1.
                let inner = 0.797_884_6 * (x + 0.044_715 * x * x * x);
                x / (1.0 + exp(-2.0 * inner))
            }
            UnaryOp::Silu => x / (1.0 + exp(-x)),
            UnaryOp::Relu => x.max(0.0),
            UnaryOp::LeakyRelu(slope) => {
                if x > 0.0 {
                    x
                } else {
                    slope * x
                }
            }
            UnaryOp::Tanh => x.tanh(),
            UnaryOp::Sigmoid => 1.0 / (1.0 + exp(-x)),
            UnaryOp::Exp => exp(x),
            UnaryOp::Log => x.ln(),
            UnaryOp::Sqrt => x.sqrt(),
            UnaryOp::Neg => -x,
            UnaryOp::Abs => x.abs(),
            UnaryOp::Affine { mul, add } => x * mul + add,
        }
    }

    fn name(self) -> &'static str {
        match self {
            UnaryOp::Gelu => "gelu",
            UnaryOp::GeluTanh => "gelu_tanh",
            UnaryOp::Silu => "silu",
            UnaryOp::Relu => "relu",
            UnaryOp::LeakyRelu(_) => "leaky_relu",
            UnaryOp::Tanh => "tanh",
            UnaryOp::Sigmoid => "sigmoid",
            UnaryOp::Exp => "exp",
            UnaryOp::Log => "log",
            UnaryOp::Sqrt => "sqrt",
            UnaryOp::Neg => "neg",
            UnaryOp::Abs => "abs",
            UnaryOp::Affine { .. } => "affine",
        }
    }
}

impl Tensor {
    /// Applies an elementwise function.
    pub fn unary(&self, op: UnaryOp) -> Result<Tensor> {
        crate::ops::float_input(op.name(), self)?;
        match self.device() {
            Device::Cpu => crate::cpu::elementwise::unary(self, op),
            Device::Gpu(_) => crate::gpu::elementwise::unary(self, op.into()),
        }
    }
    /// GELU (erf form, as `torch.nn.functional.gelu`).
    pub fn gelu(&self) -> Result<Tensor> {
        self.unary(UnaryOp::Gelu)
    }
    /// GELU (tanh approximation).
    pub fn gelu_tanh(&self) -> Result<Tensor> {
        self.unary(UnaryOp::GeluTanh)
    }
    /// SiLU (x · sigmoid(x)).
    pub fn silu(&self) -> Result<Tensor> {
        self.unary(UnaryOp::Silu)
    }
    /// ReLU.
    pub fn relu(&self) -> Result<Tensor> {
        self.unary(UnaryOp::Relu)
    }
    /// Leaky ReLU with `slope` for negative values.
    pub fn leaky_relu(&self, slope: f32) -> Result<Tensor> {
        self.unary(UnaryOp::LeakyRelu(slope))
    }
    /// tanh.
    pub fn tanh(&self) -> Result<Tensor> {
        self.unary(UnaryOp::Tanh)
    }
    /// Logistic sigmoid.
    pub fn sigmoid(&self) -> Result<Tensor> {
        self.unary(UnaryOp::Sigmoid)
    }
    /// eˣ.
    pub fn exp(&self) -> Result<Tensor> {
        self.unary(UnaryOp::Exp)
    }
    /// Natural logarithm.
    pub fn log(&self) -> Result<Tensor> {
        self.unary(UnaryOp::Log)
    }
    /// Square root.
    pub fn sqrt(&self) -> Result<Tensor> {
        self.unary(UnaryOp::Sqrt)
    }
    /// Negation.
    pub fn neg(&self) -> Result<Tensor> {
        self.unary(UnaryOp::Neg)
    }
    /// Absolute value.
    pub fn abs(&self) -> Result<Tensor> {
        self.unary(UnaryOp::Abs)
    }
    /// `x * mul + add`.
    pub fn affine(&self, mul: f32, add: f32) -> Result<Tensor> {
        self.unary(UnaryOp::Affine { mul, add })
    }
}
