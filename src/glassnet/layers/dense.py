"""Dense: the fully-connected layer, y = x @ W + b (the article's FCLayer)."""

from __future__ import annotations

from typing import Any

import numpy as np

from glassnet.errors import InputError
from glassnet.initializers import check_init, draw_weight
from glassnet.layers.base import Layer, Shape, cast_like, check_input, check_rank, created, float_input, shape_error
from glassnet.parameter import Parameter


def _check_size(value: object, name: str, owner: str) -> int:
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
        raise InputError(f"{owner}: {name} must be a positive int, got {value!r}")
    return int(value)


class Dense(Layer):
    """Fully-connected layer: every output is a weighted sum of every input, plus a bias.

    Args:
        in_features: the size of each input sample.
        out_features: the size of each output sample.
        init: "auto" (He before a ReLU-family activation, Glorot otherwise), "glorot" or "he".

    Shapes:
        input (N, in_features) -> output (N, out_features); weight (in, out); bias (out,).
    """

    def __init__(self, in_features: int, out_features: int, init: str = "auto") -> None:
        self.in_features = _check_size(in_features, "in_features", "Dense")
        self.out_features = _check_size(out_features, "out_features", "Dense")
        check_init(init, "Dense")
        self.init = init
        self.weight: Parameter | None = None
        self.bias: Parameter | None = None

    @property
    def fans(self) -> tuple[int, int]:
        """(fan_in, fan_out) of the weight."""
        return self.in_features, self.out_features

    def initialize(self, rng: np.random.Generator) -> None:
        if self.weight is None:
            shape = (self.in_features, self.out_features)
            self.weight = Parameter(draw_weight(rng, self.init, shape, *self.fans))
        if self.bias is None:
            self.bias = Parameter(np.zeros(self.out_features, dtype=np.float32))

    def output_shape(self, input_shape: Shape | None) -> Shape:
        expected = f"(N, {self.in_features})"
        check_rank(self, input_shape, 1, expected, "add Flatten() first")
        if input_shape is not None and input_shape[0] not in (None, self.in_features):
            fix = f"the layer before gives {input_shape[0]} features: use Dense({input_shape[0]}, {self.out_features})"
            raise shape_error(self, expected, input_shape, fix)
        return (self.out_features,)

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = float_input(x)
        check_input(self, x)
        if self.weight is None or self.bias is None:
            self.initialize(np.random.default_rng())
        weight, bias = created(self.weight, self, "weight"), created(self.bias, self, "bias")
        self.x = x
        out: np.ndarray = x @ cast_like(weight.value, x)
        out += cast_like(bias.value, x)
        return out

    def backward(self, grad: np.ndarray) -> np.ndarray | None:
        weight, bias = created(self.weight, self, "weight"), created(self.bias, self, "bias")
        weight.grad = (self.x.T @ grad).astype(weight.value.dtype, copy=False)
        bias.grad = (np.ones(len(grad), dtype=grad.dtype) @ grad).astype(bias.value.dtype, copy=False)
        if not self.needs_input_grad:
            return None
        dx: np.ndarray = grad @ cast_like(weight.value, grad).T
        return dx

    def config(self) -> dict[str, Any]:
        return {"in_features": self.in_features, "out_features": self.out_features, "init": self.init}

    def __repr__(self) -> str:
        return f"Dense({self.in_features} -> {self.out_features})"
