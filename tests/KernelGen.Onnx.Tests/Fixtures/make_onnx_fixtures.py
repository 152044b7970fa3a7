"""Writes the ONNX fixtures that tests/KernelGen.Onnx.Tests reads, with the real producers.

Run from anywhere with Debian's python3-torch (1.13) and python3-onnx (1.12):  /usr/bin/python3 make_onnx_fixtures.py
CI does not run this: the files it writes are committed.

- torch_*.onnx: small PyTorch models exported by torch.onnx.export (ConvTranspose1d/2d/3d with groups, dilation, output
  padding, bias, batch norm, ReLU / LeakyReLU / Tanh after them), with <name>.input.npy and <name>.output.npy computed by
  PyTorch itself.
- autopad_*.onnx, output_shape_*.onnx: one ConvTranspose node built with onnx.helper, using auto_pad or output_shape; the
  expected output comes from PyTorch's conv_transpose with no padding, cropped by the pads that the ONNX specification
  (docs/Operators.md, ConvTranspose) derives, computed here independently of KernelGen.
- float16_weights.onnx: float16 weights and bias (raw_data), a double and a bfloat16 initializer, a float one in float_data.
- torch_conv1d_bn_leaky.onnx, torch_conv3d_bn_leaky.onnx: ConvTranspose + BatchNorm + LeakyReLU (1-D: then a second
  ConvTranspose and Tanh), the models kernelgen-import's 1-D and 3-D declarations are tested on.
- external_data.onnx (+ external_data.onnx.data): saved with save_as_external_data=True, all_tensors_to_one_file=True,
  size_threshold=0, so every initializer lives in the .data file.
"""
import os

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
torch.manual_seed(13)
rng = np.random.default_rng(13)


def save_pair(name, x, y):
    np.save(os.path.join(HERE, name + ".input.npy"), np.ascontiguousarray(x, dtype=np.float32))
    np.save(os.path.join(HERE, name + ".output.npy"), np.ascontiguousarray(y, dtype=np.float32))


def export(name, model, x):
    model.eval()
    with torch.no_grad():
        y = model(x)
        torch.onnx.export(model, (x,), os.path.join(HERE, name + ".onnx"), input_names=["input"], output_names=["output"],
                          opset_version=13, training=torch.onnx.TrainingMode.EVAL, do_constant_folding=True)
    save_pair(name, x.numpy(), y.numpy())


def randomize_batch_norm(bn):
    with torch.no_grad():
        bn.weight.copy_(torch.rand(bn.num_features) + 0.5)
        bn.bias.copy_(torch.randn(bn.num_features) * 0.3)
        bn.running_mean.copy_(torch.randn(bn.num_features) * 0.2)
        bn.running_var.copy_(torch.rand(bn.num_features) + 0.5)


# ---- PyTorch exports --------------------------------------------------------------------------------------------------

export("torch_conv1d_relu",
       torch.nn.Sequential(torch.nn.ConvTranspose1d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2, dilation=2), torch.nn.ReLU()),
       torch.randn(2, 4, 5))

bn2 = torch.nn.BatchNorm2d(4, eps=1e-3)
randomize_batch_norm(bn2)
export("torch_conv2d_bn_relu_tanh",
       torch.nn.Sequential(
           torch.nn.ConvTranspose2d(3, 4, (3, 4), stride=(2, 1), padding=(1, 2), output_padding=(1, 0), dilation=(1, 2)),
           bn2, torch.nn.ReLU(),
           torch.nn.ConvTranspose2d(4, 2, 4, stride=2, padding=1, groups=2, bias=False),
           torch.nn.Tanh()),
       torch.randn(1, 3, 4, 5))

export("torch_conv3d_leaky",
       torch.nn.Sequential(
           torch.nn.ConvTranspose3d(2, 4, (2, 3, 3), stride=(2, 1, 2), padding=(0, 1, 1), output_padding=(1, 0, 1), dilation=(1, 2, 1), groups=2),
           torch.nn.LeakyReLU(0.2)),
       torch.randn(1, 2, 3, 4, 4))

export("torch_conv2d_sigmoid",
       torch.nn.Sequential(torch.nn.ConvTranspose2d(2, 3, 2, stride=2), torch.nn.Sigmoid()),
       torch.randn(3, 2, 3, 3))


# ---- onnx.helper models: auto_pad and output_shape -------------------------------------------------------------------

def onnx_pads(auto_pad, in_sizes, kernel, strides, dilations, output_padding, output_shape):
    """ONNX's ConvTranspose rule for derived pads (current specification), per axis: (begin, end, extra output padding)."""
    result = []
    for axis, size in enumerate(in_sizes):
        natural = strides[axis] * (size - 1) + output_padding[axis] + (kernel[axis] - 1) * dilations[axis] + 1
        if output_shape is None and auto_pad == "VALID":
            result.append((0, 0, 0))
            continue
        target = output_shape[axis] if output_shape is not None else size * strides[axis]
        total = natural - target
        if total < 0:
            result.append((0, 0, -total))
        elif auto_pad == "SAME_UPPER":
            result.append((total // 2, total - total // 2, 0))
        else:
            result.append((total - total // 2, total // 2, 0))
    return result


def reference(x, w, b, strides, dilations, group, output_padding, pads):
    """PyTorch's conv_transpose with no padding, zero-extended by the output padding, then cropped by the pads, plus bias."""
    rank = w.ndim - 2
    fn = [None, torch.nn.functional.conv_transpose1d, torch.nn.functional.conv_transpose2d, torch.nn.functional.conv_transpose3d][rank]
    full = fn(torch.from_numpy(x).double(), torch.from_numpy(w).double(), None, stride=tuple(strides), padding=0,
              output_padding=0, groups=group, dilation=tuple(dilations)).numpy()
    extend = [(0, 0), (0, 0)] + [(0, output_padding[a] + extra) for a, (_, _, extra) in enumerate(pads)]
    full = np.pad(full, extend)
    index = (slice(None), slice(None)) + tuple(slice(begin, full.shape[2 + a] - end) for a, (begin, end, _) in enumerate(pads))
    out = full[index]
    if b is not None:
        out = out + b.reshape((1, -1) + (1,) * rank)
    return out.astype(np.float32)


def helper_model(name, in_shape, w_shape, group=1, strides=None, dilations=None, output_padding=None, auto_pad=None,
                 output_shape=None, pads=None, bias=True, full_output_shape=False):
    rank = len(w_shape) - 2
    strides = strides or [1] * rank
    dilations = dilations or [1] * rank
    output_padding = output_padding or [0] * rank
    x = rng.standard_normal(in_shape).astype(np.float32)
    w = rng.standard_normal(w_shape).astype(np.float32)
    b = rng.standard_normal(w_shape[1] * group).astype(np.float32) if bias else None
    if pads is not None:
        derived = [(pads[a], pads[a + rank], 0) for a in range(rank)]
    else:
        derived = onnx_pads(auto_pad or "NOTSET", in_shape[2:], w_shape[2:], strides, dilations, output_padding, output_shape)
    y = reference(x, w, b, strides, dilations, group, output_padding, derived)

    attributes = dict(strides=strides, dilations=dilations, group=group, kernel_shape=list(w_shape[2:]))
    if any(output_padding):
        attributes["output_padding"] = output_padding
    if auto_pad:
        attributes["auto_pad"] = auto_pad
    if output_shape is not None:
        attributes["output_shape"] = ([in_shape[0], w_shape[1] * group] if full_output_shape else []) + list(output_shape)
    if pads is not None:
        attributes["pads"] = pads
    inputs = ["x", "w"] + (["b"] if bias else [])
    node = helper.make_node("ConvTranspose", inputs, ["y"], name=name + "_node", **attributes)
    initializers = [numpy_helper.from_array(w, "w")] + ([numpy_helper.from_array(b, "b")] if bias else [])
    graph = helper.make_graph([node], name, [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(in_shape))],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, list(y.shape))], initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="make_onnx_fixtures.py")
    onnx.checker.check_model(model)
    onnx.save(model, os.path.join(HERE, name + ".onnx"))
    save_pair(name, x, y)


# Kernel 3, stride 2: each axis pads (in - 1) * 2 + 3 - 2 * in = 1 cell, so SAME_UPPER and SAME_LOWER differ.
helper_model("autopad_same_upper_2d", (1, 2, 3, 4), (2, 3, 3, 3), strides=[2, 2], auto_pad="SAME_UPPER")
helper_model("autopad_same_lower_2d", (1, 2, 3, 4), (2, 3, 3, 3), strides=[2, 2], auto_pad="SAME_LOWER")
helper_model("autopad_valid_2d", (2, 2, 3, 4), (2, 1, 3, 2), group=2, strides=[2, 3], auto_pad="VALID")
helper_model("autopad_same_upper_1d", (2, 3, 5), (3, 2, 4), strides=[3], dilations=[2], auto_pad="SAME_UPPER")
helper_model("autopad_same_lower_3d", (1, 2, 2, 3, 2), (2, 2, 3, 3, 2), strides=[2, 2, 3], auto_pad="SAME_LOWER")
# Uncropped 7 x 9: height 6 crops 1 (at the beginning), width 10 adds one cell of output padding at the end.
helper_model("output_shape_2d", (1, 2, 3, 4), (2, 2, 3, 3), strides=[2, 2], output_shape=[6, 10])
helper_model("output_shape_full_2d", (1, 2, 3, 4), (2, 2, 3, 3), strides=[2, 2], output_shape=[5, 8], full_output_shape=True)
helper_model("output_shape_1d", (1, 2, 4), (2, 3, 2), strides=[3], output_shape=[9], bias=False)
helper_model("output_shape_3d", (1, 1, 2, 2, 3), (1, 2, 2, 3, 3), strides=[2, 2, 2], output_shape=[4, 3, 7])
helper_model("explicit_pads_2d", (1, 2, 3, 3), (2, 2, 3, 3), strides=[2, 2], pads=[1, 0, 0, 2], output_padding=[1, 1])


# ---- Initializer types -----------------------------------------------------------------------------------------------

def float16_model():
    x = rng.standard_normal((1, 2, 3, 3)).astype(np.float16)
    w = rng.standard_normal((2, 2, 2, 2)).astype(np.float16)
    b = rng.standard_normal(2).astype(np.float16)
    y = reference(x.astype(np.float32), w.astype(np.float32), b.astype(np.float32), [2, 2], [1, 1], 1, [0, 0], [(0, 0, 0)] * 2)
    node = helper.make_node("ConvTranspose", ["x", "w", "b"], ["y"], name="half", strides=[2, 2])
    doubles = np.array([[1.5, -2.25], [1e-3, 3.0]], dtype=np.float64)
    bf16_values = np.array([1.0, -2.5, 0.15625, 3.0e10], dtype=np.float32)
    bf16 = helper.make_tensor("bf16", TensorProto.BFLOAT16, [4], (bf16_values.view(np.uint32) >> 16).astype("<u2").tobytes(), raw=True)
    initializers = [numpy_helper.from_array(w, "w"), numpy_helper.from_array(b, "b"),
                    helper.make_tensor("f64", TensorProto.DOUBLE, [2, 2], doubles.flatten().tolist()),
                    helper.make_tensor("f32_typed", TensorProto.FLOAT, [3], [0.5, -1.0, 2.0]),
                    helper.make_tensor("scalar", TensorProto.FLOAT, [], [7.0]),
                    helper.make_tensor("i64", TensorProto.INT64, [2], [1, 2]), bf16]
    graph = helper.make_graph([node], "float16", [helper.make_tensor_value_info("x", TensorProto.FLOAT16, [1, 2, 3, 3])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT16, [1, 2, 6, 6])], initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="make_onnx_fixtures.py")
    onnx.checker.check_model(model)
    onnx.save(model, os.path.join(HERE, "float16_weights.onnx"))
    save_pair("float16_weights", x.astype(np.float32), y)


float16_model()


# ---- External data ---------------------------------------------------------------------------------------------------

def external_model():
    x = rng.standard_normal((1, 3, 2, 3)).astype(np.float32)
    w = rng.standard_normal((3, 2, 3, 2)).astype(np.float32)
    b = rng.standard_normal(2).astype(np.float32)
    y = reference(x, w, b, [1, 2], [1, 1], 1, [0, 0], [(1, 1, 0), (0, 0, 0)])
    node = helper.make_node("ConvTranspose", ["x", "w", "b"], ["y"], name="external", strides=[1, 2], pads=[1, 0, 1, 0])
    graph = helper.make_graph([node], "external", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 2, 3])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, list(y.shape))],
                              [numpy_helper.from_array(w, "w"), numpy_helper.from_array(b, "b")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="make_onnx_fixtures.py")
    onnx.checker.check_model(model)
    path = os.path.join(HERE, "external_data.onnx")
    if os.path.exists(path + ".data"):
        os.remove(path + ".data")
    onnx.save_model(model, path, save_as_external_data=True, all_tensors_to_one_file=True, location="external_data.onnx.data",
                    size_threshold=0)
    save_pair("external_data", x, y)


external_model()

# ---- kernelgen-import: ConvTranspose + BatchNorm + LeakyReLU for the 1-D and 3-D declarations it writes --------------
# Last in the script, so that the random draws of the fixtures above stay what they were.

bn1 = torch.nn.BatchNorm1d(6, eps=1e-4)
randomize_batch_norm(bn1)
export("torch_conv1d_bn_leaky",
       torch.nn.Sequential(
           torch.nn.ConvTranspose1d(4, 6, 3, stride=2, padding=1, output_padding=1, dilation=2, groups=2),
           bn1, torch.nn.LeakyReLU(0.2),
           torch.nn.ConvTranspose1d(6, 3, 4, stride=2, padding=2, bias=False),
           torch.nn.Tanh()),
       torch.randn(2, 4, 5))

bn3 = torch.nn.BatchNorm3d(4, eps=1e-3)
randomize_batch_norm(bn3)
export("torch_conv3d_bn_leaky",
       torch.nn.Sequential(
           torch.nn.ConvTranspose3d(2, 4, (2, 3, 3), stride=(2, 1, 2), padding=(0, 1, 2), output_padding=(1, 0, 1), dilation=(1, 2, 1), groups=2),
           bn3, torch.nn.LeakyReLU(0.1)),
       torch.randn(1, 2, 3, 4, 4))
print("written to", HERE)
