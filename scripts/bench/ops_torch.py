#!/usr/bin/env python3
"""PyTorch reference figures for `offgrid bench ops`, on the same GPU and timed the same way: F32 GEMM with TF32
off, GEMV at decode shapes (F32, F16) cycling through weight copies past the L2 cache as ours does, and the
device's copy bandwidth. Prints one JSON object. Run on the GPU machine:
    python3 scripts/bench/ops_torch.py > torch.json

Method (BENCHMARKS.md, "How we time"): each op's output is first checked against a float64 product; then R
calls are captured in one CUDA graph, so Python's launch cost is not measured (as our runs are recorded into one
command encoder). Calls on one stream run one after the other, as our chained runs do. After 0.3 s of replays
(the GPU at its working clocks), each sample is one replay timed with CUDA events, divided by R; the figure is
the median of 7 samples with their minimum and maximum.
"""
import json
import statistics
import time

import torch

torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.allow_tf32 = False
dev = torch.device("cuda")
SAMPLES = 7
STREAM_BYTES = 256e6  # as `offgrid bench ops` on a GPU: distinct weights cycled through per GEMV


def timed(calls, runs):
    """calls: list of zero-argument callables, cycled; returns (median, min, max) seconds per call."""
    stream = torch.cuda.Stream()
    stream.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(stream):
        for c in calls:  # warm-up outside the graph (cuBLAS picks and caches its kernels)
            c()
    torch.cuda.current_stream().wait_stream(stream)
    torch.cuda.synchronize()
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        for i in range(runs):
            calls[i % len(calls)]()
    start = time.perf_counter()
    while time.perf_counter() - start < 0.3:
        graph.replay()
        torch.cuda.synchronize()
    samples = []
    for _ in range(SAMPLES):
        begin, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        begin.record()
        graph.replay()
        end.record()
        end.synchronize()
        samples.append(begin.elapsed_time(end) / 1e3 / runs)
    return statistics.median(samples), min(samples), max(samples)


def check(got, a, b):
    """Relative max error of `got` against the float64 product of a and b; raises when it is not f32-close."""
    want = a.double() @ b.double()
    err = ((got.double() - want).abs().max() / want.abs().max().clamp_min(1e-30)).item()
    limit = 1e-2 if got.dtype == torch.float16 else 1e-4
    if not err <= limit:
        raise SystemExit(f"PyTorch output disagrees with float64: {err:.2e} > {limit}")
    return err


def runs_for(one_call_s):
    return int(min(200, max(3, 0.025 / max(one_call_s, 1e-7))))


def probe(fn):
    fn()
    torch.cuda.synchronize()
    t = time.perf_counter()
    fn()
    torch.cuda.synchronize()
    return time.perf_counter() - t


out = {"device": torch.cuda.get_device_name(0), "torch": torch.__version__, "method":
       "CUDA graph of R chained calls, CUDA events, median of 7 samples [min, max]", "gemm_f32": {}, "gemv": {}}
for n in (512, 1024, 2048, 4096):
    a = torch.randn(n, n, device=dev)
    b = torch.randn(n, n, device=dev)
    err = check(a @ b, a, b)
    med, lo, hi = timed([lambda: a @ b], runs_for(probe(lambda: a @ b)))
    out["gemm_f32"][str(n)] = {"ms": med * 1e3, "ms_min": lo * 1e3, "ms_max": hi * 1e3,
                               "gflops": 2 * n**3 / med / 1e9, "vs_f64": err}

for rows, cols in ((896, 4864), (4864, 896), (1536, 8960), (8960, 1536), (14336, 4096)):
    for name, dtype in (("f32", torch.float32), ("f16", torch.float16)):
        x = torch.randn(cols, device=dev, dtype=dtype)
        w0 = torch.randn(rows, cols, device=dev, dtype=dtype)
        bytes_moved = w0.numel() * w0.element_size()
        copies = max(1, min(64, int(-(-STREAM_BYTES // bytes_moved))))
        ws = [w0] + [w0.clone() for _ in range(copies - 1)]
        err = check(w0 @ x, w0, x)
        calls = [lambda w=w: w @ x for w in ws]
        med, lo, hi = timed(calls, runs_for(probe(calls[0])))
        out["gemv"][f"{rows}x{cols}_{name}"] = {"us": med * 1e6, "us_min": lo * 1e6, "us_max": hi * 1e6,
                                                "gbps": bytes_moved / med / 1e9, "copies": copies, "vs_f64": err}
        del ws, calls

src = torch.empty(1 << 28, dtype=torch.uint8, device=dev)  # 256 MiB
dst = torch.empty_like(src)
med, lo, hi = timed([lambda: dst.copy_(src)], 20)
out["copy_gbps_read_plus_write"] = 2 * src.numel() / med / 1e9
print(json.dumps(out, indent=1))
