"""2x2 max-pooling of stride 2 (optionally fused with the ReLU before it) written as plain loops.

These are the obviously-correct versions: one output element at a time, its four window
positions in row-major order. `glassnet.fast` compiles them with numba (the optional extra
`glassnet[fast]`); without numba the layers use their NumPy code instead, which is the
reference, and tests/test_fast.py checks that both give the same outputs and gradients.
The functions also run as plain Python (slowly), which is how to read or debug them.

The comparisons are written without branches (`a if condition else b`, `|`, `&`) and the
loop over channels is innermost, so that the compiler turns them into vector instructions.
"""

from __future__ import annotations

import numpy as np


def max_pool_2x2_forward(x: np.ndarray, relu: bool, out: np.ndarray, winner: np.ndarray) -> None:
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


def max_pool_2x2_backward(grad: np.ndarray, winner: np.ndarray, dx: np.ndarray) -> None:
    """Each output's gradient to its window's winner, 0 to the window's other positions.

    Writes every element of dx that belongs to a window; the caller zeroes a last odd row
    or column.

    Shapes:
        grad, winner (N, OH, OW, C) as max_pool_2x2_forward left them; dx (N, H, W, C).
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
