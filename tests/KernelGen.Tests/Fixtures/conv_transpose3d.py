"""Writes conv_transpose3d.json: PyTorch's conv_transpose3d on a few geometries, for ConvTranspose3DTests.

Run with Debian's python3-torch (1.13): /usr/bin/python3 tests/KernelGen.Tests/Fixtures/conv_transpose3d.py
The values are small whole multiples of 1/8, so every product and sum is exact in float32 and the C# results must be equal.
"""
import json
import os

import torch

torch.manual_seed(4321)
F = torch.nn.functional

# name, Cin, Cout, groups, (D, H, W), kernel, stride, (front, top, left, back, bottom, right), output padding, dilation, batch, bias
CASES = [
    ("volume_up_small", 4, 2, 1, (3, 4, 5), (2, 2, 2), (2, 2, 2), (0, 0, 0, 0, 0, 0), (0, 0, 0), (1, 1, 1), 1, True),
    ("volume_k3", 3, 2, 1, (3, 3, 3), (3, 3, 3), (2, 2, 2), (1, 1, 1, 1, 1, 1), (1, 1, 1), (1, 1, 1), 2, True),
    ("anisotropic", 2, 3, 1, (2, 3, 4), (3, 1, 2), (1, 2, 3), (1, 0, 1, 0, 0, 0), (0, 1, 2), (1, 1, 1), 1, False),
    ("grouped_dilated", 4, 6, 2, (3, 2, 3), (2, 3, 2), (2, 1, 2), (0, 1, 0, 1, 1, 0), (1, 0, 1), (2, 1, 2), 1, True),
    ("depthwise", 3, 3, 3, (4, 3, 3), (4, 2, 3), (3, 2, 1), (2, 0, 1, 1, 0, 1), (2, 1, 0), (1, 1, 1), 2, False),
    ("many_channels", 16, 24, 1, (2, 3, 3), (2, 3, 3), (2, 2, 2), (0, 1, 1, 0, 1, 1), (0, 1, 1), (1, 1, 1), 1, True),
]


def values(*shape):
    return torch.randint(-8, 9, shape).float() / 8


def main():
    cases = []
    for name, cin, cout, groups, size, k, s, pads, op, d, batch, has_bias in CASES:
        x = values(batch, cin, *size)
        w = values(cin, cout // groups, *k)
        b = values(cout) if has_bias else None
        # PyTorch pads both ends of an axis alike: pad by the smaller side, then crop the rest by hand.
        sym = tuple(min(pads[i], pads[i + 3]) for i in range(3))
        y = F.conv_transpose3d(x, w, b, stride=s, padding=sym, output_padding=op, groups=groups, dilation=d)
        y = y[:, :,
              pads[0] - sym[0]:y.shape[2] - (pads[3] - sym[0]),
              pads[1] - sym[1]:y.shape[3] - (pads[4] - sym[1]),
              pads[2] - sym[2]:y.shape[4] - (pads[5] - sym[2])]
        cases.append({
            "name": name, "inChannels": cin, "outChannels": cout, "groups": groups, "inputSize": list(size),
            "kernelSize": list(k), "stride": list(s), "pads": list(pads), "outputPadding": list(op), "dilation": list(d),
            "batch": batch, "outputSize": list(y.shape[2:]),
            "input": x.flatten().tolist(), "weights": w.flatten().tolist(),
            "bias": b.flatten().tolist() if b is not None else [], "output": y.flatten().tolist(),
        })
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "conv_transpose3d.json")
    with open(path, "w") as f:
        json.dump({"producer": "torch " + torch.__version__, "cases": cases}, f, indent=0)
        f.write("\n")


if __name__ == "__main__":
    main()
