"""Dense: the fully-connected layer, y = x @ W + b (the article's FCLayer)."""

from __future__ import annotations

from typing import Any

import numpy as np

from glassnet.checks import check_size
from glassnet.layers.base import DeclaredShapes, Shape, cast_like, check_rank, shape_error
from glassnet.layers.weighted import Weighted


class Dense(Weighted):
    """Fully-connected layer: every output is a weighted sum of every input, plus a bias.

    Args:
        in_features: the size of each input sample.
        out_features: the size of each output sample.
        init: "auto" (He before a ReLU-family activation, Glorot otherwise), "glorot" or "he".

    Shapes:
        input (N, in_features) -> output (N, out_features); weight (in, out); bias (out,).
    """

    def __init__(self, in_features: int, out_features: int, init: str = "auto") -> None:
        self.in_features = check_size(in_features, "in_features", "Dense")
        self.out_features = check_size(out_features, "out_features", "Dense")
        self.set_init(init)
        self.fans = (self.in_features, self.out_features)

    @classmethod
    def declared_shapes(cls, config: dict[str, Any]) -> DeclaredShapes:
        out = config.get("out_features")
        return {"weight": (config.get("in_features"), out), "bias": (out,)}, {}

    def output_shape(self, input_shape: Shape | None) -> Shape:
        expected = f"(N, {self.in_features})"
        check_rank(self, input_shape, 1, expected, "add Flatten() first")
        if input_shape is not None and input_shape[0] not in (None, self.in_features):
            fix = f"the layer before gives {input_shape[0]} features: use Dense({input_shape[0]}, {self.out_features})"
            raise shape_error(self, expected, input_shape, fix)
        return (self.out_features,)

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = self.prepare_input(x)
        weight, bias = self.created_parameters()
        self.x = x
        out: np.ndarray = x @ cast_like(weight.value, x)
        out += cast_like(bias.value, x)
        return out

    def backward(self, grad: np.ndarray) -> np.ndarray | None:
        weight, bias = self.created_parameters()
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
