"""Layer: the base of every layer, and the shape checks they share."""

from __future__ import annotations

from typing import Any

import numpy as np

from glassnet.errors import NotReadyError, ShapeError
from glassnet.parameter import Parameter

Shape = tuple[int | None, ...]  # one sample's shape; None marks a size not known yet
DeclaredShapes = tuple[dict[str, tuple[Any, ...]], dict[str, tuple[Any, ...]]]  # (parameters, buffers)


class Layer:
    """A step of the network: `forward(x)` gives the output, `backward(grad)` the input's gradient.

    A subclass needs only `forward` and `backward` (no `super().__init__()`). `backward` takes
    dLoss/dOutput, returns dLoss/dInput and sets `.grad` on each of the layer's Parameters;
    the optimizer, not the layer, updates them. `training` is True only inside `Network.fit`.

    The rest of this class is everything a Network relies on, each with a default that suits a
    layer without parameters: named parameters and buffers, the shapes a configuration implies,
    initialisation, shape inference and the configuration saved in model files.
    """

    training: bool = False
    needs_input_grad: bool = True  # a Network sets False on its first layer while training:
    # nobody needs dLoss/dData then, so backward may skip that product and return None
    preferred_init: str | None = None  # "he" on the ReLU family: the layer before draws He weights
    rng: np.random.Generator | None = None  # the generator of a layer that draws while training (Dropout)
    takes_indices: bool = False  # True on Embedding: a Network passes integer inputs to it unchanged

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

    def prepare_input(self, x: np.ndarray) -> np.ndarray:
        """The start of every built-in forward: x as floats, checked against output_shape, and the
        parameters drawn from a fresh generator if the layer runs alone before a Network drew them."""
        x = float_input(x)
        check_input(self, x)
        if not self.initialized:
            self.initialize(np.random.default_rng())
        return x

    # Parameters and buffers ---------------------------------------------------------------------

    def named_parameters(self) -> dict[str, Parameter]:
        """The layer's Parameters by attribute name, in the order they were assigned."""
        return {name: value for name, value in vars(self).items() if isinstance(value, Parameter)}

    def parameters(self) -> list[Parameter]:
        """The layer's Parameters, in the order they were assigned as attributes."""
        return list(self.named_parameters().values())

    @classmethod
    def declared_shapes(cls, config: dict[str, Any]) -> DeclaredShapes | None:
        """The (parameter, buffer) shapes of a layer built from this config, known before it is built,
        so that a model file is checked before anything is allocated; None: known once built.

        Args:
            config: constructor arguments as a file stores them (not yet checked).
        """
        return None

    def parameter_shapes(self) -> dict[str, tuple[int, ...]]:
        """Each Parameter's shape as the configuration implies it (model files are checked against it)."""
        declared = self.declared_shapes(self.config())
        if declared is not None:
            return declared[0]
        return {name: param.shape for name, param in self.named_parameters().items()}

    def set_parameters(self, values: dict[str, np.ndarray]) -> None:
        """Give the layer these parameter values (from a model file), as new Parameters."""
        for name, value in values.items():
            setattr(self, name, Parameter(value))

    def buffers(self) -> dict[str, np.ndarray]:
        """Arrays that are state but not trained (BatchNorm's running statistics)."""
        return {}

    def buffer_shapes(self) -> dict[str, tuple[int, ...]]:
        """Each buffer's shape as the configuration implies it."""
        declared = self.declared_shapes(self.config())
        if declared is not None:
            return declared[1]
        return {name: tuple(buffer.shape) for name, buffer in self.buffers().items()}

    def set_buffers(self, values: dict[str, np.ndarray]) -> None:
        """Replace buffers by name (restored from a file, or averaged over processes)."""
        for name, value in values.items():
            setattr(self, name, value)

    # Initialisation -----------------------------------------------------------------------------

    @property
    def initialized(self) -> bool:
        """False while parameters (or a generator) the layer needs do not exist yet."""
        return True

    def initialize(self, rng: np.random.Generator) -> None:
        """Draw the parameters that do not exist yet from rng (the default has none to draw)."""

    def adopt_init(self, preferred: str | None) -> None:
        """Told by a Network which initialisation the next layer prefers ("he" before a ReLU).

        A layer whose weight its last `initialize` drew by the automatic rule, untouched since,
        switches to it; the default has nothing to switch.
        """

    # Shapes and configuration -------------------------------------------------------------------

    def output_shape(self, input_shape: Shape | None) -> Shape | None:
        """One sample's output shape for one sample's input shape, or None when unknown.

        Built-in layers also check the input here and raise ShapeError with a fix.
        """
        return None

    def config(self) -> dict[str, Any]:
        """The constructor arguments that rebuild this layer (saved in model files)."""
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
