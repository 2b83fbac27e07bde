"""Central-difference gradient checks in float64, shared by the layer and loss tests."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

import glassnet as gn


def numerical_gradient(f: Callable[[], float], array: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """d f / d array by central differences, perturbing array in place one element at a time."""
    grad = np.zeros_like(array)
    for index in np.ndindex(array.shape):
        old = array[index]
        array[index] = old + h
        plus = f()
        array[index] = old - h
        minus = f()
        array[index] = old
        grad[index] = (plus - minus) / (2 * h)
    return grad


def relative_error(a: np.ndarray, b: np.ndarray) -> float:
    """max |a - b| / max(|a|, |b|, 1e-8)."""
    scale = max(np.abs(a).max(initial=0), np.abs(b).max(initial=0), 1e-8)
    return float(np.abs(a - b).max(initial=0) / scale)


def to_float64(layer: gn.Layer, x: np.ndarray, rng: np.random.Generator) -> None:
    """Run the layer once to create its parameters, then make each one float64."""
    layer.initialize(rng)
    layer.forward(x)
    for param in layer.parameters():
        param.value = param.value.astype(np.float64)


def check_layer(layer: gn.Layer, x: np.ndarray, seed: int = 0) -> dict[str, float]:
    """Compare a layer's backward with central differences of sum(out * w) for a random w.

    Returns the relative error of the input gradient ("input") and of each parameter gradient.
    """
    rng = np.random.default_rng(seed)
    x = x.astype(np.float64)
    to_float64(layer, x, rng)
    weights = rng.standard_normal(layer.forward(x).shape)

    def objective() -> float:
        return float((layer.forward(x) * weights).sum())

    objective()
    analytic_input = layer.backward(weights.copy())
    errors = {"input": relative_error(analytic_input, numerical_gradient(objective, x))}
    for i, param in enumerate(layer.parameters()):
        objective()
        layer.backward(weights.copy())
        analytic = param.grad.copy()
        errors[f"param{i}"] = relative_error(analytic, numerical_gradient(objective, param.value))
    return errors


def print_table() -> None:
    """Print each layer case's and loss's largest relative error (python tests/gradcheck.py)."""
    from layer_cases import LAYER_CASES

    rng = np.random.default_rng(1234)
    for name, make, shape, training in LAYER_CASES:
        layer = make()
        layer.training = training
        print(f"{name:28} {shape!s:16} {max(check_layer(layer, rng.standard_normal(shape)).values()):.1e}")
    y_true = np.eye(10)[rng.integers(0, 10, 7)]
    y_pred = rng.uniform(0.05, 1, (7, 10))
    y_pred /= y_pred.sum(axis=1, keepdims=True)
    for loss in (gn.losses.MSE(), gn.losses.CrossEntropy()):
        numeric = numerical_gradient(lambda loss=loss: loss(y_true, y_pred), y_pred)
        print(f"{loss.name:28} {'(7, 10)':16} {relative_error(loss.gradient(y_true, y_pred), numeric):.1e}")
    fused, logits = gn.losses.CrossEntropy(), rng.standard_normal((7, 10)) * 3
    numeric = numerical_gradient(lambda: fused.from_logits(y_true, logits)[0], logits)
    error = relative_error(fused.from_logits(y_true, logits)[1], numeric)
    print(f"{'softmax+cross_entropy fused':28} {'(7, 10)':16} {error:.1e}")


if __name__ == "__main__":
    print_table()
