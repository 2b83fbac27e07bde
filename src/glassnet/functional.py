"""Array helpers shared by the convolution and pooling layers: padding, sizes, im2col/col2im."""

from __future__ import annotations

import math

import numpy as np
from numpy.lib.stride_tricks import as_strided

from glassnet.errors import InputError

Pair = tuple[int, int]
Padding = tuple[Pair, Pair]  # ((top, bottom), (left, right))


def to_pair(value: int | tuple[int, int], name: str, owner: str, minimum: int = 1) -> Pair:
    """Turn an int or a pair of ints into a pair, checking each is an int >= minimum."""
    pair = (value, value) if isinstance(value, (int, np.integer)) else value
    if (
        not isinstance(pair, (tuple, list))
        or len(pair) != 2
        or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in pair)
        or min(pair) < minimum
    ):
        raise InputError(
            f"{owner}: {name} must be an int >= {minimum} or a pair of them, got {value!r}"
        )
    return int(pair[0]), int(pair[1])


def check_padding(padding: object, owner: str) -> None:
    """Reject a padding that is not an int >= 0, a pair of them, "valid" or "same"."""
    if isinstance(padding, str):
        if padding not in ("valid", "same"):
            raise InputError(f'{owner}: padding must be "valid", "same" or an int, got {padding!r}')
        return
    to_pair(padding, "padding", owner, minimum=0)  # type: ignore[arg-type]


def resolve_padding(
    padding: int | tuple[int, int] | str, size: Pair, kernel: Pair, stride: Pair
) -> Padding:
    """Padding before and after each spatial axis; "same" pads odd extras at the bottom/right."""
    if padding == "valid":
        return (0, 0), (0, 0)
    if padding == "same":
        amounts = []
        for n, k, s in zip(size, kernel, stride):
            total = max((math.ceil(n / s) - 1) * s + k - n, 0)
            amounts.append((total // 2, total - total // 2))
        return amounts[0], amounts[1]
    ph, pw = to_pair(padding, "padding", "padding", minimum=0)  # type: ignore[arg-type]
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
    """Patch matrix of a padded NHWC input, copied once from the strided window view."""
    n, c = x.shape[0], x.shape[3]
    view = windows(x, kernel, stride, out)
    return view.reshape(n * out[0] * out[1], kernel[0] * kernel[1] * c)  # (N*OH*OW, KH*KW*C)


def scatter_windows(
    blocks: np.ndarray, padded_shape: tuple[int, ...], kernel: Pair, stride: Pair
) -> np.ndarray:
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
