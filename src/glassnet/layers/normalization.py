"""LayerNorm: normalise each step's features over themselves, then scale by gamma and shift by beta."""

from __future__ import annotations

from typing import Any

import numpy as np

from glassnet.checks import check_positive, check_size
from glassnet.layers.base import DeclaredShapes, Layer, Shape, shape_error
from glassnet.parameter import Parameter


class LayerNorm(Layer):
    """y = (x - mean(x)) / sqrt(var(x) + eps) * gamma + beta over the last axis (PyTorch's nn.LayerNorm).

    Unlike BatchNorm the statistics are each sample's own: training and inference are the same.

    Args:
        features: the size of the last axis.
        eps: added to the (biased) variance before the square root.

    Shapes:
        input (N, ..., features) -> the same shape; gamma, beta (features,).
    """

    def __init__(self, features: int, eps: float = 1e-5) -> None:
        self.features = check_size(features, "features", "LayerNorm")
        self.eps = check_positive(eps, "eps", "1e-5", "LayerNorm")
        self.gamma = Parameter(np.ones(self.features, dtype=np.float32))
        self.beta = Parameter(np.zeros(self.features, dtype=np.float32))

    @classmethod
    def declared_shapes(cls, config: dict[str, Any]) -> DeclaredShapes:
        features = (config.get("features"),)
        return {"gamma": features, "beta": features}, {}

    def output_shape(self, input_shape: Shape | None) -> Shape | None:
        if input_shape is not None and (not input_shape or input_shape[-1] not in (None, self.features)):
            fix = f"use LayerNorm({input_shape[-1]})" if input_shape else "pass (N, features)"
            raise shape_error(self, f"(N, ..., {self.features})", input_shape, fix)
        return input_shape

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = self.prepare_input(x)
        mean = x.mean(axis=-1, keepdims=True)
        centred = x - mean
        self.inv_std = 1 / np.sqrt((centred * centred).mean(axis=-1, keepdims=True) + x.dtype.type(self.eps))
        self.x_hat = centred * self.inv_std
        y: np.ndarray = self.x_hat * self.gamma.value.astype(x.dtype) + self.beta.value.astype(x.dtype)
        return y

    def backward(self, grad: np.ndarray) -> np.ndarray:
        axes = tuple(range(grad.ndim - 1))
        self.gamma.grad = (grad * self.x_hat).sum(axis=axes).astype(self.gamma.value.dtype)
        self.beta.grad = grad.sum(axis=axes).astype(self.beta.value.dtype)
        grad_x_hat = grad * self.gamma.value.astype(grad.dtype)
        mean_grad = grad_x_hat.mean(axis=-1, keepdims=True)
        mean_grad_x_hat = (grad_x_hat * self.x_hat).mean(axis=-1, keepdims=True)
        dx: np.ndarray = (grad_x_hat - mean_grad - self.x_hat * mean_grad_x_hat) * self.inv_std
        return dx

    def config(self) -> dict[str, Any]:
        return {"features": self.features, "eps": self.eps}

    def __repr__(self) -> str:
        return f"LayerNorm({self.features})"
