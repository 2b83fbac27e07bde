"""Layout conversions between glassnet (NHWC, Dense (in, out)) and ONNX/PyTorch (NCHW, Linear (out, in)).

glassnet's Conv2D weight is (KH, KW, IN, OUT), ONNX's and PyTorch's (OUT, IN, KH, KW). A Flatten of
NHWC images orders features (h, w, c); of NCHW images (c, h, w): the Dense after it sees its input
rows in another order, which `hwc_from_chw` gives.
"""

from __future__ import annotations

import numpy as np


def conv_to_oihw(weight: np.ndarray) -> np.ndarray:
    """glassnet's (KH, KW, IN, OUT) Conv2D weight as ONNX's (OUT, IN, KH, KW)."""
    return np.ascontiguousarray(weight.transpose(3, 2, 0, 1))


def conv_from_oihw(weight: np.ndarray) -> np.ndarray:
    """ONNX's or PyTorch's (OUT, IN, KH, KW) convolution weight as glassnet's (KH, KW, IN, OUT)."""
    return np.ascontiguousarray(weight.transpose(2, 3, 1, 0))


def hwc_from_chw(height: int, width: int, channels: int) -> np.ndarray:
    """For each feature of an NHWC Flatten, (h, w, c) in row-major order, its index in an NCHW Flatten.

    `rows[hwc_from_chw(H, W, C)]` turns the rows of a weight that reads (c, h, w) features into one
    that reads glassnet's (h, w, c) features.
    """
    order: np.ndarray = np.arange(channels * height * width).reshape(channels, height, width)  # (C, H, W)
    rows: np.ndarray = order.transpose(1, 2, 0).ravel()  # (H*W*C,)
    return rows
