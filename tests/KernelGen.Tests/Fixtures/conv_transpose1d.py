"""Writes conv_transpose1d.json: PyTorch's conv_transpose1d on a few geometries, for ConvTranspose1DTests.

Run with Debian's python3-torch (1.13): /usr/bin/python3 tests/KernelGen.Tests/Fixtures/conv_transpose1d.py
The values are small whole multiples of 1/8, so every product and sum is exact in float32 and the C# results must be equal.
"""
import json
import os

import torch

torch.manual_seed(1234)
F = torch.nn.functional

# name, Cin, Cout, groups, length, kernel, stride, (pad begin, pad end), output padding, dilation, batch, bias
CASES = [
    ("course_geometry", 1, 1, 1, 4, 3, 2, (1, 1), 1, 1, 1, False),
    ("vocoder_like", 8, 4, 1, 9, 16, 8, (4, 4), 0, 1, 1, True),
    ("grouped_dilated", 6, 4, 2, 7, 3, 2, (1, 1), 1, 2, 2, True),
    ("depthwise", 4, 4, 4, 11, 4, 2, (1, 1), 0, 1, 1, False),
    ("asymmetric_pads", 3, 5, 1, 6, 5, 3, (0, 3), 2, 1, 2, True),
    ("many_channels", 16, 24, 1, 5, 4, 2, (1, 1), 0, 1, 1, True),
]


def values(*shape):
    return (torch.randint(-8, 9, shape).float() / 8)


def main():
    cases = []
    for name, cin, cout, groups, length, k, s, (pb, pe), op, d, batch, has_bias in CASES:
        x = values(batch, cin, length)
        w = values(cin, cout // groups, k)
        b = values(cout) if has_bias else None
        # PyTorch pads both ends alike: crop the extra begin/end cells by hand for asymmetric pads.
        p = min(pb, pe)
        y = F.conv_transpose1d(x, w, b, stride=s, padding=p, output_padding=op, groups=groups, dilation=d)
        extra_begin, extra_end = pb - p, pe - p
        y = y[:, :, extra_begin:y.shape[2] - extra_end]
        cases.append({
            "name": name, "inChannels": cin, "outChannels": cout, "groups": groups, "inputLength": length,
            "kernelSize": k, "stride": s, "padBegin": pb, "padEnd": pe, "outputPadding": op, "dilation": d,
            "batch": batch, "outputLength": y.shape[2],
            "input": x.flatten().tolist(), "weights": w.flatten().tolist(),
            "bias": b.flatten().tolist() if b is not None else [], "output": y.flatten().tolist(),
        })
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "conv_transpose1d.json")
    with open(path, "w") as f:
        json.dump({"producer": "torch " + torch.__version__, "cases": cases}, f, indent=0)
        f.write("\n")


if __name__ == "__main__":
    main()
