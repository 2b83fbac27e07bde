"""Each ONNX operator glassnet imports, as the glassnet layer (or change of layout) it becomes.

Every function takes the walk through the graph (glassnet.io.onnx_import.Walk), positioned on the
node, and the node's attributes; it appends layers to the walk or changes the running tensor's layout.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from glassnet.functional import resolve_padding
from glassnet.io.layout import conv_from_oihw, hwc_from_chw
from glassnet.layers import (
    Activation,
    AvgPool2D,
    BatchNorm,
    Conv2D,
    Dense,
    Dropout,
    Flatten,
    LeakyReLU,
    MaxPool2D,
    ReLU,
    Sigmoid,
    Softmax,
    Tanh,
)

if TYPE_CHECKING:
    from glassnet.io.onnx_import import Walk

NHWC_TO_NCHW, NCHW_TO_NHWC = [0, 3, 1, 2], [0, 2, 3, 1]
Operator = Callable[["Walk", dict[str, Any]], None]


def _minus_sin(x: np.ndarray) -> np.ndarray:
    """The derivative of cos."""
    y: np.ndarray = -np.sin(x)
    return y


ELEMENTWISE = {"Relu": ReLU, "Tanh": Tanh, "Sigmoid": Sigmoid}
FUNCTIONS: dict[str, tuple[Callable[[np.ndarray], np.ndarray], Callable[[np.ndarray], np.ndarray]]] = {
    "Exp": (np.exp, np.exp),
    "Sin": (np.sin, np.cos),
    "Cos": (np.cos, _minus_sin),
    "Abs": (np.abs, np.sign),
}


def float32_decimal(value: float) -> float:
    """The shortest decimal of a float32 attribute (0.1, not 0.10000000149)."""
    return float(str(np.float32(value)))


def conv(walk: Walk, attrs: dict[str, Any]) -> None:
    """Conv (one group, no dilation) -> Conv2D, its weight as (KH, KW, IN, OUT)."""
    weight = walk.weight(1, (4,))
    out, cin, kh, kw = weight.shape
    bias = walk.optional(2, (1,))
    walk.check(attrs, group=1, dilations=[1, 1], kernel_shape=[kh, kw])
    walk.need_images()
    stride = walk.pair(attrs, "strides", [1, 1])
    layer = walk.build(Conv2D, cin, out, (kh, kw), stride=stride, padding=walk.padding(attrs, (kh, kw), stride))
    bias = np.zeros(out, np.float32) if bias is None else bias
    if bias.shape != (out,):
        raise walk.error(f"the bias has shape {bias.shape}, the weight's {out} filters need ({out},)")
    layer.set_parameters({"weight": conv_from_oihw(weight), "bias": bias})
    walk.append(layer)
    walk.fresh = layer


def dense(walk: Walk, weight: np.ndarray, bias: np.ndarray) -> None:
    """A Dense layer of an (in, out) weight, its rows reordered after a Flatten of NCHW images."""
    if len(walk.shape) != 1 or walk.shape[0] != weight.shape[0]:
        raise walk.error(f"a ({weight.shape[0]} -> {weight.shape[1]}) product does not fit features {walk.shape}")
    if walk.features is not None:
        weight, walk.features = weight[walk.features], None
    layer = walk.build(Dense, *weight.shape)
    layer.set_parameters({"weight": np.ascontiguousarray(weight), "bias": bias})
    walk.append(layer)
    walk.fresh = layer


def gemm(walk: Walk, attrs: dict[str, Any]) -> None:
    """Gemm (alpha and beta folded in; transB: PyTorch's (out, in) weight) -> Dense."""
    walk.check(attrs, transA=0)
    weight = walk.weight(1, (2,)) * np.float32(attrs.get("alpha", 1.0))
    weight = weight.T if attrs.get("transB", 0) else weight
    bias = walk.optional(2, (0, 1, 2))
    out = weight.shape[1]
    if bias is not None and bias.size not in (1, out):
        raise walk.error(f"the bias has shape {bias.shape}, the {out} outputs need ({out},)")
    bias = np.zeros(out, np.float32) if bias is None else bias * np.float32(attrs.get("beta", 1.0))
    dense(walk, weight, np.broadcast_to(bias.reshape(-1), (out,)).astype(np.float32))


def matmul(walk: Walk, attrs: dict[str, Any]) -> None:
    """MatMul by a constant (in, out) matrix -> Dense with a zero bias (an Add may follow)."""
    weight = walk.weight(1, (2,))
    dense(walk, weight, np.zeros(weight.shape[1], np.float32))


def add(walk: Walk, attrs: dict[str, Any]) -> None:
    """A constant added right after a Gemm, MatMul or Conv: added to its bias."""
    fresh = walk.previous
    name = next(name for name in walk.node.input if name != walk.current)
    value = walk.constants[name]
    if fresh is None or fresh.bias is None or value.dtype.kind != "f" or not np.isfinite(value).all():
        raise walk.error("glassnet imports an Add of finite constants right after a Gemm, MatMul or Conv (a bias)")
    out = fresh.bias.shape[0]
    allowed = [(out,), (1, out)] if isinstance(fresh, Dense) else [(out, 1, 1), (1, out, 1, 1)]
    if value.size != 1 and value.shape not in allowed:
        raise walk.error(f"the added constant has shape {value.shape}; a bias of {out} values is expected")
    fresh.bias.value = (fresh.bias.value + value.reshape(-1)).astype(np.float32)
    walk.fresh = fresh


def pool(walk: Walk, attrs: dict[str, Any]) -> None:
    """MaxPool / AveragePool (no ceil_mode, no dilation) -> MaxPool2D / AvgPool2D."""
    h, w, _ = walk.need_images()
    kernel = walk.pair(attrs, "kernel_shape", None)
    walk.check(attrs, ceil_mode=0, dilations=[1, 1], storage_order=0)
    stride = walk.pair(attrs, "strides", [1, 1])
    padding = walk.padding(attrs, kernel, stride)
    padded = resolve_padding(padding, (h, w), kernel, stride) != ((0, 0), (0, 0))
    if walk.node.op_type == "MaxPool":
        walk.append(walk.build(MaxPool2D, kernel, stride=stride, padding=padding))
        return
    if padded and attrs.get("count_include_pad", 0) != 1:
        raise walk.error("count_include_pad=0 is not supported: glassnet's AvgPool2D counts padded zeros")
    walk.append(walk.build(AvgPool2D, kernel, stride=stride, padding=padding))


def batchnorm(walk: Walk, attrs: dict[str, Any]) -> None:
    """BatchNormalization in inference -> BatchNorm with its running statistics."""
    if len(walk.shape) != 1:
        walk.need_images()  # ONNX normalises axis 1: glassnet's channels only in NCHW images
    walk.check(attrs, training_mode=0)
    if any(walk.node.output[1:]):
        raise walk.error("a BatchNormalization in training mode (with its statistics as outputs) is not supported")
    gamma, beta, mean, var = (walk.weight(position, (1,)) for position in range(1, 5))
    if walk.features is not None and len(walk.shape) == 1:
        order = walk.features
        gamma, beta, mean, var = (a[order] if a.shape == order.shape else a for a in (gamma, beta, mean, var))
    if (var < 0).any():
        raise walk.error("the running variance holds negative values: the file is corrupt")
    momentum = round(1 - float(attrs.get("momentum", 0.9)), 6)
    layer = walk.build(BatchNorm, gamma.shape[0], eps=float32_decimal(attrs.get("epsilon", 1e-5)), momentum=momentum)
    layer.set_parameters({"gamma": gamma, "beta": beta})
    layer.set_buffers({"running_mean": mean, "running_var": var})
    walk.append(layer)


def dropout(walk: Walk, attrs: dict[str, Any]) -> None:
    """Dropout (inference: the identity) -> Dropout of the same ratio."""
    ratio = walk.optional(1, (0,))
    training = walk.constants.get(walk.node.input[2]) if len(walk.node.input) > 2 and walk.node.input[2] else None
    if training is not None and bool(np.asarray(training).any()):
        raise walk.error("a Dropout in training mode is not supported: export the model in inference mode")
    rate = float(attrs.get("ratio", 0.5)) if ratio is None else float(ratio)
    walk.append(walk.build(Dropout, float32_decimal(rate)))


def flatten(walk: Walk, attrs: dict[str, Any]) -> None:
    """Flatten (axis 1) -> Flatten; after NCHW images, the next Dense's rows get reordered."""
    if int(attrs.get("axis", 1)) != 1:
        raise walk.error(f"axis={attrs['axis']} is not supported: glassnet's Flatten keeps the batch axis only")
    if walk.order == "nchw":
        h, w, c = walk.need_images()
        walk.features = hwc_from_chw(h, w, c)
    walk.order = "flat"
    walk.append(Flatten())


def reshape(walk: Walk, attrs: dict[str, Any]) -> None:
    """Reshape to (batch, features) -> Flatten."""
    shape = walk.constants.get(walk.node.input[1]) if len(walk.node.input) > 1 else None
    size = math.prod(int(d or 0) for d in walk.shape)
    target = [] if shape is None or shape.dtype.kind not in "iu" else [int(d) for d in shape.reshape(-1)]
    if len(target) != 2 or target[0] not in (0, -1) or target[1] not in (-1, size) or attrs.get("allowzero", 0):
        raise walk.error(f"only a Reshape to (batch, features) is supported, this one gives {target}")
    flatten(walk, {})


def transpose(walk: Walk, attrs: dict[str, Any]) -> None:
    """Transpose NHWC <-> NCHW: no layer, the running tensor's axis order changes."""
    perm = walk.perm(walk.node)
    if len(walk.shape) == 3 and (walk.order, perm) in (("nhwc", NHWC_TO_NCHW), ("nchw", NCHW_TO_NHWC)):
        walk.order = "nchw" if walk.order == "nhwc" else "nhwc"
        return
    raise walk.error(f"only NHWC <-> NCHW Transposes of images are supported, not perm={perm} of {walk.order}")


def softmax(walk: Walk, attrs: dict[str, Any]) -> None:
    """Softmax over glassnet's last axis -> Softmax."""
    rank = len(walk.shape) + 1
    axis = int(attrs.get("axis", -1 if walk.graph.opset >= 13 else 1)) % rank
    last = 1 if walk.order == "nchw" else rank - 1  # glassnet's last axis, in the running tensor
    if axis != last or (walk.graph.opset < 13 and axis != rank - 1):
        raise walk.error(
            f"a Softmax over axis {axis} of a {rank}-D {walk.order} tensor: glassnet's is over the last axis"
        )
    walk.append(Softmax())


def constant(walk: Walk, attrs: dict[str, Any]) -> None:
    """Constant -> a value later nodes take as weights."""
    value = attrs.get("value")
    for key in ("value_float", "value_floats", "value_int", "value_ints"):
        if key in attrs:
            value = np.asarray(attrs[key], dtype=np.float32 if "float" in key else np.int64)
    if not isinstance(value, np.ndarray) or not walk.node.output:
        raise walk.error("a Constant of an unsupported kind (glassnet reads tensors, floats and ints)")
    walk.constants[walk.node.output[0]] = value


def elementwise(walk: Walk, attrs: dict[str, Any]) -> None:
    """Relu, LeakyRelu, Tanh, Sigmoid -> their layers; Exp, Sin, Cos, Abs -> Activation(fn, fn_prime)."""
    op = walk.node.op_type
    if op == "LeakyRelu":
        walk.append(walk.build(LeakyReLU, float32_decimal(attrs.get("alpha", 0.01))))
    elif op in ELEMENTWISE:
        walk.append(ELEMENTWISE[op]())
    elif op in FUNCTIONS:
        walk.append(Activation(*FUNCTIONS[op]))


OPERATORS: dict[str, Operator] = {
    "Constant": constant,
    "Identity": lambda walk, attrs: None,
    "Conv": conv,
    "Gemm": gemm,
    "MatMul": matmul,
    "Add": add,
    "MaxPool": pool,
    "AveragePool": pool,
    "BatchNormalization": batchnorm,
    "Dropout": dropout,
    "Flatten": flatten,
    "Reshape": reshape,
    "Transpose": transpose,
    "Softmax": softmax,
    **{op: elementwise for op in ["LeakyRelu", *ELEMENTWISE, *FUNCTIONS]},
}
