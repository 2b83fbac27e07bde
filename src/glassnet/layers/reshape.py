"""Flatten: one row per sample, as the dense layers need."""

from __future__ import annotations

import math

import numpy as np

from glassnet.layers.base import Layer, Shape


class Flatten(Layer):
    """Reshape each sample to one row (the article's FlattenLayer).

    Shapes:
        input (N, d1, d2, ...) -> output (N, d1 * d2 * ...).
    """

    def output_shape(self, input_shape: Shape | None) -> Shape:
        if input_shape is None or any(d is None for d in input_shape):
            return (None,)
        return (math.prod(input_shape),)  # type: ignore[arg-type]

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = self.prepare_input(x)
        self.input_shape = x.shape
        return x.reshape(len(x), -1)  # (N, d1*d2*...)

    def backward(self, grad: np.ndarray) -> np.ndarray:
        return grad.reshape(self.input_shape)  # (N, d1, d2, ...)
