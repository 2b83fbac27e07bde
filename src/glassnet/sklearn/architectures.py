"""The layers of the scikit-learn estimators: "mlp", "cnn" or the user's builder, from one sample's shape."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from glassnet.checks import is_int
from glassnet.layers import Conv2D, Dense, Flatten, Layer, MaxPool2D, ReLU

Shape = tuple[int, ...]
Builder = Callable[[Shape, int], Sequence[Layer]]
ARCHITECTURES = ("mlp", "cnn")


def sample_shape(input_shape: Sequence[int] | None, n_features: int) -> Shape:
    """One sample's shape for the network: input_shape, checked against n_features (None: flat rows).

    Args:
        input_shape: the estimator's input_shape parameter.
        n_features: the number of columns of X.
    """
    if input_shape is None:
        return (n_features,)
    shape = tuple(input_shape)
    if not shape or not all(is_int(d) and d > 0 for d in shape):
        raise ValueError(f"input_shape must be a tuple of positive ints such as (8, 8, 1), got {input_shape!r}")
    if math.prod(shape) != n_features:
        raise ValueError(
            f"input_shape={shape} holds {math.prod(shape)} values, but X has {n_features} features: "
            "give a shape whose product is the number of columns of X"
        )
    return tuple(int(d) for d in shape)


def build_layers(
    architecture: str | Builder, shape: Shape, n_outputs: int, hidden: object, filters: object
) -> list[Layer]:
    """The layers for an architecture, giving n_outputs values per sample (no final activation added).

    Args:
        architecture: "mlp", "cnn" or a callable build(input_shape, n_outputs) -> list of gn layers.
        shape: one sample's shape.
        n_outputs: values per sample at the end (classes, or regression targets).
        hidden: hidden_layer_sizes, the widths of the Dense layers (of the head of "cnn").
        filters: the output channels of each convolution block of "cnn".
    """
    if callable(architecture):
        layers = list(architecture(shape, n_outputs))
        if not layers or not all(isinstance(layer, Layer) for layer in layers):
            raise TypeError(
                f"architecture(input_shape, n_outputs) must return a non-empty list of gn layers, got {layers!r}"
            )
        return layers
    if architecture == "mlp":
        return _mlp(shape, n_outputs, _sizes(hidden, "hidden_layer_sizes"))
    if architecture == "cnn":
        return _cnn(shape, n_outputs, _sizes(filters, "filters"), _sizes(hidden, "hidden_layer_sizes"))
    raise ValueError(
        f"architecture must be one of {ARCHITECTURES} or a callable build(input_shape, n_outputs), got {architecture!r}"
    )


def _sizes(values: object, name: str) -> list[int]:
    """A sequence of positive ints (layer widths, filter counts), or a clear error."""
    if is_int(values):
        values = (values,)
    if not isinstance(values, (tuple, list)) or not all(is_int(v) and v > 0 for v in values):
        raise ValueError(f"{name} must be a tuple of positive ints such as (100,), got {values!r}")
    return [int(v) for v in values]


def _mlp(shape: Shape, n_outputs: int, hidden: list[int], layers: list[Layer] | None = None) -> list[Layer]:
    """[Flatten] (Dense, ReLU) per hidden size, then Dense to the outputs."""
    layers = [] if layers is None else layers
    if len(shape) != 1:
        layers.append(Flatten())
    width = math.prod(shape)
    for units in hidden:
        layers += [Dense(width, units), ReLU()]
        width = units
    layers.append(Dense(width, n_outputs))
    return layers


def _cnn(shape: Shape, n_outputs: int, filters: list[int], hidden: list[int]) -> list[Layer]:
    """(Conv2D 3x3 same, ReLU, MaxPool2D 2) per filter count, then the MLP head."""
    if len(shape) != 3:
        raise ValueError(
            f'architecture="cnn" needs images: set input_shape=(height, width, channels), got sample shape {shape}'
        )
    height, width, channels = shape
    layers: list[Layer] = []
    for count in filters:
        layers += [Conv2D(channels, count, 3, padding="same"), ReLU()]
        if height >= 2 and width >= 2:
            layers.append(MaxPool2D(2))
            height, width = height // 2, width // 2
        channels = count
    return _mlp((height, width, channels), n_outputs, hidden, layers)
