#!/usr/bin/env python3
"""IS-Net at 1024² on the GPU machine: `offgrid bench remove-background --device gpu` (wgpu on Vulkan) against
PyTorch CUDA on the same GPU, on random weights at the real shapes (the real file is 88 MB, over what a
device call can carry; speed does not depend on the values). The network is written here from the
architecture (IS-Net / RMBG-1.4: a stride-2 stem, RSU-7…RSU-4F encoder and decoder, the side-1 head), its
batch norms given random statistics, and saved in PyTorch's names as safetensors, which our loader reads
folding each batch norm into its convolution. Both sides run the same photo through the same resize and
normalisation; the masks are compared before the times count. PyTorch runs fp32 with TF32 off (our
convolutions are f32), and, for reference, fp16 autocast.

    python3 scripts/bench/isnet_torch.py --ours .devbin/offgrid [--runs 10]
"""
import argparse
import json
import os
import pathlib
import statistics
import subprocess
import tempfile
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image
from safetensors.torch import save_file

ROOT = pathlib.Path(__file__).resolve().parents[2]
PHOTO = ROOT / "engine/tests/fixtures/isnet/photos/chelsea.png"
SIZE = 1024


class ConvBnRelu(nn.Module):
    def __init__(self, cin, cout, d=1):
        super().__init__()
        self.conv_s1 = nn.Conv2d(cin, cout, 3, padding=d, dilation=d)
        self.bn_s1 = nn.BatchNorm2d(cout)

    def forward(self, x):
        return F.relu(self.bn_s1(self.conv_s1(x)))


def up_like(x, like):
    return F.interpolate(x, size=like.shape[2:], mode="bilinear", align_corners=False)


class Rsu(nn.Module):
    """RSU-L (pools between levels, dilation 2 at the bottom) or RSU-4F (dilations 1, 2, 4, 8, no pools)."""

    def __init__(self, levels, cin, mid, cout, dilated=False):
        super().__init__()
        self.levels, self.dilated = levels, dilated
        dil = (lambda l: 2 ** (l - 1)) if dilated else (lambda l: 1)
        self.rebnconvin = ConvBnRelu(cin, cout)
        for l in range(1, levels):
            setattr(self, f"rebnconv{l}", ConvBnRelu(cout if l == 1 else mid, mid, dil(l)))
        setattr(self, f"rebnconv{levels}", ConvBnRelu(mid, mid, 2 ** (levels - 1) if dilated else 2))
        for l in range(levels - 1, 0, -1):
            setattr(self, f"rebnconv{l}d", ConvBnRelu(2 * mid, cout if l == 1 else mid, dil(l)))

    def forward(self, x):
        hxin = self.rebnconvin(x)
        skips, h = [], hxin
        for l in range(1, self.levels):
            if l > 1 and not self.dilated:
                h = F.max_pool2d(h, 2, 2, ceil_mode=True)
            h = getattr(self, f"rebnconv{l}")(h)
            skips.append(h)
        d = getattr(self, f"rebnconv{self.levels}")(h)
        for l, skip in zip(range(self.levels - 1, 0, -1), reversed(skips)):
            d = getattr(self, f"rebnconv{l}d")(torch.cat([up_like(d, skip), skip], 1))
        return d + hxin


ENC = [("stage1", 7, 64, 32, 64, False), ("stage2", 6, 64, 32, 128, False), ("stage3", 5, 128, 64, 256, False),
       ("stage4", 4, 256, 128, 512, False), ("stage5", 4, 512, 256, 512, True), ("stage6", 4, 512, 256, 512, True)]
DEC = [("stage5d", 4, 1024, 256, 512, True), ("stage4d", 4, 1024, 128, 256, False), ("stage3d", 5, 512, 64, 128, False),
       ("stage2d", 6, 256, 32, 64, False), ("stage1d", 7, 128, 16, 64, False)]


class IsNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv_in = nn.Conv2d(3, 64, 3, stride=2, padding=1)
        for name, levels, cin, mid, cout, dilated in ENC + DEC:
            setattr(self, name, Rsu(levels, cin, mid, cout, dilated))
        self.side1 = nn.Conv2d(64, 1, 3, padding=1)

    def forward(self, x):
        h = self.conv_in(x)
        skips = []
        for i, (name, *_) in enumerate(ENC):
            if i > 0:
                h = F.max_pool2d(h, 2, 2, ceil_mode=True)
            h = getattr(self, name)(h)
            skips.append(h)
        d = skips.pop()
        for (name, *_), skip in zip(DEC, reversed(skips)):
            d = getattr(self, name)(torch.cat([up_like(d, skip), skip], 1))
        return torch.sigmoid(F.interpolate(self.side1(d), size=x.shape[2:], mode="bilinear", align_corners=False))


def photo_input():
    """The photo resized to 1024² (bilinear, half-pixel centres, rounded to u8) and normalised (v-128)/256."""
    rgb = np.asarray(Image.open(PHOTO).convert("RGB")).astype(np.float64)
    h, w = rgb.shape[:2]

    def axis(n_out, n_in):
        s = np.maximum((np.arange(n_out) + 0.5) * (n_in / n_out) - 0.5, 0.0)
        i0 = np.minimum(np.floor(s).astype(np.int64), n_in - 1)
        return i0, np.minimum(i0 + 1, n_in - 1), s - i0

    y0, y1, fy = axis(SIZE, h)
    x0, x1, fx = axis(SIZE, w)
    fx, fy = fx[None, :, None], fy[:, None, None]
    top = (1 - fx) * rgb[y0][:, x0] + fx * rgb[y0][:, x1]
    bot = (1 - fx) * rgb[y1][:, x0] + fx * rgb[y1][:, x1]
    u8 = np.clip(np.floor((1 - fy) * top + fy * bot + 0.5), 0, 255).astype(np.float32)
    return torch.from_numpy(((u8 - 128.0) / 256.0).transpose(2, 0, 1)[None].copy())


def timed(fn, runs):
    fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return statistics.median(times), times


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ours", default=str(ROOT / ".devbin/offgrid"))
    ap.add_argument("--runs", type=int, default=10)
    a = ap.parse_args()
    torch.manual_seed(0)
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False
    model = IsNet().eval()
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.uniform_(-0.1, 0.1)
                m.running_var.uniform_(0.5, 1.5)
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.1, 0.1)
    with tempfile.TemporaryDirectory() as tmp:
        weights = os.path.join(tmp, "isnet_random.safetensors")
        save_file({k: v.contiguous() for k, v in model.state_dict().items() if "num_batches" not in k}, weights)
        mask_png = os.path.join(tmp, "ours.png")
        out = subprocess.run([a.ours, "bench", "remove-background", "--model", weights, "--photo", str(PHOTO),
                              "--device", "gpu", "--runs", str(a.runs), "--mask-out", mask_png],
                             capture_output=True, text=True)
        if out.returncode != 0:
            raise SystemExit(f"offgrid bench remove-background failed: {out.stderr.strip()[-2000:]}")
        ours = json.loads(out.stdout)
        ours_mask = np.asarray(Image.open(mask_png), dtype=np.float32) / 255.0
    model = model.cuda()
    x = photo_input().cuda()
    with torch.no_grad():
        ref = model(x)[0, 0].float().cpu().numpy()
        # Timed as ours is: resize and normalise on the CPU, upload, the network, the mask read back.
        fp32_s, fp32_runs = timed(lambda: model(photo_input().cuda())[0, 0].cpu(), a.runs)
        forward_s, _ = timed(lambda: model(x), a.runs)
        with torch.autocast("cuda", dtype=torch.float16):
            fp16_s, _ = timed(lambda: model(photo_input().cuda())[0, 0].cpu(), a.runs)
    diff = float(np.abs(ours_mask - ref).max())
    # Verified before the ratio is reported: ours is an 8-bit PNG, so 1/255 of rounding plus the f32 difference.
    assert diff <= 0.02, f"masks differ by {diff}"
    print(json.dumps({
        "gpu": torch.cuda.get_device_name(), "torch": torch.__version__, "max_abs_diff": round(diff, 4),
        "ours_gpu_s": round(ours["seconds"], 4), "ours_runs": [round(t, 4) for t in ours["runs"]],
        "torch_fp32_s": round(fp32_s, 4), "torch_fp32_runs": [round(t, 4) for t in fp32_runs],
        "torch_fp32_forward_only_s": round(forward_s, 4), "torch_fp16_autocast_s": round(fp16_s, 4),
        "ratio_ours_over_torch_fp32_speed": round(fp32_s / ours["seconds"], 3),
    }, indent=1))


if __name__ == "__main__":
    main()
