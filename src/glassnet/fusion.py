"""Fusion: inside a Network, a ReLU directly followed by a MaxPool2D runs as one step.

Max-pooling after a ReLU equals a ReLU after max-pooling, values and gradients, ties included
(the gradient still goes to the first maximum of the window, and nowhere when that maximum is
not positive). The fused step does the ReLU's work on the pooled tensor, PH*PW times smaller,
and saves two passes over the large one. The ReLU layer's own forward and backward are then
not called (its attributes, such as `.y`, are not updated).

A Network fuses in fit, predict and evaluate while `net.fuse_relu_pool` is True (the
default); set `net.fuse_relu_pool = False` to run every layer on its own. Only ReLU and MaxPool2D themselves are fused,
never subclasses, so a customised layer always runs its own code.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from glassnet.layers.activations import ReLU
from glassnet.layers.base import Layer
from glassnet.layers.pooling import MaxPool2D


class ReLUMaxPool:
    """A ReLU and the MaxPool2D right after it, run as one step by MaxPool2D.forward_relu.

    Shapes:
        input (N, H, W, C) -> output (N, OH, OW, C), as the MaxPool2D.
    """

    def __init__(self, relu: ReLU, pool: MaxPool2D) -> None:
        self.relu = relu
        self.pool = pool

    def forward(self, x: np.ndarray) -> np.ndarray:
        return self.pool.forward_relu(x)

    def backward(self, grad: np.ndarray) -> np.ndarray:
        return self.pool.backward(grad)

    def __repr__(self) -> str:
        return f"ReLUMaxPool({self.relu!r}, {self.pool!r})"


def fuse(layers: Sequence[Layer]) -> list[Layer | ReLUMaxPool]:
    """The steps that run `layers`: each ReLU directly followed by a MaxPool2D becomes one."""
    steps: list[Layer | ReLUMaxPool] = []
    for layer in layers:
        previous = steps[-1] if steps else None
        if type(layer) is MaxPool2D and type(previous) is ReLU:
            steps[-1] = ReLUMaxPool(previous, layer)
        else:
            steps.append(layer)
    return steps
