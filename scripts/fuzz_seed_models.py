"""Model formats cut down to fuzzer-sized seeds with their structure kept (see fuzz-seeds.py): safetensors, GGUF,
CTranslate2 model.bin, ONNX protobuf and tokenizer.json. Python's standard library only."""
import json
import math
import struct

ST_SIZE = {"F64": 8, "F32": 4, "I64": 8, "I32": 4, "U32": 4, "F16": 2, "BF16": 2, "I16": 2, "U16": 2,
           "I8": 1, "U8": 1, "BOOL": 1}


def slim_safetensors(data, keep=64):
    """The first `keep` tensors, each dimension cut to at most 2, data to match."""
    n = struct.unpack_from("<Q", data)[0]
    header = json.loads(data[8:8 + n])
    body = data[8 + n:]
    out_header, out = {}, bytearray()
    if "__metadata__" in header:
        out_header["__metadata__"] = header.pop("__metadata__")
    for name, t in list(header.items())[:keep]:
        shape = [min(d, 2) for d in t["shape"]]
        size = ST_SIZE.get(t["dtype"], 4) * math.prod(shape)
        start = t["data_offsets"][0]
        out_header[name] = {"dtype": t["dtype"], "shape": shape, "data_offsets": [len(out), len(out) + size]}
        out += body[start:start + size].ljust(size, b"\0")
    h = json.dumps(out_header).encode()
    return struct.pack("<Q", len(h)) + h + bytes(out)


class Gguf:
    """GGUF v2/v3: metadata key/values (kept as raw typed bytes) and tensor infos."""

    def __init__(self, data):
        self.b, self.at = data, 0
        magic, self.version = self.read("<4sI")
        assert magic == b"GGUF", "not GGUF"
        n_tensors, n_kv = self.read("<QQ")
        self.kv = []
        for _ in range(n_kv):
            key = self.string()
            ty = self.read("<I")[0]
            self.kv.append((key, ty, self.value(ty)))
        self.tensors = []
        for _ in range(n_tensors):
            name = self.string()
            dims = [self.read("<Q")[0] for _ in range(self.read("<I")[0])]
            ty, off = self.read("<IQ")
            self.tensors.append((name, dims, ty, off))

    def read(self, f):
        v = struct.unpack_from(f, self.b, self.at)
        self.at += struct.calcsize(f)
        return v

    def string(self):
        n = self.read("<Q")[0]
        s = self.b[self.at:self.at + n].decode("utf-8", "replace")
        self.at += n
        return s

    SCALAR = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}

    def value(self, ty):
        if ty in self.SCALAR:
            return self.read(self.SCALAR[ty])[0]
        if ty == 8:
            return self.string()
        if ty == 9:
            ety, n = self.read("<IQ")
            return (ety, [self.value(ety) for _ in range(n)])
        raise ValueError(f"GGUF type {ty}")


def gguf_bytes(kv, version=3):
    def s(x):
        b = x.encode()
        return struct.pack("<Q", len(b)) + b

    def val(ty, v):
        if ty in Gguf.SCALAR:
            return struct.pack(Gguf.SCALAR[ty], v)
        if ty == 8:
            return s(v)
        ety, items = v
        return struct.pack("<IQ", ety, len(items)) + b"".join(val(ety, x) for x in items)

    out = b"GGUF" + struct.pack("<IQQ", version, 0, len(kv))
    for key, ty, v in kv:
        out += s(key) + struct.pack("<I", ty) + val(ty, v)
    return out


def mini_chat_gguf(data, n_tokens=400):
    g = Gguf(data)
    meta = {k: (ty, v) for k, ty, v in g.kv}
    tokens = meta["tokenizer.ggml.tokens"][1][1][:n_tokens]
    kept = set(tokens)
    kv = []
    for key, ty, v in g.kv:
        if key in ("tokenizer.ggml.tokens", "tokenizer.ggml.token_type"):
            v = (v[0], v[1][:n_tokens])
        elif key == "tokenizer.ggml.merges":
            v = (v[0], [m for m in v[1] if all(p in kept for p in m.split(" ", 1)) and m.replace(" ", "") in kept])
        elif ty == 9 and len(v[1]) > 64:
            v = (v[0], v[1][:64])
        kv.append((key, ty, v))
    return gguf_bytes(kv, g.version), meta.get("tokenizer.chat_template", (8, ""))[1]


def ct2_read(data):
    at = 0

    def u(f):
        nonlocal at
        v = struct.unpack_from(f, data, at)[0]
        at += struct.calcsize(f)
        return v

    def s():
        nonlocal at
        n = u("<H")
        t = data[at:at + n - 1].decode()
        at += n
        return t

    version, spec, rev = u("<I"), s(), u("<I")
    variables = []
    for _ in range(u("<I")):
        name, dims = s(), None
        dims = [u("<I") for _ in range(u("<B"))]
        dtype, n = u("<B"), u("<I")
        variables.append((name, dims, dtype, data[at:at + n]))
        at += n
    aliases = [(s(), s()) for _ in range(u("<I"))]
    return version, spec, rev, variables, aliases


def ct2_write(version, spec, rev, variables, aliases):
    def s(t):
        b = t.encode() + b"\0"
        return struct.pack("<H", len(b)) + b

    out = struct.pack("<I", version) + s(spec) + struct.pack("<II", rev, len(variables))
    for name, dims, dtype, data in variables:
        out += s(name) + struct.pack("<B", len(dims)) + b"".join(struct.pack("<I", d) for d in dims)
        out += struct.pack("<BI", dtype, len(data)) + data
    out += struct.pack("<I", len(aliases))
    for a, t in aliases:
        out += s(a) + s(t)
    return out


CT2_SIZE = {0: 4, 1: 1, 2: 2, 3: 4, 4: 2, 5: 2}


def mini_whisper(data):
    """tiny.en cut to one layer of width 12 (6 heads of 2), 16 tokens, 10/8 positions; 80 mel bins kept."""
    version, spec, rev, variables, aliases = ct2_read(data)
    d = 12
    sizes = {384: d, 768: 2 * d, 1152: 3 * d, 1536: 4 * d, 51864: 16, 1500: 10, 448: 8}
    out, int8 = [], []
    for name, dims, dtype, blob in variables:
        if any(f"layer_{i}/" in name for i in range(1, 64)):
            continue
        new = [sizes.get(x, x) for x in dims]
        n = math.prod(new) * CT2_SIZE[dtype]
        out.append((name, new, dtype, blob[:n].ljust(n, b"\0")))
        if name.endswith("/weight") and len(new) == 2 and dtype == 4:
            rows, cols = new
            vals = [struct.unpack_from("<e", blob, 2 * i)[0] for i in range(rows * cols)]
            q, scales = bytearray(), []
            for r in range(rows):
                row = vals[r * cols:(r + 1) * cols]
                scale = 127 / max(max(abs(v) for v in row), 1e-6)
                scales.append(scale)
                q += bytes((max(-127, min(127, round(v * scale))) & 0xFF) for v in row)
            int8.append((name, new, 1, bytes(q)))
            int8.append((name + "_scale", [rows], 0, struct.pack(f"<{rows}f", *scales)))
        else:
            int8.append(out[-1])
    return ct2_write(version, spec, rev, out, aliases), ct2_write(version, spec, rev, int8, aliases)


def varint(b, at):
    v = shift = 0
    while True:
        x = b[at]
        at += 1
        v |= (x & 0x7F) << shift
        shift += 7
        if not x & 0x80:
            return v, at


def put_varint(v):
    out = bytearray()
    while True:
        x = v & 0x7F
        v >>= 7
        out.append(x | (0x80 if v else 0))
        if not v:
            return bytes(out)


def fields(b):
    """(field, wire type, value) of one protobuf message; value is an int or bytes."""
    at = 0
    while at < len(b):
        key, at = varint(b, at)
        wt = key & 7
        if wt == 0:
            v, at = varint(b, at)
        elif wt == 1:
            v, at = b[at:at + 8], at + 8
        elif wt == 2:
            n, at = varint(b, at)
            v, at = b[at:at + n], at + n
        elif wt == 5:
            v, at = b[at:at + 4], at + 4
        else:
            raise ValueError(f"wire type {wt}")
        yield key >> 3, wt, v


def emit(field, wt, v):
    key = put_varint(field << 3 | wt)
    if wt == 0:
        return key + put_varint(v)
    if wt == 2:
        return key + put_varint(len(v)) + v
    return key + v


ONNX_SIZE = {1: 4, 2: 1, 3: 1, 4: 2, 5: 2, 6: 4, 7: 8, 9: 1, 10: 2, 11: 8, 12: 4, 13: 8, 16: 2}


def slim_tensor(t):
    """A TensorProto with each dimension cut to at most 2 and its values to match."""
    parsed = list(fields(t))
    dims = []
    for f, wt, v in parsed:
        if f == 1:
            if wt == 0:
                dims.append(v)
            else:
                at = 0
                while at < len(v):
                    x, at = varint(v, at)
                    dims.append(x)
    dtype = next((v for f, wt, v in parsed if f == 2 and wt == 0), 1)
    new = [min(d, 2) for d in dims]
    n = math.prod(new)
    out, counts = bytearray(), {}
    for f, wt, v in parsed:
        if f == 1:
            continue
        if f == 9 and wt == 2:
            v = v[:n * ONNX_SIZE.get(dtype, 4)]
        elif f in (4, 5, 7) and wt == 2:
            # Packed repeated values: keep the first n.
            if f == 4:
                v = v[:4 * n]
            else:
                at, k = 0, 0
                while at < len(v) and k < n:
                    _, at = varint(v, at)
                    k += 1
                v = v[:at]
        elif f in (4, 5, 7):
            counts[f] = counts.get(f, 0) + 1
            if counts[f] > n:
                continue
        out += emit(f, wt, v)
    return emit(1, 2, b"".join(put_varint(d) for d in new)) + bytes(out) if new else bytes(out)


def slim_attribute(a):
    # AttributeProto: t (5) and tensors (10) are tensors, g (6) and graphs (11) subgraphs (If, Loop, Scan).
    def slim(f, v):
        if f in (5, 10):
            return slim_tensor(v)
        if f in (6, 11):
            return slim_graph(v, 100000)
        return v
    return b"".join(emit(f, wt, slim(f, v) if wt == 2 else v) for f, wt, v in fields(a))


def slim_node(nd):
    # NodeProto's doc_string (6) and metadata_props (9: exporters' stack traces) are not read: dropped.
    return b"".join(emit(f, wt, slim_attribute(v) if f == 5 and wt == 2 else v)
                    for f, wt, v in fields(nd) if f not in (6, 9))


def slim_graph(g, max_nodes):
    out, nodes = bytearray(), 0
    for f, wt, v in fields(g):
        if f == 1 and wt == 2:
            nodes += 1
            if nodes > max_nodes:
                continue
            v = slim_node(v)
        elif f == 5 and wt == 2:
            v = slim_tensor(v)
        out += emit(f, wt, v)
    return bytes(out)


def slim_onnx(data, max_nodes=100000):
    return b"".join(emit(f, wt, slim_graph(v, max_nodes) if f == 7 and wt == 2 else v) for f, wt, v in fields(data))


def slim_tokenizer(data, n_vocab=400, n_added=64):
    t = json.loads(data)
    model = t.get("model") or {}
    added = t.get("added_tokens") or []
    keep_added = added[:n_added] + [a for a in added if a["content"] in (
        "<|endoftext|>", "<|startoftranscript|>", "<|notimestamps|>", "<|startofprev|>", "<|transcribe|>",
        "<|translate|>", "[CLS]", "[SEP]", "[PAD]", "[UNK]", "[MASK]")]
    t["added_tokens"] = list({a["id"]: a for a in keep_added}.values())
    vocab = model.get("vocab")
    if isinstance(vocab, dict):
        kept = {k: v for k, v in vocab.items() if v < n_vocab}
        for a in t["added_tokens"]:
            if a["content"] in vocab:
                kept[a["content"]] = vocab[a["content"]]
        model["vocab"] = kept
        if "merges" in model:
            def parts(m):
                return m.split(" ", 1) if isinstance(m, str) else m
            model["merges"] = [m for m in model["merges"]
                               if len(parts(m)) == 2 and all(p in kept for p in parts(m)) and "".join(parts(m)) in kept]
    elif isinstance(vocab, list):
        model["vocab"] = vocab[:n_vocab]
    return json.dumps(t, ensure_ascii=False).encode()
