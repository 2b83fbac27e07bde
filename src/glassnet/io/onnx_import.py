"""ONNX import: a chain of the operators glassnet's layers compute, as a Network that predicts the same.

The graph is read as data (glassnet.io.onnx_read) and walked node by node: each node takes the
previous one's output, its other inputs are constants. Layouts are converted as the walk goes:
an NCHW input (ONNX's and PyTorch's convention) becomes the network's NHWC input, Conv weights
(OUT, IN, KH, KW) become (KH, KW, IN, OUT), Gemm's (out, in) weights with transB become (in, out),
and the Dense after a Flatten of NCHW images gets its rows reordered to glassnet's (h, w, c) order.
A 4-D output comes out NHWC.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable
from typing import Any

import numpy as np

from glassnet.errors import GlassnetError, ModelFileError
from glassnet.functional import resolve_padding
from glassnet.io.contract import SavedNetwork
from glassnet.io.model_build import network_class
from glassnet.io.onnx_ops import NHWC_TO_NCHW, OPERATORS
from glassnet.io.onnx_read import DEFAULT_DOMAINS, OnnxGraph, attributes, read_onnx
from glassnet.layers import Conv2D, Dense, Layer
from glassnet.layers.base import Shape
from glassnet.losses import LOSSES

Padding = int | tuple[int, int] | str


def load_onnx(path: str | os.PathLike[str]) -> SavedNetwork:
    """A Network computing what an ONNX file's graph computes; ModelFileError if glassnet cannot.

    Args:
        path: the .onnx file: a chain of Conv, Gemm, MatMul (+ Add), MaxPool, AveragePool,
            BatchNormalization, Dropout, Flatten, Reshape (to a flatten), Transpose (NHWC <-> NCHW),
            Relu, LeakyRelu, Tanh, Sigmoid, Softmax, Exp, Sin, Cos, Abs and Identity nodes.
    """
    graph = read_onnx(path)
    unsupported = Counter(
        node.op_type if node.domain in DEFAULT_DOMAINS else f"{node.domain}.{node.op_type}"
        for node in graph.nodes
        if node.domain not in DEFAULT_DOMAINS or node.op_type not in OPERATORS
    )
    if unsupported:
        found = ", ".join(f"{op} (x{count})" for op, count in sorted(unsupported.items()))
        known = ", ".join(sorted(OPERATORS))
        raise ModelFileError(f"{graph.label}: unsupported operators {found}; glassnet imports {known}")
    walk = Walk(graph)
    for index, node in enumerate(graph.nodes):
        walk.step(index, node)
    return walk.network()


class Walk:
    """The layers built so far and the running tensor: its name, glassnet shape and axis order."""

    def __init__(self, graph: OnnxGraph) -> None:
        self.graph, self.label = graph, graph.label
        self.constants = dict(graph.constants)
        self.layers: list[Layer] = []
        dims = graph.input_dims
        self.order = "flat"  # the running tensor's axes: "nhwc", "nchw", or "flat" (not an image)
        self.input_shape: tuple[int, ...] = dims
        if len(dims) == 3:
            layout = graph.metadata.get("input_layout", "").upper()
            first = next((node for node in graph.nodes if node.op_type != "Constant"), None)
            transposed = first is not None and first.op_type == "Transpose" and self.perm(first) == NHWC_TO_NCHW
            self.order = "nhwc" if layout == "NHWC" or (layout != "NCHW" and transposed) else "nchw"
            self.input_shape = dims if self.order == "nhwc" else (dims[1], dims[2], dims[0])
        self.shape: Shape = self.input_shape  # glassnet's shape of one sample of the running tensor
        self.current = graph.input_name
        self.features: np.ndarray | None = None  # after a Flatten of NCHW: glassnet feature j is ONNX's features[j]
        self.fresh: Dense | Conv2D | None = None  # the layer whose output the running tensor is (for an Add)
        self.previous: Dense | Conv2D | None = None  # the fresh layer before this node
        self.node: Any = None
        self.where = ""

    # The walk ------------------------------------------------------------------------------------

    def step(self, index: int, node: Any) -> None:
        """Turn one node into layers (or a change of layout); check it continues the chain."""
        self.node, self.where = node, f"{self.label}: node {index} {node.name!r} ({node.op_type})"
        fresh, self.fresh = self.fresh, None
        attrs = attributes(node, self.label)
        if node.op_type == "Constant":
            OPERATORS["Constant"](self, attrs)
            return
        data = [name for name in node.input if name and name not in self.constants]
        first = node.input[0] if node.input else ""
        if data != [self.current] or not node.output or (first != self.current and node.op_type != "Add"):
            raise self.error(
                "does not continue the chain from the previous node's output: glassnet imports a sequence of "
                "operators, each taking the one before's output and constant weights (no branches)"
            )
        self.previous = fresh
        OPERATORS[node.op_type](self, attrs)
        self.current = node.output[0]

    def network(self) -> SavedNetwork:
        """The Network of the layers built, its input shape set; ModelFileError if the graph did not end well."""
        if self.current != self.graph.output_name:
            raise ModelFileError(f"{self.label}: the graph's output is not the end of its chain of nodes")
        if self.features is not None:
            raise ModelFileError(
                f"{self.label}: the graph ends in features flattened from NCHW images, in an order "
                "glassnet's Flatten does not give; end with a Gemm or MatMul after the Flatten"
            )
        if not self.layers:
            raise ModelFileError(f"{self.label}: the graph computes nothing glassnet holds as a layer")
        net = network_class()()
        net.layers, net.input_shape = self.layers, self.input_shape
        for layer in net.layers:
            layer.initialize(net.rng)  # Dropout takes the generator; every parameter exists, none is drawn
        loss = self.graph.metadata.get("loss")
        if loss in LOSSES:
            net.use(loss)
        return net

    # Helpers -------------------------------------------------------------------------------------

    def error(self, why: str) -> ModelFileError:
        """A ModelFileError naming the file and the node."""
        return ModelFileError(f"{self.where}: {why}")

    def build(self, cls: Callable[..., Layer], *args: Any, **kwargs: Any) -> Any:
        """A layer, its constructor's complaints as ModelFileError."""
        try:
            return cls(*args, **kwargs)
        except (GlassnetError, ValueError, TypeError) as error:
            raise self.error(f"not expressible as a glassnet layer: {error}") from None

    def append(self, layer: Layer) -> None:
        """Add a layer, checked against the running tensor's shape."""
        try:
            shape = layer.output_shape(self.shape)
        except (GlassnetError, ValueError) as error:
            raise self.error(f"the shapes do not fit: {error}") from None
        self.layers.append(layer)
        self.shape = shape if shape is not None else self.shape

    def weight(self, position: int, ndim: tuple[int, ...]) -> np.ndarray:
        """The node's constant input at position, as finite float32 of one of the ranks in ndim."""
        value = self.optional(position, ndim)
        if value is None:
            raise self.error(f"input {position} (a weight) is missing")
        return value

    def optional(self, position: int, ndim: tuple[int, ...]) -> np.ndarray | None:
        """The node's constant input at position as finite float32 of a rank in ndim, None if absent."""
        name = self.node.input[position] if len(self.node.input) > position else ""
        if not name:
            return None
        value = self.constants[name]
        if value.ndim not in ndim or value.dtype.kind != "f" or not np.isfinite(value).all():
            ranks = " or ".join(map(str, ndim))
            raise self.error(f"{name!r} must be finite floats with {ranks} axes, got {value.dtype} {value.shape}")
        return value.astype(np.float32)

    def need_images(self, order: str = "nchw") -> tuple[int, int, int]:
        """The running (H, W, C) when the tensor is images in the given order."""
        if len(self.shape) != 3 or self.order != order:
            raise self.error(f"takes {order.upper()} images, the running tensor is {self.order} of shape {self.shape}")
        h, w, c = self.shape
        return int(h or 0), int(w or 0), int(c or 0)

    def check(self, attrs: dict[str, Any], **expected: Any) -> None:
        """Attributes glassnet supports only at these values."""
        for key, value in expected.items():
            if key in attrs and attrs[key] != value:
                raise self.error(f"{key}={attrs[key]!r} is not supported (glassnet computes {key}={value!r})")

    def pair(self, attrs: dict[str, Any], key: str, default: list[int] | None) -> tuple[int, int]:
        """An attribute of two ints >= 1 (kernel_shape, strides)."""
        value = attrs.get(key, default)
        if not isinstance(value, list) or len(value) != 2 or not all(isinstance(v, int) and v >= 1 for v in value):
            raise self.error(f"{key} must hold 2 sizes >= 1, got {value!r}")
        return value[0], value[1]

    def perm(self, node: Any) -> list[int] | None:
        """A Transpose node's permutation."""
        perm = attributes(node, self.label).get("perm")
        return None if perm is None else [int(p) for p in perm]

    def padding(self, attrs: dict[str, Any], kernel: tuple[int, int], stride: tuple[int, int]) -> Padding:
        """glassnet's padding for ONNX's pads/auto_pad at this input size."""
        auto = attrs.get("auto_pad", "NOTSET")
        if auto in ("VALID", "SAME_UPPER"):
            return "valid" if auto == "VALID" else "same"
        if auto != "NOTSET":
            raise self.error(f"auto_pad={auto} (odd extra at the top/left) is unsupported: glassnet's is SAME_UPPER")
        pads = [int(p) for p in attrs.get("pads", [0, 0, 0, 0])]
        if len(pads) != 4 or min(pads) < 0:
            raise self.error(f"pads must be 4 sizes >= 0, got {pads}")
        top, left, bottom, right = pads
        if (top, left) == (bottom, right):
            return top if top == left else (top, left)
        h, w, _ = self.need_images()
        if resolve_padding("same", (h, w), kernel, stride) == ((top, bottom), (left, right)):
            return "same"
        raise self.error(f"the uneven pads {pads} are not glassnet's: it pads evenly, or 'same' (extra bottom/right)")
