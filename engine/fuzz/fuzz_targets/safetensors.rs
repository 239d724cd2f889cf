//! Any bytes given to the safetensors reader must give `Ok` or `Err`, never a panic or a huge allocation;
//! whatever parses must also load.
#![no_main]

use libfuzzer_sys::fuzz_target;
use offgrid_engine::io::{DTypePolicy, SafeTensors, VarBuilder};
use offgrid_engine::Device;

fuzz_target!(|data: &[u8]| {
    if let Ok(st) = SafeTensors::from_bytes(data.to_vec()) {
        let names: Vec<String> = st.names().map(str::to_string).collect();
        for name in &names {
            let _ = st.load(name, DTypePolicy::F16, &Device::Cpu);
        }
        if let Ok(vb) = VarBuilder::from_safetensors(data.to_vec(), &Device::Cpu) {
            if let Ok(vb) = vb.with_quantization(Some(offgrid_engine::DType::Q4_0)) {
                for name in &names {
                    let _ = vb.get_unchecked(name).and_then(|t| t.to_vec_f32());
                }
            }
        }
    }
});
