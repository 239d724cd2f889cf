//! Weight types as the catalog names them (the same names as the engine's `DType`).

use serde::{Deserialize, Serialize};

/// How a model's weights are stored or run. Mirrors `offgrid_engine::DType` by name; the catalog keeps its own
/// copy so that the app's main thread can plan without linking the engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[allow(non_camel_case_types)] // the names llama.cpp and GGUF use
pub enum WeightDType {
    F32,
    F16,
    BF16,
    Q8_0,
    Q4_0,
    Q4_1,
    Q5_0,
    Q4_K,
    Q6_K,
}

impl WeightDType {
    /// Average bits per weight, block scales included (GGUF block layouts).
    pub fn bits_per_weight(self) -> f64 {
        match self {
            WeightDType::F32 => 32.0,
            WeightDType::F16 | WeightDType::BF16 => 16.0,
            WeightDType::Q8_0 => 8.5,
            WeightDType::Q4_0 | WeightDType::Q4_K => 4.5,
            WeightDType::Q4_1 => 5.0,
            WeightDType::Q5_0 => 5.5,
            WeightDType::Q6_K => 6.5625,
        }
    }

    /// Bytes taken by `count` weights of this type (rounded up).
    pub fn bytes_for(self, count: u64) -> u64 {
        (count as f64 * self.bits_per_weight() / 8.0).ceil() as u64
    }

    /// Whether this is a block-quantized type.
    pub fn is_quantized(self) -> bool {
        !matches!(
            self,
            WeightDType::F32 | WeightDType::F16 | WeightDType::BF16
        )
    }

    /// The lowercase name used in URLs, JSON and the UI (`f32`, `q8_0`…).
    pub fn name(self) -> &'static str {
        match self {
            WeightDType::F32 => "f32",
            WeightDType::F16 => "f16",
            WeightDType::BF16 => "bf16",
            WeightDType::Q8_0 => "q8_0",
            WeightDType::Q4_0 => "q4_0",
            WeightDType::Q4_1 => "q4_1",
            WeightDType::Q5_0 => "q5_0",
            WeightDType::Q4_K => "q4_k",
            WeightDType::Q6_K => "q6_k",
        }
    }
}

impl std::fmt::Display for WeightDType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_follow_block_layouts() {
        // 32 q8_0 weights are one 34-byte block; 32 q4_0 weights one 18-byte block.
        assert_eq!(WeightDType::Q8_0.bytes_for(32), 34);
        assert_eq!(WeightDType::Q4_0.bytes_for(32), 18);
        assert_eq!(WeightDType::Q4_1.bytes_for(32), 20);
        assert_eq!(WeightDType::Q5_0.bytes_for(32), 22);
        assert_eq!(WeightDType::Q4_K.bytes_for(256), 144);
        assert_eq!(WeightDType::Q6_K.bytes_for(256), 210);
        assert_eq!(WeightDType::F16.bytes_for(3), 6);
        assert_eq!(
            serde_json::to_string(&WeightDType::Q8_0).unwrap_or_default(),
            "\"q8_0\""
        );
    }
}
