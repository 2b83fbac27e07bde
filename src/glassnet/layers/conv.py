"""Conv2D: 2-D convolution over NHWC images, as im2col + one matrix product."""

from __future__ import annotations

from typing import Any

import numpy as np

from glassnet.checks import check_pair, check_size
from glassnet.functional import (
    check_padding,
    crop_nhwc,
    im2col,
    output_size,
    pad_nhwc,
    resolve_padding,
    scatter_windows,
)
from glassnet.layers.base import DeclaredShapes, Shape, cast_like, check_rank, shape_error
from glassnet.layers.weighted import Weighted


class Conv2D(Weighted):
    """2-D convolution (cross-correlation, as in every framework) of NHWC images.

    Args:
        in_channels: channels of the input images.
        out_channels: number of filters, the channels of the output.
        kernel_size: int or (height, width) of each filter.
        stride: int or pair, the step between windows.
        padding: int or pair of zeros around each side, "valid" (none) or "same"
            (output size ceil(size / stride), an odd extra row/column at the bottom/right).
        init: "auto" (He before a ReLU-family activation, Glorot otherwise), "glorot" or "he".

    Shapes:
        input (N, H, W, in_channels) -> output (N, OH, OW, out_channels),
        OH = (H + pad_top + pad_bottom - KH) // stride + 1 (likewise OW);
        weight (KH, KW, in_channels, out_channels); bias (out_channels,).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] = 1,
        padding: int | tuple[int, int] | str = 0,
        init: str = "auto",
    ) -> None:
        self.in_channels = check_size(in_channels, "in_channels", "Conv2D")
        self.out_channels = check_size(out_channels, "out_channels", "Conv2D")
        self.kernel_size = check_pair(kernel_size, "kernel_size", "Conv2D")
        self.stride = check_pair(stride, "stride", "Conv2D")
        self.padding = check_padding(padding, "Conv2D")
        self.set_init(init)
        area = self.kernel_size[0] * self.kernel_size[1]
        self.fans = (area * self.in_channels, area * self.out_channels)  # kernel area times channels

    @classmethod
    def declared_shapes(cls, config: dict[str, Any]) -> DeclaredShapes:
        kernel, out = config.get("kernel_size"), config.get("out_channels")
        kh, kw = tuple(kernel) if isinstance(kernel, (list, tuple)) and len(kernel) == 2 else (kernel, kernel)
        return {"weight": (kh, kw, config.get("in_channels"), out), "bias": (out,)}, {}

    def output_shape(self, input_shape: Shape | None) -> Shape:
        expected = f"(N, H, W, {self.in_channels})"
        fix = "images are NHWC: give a 4-D array such as x.reshape(-1, 28, 28, 1)"
        check_rank(self, input_shape, 3, expected, fix)
        if input_shape is None:
            return (None, None, self.out_channels)
        h, w, c = input_shape
        if c not in (None, self.in_channels):
            fix = f"the input has {c} channels: use Conv2D({c}, {self.out_channels}, ...)"
            raise shape_error(self, expected, input_shape, fix)
        if h is None or w is None:
            return (None, None, self.out_channels)
        oh, ow = self._output_hw((h, w))
        if oh < 1 or ow < 1:
            fix = f"the image is smaller than the {self.kernel_size} kernel: pad it or use a smaller kernel"
            raise shape_error(self, expected, input_shape, fix)
        return (oh, ow, self.out_channels)

    def _output_hw(self, hw: tuple[int, int]) -> tuple[int, int]:
        pad = resolve_padding(self.padding, hw, self.kernel_size, self.stride)
        return (
            output_size(hw[0], self.kernel_size[0], self.stride[0], pad[0]),
            output_size(hw[1], self.kernel_size[1], self.stride[1], pad[1]),
        )

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = self.prepare_input(x)
        weight_param, bias = self.created_parameters()
        n, h, w, _ = x.shape
        self.pad = resolve_padding(self.padding, (h, w), self.kernel_size, self.stride)
        padded = pad_nhwc(x, self.pad)
        self.padded_shape = padded.shape
        self.out_hw = self._output_hw((h, w))
        self.cols = im2col(padded, self.kernel_size, self.stride, self.out_hw)  # (N*OH*OW, KH*KW*C + 1)
        weight = weight_param.value.reshape(-1, self.out_channels)  # (KH*KW*C, OUT)
        kernel = np.concatenate([weight, bias.value[None]], dtype=x.dtype)  # (KH*KW*C + 1, OUT)
        out: np.ndarray = self.cols @ kernel  # the last column of cols, all ones, adds the bias
        return out.reshape(n, *self.out_hw, self.out_channels)  # (N, OH, OW, OUT)

    def backward(self, grad: np.ndarray) -> np.ndarray | None:
        weight, bias = self.created_parameters()
        grad_rows = grad.reshape(-1, self.out_channels)  # (N*OH*OW, OUT)
        grads = self.cols.T @ grad_rows  # (KH*KW*C + 1, OUT): the weight's gradient, then the bias's
        weight.grad = grads[:-1].reshape(weight.shape).astype(weight.value.dtype, copy=False)
        bias.grad = grads[-1].astype(bias.value.dtype, copy=False)
        if not self.needs_input_grad:
            return None
        return self._input_grad(grad_rows, len(grad))

    def _input_grad(self, grad_rows: np.ndarray, n: int) -> np.ndarray:
        """dLoss/dInput by col2im: one batched product, then KH*KW slice-adds.

        The product gives a contiguous block per kernel position; the blocks are added onto
        the gradient of the padded input, which is then cropped.
        """
        kh, kw = self.kernel_size
        weight = cast_like(self.created_parameters()[0].value, grad_rows)
        per_position = weight.reshape(kh * kw, self.in_channels, self.out_channels)  # (KH*KW, C, OUT)
        blocks = grad_rows @ per_position.transpose(0, 2, 1)  # (KH*KW, N*OH*OW, C)
        blocks = blocks.reshape(kh * kw, n, *self.out_hw, self.in_channels)  # (KH*KW, N, OH, OW, C)
        grad_padded = scatter_windows(blocks, self.padded_shape, self.kernel_size, self.stride)
        return crop_nhwc(grad_padded, self.pad)

    def config(self) -> dict[str, Any]:
        return {
            "in_channels": self.in_channels,
            "out_channels": self.out_channels,
            "kernel_size": list(self.kernel_size),
            "stride": list(self.stride),
            "padding": self.padding if isinstance(self.padding, (str, int)) else list(self.padding),
            "init": self.init,
        }

    def __repr__(self) -> str:
        kh, kw = self.kernel_size
        return f"Conv2D({self.in_channels} -> {self.out_channels}, {kh}x{kw})"
