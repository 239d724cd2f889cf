//! [`VarBuilder`]: weights looked up by name path (`vb.pp("encoder").pp("layer.0").get("weight", ..)`)
//! over a safetensors (possibly sharded) or GGUF file, with a dtype policy and optional load-time quantization.

use super::{float_storage, Gguf, SafeTensors};
use crate::storage::CpuStorage;
use crate::{quant, DType, Device, Error, Result, Shape, Tensor};
use std::sync::Arc;

/// Which float type loaded float weights get. Quantized GGUF blocks are never converted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DTypePolicy {
    /// F32 stays F32, F16 stays F16; BF16 becomes F32.
    #[default]
    AsStored,
    /// Every float weight becomes F32.
    F32,
    /// Every float weight becomes F16.
    F16,
}

#[derive(Debug)]
enum Source {
    SafeTensors(Vec<SafeTensors>),
    Gguf(Gguf),
}

/// Name-path weight loader over one model's files.
#[derive(Debug, Clone)]
pub struct VarBuilder {
    source: Arc<Source>,
    prefix: String,
    device: Device,
    policy: DTypePolicy,
    quantize: Option<DType>,
}

impl VarBuilder {
    fn new(source: Source, device: &Device) -> Self {
        VarBuilder {
            source: Arc::new(source),
            prefix: String::new(),
            device: device.clone(),
            policy: DTypePolicy::AsStored,
            quantize: None,
        }
    }

    /// The same weights, loaded onto `device` instead (small tables a model reads on the CPU).
    pub fn on_device(&self, device: &Device) -> Self {
        VarBuilder {
            device: device.clone(),
            ..self.clone()
        }
    }

    /// Loads from one safetensors file's bytes.
    pub fn from_safetensors(bytes: impl Into<Arc<[u8]>>, device: &Device) -> Result<Self> {
        Ok(Self::new(
            Source::SafeTensors(vec![SafeTensors::from_bytes(bytes)?]),
            device,
        ))
    }

    /// Loads from the shards of a sharded safetensors checkpoint; a name in two shards is an error.
    pub fn from_safetensors_shards(shards: Vec<Arc<[u8]>>, device: &Device) -> Result<Self> {
        let files = shards
            .into_iter()
            .map(SafeTensors::from_bytes)
            .collect::<Result<Vec<_>>>()?;
        let mut seen = std::collections::BTreeSet::new();
        for name in files.iter().flat_map(|f| f.names()) {
            if !seen.insert(name) {
                return Err(Error::Malformed(format!(
                    "weight `{name}` appears in two safetensors shards"
                )));
            }
        }
        Ok(Self::new(Source::SafeTensors(files), device))
    }

    /// Loads from a GGUF file's bytes.
    pub fn from_gguf(bytes: impl Into<Arc<[u8]>>, device: &Device) -> Result<Self> {
        Ok(Self::new(Source::Gguf(Gguf::from_bytes(bytes)?), device))
    }

    /// The same weights with another float dtype policy.
    pub fn with_dtype(mut self, policy: DTypePolicy) -> Self {
        self.policy = policy;
        self
    }

    /// The same weights, with 2-D float weights (last dimension a multiple of 32) quantized on load to
    /// `Some(Q8_0)` or `Some(Q4_0)` by [`VarBuilder::get`]; `None` turns it off.
    pub fn with_quantization(mut self, dtype: Option<DType>) -> Result<Self> {
        if let Some(d) = dtype.filter(|d| !matches!(d, DType::Q8_0 | DType::Q4_0)) {
            return Err(Error::UnsupportedDType {
                op: "load-time quantization",
                dtype: d,
            });
        }
        self.quantize = dtype;
        Ok(self)
    }

    /// A builder whose names are under `self`'s prefix + `name` (joined with a dot).
    pub fn pp(&self, name: impl AsRef<str>) -> Self {
        let mut vb = self.clone();
        vb.prefix = self.path(name.as_ref());
        vb
    }

    /// The current prefix ("" at the root).
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The full name of `name` under the current prefix.
    pub fn path(&self, name: &str) -> String {
        if self.prefix.is_empty() {
            name.to_string()
        } else if name.is_empty() {
            self.prefix.clone()
        } else {
            format!("{}.{name}", self.prefix)
        }
    }

    /// The device weights are loaded onto.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// The GGUF file, for its metadata (architecture, hyper-parameters, vocabulary).
    pub fn gguf(&self) -> Option<&Gguf> {
        match &*self.source {
            Source::Gguf(g) => Some(g),
            Source::SafeTensors(_) => None,
        }
    }

    /// The safetensors files (one per shard).
    pub fn safetensors(&self) -> Option<&[SafeTensors]> {
        match &*self.source {
            Source::SafeTensors(s) => Some(s),
            Source::Gguf(_) => None,
        }
    }

    fn shard_of(&self, full: &str) -> Option<&SafeTensors> {
        self.safetensors()?.iter().find(|f| f.info(full).is_some())
    }

    /// Whether a weight named `name` exists under the current prefix.
    pub fn contains(&self, name: &str) -> bool {
        let full = self.path(name);
        match &*self.source {
            Source::Gguf(g) => g.info(&full).is_some(),
            Source::SafeTensors(_) => self.shard_of(&full).is_some(),
        }
    }

    /// The stored shape of `name`, outermost first.
    pub fn shape_of(&self, name: &str) -> Result<Shape> {
        let full = self.path(name);
        let dims = match &*self.source {
            Source::Gguf(g) => g.info(&full).map(|i| i.shape.clone()),
            Source::SafeTensors(_) => self
                .shard_of(&full)
                .and_then(|f| f.info(&full))
                .map(|i| i.shape.clone()),
        };
        dims.map(Shape::from).ok_or(Error::MissingWeight(full))
    }

    /// Loads `name` and checks its shape; applies the dtype policy and load-time quantization.
    pub fn get(&self, name: &str, shape: impl Into<Shape>) -> Result<Tensor> {
        let expected = shape.into();
        let got = self.shape_of(name)?;
        if got != expected {
            return Err(Error::invalid(
                "load weight",
                format!(
                    "`{}` has shape {:?} but the model expects {:?}; is this the right model file?",
                    self.path(name),
                    got.dims(),
                    expected.dims()
                ),
            ));
        }
        self.load(name, self.quantize)
    }

    /// Loads `name` with whatever shape it has; applies the dtype policy and load-time quantization.
    pub fn get_unchecked(&self, name: &str) -> Result<Tensor> {
        self.load(name, self.quantize)
    }

    /// Loads `name` and checks its shape, never quantizing at load (norms, biases, tables read by index).
    pub fn get_float(&self, name: &str, shape: impl Into<Shape>) -> Result<Tensor> {
        self.clone().with_quantization(None)?.get(name, shape)
    }

    fn load(&self, name: &str, quantize: Option<DType>) -> Result<Tensor> {
        let full = self.path(name);
        let (stored, shape) = match &*self.source {
            Source::Gguf(g) => {
                let info = g
                    .info(&full)
                    .ok_or_else(|| Error::MissingWeight(full.clone()))?;
                (info.ggml_type.dtype(), info.shape.clone())
            }
            Source::SafeTensors(_) => {
                let info = self
                    .shard_of(&full)
                    .and_then(|f| f.info(&full))
                    .ok_or_else(|| Error::MissingWeight(full.clone()))?;
                (info.dtype, info.shape.clone())
            }
        };
        let quantizable = matches!(stored, Some(DType::F32 | DType::F16 | DType::BF16))
            && shape.len() == 2
            && shape[1] % 32 == 0;
        match (quantize, quantizable) {
            (Some(q), true) => {
                let values = float_storage(
                    stored.unwrap_or(DType::F32),
                    self.raw(&full)?,
                    DTypePolicy::F32,
                )?;
                let CpuStorage::F32(values) = values else {
                    return Err(Error::invalid("load weight", "expected f32 values"));
                };
                Tensor::from_quantized(q, quant::quantize(q, &values)?, shape, &self.device)
            }
            _ => match &*self.source {
                Source::Gguf(g) => g.load(&full, self.policy, &self.device),
                Source::SafeTensors(_) => self
                    .shard_of(&full)
                    .ok_or_else(|| Error::MissingWeight(full.clone()))?
                    .load(&full, self.policy, &self.device),
            },
        }
    }

    fn raw(&self, full: &str) -> Result<&[u8]> {
        match &*self.source {
            Source::Gguf(g) => g.raw(full),
            Source::SafeTensors(_) => self
                .shard_of(full)
                .ok_or_else(|| Error::MissingWeight(full.to_string()))?
                .raw(full),
        }
    }
}
