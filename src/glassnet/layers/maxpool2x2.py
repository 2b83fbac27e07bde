"""2x2 max-pooling of stride 2, the common case, on its fast path: NumPy in two masked stages, or numba.

MaxPool2D hands 2x2 windows of stride 2 to `pool_2x2`, which runs one of two implementations
with one behaviour (the first maximum of a window, in row-major order, takes the gradient:
PyTorch's rule):

- NumPy, in two stages (`pairs_forward`): the maximum of horizontal pairs, then of vertical
  pairs on contiguous rows, each stage keeping a boolean "second one won" mask. This is the
  reference.
- The plain loops `loops_forward` / `loops_backward`, one output element at a time, compiled
  by numba when the optional extra is installed (`pip install glassnet[fast]`): compiled on
  first use (a second or two, then cached on disk). They also run as plain Python (slowly),
  which is how to read or debug them. Their comparisons are written without branches and the
  channel loop is innermost, so that the compiler vectorises them. They are serial: numba's
  parallel (OpenMP) threads spin and take the second core from BLAS, which matters more.

Switch the compiled path off with `glassnet.set_fast(False)` or the environment variable
GLASSNET_FAST=0 (read at import); `glassnet.fast_enabled()` tells whether it is used.
tests/layers/test_fast.py checks that both paths give the same outputs and gradients.
"""

from __future__ import annotations

import importlib
import os
import threading
from collections.abc import Callable
from types import ModuleType, SimpleNamespace
from typing import Any

import numpy as np

from glassnet.layers.activations import relu as relu_of

OFF_VALUES = ("0", "false", "off", "no")

_wanted = os.environ.get("GLASSNET_FAST", "1").strip().lower() not in OFF_VALUES
_compiled: SimpleNamespace | None = None
_unavailable = False
_loading = threading.Lock()  # warm_up's thread and the first pooling may ask for the kernels at once


def set_fast(enabled: bool) -> None:
    """Use the compiled kernels (True) or the NumPy code (False) from now on.

    Raises ImportError for True when numba is not installed.
    """
    global _wanted
    if enabled and compiled() is None:
        raise ImportError("glassnet.set_fast(True) needs numba: pip install 'glassnet[fast]'")
    _wanted = bool(enabled)


def fast_enabled() -> bool:
    """True when the layers use the compiled kernels: switched on and numba importable."""
    return kernels() is not None


def kernels() -> SimpleNamespace | None:
    """The compiled kernels while the fast path is on, else None: use NumPy."""
    return compiled() if _wanted else None


def compiled() -> SimpleNamespace | None:
    """The compiled kernels (forward, backward), whatever the switch; None without numba.

    The first call imports numba and wraps the loops; each compiles at its first call.
    """
    global _compiled, _unavailable
    if _compiled is None and not _unavailable:
        with _loading:
            if _compiled is None and not _unavailable:
                try:
                    numba = importlib.import_module("numba")
                except ImportError:
                    _unavailable = True
                    return None
                _compiled = SimpleNamespace(forward=_jit(numba, loops_forward), backward=_jit(numba, loops_backward))
    return _compiled


def warm_up() -> None:
    """Load the compiled kernels now, while the fast path is on: numba's import and the float32 machine code.

    That costs about a second, once per process, which the first pooling would otherwise spend;
    `glassnet train` calls it on a thread while its data loads (warm_up_in_background).
    """
    compiled_kernels = kernels()
    if compiled_kernels is not None:
        window = np.zeros((1, 2, 2, 1), dtype=np.float32)  # one 2x2 window: compiles both loops for float32
        CompiledPool(window, True, compiled_kernels).backward(np.zeros((1, 1, 1, 1), dtype=np.float32))


def warm_up_in_background() -> threading.Thread:
    """Start warm_up on a daemon thread and return it (join it before timing anything)."""
    thread = threading.Thread(target=_warm_up_quietly, name="glassnet-warm-up", daemon=True)
    thread.start()
    return thread


def _warm_up_quietly() -> None:
    try:
        warm_up()
    except Exception:  # the first pooling meets the same error on the main thread, which reports it
        return


def _jit(numba: ModuleType, function: Callable[..., None]) -> Any:
    """numba.njit, its machine code cached on disk unless no cache folder is writable."""
    try:
        return numba.njit(cache=True)(function)
    except RuntimeError:  # numba found no writable folder for its cache
        return numba.njit(function)


class CompiledPool:
    """A 2x2 pooling done by the compiled loops, and its backward (whatever the switch says later).

    Shapes:
        winner (N, OH, OW, C): each window's winning position 0-3, -1 for none (after a ReLU).
    """

    def __init__(self, x: np.ndarray, relu: bool, compiled_kernels: SimpleNamespace) -> None:
        self.kernels, self.input_shape = compiled_kernels, x.shape
        self.out = np.empty((len(x), x.shape[1] // 2, x.shape[2] // 2, x.shape[3]), dtype=x.dtype)
        self.winner = np.empty(self.out.shape, dtype=np.int8)
        compiled_kernels.forward(x, relu, self.out, self.winner)

    def backward(self, grad: np.ndarray) -> np.ndarray:
        dx = _empty_unless_cropped(self.input_shape, grad.shape, grad.dtype)
        self.kernels.backward(grad, self.winner, dx)
        return dx


class PairsPool:
    """A 2x2 pooling done by NumPy in two stages (pairs_forward), and its backward.

    With relu=True the ReLU is applied to the pooled output, and its mask in backward.
    """

    def __init__(self, x: np.ndarray, relu: bool) -> None:
        self.input_shape = x.shape
        self.out, self.right_won, self.bottom_won = pairs_forward(x)
        self.relu_mask: np.ndarray | None = None
        if relu:
            self.out = relu_of(self.out)
            self.relu_mask = self.out > 0

    def backward(self, grad: np.ndarray) -> np.ndarray:
        if self.relu_mask is not None:
            grad = grad * self.relu_mask
        return pairs_backward(grad, self.right_won, self.bottom_won, self.input_shape)


def pool_2x2(x: np.ndarray, relu: bool) -> CompiledPool | PairsPool:
    """Pool x (already padded) in 2x2 windows of stride 2, then ReLU if asked: `.out`, `.backward(grad)`.

    Shapes:
        x (N, H, W, C) -> out (N, H // 2, W // 2, C); a last odd row or column belongs to no window.
    """
    compiled_kernels = kernels()
    return CompiledPool(x, relu, compiled_kernels) if compiled_kernels is not None else PairsPool(x, relu)


def pairs_forward(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """2x2 max-pool, stride 2, in two stages: horizontal pairs first, then vertical pairs.

    Each stage keeps a "second one won" mask (strictly greater), so a tie goes to the first
    of the pair; horizontal first makes that the first maximum in row-major window order,
    PyTorch's rule. A last odd row or column is dropped, as windows that do not fit are.

    Shapes:
        x (N, H, W, C) -> out (N, OH, OW, C) with OH = H // 2, OW = W // 2;
        right_won (N, 2*OH, OW, C); bottom_won (N, OH, OW, C).
    """
    out_h, out_w = x.shape[1] // 2, x.shape[2] // 2
    left, right = x[:, : 2 * out_h, 0 : 2 * out_w : 2], x[:, : 2 * out_h, 1 : 2 * out_w : 2]
    right_won = right > left
    row_max = np.maximum(left, right)  # (N, 2*OH, OW, C)
    top, bottom = row_max[:, 0::2], row_max[:, 1::2]
    bottom_won = bottom > top
    return np.maximum(top, bottom), right_won, bottom_won


def pairs_backward(
    grad: np.ndarray, right_won: np.ndarray, bottom_won: np.ndarray, input_shape: tuple[int, ...]
) -> np.ndarray:
    """Gradient of pairs_forward: each output's gradient to its winner, by multiplying masks.

    The loser of a pair gets g - g * won, which is exactly g or 0.

    Shapes:
        grad, bottom_won (N, OH, OW, C); right_won (N, 2*OH, OW, C) -> input_shape (N, H, W, C).
    """
    n, out_h, out_w, c = grad.shape
    row_grad = np.empty((n, out_h, 2, out_w, c), dtype=grad.dtype)  # (N, OH, top/bottom, OW, C)
    np.multiply(grad, bottom_won, out=row_grad[:, :, 1])
    np.subtract(grad, row_grad[:, :, 1], out=row_grad[:, :, 0])
    row_grad = row_grad.reshape(n, 2 * out_h, out_w, c)  # (N, 2*OH, OW, C)
    dx = _empty_unless_cropped(input_shape, grad.shape, grad.dtype)
    right = dx[:, : 2 * out_h, 1 : 2 * out_w : 2]
    np.multiply(row_grad, right_won, out=right)
    np.subtract(row_grad, right, out=dx[:, : 2 * out_h, 0 : 2 * out_w : 2])
    return dx


def _empty_unless_cropped(input_shape: tuple[int, ...], out_shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """The array for a 2x2 pool's input gradient, zeroed only when a last odd row or column
    belongs to no window: both backward passes write every other element."""
    out_h, out_w = out_shape[1], out_shape[2]
    if input_shape[1] == 2 * out_h and input_shape[2] == 2 * out_w:
        return np.empty(input_shape, dtype=dtype)
    return np.zeros(input_shape, dtype=dtype)


def loops_forward(x: np.ndarray, relu: bool, out: np.ndarray, winner: np.ndarray) -> None:
    """Each 2x2 window's maximum into out, and into winner its first position (0 to 3).

    A later position takes over only when strictly greater, so the first maximum in
    row-major order wins ties (PyTorch's rule). A window holding a NaN outputs NaN. With
    relu=True the output is max(maximum, 0), which equals pooling after a ReLU, ties
    included; a window whose maximum is not positive outputs 0 and gets winner -1 (no
    gradient), as ReLU's gradient at 0 is 0.

    Shapes:
        x (N, H, W, C); out, winner (N, H // 2, W // 2, C). A last odd row or column of x
        belongs to no window.
    """
    images, out_h, out_w, channels = out.shape
    for n in range(images):
        for i in range(out_h):
            for j in range(out_w):
                for c in range(channels):
                    window = (
                        x[n, 2 * i, 2 * j, c],
                        x[n, 2 * i, 2 * j + 1, c],
                        x[n, 2 * i + 1, 2 * j, c],
                        x[n, 2 * i + 1, 2 * j + 1, c],
                    )
                    best, position, nan = window[0], 0, window[0] != window[0]
                    for k in range(1, 4):
                        takes_over = window[k] > best
                        best = window[k] if takes_over else best
                        position = k if takes_over else position
                        nan |= window[k] != window[k]
                    cut = relu & (best <= 0)
                    out[n, i, j, c] = np.nan if nan else (0 if cut else best)
                    winner[n, i, j, c] = -1 if cut else position


def loops_backward(grad: np.ndarray, winner: np.ndarray, dx: np.ndarray) -> None:
    """Each output's gradient to its window's winner, 0 to the window's other positions.

    Writes every element of dx that belongs to a window; the caller zeroes a last odd row
    or column.

    Shapes:
        grad, winner (N, OH, OW, C) as loops_forward left them; dx (N, H, W, C).
    """
    images, out_h, out_w, channels = grad.shape
    for n in range(images):
        for i in range(out_h):
            for j in range(out_w):
                for a in range(2):
                    for b in range(2):
                        for c in range(channels):
                            won = winner[n, i, j, c] == 2 * a + b
                            dx[n, 2 * i + a, 2 * j + b, c] = grad[n, i, j, c] if won else 0
