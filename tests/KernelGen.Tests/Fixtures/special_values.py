#!/usr/bin/env python3
"""Golden outputs of torch.nn.functional.conv_transpose2d for inputs, weights and biases holding NaN and +-Inf.

Writes special_values.txt next to this script; SpecialValueTests (tests/KernelGen.Tests) reads it. CI does not run
Python: rerun this by hand (with PyTorch installed, e.g. Debian's python3-torch 1.13) and commit both files when a
case changes. Every value is written with 9 significant digits (exact for float32), NaN and infinities as
NaN / Infinity / -Infinity, which .NET parses with the invariant culture.

Format, one case per block:
  case <name>
  geometry inC outC groups inH inW kH kW sH sW padTop padLeft padBottom padRight opH opW dH dW layout activation slope batch
  input <values>      (NCHW or NHWC as layout says)
  weights <values>    ((Cin, Cout/groups, kH, kW))
  bias <values>       (empty: no bias)
  output <values>     (the layer's layout)
"""
import math
import os
import random

import torch
import torch.nn.functional as F

INF, NAN = float("inf"), float("nan")


def text(v):
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "Infinity" if v > 0 else "-Infinity"
    return "%.9g" % v


def values(count, rng):
    # Floats exactly representable in float32, in [-1, 1].
    return [float(torch.tensor(rng.uniform(-1, 1), dtype=torch.float32)) for _ in range(count)]


def run(name, in_c, out_c, in_h, in_w, k, s=(1, 1), pads=(0, 0, 0, 0), op=(0, 0), d=(1, 1), groups=1, layout="nchw",
        activation="none", slope=0.01, batch=1, bias=True, seed=1, specials_in=(), specials_w=(), specials_b=(), fill_in=None):
    rng = random.Random(seed)
    x = values(batch * in_c * in_h * in_w, rng) if fill_in is None else [fill_in] * (batch * in_c * in_h * in_w)
    w = values(in_c * (out_c // groups) * k[0] * k[1], rng)
    b = values(out_c, rng) if bias else []
    for index, value in specials_in:
        x[index] = value
    for index, value in specials_w:
        w[index] = value
    for index, value in specials_b:
        b[index] = value

    xt = torch.tensor(x, dtype=torch.float32)
    if layout == "nhwc":
        xt = xt.reshape(batch, in_h, in_w, in_c).permute(0, 3, 1, 2)
    else:
        xt = xt.reshape(batch, in_c, in_h, in_w)
    wt = torch.tensor(w, dtype=torch.float32).reshape(in_c, out_c // groups, k[0], k[1])
    bt = torch.tensor(b, dtype=torch.float32) if bias else None
    # ONNX-style asymmetric pads: crop the full output, which conv_transpose2d with padding 0 gives.
    full = F.conv_transpose2d(xt, wt, bt, stride=s, padding=0, output_padding=0, groups=groups, dilation=d)
    full = F.pad(full, (0, op[1], 0, op[0]))  # output padding: extra cells at the bottom and right, which get the bias
    if bias and (op[0] or op[1]):
        h, w_ = full.shape[2], full.shape[3]
        mask = torch.zeros(h, w_, dtype=torch.bool)
        mask[h - op[0]:, :] = True
        mask[:, w_ - op[1]:] = True
        full = torch.where(mask, bt.reshape(1, -1, 1, 1).expand_as(full), full)
    y = full[:, :, pads[0]:full.shape[2] - pads[2], pads[1]:full.shape[3] - pads[3]]
    # Cross-check the output padding handling against PyTorch's own when the pads are symmetric.
    if pads[0] == pads[2] and pads[1] == pads[3]:
        direct = F.conv_transpose2d(xt, wt, bt, stride=s, padding=(pads[0], pads[1]), output_padding=op, groups=groups, dilation=d)
        assert direct.shape == y.shape and torch.allclose(direct, y, equal_nan=True, atol=1e-6), name
    y = {"none": lambda t: t, "relu": torch.relu, "leakyrelu": lambda t: F.leaky_relu(t, slope),
         "sigmoid": torch.sigmoid, "tanh": torch.tanh}[activation](y)
    if layout == "nhwc":
        y = y.permute(0, 2, 3, 1)
    out = y.contiguous().reshape(-1).tolist()

    geometry = [in_c, out_c, groups, in_h, in_w, k[0], k[1], s[0], s[1], *pads, op[0], op[1], d[0], d[1]]
    return "\n".join([
        "case " + name,
        "geometry " + " ".join(str(v) for v in geometry) + " " + layout + " " + activation + " " + text(slope) + " " + str(batch),
        "input " + " ".join(text(v) for v in x),
        "weights " + " ".join(text(v) for v in w),
        "bias " + " ".join(text(v) for v in b),
        "output " + " ".join(text(v) for v in out),
    ])


def main():
    cases = [
        # The repro: ones in, +Inf at weight 0. A scalar kernel on a 4x4 input, the width kernel at 64x64.
        run("inf-weight-4x4", 1, 1, 4, 4, (3, 3), pads=(1, 1, 1, 1), bias=False, fill_in=1.0, specials_w=[(0, INF)]),
        run("inf-weight-64x64", 1, 1, 64, 64, (3, 3), pads=(1, 1, 1, 1), bias=False, fill_in=1.0, specials_w=[(0, INF)]),
        # +Inf and -Inf weights: NaN where both taps land on real inputs, +-Inf where one does.
        run("opposite-inf-weights", 1, 2, 24, 40, (3, 3), pads=(1, 1, 1, 1), specials_w=[(0, INF), (8, -INF), (12, NAN)]),
        # Stride 2 (the paired width kernel) with special values in the weights, then in the input only.
        run("stride2-inf-weights", 2, 1, 20, 40, (4, 4), s=(2, 2), pads=(1, 1, 1, 1), specials_w=[(5, INF), (20, -INF)], activation="relu"),
        run("stride2-special-inputs", 2, 1, 20, 40, (4, 4), s=(2, 2), pads=(1, 1, 1, 1), seed=3,
            specials_in=[(0, INF), (39, -INF), (41, NAN), (799, INF), (1000, -INF), (1599, NAN)], specials_w=[(3, 0.0)], activation="leakyrelu", slope=0.2),
        # Blocked paired width kernel (8 output channels per group, NCHW, stride 2).
        run("blocked-special-inputs", 3, 8, 10, 36, (3, 3), s=(2, 2), pads=(1, 1, 1, 1), op=(1, 1), seed=4,
            specials_in=[(0, INF), (35, NAN), (360, -INF), (1079, INF)], activation="sigmoid"),
        run("blocked-inf-weight", 3, 8, 10, 36, (3, 3), s=(2, 2), pads=(1, 1, 1, 1), seed=5, specials_w=[(0, INF), (100, -INF)], activation="tanh"),
        # Channel kernel, NHWC (written in place) and NCHW (through the relayout), special inputs, weights and bias.
        run("channel-nhwc-special-inputs", 4, 16, 9, 9, (4, 4), s=(2, 2), pads=(1, 1, 1, 1), layout="nhwc", seed=6,
            specials_in=[(0, INF), (3, NAN), (100, -INF), (323, INF)], specials_b=[(2, INF)]),
        run("channel-nhwc-inf-weights", 4, 16, 9, 9, (4, 4), s=(2, 2), pads=(1, 1, 1, 1), layout="nhwc", seed=7,
            specials_w=[(0, INF), (17, -INF), (255, NAN)], activation="relu"),
        run("channel-nchw-special-inputs", 8, 12, 7, 6, (3, 3), pads=(1, 1, 1, 1), seed=8,
            specials_in=[(0, -INF), (41, NAN), (200, INF)], activation="leakyrelu", slope=0.1),
        run("channel-nchw-inf-weight", 8, 12, 7, 6, (3, 3), pads=(1, 1, 1, 1), seed=9, specials_w=[(50, -INF)], activation="sigmoid"),
        # Depthwise, dilation, asymmetric pads, a batch of 2.
        run("depthwise-dilated", 4, 4, 8, 30, (3, 3), s=(2, 1), pads=(2, 1, 0, 3), d=(2, 2), groups=4, batch=2, seed=10,
            specials_in=[(7, INF), (500, NAN)], specials_w=[(9, -INF)], activation="tanh"),
        # Special values in the bias alone, every activation's special cases (+-Inf and NaN through each).
        run("bias-specials-relu", 2, 3, 5, 20, (2, 2), s=(2, 2), seed=11, specials_b=[(0, INF), (1, -INF), (2, NAN)], activation="relu"),
        run("bias-specials-sigmoid", 2, 3, 5, 20, (2, 2), s=(2, 2), seed=12, specials_b=[(0, INF), (1, -INF), (2, NAN)], activation="sigmoid"),
        run("bias-specials-tanh", 2, 3, 5, 20, (2, 2), s=(2, 2), seed=13, specials_b=[(0, INF), (1, -INF), (2, NAN)], activation="tanh"),
        run("bias-specials-leakyrelu", 2, 3, 5, 20, (2, 2), s=(2, 2), seed=14, specials_b=[(0, INF), (1, -INF), (2, NAN)], activation="leakyrelu", slope=0.0),
    ]
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "special_values.txt")
    with open(path, "w", newline="\n") as f:
        f.write("# Generated by special_values.py with PyTorch " + torch.__version__ + "; do not edit.\n")
        f.write("\n\n".join(cases) + "\n")


if __name__ == "__main__":
    main()
