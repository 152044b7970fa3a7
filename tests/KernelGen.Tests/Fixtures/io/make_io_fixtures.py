#!/usr/bin/env python3
"""Writes the fixtures of tests/KernelGen.Tests/IO (SafeTensorsFile, NpyFile, BatchNormFolding) with the real producers.

Run from anywhere with Debian's python3-torch (1.13) and python3-numpy:  python3 make_io_fixtures.py
It rewrites every file beside it deterministically (fixed seeds); CI never runs it, the outputs are committed.

- model_{f32,f16,bf16,f64}.safetensors: the state_dict of a small decoder (ConvTranspose1d/2d/3d, each followed by a
  BatchNorm with trained-looking statistics), saved in each dtype (num_batches_tracked stays I64, as PyTorch keeps it).
  The `safetensors` package is not in Debian, so save_safetensors() below writes the published format exactly as its
  reference implementation does: 8-byte little-endian header length, compact JSON header ("__metadata__" first, then the
  tensors in data order: larger dtypes first, then by name), the header padded with spaces to a multiple of 8 bytes,
  then the tensors' little-endian bytes packed without gaps.
- model_{dtype}_values.npy: every tensor of that file as PyTorch converts it to float32, flattened and concatenated in
  sorted-name order: what SafeTensorsFile.ReadSingle must return.
- conv{1,2,3}d_input.npy / conv{1,2,3}d_output.npy: an input and PyTorch's batch_norm(conv_transposeNd(input)) in eval
  mode, for the batch-norm folding tests.
- special_*.npy: one 3x4 array with zeros, signed zero, subnormals, infinities and NaN saved by numpy as '<f2', '<f4',
  '<f8', big-endian '>f4' / '>f8', in Fortran order, and with format versions 2.0 and 3.0; special_f2_as_f4.npy is the
  float16 file's values as numpy converts them to float32. scalar_f4.npy, empty_f4.npy and long_f4.npy are a 0-d array,
  a (0, 3) array and a (130,) array: NpyFile.Write must write each of these byte for byte as numpy.save did.
"""
import json
import os
import struct
import sys

import numpy as np
import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
assert sys.byteorder == "little", "the tensors' bytes are written as the machine holds them"

# The reference implementation's dtype order; it writes larger dtypes first (alignment), then by name.
DTYPE_ORDER = ["BOOL", "U8", "I8", "F8_E5M2", "F8_E4M3", "I16", "U16", "F16", "BF16", "I32", "U32", "F32", "F64", "I64", "U64"]
DTYPE_NAMES = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16", torch.float64: "F64", torch.int64: "I64"}


def tensor_bytes(t):
    t = t.contiguous()
    if t.dtype == torch.bfloat16:
        t = t.view(torch.int16)  # numpy has no bfloat16; same bits
    return t.numpy().tobytes()


def save_safetensors(tensors, path, metadata=None):
    items = sorted(tensors.items(), key=lambda kv: (-DTYPE_ORDER.index(DTYPE_NAMES[kv[1].dtype]), kv[0]))
    header, blobs, offset = {}, [], 0
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, t in items:
        data = tensor_bytes(t)
        header[name] = {"dtype": DTYPE_NAMES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for data in blobs:
            f.write(data)


def save(name, array):
    np.save(os.path.join(HERE, name), array)


class Decoder(nn.Module):
    """The layer settings are repeated in tests/KernelGen.Tests/IO/IoFixtures.cs."""

    def __init__(self):
        super().__init__()
        self.up1 = nn.ConvTranspose1d(4, 6, kernel_size=3, stride=2, padding=1, output_padding=1, groups=2, bias=True)
        self.bn1 = nn.BatchNorm1d(6)
        self.up2 = nn.ConvTranspose2d(4, 6, kernel_size=(3, 2), stride=(2, 1), padding=(1, 0), output_padding=(1, 0),
                                      dilation=(1, 2), groups=2, bias=False)
        self.bn2 = nn.BatchNorm2d(6, eps=1e-3)
        self.up3 = nn.ConvTranspose3d(2, 4, kernel_size=(2, 3, 2), stride=(2, 1, 2), padding=(0, 1, 0), bias=True)
        self.bn3 = nn.BatchNorm3d(4)


def main():
    torch.manual_seed(13)
    np.random.seed(13)
    model = Decoder()
    with torch.no_grad():
        for bn in (model.bn1, model.bn2, model.bn3):
            c = bn.num_features
            bn.weight.uniform_(0.5, 1.5)
            bn.bias.normal_(0, 0.5)
            bn.running_mean.normal_(0, 0.5)
            bn.running_var.uniform_(0.2, 2.0)
            bn.num_batches_tracked.fill_(7)
    model.eval()
    state = {k: v.detach().clone() for k, v in model.state_dict().items()}

    variants = {"f32": torch.float32, "f16": torch.float16, "bf16": torch.bfloat16, "f64": torch.float64}
    for suffix, dtype in variants.items():
        stored = {}
        for name, t in state.items():
            if not t.is_floating_point():
                stored[name] = t
            elif dtype == torch.float64:
                # Values that are not floats already, so that reading must round them (to nearest, as PyTorch does).
                stored[name] = t.double() + torch.randn(t.shape, dtype=torch.float64) * 1e-6
            else:
                stored[name] = t.to(dtype)
        save_safetensors(stored, os.path.join(HERE, f"model_{suffix}.safetensors"), metadata={"format": "pt"})
        values = torch.cat([stored[name].to(torch.float32).flatten() for name in sorted(stored)])
        save(f"model_{suffix}_values.npy", values.numpy())

    with torch.no_grad():
        cases = {
            "conv1d": (model.up1, model.bn1, torch.randn(2, 4, 5)),
            "conv2d": (model.up2, model.bn2, torch.randn(2, 4, 3, 4)),
            "conv3d": (model.up3, model.bn3, torch.randn(1, 2, 2, 3, 2)),
        }
        for name, (conv, bn, x) in cases.items():
            save(f"{name}_input.npy", x.numpy())
            save(f"{name}_output.npy", bn(conv(x)).numpy())

    special = np.array([[0.0, -0.0, 1.0, -2.5],
                        [65504.0, 6e-8, 1e-40, 3.0e38],
                        [np.inf, -np.inf, np.nan, 1.0 / 3.0]], dtype=np.float64)
    save("special_f8.npy", special)
    with np.errstate(over="ignore"):
        save("special_f4.npy", special.astype("<f4"))
        save("special_f2.npy", special.astype("<f2"))
        save("special_f2_as_f4.npy", special.astype("<f2").astype("<f4"))
    save("special_f4_big_endian.npy", special.astype(">f4"))
    save("special_f8_big_endian.npy", special.astype(">f8"))
    save("special_f4_fortran.npy", np.asfortranarray(special.astype("<f4")))
    for major in (2, 3):
        with open(os.path.join(HERE, f"special_f4_v{major}.npy"), "wb") as f:
            np.lib.format.write_array(f, special.astype("<f4"), version=(major, 0))
    save("scalar_f4.npy", np.array(3.25, dtype="<f4"))
    save("empty_f4.npy", np.zeros((0, 3), dtype="<f4"))
    save("long_f4.npy", np.arange(130, dtype="<f4") / 7)


if __name__ == "__main__":
    main()
