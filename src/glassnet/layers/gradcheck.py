"""gn.check_layer: a layer's backward pass against float64 central differences, for any layer.

The check runs the layer in float64 on its own: the objective is `sum(forward(x) * w)` for a
fixed random `w`, so `backward(w)` must return d objective / dx and set each Parameter's `.grad`
to d objective / d value. Each element is nudged by +-h and the objective's change gives the
numeric gradient. Afterwards the layer is as it was: the same parameter arrays (values, dtype,
grads), buffers, generator, `training` and `needs_input_grad`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from glassnet.checks import as_input_array, check_count
from glassnet.errors import InputError, InputTypeError
from glassnet.layers.base import Layer
from glassnet.layers.verdict import GradientCheck, compare
from glassnet.parameter import Parameter

STEP = 1e-6  # the central-difference step h, for float64


def check_layer(
    layer: Layer, x: object, *, training: bool | None = None, max_elements: int = 2000, seed: int = 0
) -> GradientCheck:
    """Compare a layer's input gradient and every Parameter.grad with float64 central differences.

    Prints nothing; `print(result)` shows the table, `result.ok` is True when every gradient agrees
    and `result["weight"]` (or "input") holds one row: its error, verdict and first bad index.

    Args:
        layer: any gn.Layer (a custom one needs only forward and backward).
        x: a small input batch, e.g. `np.random.default_rng(0).standard_normal((4, 3))`.
        training: run the layer in training (True) or inference (False) mode; None keeps its mode.
        max_elements: difference at most this many elements of each array (a random sample beyond).
        seed: seed of the random output weights, the sample, and parameters drawn for the check.

    Shapes:
        x (N, ...) as the layer takes it.
    """
    if not isinstance(layer, Layer):
        raise InputTypeError(f"check_layer takes a gn.Layer, got {type(layer).__name__}: subclass gn.Layer")
    max_elements = check_count(max_elements, "max_elements")
    x64 = np.array(as_input_array(x), dtype=np.float64)  # our own copy, nudged in place
    rng = np.random.default_rng(seed)
    saved = LayerState(layer)
    try:
        if training is not None:
            layer.training = training
        layer.needs_input_grad = True
        if not layer.initialized:
            layer.initialize(np.random.default_rng(seed))
        run_layer(layer, x64, seed)  # a custom layer may create its parameters here
        saved.add_created(layer)
        for param in layer.parameters():
            param.value = np.array(param.value, dtype=np.float64)  # a float64 copy: the original is kept
        weights = rng.standard_normal(run_layer(layer, x64, seed).shape)

        def objective() -> float:
            return float(np.sum(run_layer(layer, x64, seed) * weights))

        _check_deterministic(layer, objective)
        objective()
        input_grad = layer.backward(weights.copy())
        grads = {name: param.grad for name, param in layer.named_parameters().items()}
        result = GradientCheck(repr(layer))
        for name, array, analytic in [("input", x64, input_grad)] + [
            (name, param.value, grads[name]) for name, param in layer.named_parameters().items()
        ]:
            checked = sample(array.size, max_elements, rng)
            numeric = numerical_gradient(objective, array, checked)
            result.rows.append(compare(name, analytic, numeric, checked, len(x64) if x64.ndim else 0))
        return result
    finally:
        saved.restore(layer)


def numerical_gradient(f: Callable[[], float], array: np.ndarray, checked: np.ndarray) -> np.ndarray:
    """d f / d array by central differences at the `checked` flat indices (zero elsewhere).

    Args:
        f: the objective, reading `array`.
        array: a contiguous float64 array, nudged in place and put back.
        checked: flat indices to difference.
    """
    grad = np.zeros(array.size)
    flat = array.reshape(-1)  # (size,): a view, so nudging it nudges what f reads
    for i in checked:
        old = flat[i]
        flat[i] = old + STEP
        plus = f()
        flat[i] = old - STEP
        minus = f()
        flat[i] = old
        grad[i] = (plus - minus) / (2 * STEP)
    return grad.reshape(array.shape)  # (same shape as array)


def run_layer(layer: Layer, x: np.ndarray, seed: int) -> np.ndarray:
    """The layer's output, with a layer generator (Dropout's) reset so every call draws the same."""
    if isinstance(layer.rng, np.random.Generator):
        layer.rng = np.random.default_rng(seed + 1)
    out = np.asarray(layer.forward(x), dtype=np.float64)
    return out


def _check_deterministic(layer: Layer, objective: Callable[[], float]) -> None:
    first, second = objective(), objective()
    if first != second:
        raise InputError(
            f"{layer!r}.forward gave different outputs for the same input ({first!r} then {second!r}): a gradient "
            "check needs a repeatable forward; draw randomness from layer.rng, or pass training=False"
        )


def sample(size: int, most: int, rng: np.random.Generator) -> np.ndarray:
    """All flat indices, or a sorted random sample of `most` of them."""
    if size <= most:
        return np.arange(size)
    return np.sort(rng.choice(size, most, replace=False))


class LayerState:
    """What check_layer changes on a layer, to put back: parameters (arrays and grads), buffers, flags."""

    def __init__(self, layer: Layer) -> None:
        self.flags: dict[str, Any] = {
            "training": layer.training,
            "needs_input_grad": layer.needs_input_grad,
            "rng": layer.rng,
        }
        self.own_flags = {name for name in self.flags if name in vars(layer)}
        self.params: list[tuple[Parameter, np.ndarray, np.ndarray | None]] = []
        self.add_created(layer)
        self.buffers = {name: np.copy(value) for name, value in layer.buffers().items()}

    def add_created(self, layer: Layer) -> None:
        """Remember the parameters not seen yet (a layer may create them at its first forward)."""
        known = {id(param) for param, _, _ in self.params}
        self.params += [(p, p.value, p.grad) for p in layer.parameters() if id(p) not in known]

    def restore(self, layer: Layer) -> None:
        for param, value, grad in self.params:
            param.value, param.grad = value, grad
        if self.buffers:
            layer.set_buffers(self.buffers)
        for name, value in self.flags.items():
            if name in self.own_flags:
                setattr(layer, name, value)
            elif name in vars(layer):
                delattr(layer, name)  # back to the class's default
