#!/usr/bin/env python3
"""Seed corpora for the fuzz targets (engine/fuzz/fuzz_targets), built from real files: the repo's test
fixtures, the real weights in .cache/weights/ where scripts/fetch-test-weights.sh has put them, and the small
photos in engine/fuzz/seed-files/image/. Nothing large is committed; what is too big for a fuzzer's input is
cut down here with its structure kept:

- a model file is "slimmed": every tensor keeps its name, type and rank, with each dimension cut to at most 2
  and its data to match (ONNX graphs keep every node and attribute; safetensors and GGUF their headers);
- faster-whisper-tiny.en's model.bin becomes a one-layer Whisper of width 12 with the same variables, types and
  alias (plus an int8 copy with per-row scales, as CTranslate2 quantizes), so conversion gets all the way through;
- SmolLM2's GGUF keeps its metadata (chat template, pre-tokenizer, special tokens) with the first 400 tokens and
  the merges among them, and no tensors;
- tokenizer.json files keep their normalizer, pre-tokenizer, post-processor and decoder with a cut vocabulary;
- WAV seeds are cut from the fixtures and re-encoded in every layout the decoder reads.

The photos in seed-files/image/ were made once with ImageMagick 6.9 from engine/tests/fixtures/isnet (e.g.
`convert photos/coffee.jpg -resize 40x40 -strip -interlace JPEG -quality 70 coffee-progressive.jpg`; also CMYK
and grey JPEG, RGBA/palette/16-bit/interlaced PNG, lossy/lossless/alpha WebP, one- and two-frame GIF).

Usage: fuzz-seeds.py OUT_DIR (replaced).
"""
import json
import math
import os
import shutil
import struct
import sys
import wave

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fuzz_seed_models import (  # noqa: E402
    mini_chat_gguf, mini_whisper, slim_onnx, slim_safetensors, slim_tokenizer)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIX = os.path.join(ROOT, "engine", "tests", "fixtures")
WEIGHTS = os.path.join(ROOT, ".cache", "weights")
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "engine", "fuzz", "seeds")


def path(*parts):
    return os.path.join(*parts)


def read(p):
    with open(p, "rb") as f:
        return f.read()


def have(p):
    return os.path.isfile(p)


def put(target, name, data):
    d = path(OUT, target)
    os.makedirs(d, exist_ok=True)
    with open(path(d, name), "wb") as f:
        f.write(data)


# ---------- WAV ----------

# The wav target reads four bytes of piece sizes (each + 1) before the file.
PIECES = [bytes([255, 255, 255, 255]), bytes([0, 1, 2, 3]), bytes([7, 63, 0, 200])]


def riff(chunks, magic=b"RIFF", size=None):
    body = b"WAVE" + b"".join(chunks)
    return magic + struct.pack("<I", len(body) if size is None else size) + body


def chunk(cid, data, size=None):
    pad = b"\0" if len(data) % 2 else b""
    return cid + struct.pack("<I", len(data) if size is None else size) + data + pad


def fmt(tag, channels, rate, bits, width, extensible=False):
    block = channels * width
    base = struct.pack("<HHIIHH", 0xFFFE if extensible else tag, channels, rate, rate * block, block, bits)
    if extensible:
        guid = struct.pack("<H", tag) + b"\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"
        base += struct.pack("<HHI", 22, bits, 0) + guid
    return chunk(b"fmt ", base)


def encode(samples, kind):
    """Mono samples in [-1, 1] as little-endian bytes of one layout."""
    out = bytearray()
    for s in samples:
        if kind == "u8":
            out += struct.pack("<B", max(0, min(255, int(round(s * 127 + 128)))))
        elif kind == "s16":
            out += struct.pack("<h", max(-32768, min(32767, int(round(s * 32767)))))
        elif kind == "s24":
            out += struct.pack("<i", max(-(1 << 23), min((1 << 23) - 1, int(round(s * 8388607)))))[:3]
        elif kind == "s32":
            out += struct.pack("<i", int(round(s * 2147483647)))
        elif kind == "f32":
            out += struct.pack("<f", s)
        else:
            out += struct.pack("<d", s)
    return bytes(out)


def wav_seeds():
    files = sorted(
        [path(FIX, f) for f in os.listdir(FIX) if f.endswith(".wav")]
        + [path(FIX, "speech", f) for f in sorted(os.listdir(path(FIX, "speech")))]
        + [path(FIX, "piper", f) for f in sorted(os.listdir(path(FIX, "piper"))) if f.endswith(".wav")]
    )
    for i, p in enumerate(files):
        # The real file's first 16 KB: its header announces more audio than is there (a cut file).
        put("wav", f"cut-{os.path.basename(p)}", PIECES[i % 3] + read(p)[:16384])
    with wave.open(files[0]) as w:
        rate, width = w.getframerate(), w.getsampwidth()
        raw = w.readframes(600)
    samples = [v / 32768 for v in struct.unpack(f"<{len(raw) // width}h", raw)]
    layouts = [("u8", 1, 1), ("s16", 1, 2), ("s24", 1, 3), ("s32", 1, 4), ("f32", 3, 4), ("f64", 3, 8)]
    for kind, tag, w in layouts:
        data = encode(samples, kind)
        put("wav", f"{kind}.wav", PIECES[0] + riff([fmt(tag, 1, rate, w * 8, w), chunk(b"data", data)]))
        put("wav", f"{kind}-ext.wav", PIECES[1] + riff([fmt(tag, 1, rate, w * 8, w, True), chunk(b"data", data)]))
    s16 = encode(samples, "s16")
    stereo = b"".join(s16[i:i + 2] * 2 for i in range(0, len(s16), 2))
    put("wav", "stereo.wav", PIECES[2] + riff([fmt(1, 2, rate, 16, 2), chunk(b"data", stereo)]))
    # 20-bit samples in 3 bytes, a LIST and an odd-sized chunk (with its pad byte) before the audio.
    s24 = encode(samples, "s24")
    put("wav", "s20-list.wav", PIECES[1] + riff([
        fmt(1, 1, rate, 20, 3), chunk(b"LIST", b"INFOINAM\x05\x00\x00\x00fuzz\x00\x00"), chunk(b"junk", b"abc"),
        chunk(b"data", s24)]))
    # Streamed: unknown sizes. RF64 with its ds64 chunk, and an odd data size with a trailing chunk.
    put("wav", "streamed.wav", PIECES[0] + riff([fmt(1, 1, rate, 16, 2), chunk(b"data", s16, 0xFFFFFFFF)],
                                                size=0xFFFFFFFF))
    ds64 = chunk(b"ds64", struct.pack("<QQQI", 0, len(s16), len(s16) // 2, 0))
    put("wav", "rf64.wav", PIECES[2] + riff([ds64, fmt(1, 1, rate, 16, 2), chunk(b"data", s16, 0xFFFFFFFF)],
                                            magic=b"RF64", size=0xFFFFFFFF))
    put("wav", "odd-data.wav", PIECES[0] + riff([fmt(1, 1, rate, 16, 2), chunk(b"data", s16[:-1]),
                                                 chunk(b"id3 ", b"tag")]))


# ---------- safetensors and GGUF ----------

def gguf_and_safetensors_seeds():
    put("gguf", "quant_tiny.gguf", read(path(FIX, "quant_tiny.gguf")))
    put("chat_gguf", "quant_tiny.gguf", read(path(FIX, "quant_tiny.gguf")))
    smollm2 = path(WEIGHTS, "smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf")
    if have(smollm2):
        data = read(smollm2)
        mini, template = mini_chat_gguf(data)
        put("chat_gguf", "smollm2-mini.gguf", mini)
        put("gguf", "smollm2-mini.gguf", mini)
        put("chat_template", "smollm2.jinja", template.encode())
    put("safetensors", "quant_tiny.safetensors", read(path(FIX, "quant_tiny.safetensors")))
    for p in [path(FIX, "bert_tiny_bge", "model.safetensors"), path(FIX, "bert_tiny_e5", "model.safetensors"),
              path(FIX, "vits_hf_tiny", "model.safetensors"), path(FIX, "whisper_tiny", "model.safetensors"),
              path(WEIGHTS, "silero-vad", "silero_vad_16k.safetensors"),
              path(WEIGHTS, "all-MiniLM-L6-v2", "model.safetensors")]:
        if have(p):
            name = os.path.basename(os.path.dirname(p)) + "-slim.safetensors"
            put("safetensors", name, slim_safetensors(read(p)))


# ---------- CTranslate2 ----------

def ct2_seeds():
    tiny = path(WEIGHTS, "faster-whisper-tiny.en")
    if not have(path(tiny, "model.bin")):
        return
    config = read(path(tiny, "config.json"))
    data = read(path(tiny, "model.bin"))
    f16, i8 = mini_whisper(data)

    def seed(cfg, model):
        return struct.pack("<H", len(cfg)) + cfg + model

    put("ctranslate2", "tiny-en-mini-f16", seed(config, f16))
    put("ctranslate2", "tiny-en-mini-int8", seed(config, i8))
    put("ctranslate2", "tiny-en-mini-no-config", seed(b"{}", f16))
    put("ctranslate2", "tiny-en-prefix", seed(config, data[:8192]))
    put("model_json", "faster-whisper-config.json", config)


# ---------- ONNX ----------

def onnx_seeds():
    files = [path(WEIGHTS, "silero-vad", f) for f in ("silero_vad_16k_op15.onnx", "silero_vad_op18_ifless.onnx",
                                                       "silero_vad.onnx", "silero_vad_half.onnx")]
    files += [path(WEIGHTS, "piper-joe", "en_US-joe-medium.onnx"), path(WEIGHTS, "isnet-imgly", "model_fp16.onnx")]
    for p in files:
        if not have(p):
            continue
        name = os.path.basename(p)[:-len(".onnx")]
        data = read(p)
        slim = slim_onnx(data)
        if len(slim) > 200_000:
            # Piper's graph alone is larger than a fuzzer's input: its first nodes (the text encoder and the
            # phoneme embedding's Gather come first) with every initializer.
            slim = slim_onnx(data, max_nodes=300)
        put("onnx", f"{name}-slim.onnx", slim)
        put("onnx", f"{name}-prefix.onnx", data[:4096])
    if have(path(WEIGHTS, "piper-joe", "en_US-joe-medium.onnx.json")):
        put("model_json", "piper-joe.onnx.json", read(path(WEIGHTS, "piper-joe", "en_US-joe-medium.onnx.json")))


# ---------- tokenizer.json ----------

def tokenizer_seeds():
    for p in [path(FIX, "bert_tiny_bge", "tokenizer.json"), path(FIX, "bert_tiny_e5", "tokenizer.json")]:
        put("tokenizer_json", os.path.basename(os.path.dirname(p)) + ".json", read(p))
    for p in [path(FIX, "whisper_tiny", "tokenizer.json"), path(WEIGHTS, "all-MiniLM-L6-v2", "tokenizer.json"),
              path(WEIGHTS, "faster-whisper-tiny.en", "tokenizer.json"),
              path(WEIGHTS, "faster-whisper-base", "tokenizer.json")]:
        if have(p):
            put("tokenizer_json", os.path.basename(os.path.dirname(p)) + "-slim.json", slim_tokenizer(read(p)))


# ---------- photos ----------

def exif(orientation):
    """An EXIF block (TIFF, little-endian) holding only an orientation."""
    ifd = struct.pack("<H", 1) + struct.pack("<HHIHH", 0x0112, 3, 1, orientation, 0) + struct.pack("<I", 0)
    return b"II*\x00" + struct.pack("<I", 8) + ifd


def png_chunk(cid, data):
    import zlib
    return struct.pack(">I", len(data)) + cid + data + struct.pack(">I", zlib.crc32(cid + data) & 0xFFFFFFFF)


def image_seeds():
    src = path(ROOT, "engine", "fuzz", "seed-files", "image")
    for f in sorted(os.listdir(src)):
        put("image", f, read(path(src, f)))
    # Orientation: a JPEG with an APP1 EXIF segment after SOI, a PNG with an eXIf chunk after IHDR.
    jpg = read(path(src, "astronaut.jpg"))
    for o in (3, 6, 8):
        app1 = b"Exif\x00\x00" + exif(o)
        put("image", f"astronaut-orientation-{o}.jpg", jpg[:2] + b"\xff\xe1" + struct.pack(">H", len(app1) + 2)
            + app1 + jpg[2:])
    png = read(path(src, "chelsea.png"))
    put("image", "chelsea-orientation-6.png", png[:33] + png_chunk(b"eXIf", exif(6)) + png[33:])
    for f in ("astronaut.jpg", "coffee.jpg", "chelsea.png"):
        put("image", f"fixture-{f}", read(path(FIX, "isnet", "photos", f)))



# ---------- model JSON, chat templates, collections ----------

def json_seeds():
    for p in [path(FIX, "vits_hf_tiny", "config.json"), path(FIX, "vits_hf_tiny", "vocab.json"),
              path(FIX, "vits_hf_tiny", "tokenizer_config.json"), path(FIX, "whisper_tiny", "config.json"),
              path(FIX, "whisper_tiny", "generation_config.json"), path(FIX, "bert_tiny_bge", "config.json"),
              path(FIX, "bert_tiny_bge", "1_Pooling", "config.json"), path(WEIGHTS, "all-MiniLM-L6-v2", "config.json"),
              path(WEIGHTS, "all-MiniLM-L6-v2", "1_Pooling", "config.json"),
              path(WEIGHTS, "faster-whisper-base", "config.json")]:
        if have(p):
            put("model_json", "-".join(p.split(os.sep)[-3:]), read(p))


def template_seeds():
    # The engine's fallback template (ChatML), as the source states it.
    src = read(path(ROOT, "engine", "src", "models", "llama", "chat.rs")).decode()
    start = src.index('const CHATML: &str = "') + len('const CHATML: &str = "')
    chatml = src[start:src.index('";', start)].replace("\\n", "\n")
    put("chat_template", "chatml.jinja", chatml.encode())


def collection(name, model, passages, dim, seed=1):
    """The search crate's OPFS format: OGSC, version 1, header length, JSON header, f32 vectors."""
    header = json.dumps({"name": name, "model": model, "dim": dim, "passages": passages}).encode()
    vectors = bytearray()
    state = seed
    for _ in passages:
        row = []
        for _ in range(dim):
            state = (state * 6364136223846793005 + 1442695040888963407) % (1 << 64)
            row.append((state >> 40) / (1 << 24) - 0.5)
        norm = math.sqrt(sum(v * v for v in row)) or 1.0
        vectors += struct.pack(f"<{dim}f", *(v / norm for v in row))
    return b"OGSC" + struct.pack("<II", 1, len(header)) + header + bytes(vectors)


def collection_seeds():
    text = read(path(ROOT, "README.md")).decode()
    passages, at = [], 0
    for para in text.split("\n\n"):
        start = text.index(para, at)
        at = start + len(para)
        if para.strip() and len(passages) < 12:
            passages.append({"text": para.strip()[:300], "start": start, "end": at})
    put("collection", "readme-8.ogsc", collection("README", "all-MiniLM-L6-v2", passages, 8))
    put("collection", "readme-384.ogsc", collection("Notes / 2026 ✓", "all-MiniLM-L6-v2", passages[:3], 384))
    put("collection", "empty.ogsc", collection("empty", "bge-small-en-v1.5", [], 384))


def main():
    shutil.rmtree(OUT, ignore_errors=True)
    for build in (wav_seeds, gguf_and_safetensors_seeds, ct2_seeds, onnx_seeds, tokenizer_seeds, image_seeds,
                  json_seeds, template_seeds, collection_seeds):
        build()
    for t in sorted(os.listdir(OUT)):
        files = os.listdir(path(OUT, t))
        size = sum(os.path.getsize(path(OUT, t, f)) for f in files)
        print(f"  seeds {t:15} {len(files):3} files {size / 1024:8.1f} KB")
    if not have(path(WEIGHTS, "smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf")):
        print("  (no .cache/weights: seeds from the fixtures only; scripts/fetch-test-weights.sh adds the rest)")


if __name__ == "__main__":
    main()
