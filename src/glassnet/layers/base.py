"""Layer: the base of every layer, and the shape checks they share."""

from __future__ import annotations

from typing import Any

import numpy as np

from glassnet.errors import NotReadyError, ShapeError
from glassnet.parameter import Parameter

Shape = tuple[int | None, ...]  # one sample's shape; None marks a size not known yet


class Layer:
    """A step of the network: `forward(x)` gives the output, `backward(grad)` the input's gradient.

    A subclass needs only `forward` and `backward` (no `super().__init__()`). `backward` takes
    dLoss/dOutput, returns dLoss/dInput and sets `.grad` on each of the layer's Parameters;
    the optimizer, not the layer, updates them. `training` is True only inside `Network.fit`.
    """

    training: bool = False
    needs_input_grad: bool = True  # a Network sets False on its first layer while training:
    # nobody needs dLoss/dData then, so backward may skip that product and return None

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Compute the output for a batch x."""
        raise NotImplementedError(f"{type(self).__name__} must define forward(x)")

    def backward(self, grad: np.ndarray) -> np.ndarray | None:
        """Take dLoss/dOutput, set each parameter's .grad, return dLoss/dInput.

        May return None instead while `needs_input_grad` is False.
        """
        raise NotImplementedError(f"{type(self).__name__} must define backward(grad)")

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.forward(x)

    def parameters(self) -> list[Parameter]:
        """The layer's Parameters, in the order they were assigned as attributes."""
        return [value for value in vars(self).values() if isinstance(value, Parameter)]

    def initialize(self, rng: np.random.Generator) -> None:
        """Draw the parameters that do not exist yet from rng (the default has none to draw)."""

    def output_shape(self, input_shape: Shape | None) -> Shape | None:
        """One sample's output shape for one sample's input shape, or None when unknown.

        Built-in layers also check the input here and raise ShapeError with a fix.
        """
        return None

    def config(self) -> dict[str, Any]:
        """The constructor arguments that rebuild this layer (saved in model files)."""
        return {}

    def buffers(self) -> dict[str, np.ndarray]:
        """Arrays that are state but not trained (BatchNorm's running statistics)."""
        return {}

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class LayerShapeError(ShapeError):
    """A layer's input has the wrong shape; the message names the layer, both shapes and a fix."""

    def __init__(self, layer: Layer, expected: str, got: Shape, fix: str, batch: int | str = "N"):
        self.parts = (layer, expected, got, fix)
        shown = ", ".join(str(s) if s is not None else "?" for s in (batch, *got))
        super().__init__(f"{layer!r} expected input {expected}, got ({shown}): {fix}")

    def with_batch(self, batch: int) -> LayerShapeError:
        """The same error showing the real batch size instead of N."""
        return LayerShapeError(*self.parts, batch=batch)


def shape_error(layer: Layer, expected: str, got: Shape, fix: str) -> LayerShapeError:
    """The house style: 'Dense(784 -> 100) expected input (N, 784), got (32, 28, 28, 1): fix'."""
    return LayerShapeError(layer, expected, got, fix)


def check_input(layer: Layer, x: np.ndarray) -> None:
    """Check a batch against the layer's output_shape rules, showing the real batch size."""
    try:
        layer.output_shape(tuple(x.shape[1:]))
    except LayerShapeError as error:
        raise error.with_batch(x.shape[0] if x.ndim else 0) from None


def check_rank(layer: Layer, input_shape: Shape | None, rank: int, expected: str, fix: str) -> None:
    """Raise ShapeError if a known input shape does not have `rank` axes per sample."""
    if input_shape is not None and len(input_shape) != rank:
        raise shape_error(layer, expected, input_shape, fix)


def created(param: Parameter | None, layer: Layer, name: str) -> Parameter:
    """A parameter the layer creates at its first forward (or initialize), or a clear error without it.

    Args:
        param: the layer's attribute, None until created.
        layer: the layer, for the message.
        name: the attribute's name, for the message.
    """
    if param is None:
        raise NotReadyError(f"{layer!r} has no {name} yet: call forward(x) before backward(grad)")
    return param


def cast_like(value: np.ndarray, x: np.ndarray) -> np.ndarray:
    """A parameter value in the input's dtype (no copy when they already agree)."""
    return value.astype(x.dtype, copy=False)


def float_input(x: np.ndarray) -> np.ndarray:
    """The input itself when floating point, else cast to float32 (integer images, booleans)."""
    x = np.asarray(x)
    return x if np.issubdtype(x.dtype, np.floating) else x.astype(np.float32)
