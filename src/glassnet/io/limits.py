"""How large a network a model file or JSON spec may describe: counted from its configuration, before any allocation.

A few bytes of configuration can ask for gigabytes (a Conv2D padded by 30000, `Dense(784, 10**9)`).
`check_network_size` counts, for one sample of a given input shape, every layer's parameters
(from the shapes its configuration declares) and the elements its forward pass holds (its output,
plus for windowed layers the padded input and the windows gathered), and refuses past `Limits`.
The defaults are far above any MNIST network (the default CNN: 0.04 M parameters, 0.03 M
activations) and far below a machine's memory; pass `Limits(...)` to `Network.load` or
`load_spec` to raise them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from glassnet.checks import check_count
from glassnet.errors import GlassnetError
from glassnet.functional import output_size, resolve_padding
from glassnet.layers.base import Layer, Shape

MAX_PARAMETERS = 50_000_000  # 200 MB as float32, 400 MB as float64
MAX_ACTIVATIONS = 20_000_000  # elements of one sample's forward pass: 80 MB as float32


class NetworkTooLargeError(GlassnetError, ValueError):
    """A described network whose parameters or single-sample forward pass exceed the Limits."""


@dataclass(frozen=True)
class Limits:
    """The largest network glassnet builds from a file or spec.

    Args:
        parameters: total parameter elements.
        activations: elements one sample's forward pass holds, summed over layers.
    """

    parameters: int = MAX_PARAMETERS
    activations: int = MAX_ACTIVATIONS


DEFAULT_LIMITS = Limits()


def parameter_count(shapes: dict[str, tuple[Any, ...]]) -> int:
    """Elements of the parameters a config declares; 0 for shapes that are not ints (checked elsewhere).

    Args:
        shapes: parameter name -> declared shape.
    """
    total = 0
    for shape in shapes.values():
        if all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape):
            total += math.prod(shape)
    return total


def _workspace(layer: Layer, input_shape: Shape, output: Shape) -> int:
    """Elements a windowed layer (Conv2D, pooling) holds besides its output: padded input and windows.

    Args:
        layer: the layer; windowed ones have kernel_size or pool_size, stride and padding.
        input_shape: one sample's input (H, W, C).
        output: one sample's output (OH, OW, C').
    """
    kernel: tuple[int, int] | None = getattr(layer, "kernel_size", None) or getattr(layer, "pool_size", None)
    if kernel is None or len(input_shape) != 3 or any(d is None for d in (*input_shape, *output)):
        return 0
    stride: tuple[int, int] = getattr(layer, "stride", kernel)
    h, w, c = (int(d or 0) for d in input_shape)
    pad = resolve_padding(getattr(layer, "padding", 0), (h, w), kernel, stride)
    padded = (h + sum(pad[0])) * (w + sum(pad[1])) * c
    oh = output_size(h, kernel[0], stride[0], pad[0])
    ow = output_size(w, kernel[1], stride[1], pad[1])
    return int(padded + max(oh, 0) * max(ow, 0) * (kernel[0] * kernel[1] * c + 1))


def forward_elements(layers: Sequence[Layer], input_shape: Shape) -> int:
    """Elements one sample's forward pass holds: every layer's output and windowed layers' workspace.

    Args:
        layers: the layers, built but not necessarily initialised.
        input_shape: one sample's shape.
    """
    total, shape = math.prod(d or 1 for d in input_shape), input_shape
    for layer in layers:
        output = layer.output_shape(shape)
        if output is None or shape is None:
            return total
        total += math.prod(d or 1 for d in output) + _workspace(layer, shape, output)
        shape = output
    return total


INFERENCE_ELEMENTS = 1 << 23  # elements of one inference batch's forward pass: 32 MiB of float32
INFERENCE_BATCHES = (32, 1024)  # the fewest and most samples of one inference batch


def inference_batch(layers: Sequence[Layer], input_shape: Shape, batch_size: object = None) -> int:
    """Samples per forward pass of predict and evaluate: batch_size checked, or (None) as many as fit
    INFERENCE_ELEMENTS, within INFERENCE_BATCHES.

    Larger batches let BLAS run at speed (an MLP predicts 1.5x faster in batches of 1000 than of
    256); the budget keeps a convolutional network's workspace small.

    Args:
        layers: the network's layers.
        input_shape: one sample's shape.
        batch_size: what the caller asked for, or None.
    """
    if batch_size is not None:
        return check_count(batch_size, "batch_size")
    fewest, most = INFERENCE_BATCHES
    try:
        elements = forward_elements(layers, input_shape)
    except ValueError:  # shapes that do not chain: the forward pass will say where, with its fix
        return fewest
    return max(fewest, min(most, INFERENCE_ELEMENTS // max(elements, 1)))


def check_network_size(
    layers: Sequence[Layer], input_shape: Shape | None, limits: Limits, where: str, parameters: int | None = None
) -> None:
    """Refuse a network whose parameters or one sample's forward pass exceed limits.

    Args:
        layers: the layers, built from their configuration (nothing allocated).
        input_shape: one sample's shape, or None when unknown (then only parameters are counted).
        limits: the limits.
        where: the file or spec, for messages.
        parameters: the parameter count if known already (else counted from declared shapes).
    """
    if parameters is None:
        parameters = sum(parameter_count(layer.parameter_shapes()) for layer in layers)
    fix = "if you really mean it, raise the limit: Network.load(path, limits=gn.io.Limits(...)) (docs/security.md)"
    if parameters > limits.parameters:
        raise NetworkTooLargeError(
            f"{where}: the network has {parameters:,} parameters, more than the limit of {limits.parameters:,}; {fix}"
        )
    if input_shape is None:
        return
    elements = forward_elements(layers, input_shape)
    if elements > limits.activations:
        raise NetworkTooLargeError(
            f"{where}: one {input_shape} input needs {elements:,} values in the forward pass, more than the limit "
            f"of {limits.activations:,} (a huge padding, window or layer width?); {fix}"
        )
