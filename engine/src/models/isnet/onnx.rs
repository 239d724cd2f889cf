//! IS-Net weights out of an ONNX export. Exporters fold batch norm into the convolutions and often give the
//! weights anonymous names (`onnx::Conv_1896`), but every `Conv` node keeps its PyTorch module path in its
//! name (`/stage1/rebnconvin/conv_s1/Conv`). Each convolution's weight and bias are renamed after their node
//! (`stage1.rebnconvin.conv_s1.weight`) into an in-memory safetensors file that [`super::IsNet::load`] reads
//! like a PyTorch checkpoint. The bytes are copied once, in their stored type (f16 stays f16).

use crate::io::onnx::OnnxModel;
use crate::io::safetensors::{write_safetensors, TensorToWrite};
use crate::{Error, Result};

fn not_isnet(msg: impl Into<String>) -> Error {
    Error::Malformed(format!(
        "this ONNX file is not an IS-Net segmentation model: {}",
        msg.into()
    ))
}

/// `/stage1/rebnconvin/conv_s1/Conv` → `stage1.rebnconvin.conv_s1`.
fn module_path(node_name: &str) -> Option<String> {
    let path = node_name.strip_prefix('/')?.strip_suffix("/Conv")?;
    (!path.is_empty()).then(|| path.replace('/', "."))
}

/// Renames the convolutions' weights of an IS-Net `.onnx` file to PyTorch names, as safetensors bytes.
pub fn to_safetensors(file: &[u8]) -> Result<Vec<u8>> {
    let model = OnnxModel::parse(file)?;
    let mut tensors = Vec::new();
    for node in model.nodes_of("Conv") {
        let Some(path) = module_path(&node.name) else {
            return Err(not_isnet(format!(
                "a convolution is named `{}`, not after its module",
                node.name
            )));
        };
        for (input, part) in node.inputs.iter().skip(1).zip(["weight", "bias"]) {
            let tensor = model.constant(input).ok_or_else(|| {
                not_isnet(format!(
                    "the {part} of `{}` is not stored in the file",
                    node.name
                ))
            })?;
            let (dtype, bytes) = tensor.float_bytes()?;
            tensors.push(TensorToWrite {
                name: format!("{path}.{part}"),
                dtype,
                shape: tensor.dims.clone(),
                bytes,
            });
        }
    }
    if !tensors
        .iter()
        .any(|t| t.name == "stage1.rebnconvin.conv_s1.weight")
    {
        return Err(not_isnet("it has no `stage1` RSU block"));
    }
    write_safetensors(&tensors)
}

#[cfg(test)]
mod tests {
    use super::module_path;

    #[test]
    fn node_names_become_module_paths() {
        assert_eq!(
            module_path("/stage1/rebnconvin/conv_s1/Conv").as_deref(),
            Some("stage1.rebnconvin.conv_s1")
        );
        assert_eq!(module_path("/conv_in/Conv").as_deref(), Some("conv_in"));
        assert_eq!(module_path("Conv_12"), None);
        assert_eq!(module_path("/Conv"), None);
    }
}
