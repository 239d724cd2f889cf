#!/usr/bin/env python3
"""PyTorch reference figures for `offgrid bench ops`, on the same GPU: F32 GEMM with TF32 off, GEMV at decode
shapes (F32, F16), and the device's copy bandwidth. Prints one JSON object. Run on the GPU machine:
    python3 scripts/bench/ops_torch.py > torch.json
"""
import json
import time

import torch

torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.allow_tf32 = False
dev = torch.device("cuda")


def timed(fn, reps):
    # As `offgrid bench ops` does: 0.3 s of back-to-back runs first, so the GPU is at its working clocks (an idle
    # GPU drops them, and short kernels timed straight after run at them).
    start = time.perf_counter()
    while time.perf_counter() - start < 0.3:
        for _ in range(10):
            fn()
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(reps):
        fn()
    torch.cuda.synchronize()
    return (time.perf_counter() - start) / reps


out = {"device": torch.cuda.get_device_name(0), "torch": torch.__version__, "gemm_f32": {}, "gemv": {}}
for n in (512, 1024, 2048, 4096):
    a = torch.randn(n, n, device=dev)
    b = torch.randn(n, n, device=dev)
    secs = timed(lambda: a @ b, 20 if n < 4096 else 10)
    out["gemm_f32"][str(n)] = {"ms": secs * 1e3, "gflops": 2 * n**3 / secs / 1e9}

for rows, cols in ((896, 4864), (4864, 896), (1536, 8960), (8960, 1536), (14336, 4096)):
    for name, dtype in (("f32", torch.float32), ("f16", torch.float16)):
        w = torch.randn(rows, cols, device=dev, dtype=dtype)
        x = torch.randn(cols, device=dev, dtype=dtype)
        secs = timed(lambda: w @ x, 200)
        bytes_moved = w.numel() * w.element_size()
        out["gemv"][f"{rows}x{cols}_{name}"] = {"us": secs * 1e6, "gbps": bytes_moved / secs / 1e9}

src = torch.empty(1 << 28, dtype=torch.uint8, device=dev)  # 256 MiB
dst = torch.empty_like(src)
secs = timed(lambda: dst.copy_(src), 50)
out["copy_gbps_read_plus_write"] = 2 * src.numel() / secs / 1e9
print(json.dumps(out, indent=1))
