"""Array helpers shared by the convolution and pooling layers: padding, sizes, im2col/col2im."""

from __future__ import annotations

import math

import numpy as np
from numpy.lib.stride_tricks import as_strided

from glassnet.checks import check_pair
from glassnet.errors import InputError

Pair = tuple[int, int]
Padding = tuple[Pair, Pair]  # ((top, bottom), (left, right))


def check_padding(padding: object, owner: str) -> int | Pair | str:
    """The padding as kept and saved: an int >= 0, a pair of them, "valid" or "same", NumPy ints made ints.

    Args:
        padding: what the user gave.
        owner: the layer it configures, for the message.
    """
    if isinstance(padding, str):
        if padding not in ("valid", "same"):
            raise InputError(f'{owner}: padding must be "valid", "same", an int or a pair of ints, got {padding!r}')
        return padding
    pair = check_pair(padding, "padding", owner, minimum=0)
    return pair if isinstance(padding, (tuple, list)) else pair[0]


def resolve_padding(padding: int | tuple[int, int] | str, size: Pair, kernel: Pair, stride: Pair) -> Padding:
    """Padding before and after each spatial axis; "same" pads odd extras at the bottom/right."""
    if padding == "valid":
        return (0, 0), (0, 0)
    if padding == "same":
        amounts = []
        for n, k, s in zip(size, kernel, stride, strict=True):
            total = max((math.ceil(n / s) - 1) * s + k - n, 0)
            amounts.append((total // 2, total - total // 2))
        return amounts[0], amounts[1]
    ph, pw = check_pair(padding, "padding", "padding", minimum=0)
    return (ph, ph), (pw, pw)


def output_size(size: int, kernel: int, stride: int, pad: Pair) -> int:
    """Number of window positions along one axis (windows that do not fit are dropped)."""
    return (size + pad[0] + pad[1] - kernel) // stride + 1


def pad_nhwc(x: np.ndarray, padding: Padding, value: float = 0.0) -> np.ndarray:
    """Pad the two spatial axes of an NHWC array (no copy when there is nothing to pad)."""
    if padding == ((0, 0), (0, 0)):
        return x
    return np.pad(x, ((0, 0), padding[0], padding[1], (0, 0)), constant_values=value)


def windows(x: np.ndarray, kernel: Pair, stride: Pair, out: Pair) -> np.ndarray:
    """A read-only view of every window: (N, H, W, C) -> (N, OH, OW, KH, KW, C), no copy."""
    sn, sh, sw, sc = x.strides
    shape = (x.shape[0], out[0], out[1], kernel[0], kernel[1], x.shape[3])
    strides = (sn, sh * stride[0], sw * stride[1], sh, sw, sc)
    return as_strided(x, shape=shape, strides=strides, writeable=False)


def im2col(x: np.ndarray, kernel: Pair, stride: Pair, out: Pair) -> np.ndarray:
    """Patch matrix of a padded NHWC input, with a last column of ones for the bias.

    Row (n, i, j) holds window (i, j) of image n, then a 1: times the kernel matrix with the
    bias as its last row, it gives the convolution plus bias in one product, and its
    transpose times the output gradient gives the weight and bias gradients in one product.
    Many channels: the strided window view is copied once into the first KH*KW*C columns.
    One channel: the matrix is built position-major, one block copy per kernel position
    (rows of KH*KW floats copy slowly), as a (KH*KW + 1, N*OH*OW) array returned transposed;
    matrix products take either layout.

    Shapes:
        x (N, HP, WP, C) -> (N*OH*OW, KH*KW*C + 1).
    """
    n, c = x.shape[0], x.shape[3]
    rows, width = n * out[0] * out[1], kernel[0] * kernel[1] * c
    if c > 1:
        cols = np.empty((rows, width + 1), dtype=x.dtype)
        view = windows(x, kernel, stride, out)  # (N, OH, OW, KH, KW, C)
        step = cols.strides[1]
        row_strides = (out[0] * out[1] * cols.strides[0], out[1] * cols.strides[0], cols.strides[0])
        patches = as_strided(cols, view.shape, (*row_strides, kernel[1] * c * step, c * step, step))
        patches[...] = view  # the first KH*KW*C columns of cols, seen as (N, OH, OW, KH, KW, C)
        cols[:, width] = 1
        return cols
    positions = np.empty((width + 1, n, *out), dtype=x.dtype)  # (KH*KW + 1, N, OH, OW)
    last_row, last_col = stride[0] * (out[0] - 1) + 1, stride[1] * (out[1] - 1) + 1
    for position, block in enumerate(positions[:width]):
        i, j = divmod(position, kernel[1])
        block[...] = x[:, i : i + last_row : stride[0], j : j + last_col : stride[1], 0]
    positions[width] = 1
    cols_view: np.ndarray = positions.reshape(width + 1, rows).T  # (N*OH*OW, KH*KW + 1), a transposed view
    return cols_view


def scatter_windows(blocks: np.ndarray, padded_shape: tuple[int, ...], kernel: Pair, stride: Pair) -> np.ndarray:
    """col2im: add each kernel position's block back into a zero padded input, KH*KW slice-adds.

    Shapes:
        blocks: (KH*KW, N, OH, OW, C), one contiguous block per kernel position.
        returns: padded_shape, i.e. (N, HP, WP, C).
    """
    grad = np.zeros(padded_shape, dtype=blocks.dtype)
    oh, ow = blocks.shape[2], blocks.shape[3]
    for position, block in enumerate(blocks):
        i, j = divmod(position, kernel[1])
        grad[:, i : i + stride[0] * (oh - 1) + 1 : stride[0], j : j + stride[1] * (ow - 1) + 1 : stride[1]] += block
    return grad


def crop_nhwc(x: np.ndarray, padding: Padding) -> np.ndarray:
    """Undo pad_nhwc: drop the padded rows and columns."""
    (top, bottom), (left, right) = padding
    return x[:, top : x.shape[1] - bottom, left : x.shape[2] - right, :]
