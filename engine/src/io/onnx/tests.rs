//! Unit tests of the ONNX reader on hand-built protobuf messages.

use super::*;

fn key(field: u32, wire: u8) -> u8 {
    ((field << 3) as u8) | wire
}

fn len_field(field: u32, body: &[u8]) -> Vec<u8> {
    let mut v = vec![key(field, 2), body.len() as u8];
    v.extend_from_slice(body);
    v
}

/// A one-node model: Conv with a 2-value f16 initializer and packed `strides`.
fn tiny_model() -> Vec<u8> {
    let mut tensor = vec![key(1, 0), 2, key(2, 0), 10];
    tensor.extend(len_field(8, b"w"));
    tensor.extend(len_field(9, &[0x00, 0x3c, 0x00, 0xc0])); // 1.0, -2.0 in f16
    let mut attr = len_field(1, b"strides");
    attr.extend(len_field(8, &[2, 2]));
    // `type = INTS (7)`: field 20 needs a two-byte key, (20 << 3) = 160 → varint [0xa0, 0x01].
    attr.extend([0xa0, 0x01, 7]);
    let mut node = len_field(1, b"x");
    node.extend(len_field(1, b"w"));
    node.extend(len_field(2, b"y"));
    node.extend(len_field(3, b"/stage1/conv/Conv"));
    node.extend(len_field(4, b"Conv"));
    node.extend(len_field(5, &attr));
    let input = len_field(1, b"x");
    let mut graph = len_field(1, &node);
    graph.extend(len_field(5, &tensor));
    graph.extend(len_field(11, &input));
    let mut model = vec![key(1, 0), 8];
    model.extend(len_field(7, &graph));
    model
}

#[test]
fn reads_nodes_attributes_and_f16_initializers() {
    let file = tiny_model();
    let m = OnnxModel::parse(&file).expect("parses");
    assert_eq!(m.nodes.len(), 1);
    let conv = &m.nodes[0];
    assert_eq!(conv.op_type, "Conv");
    assert_eq!(conv.name, "/stage1/conv/Conv");
    assert_eq!(conv.inputs, ["x", "w"]);
    assert_eq!(conv.ints("strides", &[1, 1]), [2, 2]);
    assert_eq!(conv.ints("dilations", &[1, 1]), [1, 1]);
    let w = m.constant("w").expect("initializer");
    assert_eq!(w.dtype, OnnxDType::F16);
    assert_eq!(w.dims, [2]);
    assert_eq!(w.to_f32().expect("values"), [1.0, -2.0]);
    assert_eq!(m.inputs, ["x"]);
}

#[test]
fn truncated_or_foreign_files_are_errors() {
    let file = tiny_model();
    for cut in [1, 5, file.len() / 2, file.len() - 1] {
        assert!(OnnxModel::parse(&file[..cut]).is_err(), "cut at {cut}");
    }
    assert!(OnnxModel::parse(b"RIFF....WAVEfmt ").is_err());
    assert!(OnnxModel::parse(&[]).is_err());
}
