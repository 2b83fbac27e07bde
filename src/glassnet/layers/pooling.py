"""MaxPool2D and AvgPool2D: the maximum or the mean of each window of NHWC images."""

from __future__ import annotations

from typing import Any

import numpy as np

from glassnet.checks import check_pair
from glassnet.errors import InputError
from glassnet.functional import (
    check_padding,
    crop_nhwc,
    output_size,
    pad_nhwc,
    resolve_padding,
    scatter_windows,
    windows,
)
from glassnet.layers.activations import relu
from glassnet.layers.base import Layer, Shape, check_rank, shape_error
from glassnet.layers.maxpool2x2 import CompiledPool, PairsPool, pool_2x2


class _Pool2D(Layer):
    """Shared window arithmetic of the pooling layers."""

    pad_value = 0.0

    def __init__(
        self,
        pool_size: int | tuple[int, int] = 2,
        stride: int | tuple[int, int] | None = None,
        padding: int | tuple[int, int] | str = 0,
    ) -> None:
        name = type(self).__name__
        self.pool_size = check_pair(pool_size, "pool_size", name)
        self.stride = self.pool_size if stride is None else check_pair(stride, "stride", name)
        self.padding = check_padding(padding, name)
        if not isinstance(self.padding, str):
            pad = self.padding if isinstance(self.padding, tuple) else (self.padding, self.padding)
            if pad[0] > self.pool_size[0] // 2 or pad[1] > self.pool_size[1] // 2:
                raise InputError(f"{name}: padding must be at most half the pool size, got {padding!r}")

    def output_shape(self, input_shape: Shape | None) -> Shape | None:
        check_rank(self, input_shape, 3, "(N, H, W, C)", "images are NHWC: give a 4-D array")
        if input_shape is None:
            return None
        h, w, c = input_shape
        if h is None or w is None:
            return (None, None, c)
        oh, ow = self._output_hw((h, w))
        if oh < 1 or ow < 1:
            raise shape_error(self, "(N, H, W, C)", input_shape, f"the image is smaller than the {self.pool_size} pool")
        return (oh, ow, c)

    def _output_hw(self, hw: tuple[int, int]) -> tuple[int, int]:
        pad = resolve_padding(self.padding, hw, self.pool_size, self.stride)
        return (
            output_size(hw[0], self.pool_size[0], self.stride[0], pad[0]),
            output_size(hw[1], self.pool_size[1], self.stride[1], pad[1]),
        )

    def _pad(self, x: np.ndarray) -> np.ndarray:
        """Check x, remember the geometry, return x padded with pad_value."""
        x = self.prepare_input(x)
        hw = (x.shape[1], x.shape[2])
        self.pad = resolve_padding(self.padding, hw, self.pool_size, self.stride)
        self.out_hw = self._output_hw(hw)
        padded = pad_nhwc(x, self.pad, self.pad_value)
        self.padded_shape = padded.shape
        return padded

    def _windows(self, x: np.ndarray) -> np.ndarray:
        """Pad x, remember the geometry, return the window view (N, OH, OW, PH, PW, C)."""
        return windows(self._pad(x), self.pool_size, self.stride, self.out_hw)

    def _scatter(self, blocks: np.ndarray) -> np.ndarray:
        """Gradient blocks (PH*PW, N, OH, OW, C) back onto the input's shape."""
        return crop_nhwc(scatter_windows(blocks, self.padded_shape, self.pool_size, self.stride), self.pad)

    def config(self) -> dict[str, Any]:
        padding = self.padding if isinstance(self.padding, (str, int)) else list(self.padding)
        return {"pool_size": list(self.pool_size), "stride": list(self.stride), "padding": padding}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.pool_size[0]}x{self.pool_size[1]})"


class MaxPool2D(_Pool2D):
    """The maximum of each window; its gradient goes to the first maximum (row-major) only.

    2x2 windows of stride 2, the common case, take the fast path of glassnet.layers.maxpool2x2
    (one call); every other window takes an argmax over the window view. Inside a Network, a
    ReLU directly before this layer runs fused with it (glassnet.network.plan).

    Args:
        pool_size: int or (height, width) of the window.
        stride: int or pair; defaults to pool_size (windows that tile the image).
        padding: int or pair (at most half the window), "valid" or "same"; pads with -inf.

    Shapes:
        input (N, H, W, C) -> output (N, OH, OW, C), OH = (H + pads - PH) // stride + 1.
    """

    pad_value = -np.inf

    def forward(self, x: np.ndarray) -> np.ndarray:
        return self._max_pool(x, with_relu=False)

    def forward_relu(self, x: np.ndarray) -> np.ndarray:
        """The max-pool of ReLU(x), computed as the ReLU of the max-pool (glassnet.network.plan).

        The same values and gradients, ties included, with the ReLU's work done on a tensor
        PH*PW times smaller; `backward` then applies the ReLU's gradient as well.
        """
        return self._max_pool(x, with_relu=True)

    def _max_pool(self, x: np.ndarray, with_relu: bool) -> np.ndarray:
        padded = self._pad(x)
        self.tiles: CompiledPool | PairsPool | None = None
        if self.pool_size == (2, 2) and self.stride == (2, 2):
            self.tiles = pool_2x2(padded, with_relu)
            return self.tiles.out
        view = windows(padded, self.pool_size, self.stride, self.out_hw)
        flat = view.reshape(*view.shape[:3], -1, view.shape[5])  # (N, OH, OW, PH*PW, C)
        self.winner = flat.argmax(axis=3)  # (N, OH, OW, C): first maximum on ties
        out = np.take_along_axis(flat, self.winner[:, :, :, None], axis=3)[:, :, :, 0]
        self.relu_mask = None
        if with_relu:
            out = relu(out)
            self.relu_mask = out > 0
        return out

    def backward(self, grad: np.ndarray) -> np.ndarray:
        if self.tiles is not None:
            return crop_nhwc(self.tiles.backward(grad), self.pad)
        if self.relu_mask is not None:
            grad = grad * self.relu_mask
        positions = np.arange(self.pool_size[0] * self.pool_size[1])[:, None, None, None, None]
        blocks = grad * (self.winner == positions)  # (PH*PW, N, OH, OW, C)
        return self._scatter(blocks)


class AvgPool2D(_Pool2D):
    """The mean of each window; padded zeros count in the mean (PyTorch's default).

    Args:
        pool_size: int or (height, width) of the window.
        stride: int or pair; defaults to pool_size.
        padding: int or pair (at most half the window), "valid" or "same"; pads with 0.

    Shapes:
        input (N, H, W, C) -> output (N, OH, OW, C).
    """

    def forward(self, x: np.ndarray) -> np.ndarray:
        out: np.ndarray = self._windows(x).mean(axis=(3, 4))
        return out

    def backward(self, grad: np.ndarray) -> np.ndarray:
        area = self.pool_size[0] * self.pool_size[1]
        share = grad / grad.dtype.type(area)
        return self._scatter(np.broadcast_to(share, (area, *grad.shape)))  # (PH*PW, N, OH, OW, C)
