"""ONNX export: a network of built-in layers as an ONNX graph, in inference form, that onnxruntime runs.

The graph takes glassnet's NHWC images (or NCHW with layout="nchw") under the name "input", with a
dynamic batch axis, and gives "output". Inside, images are transposed once to NCHW for ONNX's
Conv, MaxPool, AveragePool and BatchNormalization, and back to NHWC before a Flatten, so that a
Dense layer after it reads its features in glassnet's (h, w, c) order. "same" padding becomes
explicit pads with the odd extra at the bottom/right; MaxPool's pads never win the max (glassnet
pads with -inf); AveragePool counts padded zeros (count_include_pad=1), as glassnet does.
The `onnx` package (pip install "glassnet[onnx]") is imported only when a file is written.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from glassnet.checks import check_count
from glassnet.errors import InputError, InputTypeError, NotReadyError, UnsaveableError
from glassnet.extras import import_extra
from glassnet.functional import resolve_padding
from glassnet.io.atomic import atomic_write
from glassnet.io.contract import SavedNetwork
from glassnet.io.layout import conv_to_oihw
from glassnet.layers import (
    Activation,
    AvgPool2D,
    BatchNorm,
    Conv2D,
    Dense,
    Dropout,
    Flatten,
    Layer,
    LeakyReLU,
    MaxPool2D,
    ReLU,
    Sigmoid,
    Softmax,
    Tanh,
)
from glassnet.layers.activations import relu, softmax
from glassnet.losses import LOSSES

OPSET = 17
INPUT, OUTPUT = "input", "output"
LAYOUTS = ("nhwc", "nchw")
ELEMENTWISE: dict[type[Layer], str] = {Tanh: "Tanh", Sigmoid: "Sigmoid", ReLU: "Relu"}
EXPORTED = {Dense, Conv2D, MaxPool2D, AvgPool2D, BatchNorm, Dropout, Flatten, LeakyReLU, Softmax, *ELEMENTWISE}
# The functions an Activation(fn, fn_prime) may hold that ONNX has an operator for.
KNOWN_FUNCTIONS: dict[Callable[..., Any], str] = {
    np.tanh: "Tanh",
    np.exp: "Exp",
    np.sin: "Sin",
    np.cos: "Cos",
    np.abs: "Abs",
    relu: "Relu",
    softmax: "Softmax",
}
PathLike = str | os.PathLike[str]


class _Graph:
    """The nodes and initializers built so far, and the running tensor: its name, rank and layout."""

    def __init__(self, onnx: Any, rank: int, nchw: bool) -> None:
        self.onnx, self.rank, self.nchw = onnx, rank, nchw
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        self.current = INPUT

    def constant(self, name: str, value: np.ndarray) -> str:
        """Add an initializer (float32 unless given otherwise); returns its name."""
        array = np.asarray(value)
        array = array.astype(np.float32) if array.dtype.kind == "f" else array
        self.initializers.append(self.onnx.numpy_helper.from_array(array, name))
        return name

    def node(self, op: str, name: str, *constants: str, **attributes: Any) -> None:
        """Apply op to the running tensor (then the named constants); its output becomes the running tensor."""
        self.nodes.append(self.onnx.helper.make_node(op, [self.current, *constants], [name], name=name, **attributes))
        self.current = name

    def to_nchw(self, name: str) -> None:
        """Transpose NHWC images to NCHW, if they are not already."""
        if self.rank == 4 and not self.nchw:
            self.node("Transpose", f"{name}_to_nchw", perm=[0, 3, 1, 2])
            self.nchw = True

    def to_nhwc(self, name: str) -> None:
        """Transpose NCHW images back to NHWC, if they are NCHW."""
        if self.rank == 4 and self.nchw:
            self.node("Transpose", f"{name}_to_nhwc", perm=[0, 2, 3, 1])
            self.nchw = False


def export_onnx(
    net: SavedNetwork,
    path: PathLike,
    *,
    input_shape: Sequence[int] | None = None,
    layout: str = "nhwc",
    class_names: Sequence[str] | None = None,
    preprocessing: str | None = None,
) -> None:
    """Write the network in inference form as an ONNX file (opset 17, float32), atomically.

    Args:
        net: a network of built-in layers (and Activations of known functions).
        path: the .onnx file to write.
        input_shape: one sample's shape, glassnet's (H, W, C) for images; default: the shape the
            network last saw (net.input_shape).
        layout: "nhwc" (glassnet's, the default) or "nchw" (ONNX's and PyTorch's) for image input and output.
        class_names: the name of each output, stored in the metadata ("class_names", JSON).
        preprocessing: how raw data becomes the input, stored in the metadata ("preprocessing").
    """
    if layout not in LAYOUTS:
        raise InputError(f'layout must be "nhwc" (glassnet\'s) or "nchw" (ONNX\'s), got {layout!r}')
    onnx = import_extra("onnx", "onnx", "exporting to ONNX")
    shape = _input_shape(net, input_shape)
    shapes = [shape, *net.layer_shapes(shape)]
    if layout == "nchw" and len(shape) != 3:
        raise InputError(f'layout="nchw" is for image input (H, W, C); this network takes samples of shape {shape}')
    graph = _Graph(onnx, len(shape) + 1, nchw=layout == "nchw")
    for index, layer in enumerate(net.layers):
        graph.rank = len(shapes[index]) + 1  # type: ignore[arg-type]
        _add_layer(graph, index, layer, shapes[index])  # type: ignore[arg-type]
    graph.rank = len(shapes[-1]) + 1  # type: ignore[arg-type]
    (graph.to_nchw if layout == "nchw" else graph.to_nhwc)("output")
    graph.nodes[-1].output[0] = OUTPUT
    model = onnx.helper.make_model(
        onnx.helper.make_graph(
            graph.nodes,
            "glassnet",
            [_value_info(onnx, INPUT, shape, layout)],
            [_value_info(onnx, OUTPUT, shapes[-1], layout)],  # type: ignore[arg-type]
            graph.initializers,
        ),
        opset_imports=[onnx.helper.make_opsetid("", OPSET)],
        producer_name="glassnet",
        doc_string=f"A glassnet network exported for inference: {len(net.layers)} layers, input {layout.upper()}.",
    )
    metadata = _metadata(net, shape, layout, class_names, preprocessing)
    onnx.helper.set_model_props(model, metadata)
    onnx.checker.check_model(model)
    with atomic_write(path) as f:
        f.write(model.SerializeToString())


def _input_shape(net: SavedNetwork, given: Sequence[int] | None) -> tuple[int, ...]:
    """One sample's shape: given, last seen by the network, or the first Dense's input."""
    if not net.layers:
        raise NotReadyError("the network has no layers to export: add some first")
    if given is not None:
        if not isinstance(given, (tuple, list)) or not given:
            raise InputTypeError(f"input_shape must be one sample's shape, e.g. (28, 28, 1), got {given!r}")
        return tuple(check_count(d, "input_shape's sizes") for d in given)
    if net.input_shape is not None:
        return tuple(net.input_shape)
    first = net.layers[0]
    if isinstance(first, Dense):
        return (first.in_features,)
    raise InputError(
        "the network has not seen any data, so the input's size is unknown: pass input_shape, "
        "one sample's shape such as (28, 28, 1), or call predict once first"
    )


def _add_layer(graph: _Graph, index: int, layer: Layer, shape: tuple[int, ...]) -> None:
    """The nodes and initializers of one layer, given one sample's input shape."""
    name = f"layer{index}"
    if type(layer) not in EXPORTED and _known_function(layer) is None:
        raise UnsaveableError(_inexpressible(index, layer))  # subclasses too: their forward may differ
    channel_axis = 1 if graph.nchw and graph.rank == 4 else -1  # glassnet's last axis
    if isinstance(layer, Dense):
        weight, bias = layer.created_parameters()
        names = (graph.constant(f"{name}.weight", weight.value), graph.constant(f"{name}.bias", bias.value))
        graph.node("Gemm", name, *names)
    elif isinstance(layer, Conv2D):
        weight, bias = layer.created_parameters()
        graph.to_nchw(name)
        graph.node(
            "Conv",
            name,
            graph.constant(f"{name}.weight", conv_to_oihw(weight.value)),
            graph.constant(f"{name}.bias", bias.value),
            kernel_shape=list(layer.kernel_size),
            strides=list(layer.stride),
            pads=_pads(layer.padding, shape, layer.kernel_size, layer.stride),
        )
    elif isinstance(layer, (MaxPool2D, AvgPool2D)):
        graph.to_nchw(name)
        pads = _pads(layer.padding, shape, layer.pool_size, layer.stride)
        window = {"kernel_shape": list(layer.pool_size), "strides": list(layer.stride), "pads": pads}
        if isinstance(layer, MaxPool2D):
            graph.node("MaxPool", name, **window)
        else:
            graph.node("AveragePool", name, count_include_pad=1, **window)
    elif isinstance(layer, BatchNorm):
        graph.to_nchw(name)
        arrays = {"gamma": layer.gamma.value, "beta": layer.beta.value, **layer.buffers()}
        constants = [graph.constant(f"{name}.{key}", value) for key, value in arrays.items()]
        graph.node("BatchNormalization", name, *constants, epsilon=layer.eps, momentum=1 - layer.momentum)
    elif isinstance(layer, Dropout):  # inference: the identity; the ratio is kept for the way back
        graph.node("Dropout", name, graph.constant(f"{name}.ratio", np.array(layer.rate, dtype=np.float32)))
    elif isinstance(layer, Flatten):
        graph.to_nhwc(name)  # glassnet's feature order (h, w, c)
        graph.node("Flatten", name, axis=1)
    elif isinstance(layer, LeakyReLU):
        graph.node("LeakyRelu", name, alpha=layer.alpha)
    elif isinstance(layer, (Tanh, Sigmoid, ReLU)):
        graph.node(ELEMENTWISE[type(layer)], name)
    else:  # Softmax, or an Activation of a known function
        op = "Softmax" if isinstance(layer, Softmax) else str(_known_function(layer))
        graph.node(op, name, **({"axis": channel_axis} if op == "Softmax" else {}))


def _known_function(layer: Layer) -> str | None:
    """The ONNX operator of an Activation's function, or None when ONNX has none for it."""
    fn = layer.fn if type(layer) is Activation else None
    return next((op for known, op in KNOWN_FUNCTIONS.items() if fn is known), None)


def _inexpressible(index: int, layer: Layer) -> str:
    """The message for a layer ONNX cannot express."""
    if type(layer) is Activation:
        known = ", ".join(f"np.{getattr(fn, '__name__', fn)}" for fn in KNOWN_FUNCTIONS)
        return (
            f"layer {index}, {layer!r}, holds a Python function ONNX has no operator for: "
            f"use a built-in layer (gn.Tanh(), gn.Sigmoid(), gn.ReLU(), ...) or one of {known}"
        )
    return (
        f"layer {index}, {layer!r}, is a custom layer ({type(layer).__module__}.{type(layer).__qualname__}) "
        "that ONNX cannot express: only glassnet's built-in layers export; rebuild the network from them"
    )


def _pads(
    padding: int | tuple[int, int] | str, shape: tuple[int, ...], kernel: tuple[int, int], stride: tuple[int, int]
) -> list[int]:
    """ONNX's explicit pads [top, left, bottom, right] of a glassnet padding for this input size."""
    (top, bottom), (left, right) = resolve_padding(padding, (shape[0], shape[1]), kernel, stride)
    return [top, left, bottom, right]


def _value_info(onnx: Any, name: str, shape: tuple[int, ...], layout: str) -> Any:
    """A float32 tensor's declaration, batch axis "N", images in the chosen layout."""
    dims = list(shape)
    if layout == "nchw" and len(dims) == 3:
        dims = [dims[2], dims[0], dims[1]]  # (C, H, W)
    return onnx.helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, ["N", *dims])


def _metadata(
    net: SavedNetwork,
    shape: tuple[int, ...],
    layout: str,
    class_names: Sequence[str] | None,
    preprocessing: str | None,
) -> dict[str, str]:
    """The model's metadata_props: layout, one sample's shape, loss, class names and preprocessing."""
    metadata = {"input_layout": layout.upper(), "input_shape": json.dumps(list(shape))}
    losses = {cls: name for name, cls in LOSSES.items()}
    if net.loss is not None and type(net.loss) in losses:
        metadata["loss"] = losses[type(net.loss)]
    if class_names is not None:
        names = [str(name) for name in class_names]
        outputs = net.layer_shapes(shape)[-1]
        if outputs is None or len(outputs) != 1 or outputs[0] != len(names):
            raise InputError(f"class_names has {len(names)} names but the network's outputs have shape {outputs}")
        metadata["class_names"] = json.dumps(names)
    if preprocessing is not None:
        metadata["preprocessing"] = str(preprocessing)
    return metadata
