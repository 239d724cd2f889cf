//! Any bytes given to the GGUF reader must give `Ok` or `Err`, never a panic or a huge allocation;
//! whatever parses must also load and dequantize.
#![no_main]

use libfuzzer_sys::fuzz_target;
use offgrid_engine::io::{DTypePolicy, Gguf};
use offgrid_engine::Device;

fuzz_target!(|data: &[u8]| {
    if let Ok(g) = Gguf::from_bytes(data.to_vec()) {
        for t in g.tensors() {
            let _ = g
                .load(&t.name, DTypePolicy::AsStored, &Device::Cpu)
                .and_then(|t| t.to_vec_f32());
        }
    }
});
