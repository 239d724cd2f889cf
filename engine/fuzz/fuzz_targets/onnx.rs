//! ONNX weights: the graph reader (nodes, attributes, initializers, `Constant` tensors followed through
//! `Cast`/`Identity`), every constant read as floats and integers, and the three importers built on it
//! (Piper voices, IS-Net, Silero VAD's initializer reader).
//!
//! Any bytes must give `Ok` or `Err`, never a panic, a hang or an allocation the file's bytes do not back.
#![no_main]

use libfuzzer_sys::fuzz_target;
use offgrid_engine::io::onnx::{OnnxAttribute, OnnxModel};
use offgrid_engine::models::silero_vad::SileroVad;
use offgrid_engine::models::{isnet, vits};

fuzz_target!(|data: &[u8]| {
    if let Ok(model) = OnnxModel::parse(data) {
        for t in &model.initializers {
            let _ = (t.to_f32(), t.to_i64(), t.float_bytes(), t.elem_count());
        }
        // `constant` is a linear search (loaders call it once per weight): for every input of every node it
        // would make each run quadratic in the graph's size, so only the first nodes are looked up here; the
        // importers below look up every convolution's weights.
        for node in model.nodes.iter().take(64) {
            for (_, attr) in &node.attributes {
                if let OnnxAttribute::Tensor(t) = attr {
                    let _ = (t.to_f32(), t.to_i64(), t.float_bytes());
                }
            }
            let _ = (
                node.ints("strides", &[1]),
                node.int("axis", 0),
                node.str_attr("mode"),
            );
            for input in &node.inputs {
                if let Some(t) = model.constant(input) {
                    let _ = (t.to_f32(), t.to_i64());
                }
            }
        }
        let _ = model.nodes_of("Conv").count();
        let _ = vits::piper::to_safetensors(data, 22_050);
        let _ = isnet::onnx::to_safetensors(data);
    }
    let _ = SileroVad::load_onnx(data);
});
