"""Parameter: a trainable array and the gradient of the loss with respect to it."""

from __future__ import annotations

import numpy as np


class Parameter:
    """A trainable array (`value`) with its gradient (`grad`), set by the layer's backward.

    Args:
        value: the initial array; it is kept as given (no copy, no cast).

    Shapes:
        grad: same shape as value, or None before the first backward.
    """

    def __init__(self, value: np.ndarray) -> None:
        self.value = value
        self.grad: np.ndarray | None = None

    @property
    def shape(self) -> tuple[int, ...]:
        """The shape of the value."""
        return tuple(self.value.shape)

    @property
    def size(self) -> int:
        """The number of scalars in the value."""
        return int(self.value.size)

    def __repr__(self) -> str:
        return f"Parameter(shape={self.shape}, dtype={self.value.dtype})"
